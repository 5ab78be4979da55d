"""Test images made with Pillow on the fly (no binary fixtures in the repository)."""

from __future__ import annotations

import io
import struct
import zlib
from typing import Optional, Tuple

from PIL import ExifTags, Image

GPS_LATITUDE = (39.0, 54.0, 27.0)  # Beijing: what must never leave the shopper's phone


def picture(size: Tuple[int, int] = (64, 48), mode: str = "RGB", seed: int = 0) -> Image.Image:
    """A gradient with a seed-dependent tint, so that different seeds give different pixels."""
    width, height = size
    image = Image.new("RGB", size)
    image.putdata(
        [((x * 7 + seed * 31) % 256, (y * 5) % 256, (x + y + seed) % 256) for y in range(height) for x in range(width)]
    )
    return image.convert(mode)


def encode(image: Image.Image, image_format: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=image_format, **params)
    return buffer.getvalue()


def jpeg(size: Tuple[int, int] = (64, 48), seed: int = 0) -> bytes:
    return encode(picture(size, seed=seed), "JPEG", quality=90)


def png(size: Tuple[int, int] = (64, 48), seed: int = 0, mode: str = "RGB") -> bytes:
    return encode(picture(size, mode=mode, seed=seed), "PNG")


def webp(size: Tuple[int, int] = (64, 48), seed: int = 0, mode: str = "RGB") -> bytes:
    return encode(picture(size, mode=mode, seed=seed), "WEBP", quality=90)


def transparent_webp(size: Tuple[int, int] = (64, 48), seed: int = 0) -> bytes:
    image = picture(size, seed=seed)
    image.putalpha(128)
    return encode(image, "WEBP", quality=90)


def gif(size: Tuple[int, int] = (64, 48)) -> bytes:
    return encode(picture(size), "GIF")


def camera_exif(orientation: Optional[int] = None) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "ShouhouPhone"
    exif[ExifTags.Base.Model] = "Evidence 1"
    exif[ExifTags.Base.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: GPS_LATITUDE,
        ExifTags.GPS.GPSLongitudeRef: "E",
        ExifTags.GPS.GPSLongitude: (116.0, 23.0, 17.0),
    }
    if orientation is not None:
        exif[ExifTags.Base.Orientation] = orientation
    return exif


def jpeg_with_gps(size: Tuple[int, int] = (64, 48), seed: int = 0, orientation: Optional[int] = None) -> bytes:
    return encode(picture(size, seed=seed), "JPEG", quality=90, exif=camera_exif(orientation))


def png_claiming_size(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height while its pixel data is that of a tiny image.

    Decoding it would fail (the data is far too short), so a refusal for its *size* proves the
    size was checked from the header, before any decoding.
    """
    data = bytearray(png((8, 8)))
    header_start = 8 + 8  # signature, then the IHDR chunk's length and type
    ihdr = bytes(data[header_start : header_start + 13])
    forged = struct.pack(">II", width, height) + ihdr[8:]
    data[header_start : header_start + 13] = forged
    data[header_start + 13 : header_start + 17] = struct.pack(">I", zlib.crc32(b"IHDR" + forged))
    return bytes(data)
