"""Turn an uploaded file into a clean photo, or refuse it with a Chinese message (pure; Pillow only).

- The type is sniffed from the content (JPEG, PNG or WebP), never from a name or a declared type.
- The byte limit is checked first, the pixel limit from the header, before anything is decoded
  (a decompression bomb never reaches the decoder); truncated and corrupt files are refused.
- The EXIF orientation is applied, then the pixels are re-encoded from scratch, so no metadata
  (EXIF with GPS and camera, XMP, comments, colour profiles) survives; the longer side is
  scaled down to `max_side`.
- Output format: a PNG stays PNG (screenshots of order pages keep their text sharp), and so does
  a WebP with transparency (JPEG has no alpha); every other photo becomes JPEG (quality 85), which
  every browser, Rasa channel and the agents' console shows.
"""

from __future__ import annotations

import hashlib
import io
import struct
import zlib
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP")
JPEG_QUALITY = 85
# What a broken file can raise while Pillow decodes it.
DECODING_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error, zlib.error)


class PhotoRejected(Exception):
    """An upload that cannot be stored: `code` for programs, `message_zh` for the shopper."""

    EMPTY = "empty"
    TOO_LARGE = "too_large"
    UNSUPPORTED_TYPE = "unsupported_type"
    TOO_MANY_PIXELS = "too_many_pixels"
    CORRUPT = "corrupt"

    def __init__(self, code: str, message_zh: str) -> None:
        super().__init__(f"{code}: {message_zh}")
        self.code = code
        self.message_zh = message_zh

    def for_item(self, position: int) -> "PhotoRejected":
        """The same refusal, saying which of several files it is about (1-based)."""
        return PhotoRejected(self.code, f"第{position}张图片：{self.message_zh}")


@dataclass(frozen=True)
class PhotoLimits:
    max_bytes: int
    max_pixels: int
    max_side: int


@dataclass(frozen=True)
class CleanPhoto:
    content: bytes
    content_type: str  # image/jpeg or image/png
    width: int
    height: int
    sha256: str  # of the clean pixels (mode, size and data)


def clean_photo(data: bytes, limits: PhotoLimits) -> CleanPhoto:
    _check_byte_size(data, limits)
    image = _open_by_content(data)
    _check_pixel_count(image, limits)
    image = _decode_upright(image)
    keep_png = image.format == "PNG" or image.has_transparency_data
    image = _normalised_pixels(image, keep_png, limits.max_side)
    return CleanPhoto(
        content=_encode(image, keep_png),
        content_type="image/png" if keep_png else "image/jpeg",
        width=image.width,
        height=image.height,
        sha256=_pixel_hash(image),
    )


def _check_byte_size(data: bytes, limits: PhotoLimits) -> None:
    if not data:
        raise PhotoRejected(PhotoRejected.EMPTY, "图片是空的，请重新选择")
    if len(data) > limits.max_bytes:
        megabytes = f"{limits.max_bytes / (1024 * 1024):g}"
        raise PhotoRejected(PhotoRejected.TOO_LARGE, f"图片太大，请压缩到{megabytes}MB以内")


def _open_by_content(data: bytes) -> Image.Image:
    """Reads the header only; Pillow decodes the pixels later, on load()."""
    try:
        return Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
    except Image.DecompressionBombError as error:
        raise _too_many_pixels() from error
    except UnidentifiedImageError as error:
        raise PhotoRejected(PhotoRejected.UNSUPPORTED_TYPE, "只支持 JPG/PNG/WebP 图片") from error
    except DECODING_ERRORS as error:
        raise _corrupt() from error


def _check_pixel_count(image: Image.Image, limits: PhotoLimits) -> None:
    width, height = image.size
    if width * height > limits.max_pixels:
        raise _too_many_pixels()


def _decode_upright(image: Image.Image) -> Image.Image:
    try:
        image.load()
        upright = ImageOps.exif_transpose(image)
    except Image.DecompressionBombError as error:
        raise _too_many_pixels() from error
    except DECODING_ERRORS as error:
        raise _corrupt() from error
    upright.format = image.format
    return upright


def _normalised_pixels(image: Image.Image, keep_png: bool, max_side: int) -> Image.Image:
    """A new image holding only pixels: a mode the output format supports, at most max_side long."""
    if image.mode.startswith("I"):  # 16-bit greyscale PNG: scale to 8 bits (a plain convert would clip)
        image = image.convert("I").point(lambda value: value * (1 / 256))
    if image.mode in ("1", "L", "I"):
        mode = "L"
    elif keep_png and image.has_transparency_data:
        mode = "RGBA"
    else:
        mode = "RGB"
    clean = image.convert(mode)
    clean.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    clean.info = {}
    return clean


def _encode(image: Image.Image, as_png: bool) -> bytes:
    buffer = io.BytesIO()
    if as_png:
        image.save(buffer, format="PNG")
    else:
        image.save(buffer, format="JPEG", quality=JPEG_QUALITY)
    return buffer.getvalue()


def _pixel_hash(image: Image.Image) -> str:
    digest = hashlib.sha256(f"{image.mode}:{image.width}x{image.height}:".encode())
    digest.update(image.tobytes())
    return digest.hexdigest()


def _too_many_pixels() -> PhotoRejected:
    return PhotoRejected(PhotoRejected.TOO_MANY_PIXELS, "图片尺寸过大，请裁剪或缩小后再上传")


def _corrupt() -> PhotoRejected:
    return PhotoRejected(PhotoRejected.CORRUPT, "文件已损坏，请重新拍摄或选择其他图片")
