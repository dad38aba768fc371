"""decode_image: formats, EXIF orientation, colour modes, and every kind of bad upload."""

from __future__ import annotations

import io
import struct
import time
import tracemalloc
import zlib
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image

from facebank.errors import ImageInvalidError, ImageTooLargeError
from facebank.pipeline import decode as decode_module
from facebank.pipeline.decode import decode_image
from facebank.pipeline.pipeline import FacePipeline
from facebank.pipeline.types import ImageLimits

from .conftest import HUGE_PHOTO, PEOPLE, SINGLE_FACE, YALE, photos

LIMITS = ImageLimits(max_bytes=20 * 1024 * 1024, max_pixels=60_000_000, max_detect_side=1920)


@pytest.fixture(scope="module")
def photo() -> Image.Image:
    with Image.open(SINGLE_FACE) as im:
        return im.convert("RGB")


def _encode(img: Image.Image, fmt: str, **kw: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def _bgr(img: Image.Image) -> np.ndarray:
    return np.asarray(img.convert("RGB"))[:, :, ::-1]


def test_jpeg_gives_contiguous_bgr_uint8(photo: Image.Image) -> None:
    out = decode_image(SINGLE_FACE.read_bytes(), LIMITS)
    assert out.format == "jpeg"
    assert out.pixels.dtype == np.uint8 and out.pixels.flags["C_CONTIGUOUS"]
    assert (out.height, out.width, 3) == out.pixels.shape == (photo.height, photo.width, 3)
    assert np.array_equal(out.pixels, _bgr(photo))


@pytest.mark.parametrize(
    ("fmt", "name", "lossless"),
    [("PNG", "png", True), ("BMP", "bmp", True), ("WEBP", "webp", False), ("GIF", "gif", False)],
)
def test_formats_decode_to_the_same_picture(
    photo: Image.Image, fmt: str, name: str, lossless: bool, pipeline: FacePipeline
) -> None:
    out = decode_image(_encode(photo, fmt), LIMITS)
    assert out.format == name
    assert out.pixels.shape == (photo.height, photo.width, 3)
    diff = np.abs(out.pixels.astype(int) - _bgr(photo).astype(int)).mean()
    assert diff == 0 if lossless else diff < 12
    assert len(pipeline.detect(out)) == 1


def test_gif_takes_first_frame(photo: Image.Image) -> None:
    frames = [photo, photo.transpose(Image.Transpose.FLIP_TOP_BOTTOM)]
    data = _encode(frames[0], "GIF", save_all=True, append_images=frames[1:])
    first = decode_image(data, LIMITS).pixels
    assert np.abs(first.astype(int) - _bgr(photo).astype(int)).mean() < 12


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_exif_orientation_is_applied(
    photo: Image.Image, orientation: int, pipeline: FacePipeline
) -> None:
    # Store the pixels the way a camera would (sensor orientation) plus the tag that says
    # how to stand them up; decoding must give back the upright photo.
    stored = photo.transpose(
        {3: Image.Transpose.ROTATE_180, 6: Image.Transpose.ROTATE_90,
         8: Image.Transpose.ROTATE_270}[orientation]
    )
    exif = Image.Exif()
    exif[0x0112] = orientation
    out = decode_image(_encode(stored, "JPEG", quality=95, exif=exif), LIMITS)
    assert out.pixels.shape == (photo.height, photo.width, 3)
    assert np.abs(out.pixels.astype(int) - _bgr(photo).astype(int)).mean() < 4
    [face] = pipeline.detect(out)
    left_eye, right_eye, nose, mouth_l, mouth_r = face.landmarks
    assert max(left_eye[1], right_eye[1]) < nose[1] < min(mouth_l[1], mouth_r[1])
    assert left_eye[0] < right_eye[0]


@pytest.mark.parametrize("mode", ["L", "LA", "P", "RGBA", "CMYK", "I;16", "1"])
def test_any_colour_mode_becomes_bgr(photo: Image.Image, mode: str) -> None:
    small = photo.resize((200, 250))
    if mode == "I;16":
        grey16 = (np.asarray(small.convert("L"), dtype=np.uint16) * 257).astype(np.uint16)
        img = Image.fromarray(grey16)
        assert img.mode == "I;16"
    else:
        img = small.convert(mode)
    fmt = "JPEG" if mode == "CMYK" else "PNG"
    out = decode_image(_encode(img, fmt), LIMITS)
    assert out.pixels.shape == (250, 200, 3) and out.pixels.dtype == np.uint8
    if mode in ("L", "LA", "I;16"):
        # grey stays grey, and 16-bit is scaled to 8-bit rather than clipped
        expect = np.asarray(small.convert("L"))
        assert np.abs(out.pixels[:, :, 1].astype(int) - expect).max() <= 1
        assert np.array_equal(out.pixels[:, :, 0], out.pixels[:, :, 2])


def test_transparent_pixels_become_white() -> None:
    img = Image.new("RGBA", (40, 30), (0, 0, 0, 0))
    out = decode_image(_encode(img, "PNG"), LIMITS)
    assert (out.pixels == 255).all()


def test_yale_grey_gifs() -> None:
    gifs = photos(YALE)
    assert len(gifs) >= 160
    for path in gifs[::10]:
        out = decode_image(path.read_bytes(), LIMITS)
        assert out.format == "gif" and out.pixels.shape == (243, 320, 3)
        assert np.array_equal(out.pixels[:, :, 0], out.pixels[:, :, 1])


@pytest.mark.parametrize("keep", [0.5, 0.9, 0.999])
def test_truncated_jpeg_is_an_error(keep: float) -> None:
    data = SINGLE_FACE.read_bytes()
    with pytest.raises(ImageInvalidError, match="truncated"):
        decode_image(data[: int(len(data) * keep)], LIMITS)


@pytest.mark.parametrize(
    "data",
    [b"", b"hello, this is not an image", b"\x89PNG\r\n\x1a\n" + b"\0" * 50, b"\xff\xd8\xff"],
    ids=["empty", "text", "png-garbage", "jpeg-magic-only"],
)
def test_garbage_is_invalid(data: bytes) -> None:
    with pytest.raises(ImageInvalidError):
        decode_image(data, LIMITS)


def test_unsupported_format_is_invalid(photo: Image.Image) -> None:
    with pytest.raises(ImageInvalidError, match="supported"):
        decode_image(_encode(photo.resize((50, 50)), "TIFF"), LIMITS)


def test_too_many_bytes() -> None:
    data = SINGLE_FACE.read_bytes()
    with pytest.raises(ImageTooLargeError):
        decode_image(data, ImageLimits(len(data) - 1, LIMITS.max_pixels, 1920))


def _png_header(width: int, height: int) -> bytes:
    def chunk(tag: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(tag + body)
        return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\0" * 1000)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


@pytest.mark.parametrize(
    ("side", "max_pixels"), [(30_000, 60_000_000), (8_000, 60_000_000), (10_000, 500_000_000)]
)
def test_pixel_bomb_rejected_from_header(side: int, max_pixels: int) -> None:
    # 30000^2 trips Pillow's bomb error, 8000^2 only our limit (64M > 60M), and 10000^2
    # under a generous limit Pillow's bomb *warning* (100M > its 89M), made an error too.
    tracemalloc.start()
    started = time.perf_counter()
    with pytest.raises(ImageTooLargeError):
        decode_image(_png_header(side, side), replace(LIMITS, max_pixels=max_pixels))
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert elapsed < 0.5
    assert peak < 10 * 1024 * 1024  # the pixels would be 2.7 GB / 192 MB


def test_pixel_limit_is_configurable(photo: Image.Image) -> None:
    data = _encode(photo.resize((100, 100)), "PNG")
    with pytest.raises(ImageTooLargeError):
        decode_image(data, ImageLimits(LIMITS.max_bytes, 9_999, 1920))
    assert decode_image(data, ImageLimits(LIMITS.max_bytes, 10_000, 1920)).width == 100


def _pillow_pixels(data: bytes) -> np.ndarray:
    return decode_module._to_bgr(decode_module._load(decode_module._open(data, LIMITS)))


def test_plain_jpegs_take_opencv_with_pillows_pixels() -> None:
    """The fast JPEG path must give exactly what the Pillow path gives, on real photos."""
    jpegs = [p for p in photos(PEOPLE) if p.suffix.lower() in (".jpg", ".jpeg")]
    assert len(jpegs) >= 70
    for path in [*jpegs[::6], HUGE_PHOTO]:
        data = path.read_bytes()
        fast = decode_module._plain_jpeg(data, decode_module._open(data, LIMITS))
        assert fast is not None, path
        assert fast.flags["C_CONTIGUOUS"] and fast.dtype == np.uint8
        assert np.array_equal(fast, _pillow_pixels(data)), path


def test_jpegs_the_fast_path_must_not_take(photo: Image.Image) -> None:
    data = SINGLE_FACE.read_bytes()
    truncated = data[:-100]
    trailing = data + b"camera maker's trailer"
    cmyk = _encode(photo.resize((120, 150)).convert("CMYK"), "JPEG")
    for refused in (truncated, trailing, cmyk):
        assert decode_module._plain_jpeg(refused, decode_module._open(refused, LIMITS)) is None
    # ...and the Pillow path still answers each as before.
    with pytest.raises(ImageInvalidError, match="truncated"):
        decode_image(truncated, LIMITS)
    assert np.array_equal(decode_image(trailing, LIMITS).pixels, _bgr(photo))
    assert decode_image(cmyk, LIMITS).pixels.shape == (150, 120, 3)


# --- reduced decoding of large JPEGs (issue 14) ----------------------------------------------

REDUCED = replace(LIMITS, decode_reduced=True)


@pytest.mark.parametrize(
    ("size", "factor"),
    [((4600, 3061), 2), ((3838, 2000), 1), ((3840, 2000), 2), ((7680, 100), 4), ((15360, 9), 8)],
)
def test_reduction_keeps_the_long_side_at_least_the_detect_side(
    size: tuple[int, int], factor: int
) -> None:
    assert decode_module.reduction(*size, 1920) == factor


def test_reduction_refuses_a_square_reduced_shape_of_an_oblong_photo() -> None:
    # 3841x3840 would decode to 1921x1920 at 1/2; 3841x3842 to 1921x1921 (orientation lost).
    assert decode_module.reduction(3841, 3840, 1920) == 2
    assert decode_module.reduction(3841, 3842, 1920) == 1
    assert decode_module.reduction(3842, 3842, 1920) == 2


def test_huge_jpeg_decodes_at_half_scale_with_its_original_size() -> None:
    data = HUGE_PHOTO.read_bytes()
    full = decode_image(data, LIMITS)
    out = decode_image(data, REDUCED)
    assert (full.scale, out.scale) == (1, 2)
    assert (out.width, out.height) == (full.width, full.height) == (3061, 4600)
    assert out.pixels.shape == (2300, 1531, 3) and out.pixels.flags["C_CONTIGUOUS"]
    assert full.full_decode is None and out.full_decode is not None
    again = out.full_decode()
    assert again is out.full_decode()  # decoded once, then kept
    assert again.scale == 1 and np.array_equal(again.pixels, full.pixels)
    # libjpeg's 1/2 DCT scaling is close to a 2x2 box filter of the full decode.
    box = full.pixels[:, :3060].reshape(2300, 2, 1530, 2, 3).mean(axis=(1, 3))
    assert np.abs(out.pixels[:, :1530].astype(float) - box).mean() < 2


def test_photo_under_twice_the_detect_side_is_not_reduced() -> None:
    path = PEOPLE / "fr_biden" / "biden.jpg"  # 970x2204: over 1920, under 3840
    out = decode_image(path.read_bytes(), REDUCED)
    assert out.scale == 1 and out.full_decode is None
    assert np.array_equal(out.pixels, decode_image(path.read_bytes(), LIMITS).pixels)


def test_reduced_decode_keeps_exif_orientation(photo: Image.Image) -> None:
    big = photo.resize((photo.width * 6, photo.height * 6))  # long side > 3840
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: turn 90 degrees clockwise to stand upright
    data = _encode(big, "JPEG", quality=80, exif=exif.tobytes())
    out = decode_image(data, REDUCED)
    full = decode_image(data, LIMITS)
    assert out.scale == 2 and (out.width, out.height) == (full.width, full.height)
    assert (full.width, full.height) == (big.height, big.width)
    assert out.pixels.shape[:2] == ((big.width + 1) // 2, (big.height + 1) // 2)


def test_non_jpeg_huge_photo_is_decoded_full_size(photo: Image.Image) -> None:
    data = _encode(photo.resize((4000, 500)), "PNG")
    out = decode_image(data, REDUCED)
    assert out.scale == 1 and out.pixels.shape == (500, 4000, 3)
