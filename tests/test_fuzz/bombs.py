"""Hostile uploads, made cheaply in memory: no 1.6 GB buffer is ever allocated here."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

from tests.test_handoff import images

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
GREY, RGB = 0, 2  # PNG colour types


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_of(width: int, height: int, bit_depth: int, colour_type: int, compressed: bytes) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return PNG_SIGNATURE + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", compressed) + png_chunk(b"IEND", b"")


def png_20000_square() -> bytes:
    """A valid PNG header claiming 20,000 x 20,000 RGB (1.2 GB decoded), with a tiny IDAT of zeros."""
    return png_of(20_000, 20_000, 8, RGB, zlib.compress(b"\x00" * 4096, 9))


def png_decompression_bomb(side: int = 10_000) -> bytes:
    """A complete, valid 1-bit PNG of side x side black pixels: ~12 KB on disk, 100 M pixels decoded
    (Pillow's own bomb guard only refuses above 178 M; the service's pixel limit must catch it)."""
    row = b"\x00" + b"\x00" * ((side + 7) // 8)  # filter byte, then the packed pixels
    compressor = zlib.compressobj(9)
    compressed = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    return png_of(side, side, 1, GREY, compressed)


def jpeg_claiming_size(width: int, height: int) -> bytes:
    """A small real JPEG whose frame header (SOF0) claims width x height."""
    data = bytearray(images.jpeg(size=(16, 16)))
    start = data.index(b"\xff\xc0")
    data[start + 5 : start + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def zip_named_jpg() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("photo.jpg", images.jpeg())
    return buffer.getvalue()


def truncated_jpeg() -> bytes:
    whole = images.jpeg(size=(320, 240))
    return whole[: len(whole) // 2]


SVG_WITH_SCRIPT = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<svg xmlns="http://www.w3.org/2000/svg" width="64" height="48" onload="alert(1)">'
    b"<script>fetch('/api/agent/tickets').then(r => r.text()).then(alert)</script>"
    b'<rect width="64" height="48" fill="red"/></svg>'
)


def jpeg_with_script_comment() -> bytes:
    """A real photo with HTML in a JPEG comment (COM) segment: a polyglot if served as it came."""
    data = images.jpeg(size=(32, 24))
    comment = b"<script>alert(document.cookie)</script>"
    segment = b"\xff\xfe" + struct.pack(">H", len(comment) + 2) + comment
    return data[:2] + segment + data[2:]


def padded_jpeg(total_bytes: int) -> bytes:
    """A valid JPEG followed by zeros up to exactly total_bytes (decoders ignore what follows EOI)."""
    data = images.jpeg(size=(32, 24))
    return data + b"\x00" * (total_bytes - len(data))
