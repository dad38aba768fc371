"""Reads a multipart upload whose one file goes straight to a file on disk as it arrives.

Starlette's form parser spools files to the system's temporary folder (often a small
tmpfs: memory); an import may be gigabytes, so its file part is written where it will be
used, chunk by chunk, and only the small text fields are kept in memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import anyio.to_thread
from fastapi import Request
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

from facebank.errors import ValidationFailedError

if TYPE_CHECKING:  # a typing-only name of python_multipart
    from python_multipart.multipart import MultipartCallbacks

MAX_FIELDS = 16
MAX_FIELD_BYTES = 64 * 1024
WRITE_BATCH = 1024 * 1024  # bytes gathered before a write (in a worker thread)


@dataclass
class StreamedForm:
    filename: str | None = None  # of the file part; None when none came
    size: int = 0
    fields: dict[str, str] = field(default_factory=dict)


class _Parts:
    """The parser's callbacks: text fields into `form.fields`, the file's bytes into
    `pending` for the caller to write."""

    def __init__(self, file_field: str, charset: str) -> None:
        self.form = StreamedForm()
        self.pending = bytearray()
        self._file_field = file_field
        self._charset = charset
        self._header_name = b""
        self._header_value = b""
        self._disposition = b""
        self._name = ""
        self._is_file = False
        self._data = bytearray()

    def callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self._begin,
            "on_part_data": self._part_data,
            "on_part_end": self._end,
            "on_header_field": lambda d, s, e: self._add_header_name(d[s:e]),
            "on_header_value": lambda d, s, e: self._add_header_value(d[s:e]),
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
        }

    def _begin(self) -> None:
        self._disposition, self._name, self._is_file = b"", "", False
        self._data = bytearray()

    def _add_header_name(self, data: bytes) -> None:
        self._header_name += data

    def _add_header_value(self, data: bytes) -> None:
        self._header_value += data

    def _header_end(self) -> None:
        if self._header_name.lower() == b"content-disposition":
            self._disposition = self._header_value
        self._header_name, self._header_value = b"", b""

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._disposition)
        if b"name" not in options:
            raise ValidationFailedError("a form part has no name")
        self._name = options[b"name"].decode(self._charset, "replace")
        if b"filename" not in options:
            if len(self.form.fields) >= MAX_FIELDS:
                raise ValidationFailedError(f"more than {MAX_FIELDS} form fields")
            return
        if self._name != self._file_field or self.form.filename is not None:
            raise ValidationFailedError(
                f"send one file, in the {self._file_field!r} field", field=self._name
            )
        self._is_file = True
        self.form.filename = options[b"filename"].decode(self._charset, "replace")

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._is_file:
            self.pending += data[start:end]
            self.form.size += end - start
            return
        self._data += data[start:end]
        if len(self._data) > MAX_FIELD_BYTES:
            raise ValidationFailedError(
                f"the {self._name!r} field is over {MAX_FIELD_BYTES} bytes", field=self._name
            )

    def _end(self) -> None:
        if not self._is_file:
            self.form.fields[self._name] = self._data.decode(self._charset, "replace")


async def stream_upload(request: Request, file_field: str, dest: Path) -> StreamedForm:
    """Parse the request's multipart body: the `file_field` file into `dest`, the rest as
    text fields. ValidationFailedError for anything that is not such a form."""
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        raise ValidationFailedError(
            f"send multipart/form-data with the archive in the {file_field!r} field"
        )
    _, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    if not boundary:
        raise ValidationFailedError("the multipart body has no boundary")
    charset = params.get(b"charset", b"utf-8").decode("latin-1")
    parts = _Parts(file_field, charset if charset.lower() in ("utf-8", "utf8") else "utf-8")
    try:
        parser = MultipartParser(boundary, parts.callbacks())
        with dest.open("wb") as out:
            async for chunk in request.stream():
                parser.write(chunk)
                if len(parts.pending) >= WRITE_BATCH:
                    await _write(out, parts)
            parser.finalize()
            await _write(out, parts)
    except FormParserError as exc:
        raise ValidationFailedError(f"the multipart body is not valid: {exc}") from exc
    if parts.form.filename is None:
        raise ValidationFailedError(
            f"no file: send the archive in the {file_field!r} field", field=file_field
        )
    return parts.form


async def _write(out: BinaryIO, parts: _Parts) -> None:
    data = bytes(parts.pending)
    parts.pending.clear()
    if data:
        await anyio.to_thread.run_sync(out.write, data)
