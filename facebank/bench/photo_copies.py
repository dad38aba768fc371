"""Copies of a photo with other bytes and the same pixels: a comment the decoders skip.

The import bench imports N copies of one photo set. Byte-identical copies would be one
photo (the media store and the import know a photo by the sha256 of its bytes): only the
first copy would be stored and committed, the others refused as `duplicate` after their
model work, so the bench would measure far fewer commits than a real import of as many
photos makes. A copy marked here decodes to the same pixels through the same decoder path
(checked on the 77 photos of ../shared/faces/people), so it costs the workers the same.
"""

from __future__ import annotations

import struct
import zlib

_JPEG_START = b"\xff\xd8"
_JPEG_COMMENT = b"\xff\xfe"
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_END = b"IEND"


def distinct_copy(data: bytes, copy: int) -> bytes:
    """`data` with a comment naming the copy: a JPEG COM segment after the start marker, a
    PNG tEXt chunk before IEND. Other formats come back unchanged (their copies stay one
    photo)."""
    tag = f"facebank bench copy {copy}".encode()
    if data.startswith(_JPEG_START):
        segment = _JPEG_COMMENT + struct.pack(">H", len(tag) + 2) + tag
        return _JPEG_START + segment + data[len(_JPEG_START) :]
    if data.startswith(_PNG_SIGNATURE) and _PNG_END in data:
        body = b"tEXt" + b"Comment\x00" + tag
        chunk = struct.pack(">I", len(body) - 4) + body + struct.pack(">I", zlib.crc32(body))
        end = data.rindex(_PNG_END) - 4  # the IEND chunk starts with its length
        return data[:end] + chunk + data[end:]
    return data
