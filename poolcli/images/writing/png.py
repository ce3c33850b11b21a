"""A fast PNG writer for the common continuous-tone case, on every core.

Pillow's PNG encoder filters each row adaptively (trying all five filters) and
deflates on one thread: for a 2048x2048 photo that is most of a pooling run's time.
This writer filters every row with PNG's ``Up`` filter (one vectorised
subtraction), deflates fixed-size slices of the image in parallel (zlib releases
the GIL) and joins them into one zlib stream with full flushes, which every PNG
decoder reads. The file is byte-identical whatever the number of threads, since
the slices are fixed by the data size, not by the thread count. Measured on a
2048x2048 photo: 4-6 times faster than Pillow at level 1, files within a few
percent of Pillow's and smaller than vips'.

It writes the modes and options the PNG record of the format table lists
(``own_writer_modes``: L, LA, RGB, RGBA at 8 bits and I;16 at 16; one frame, no
interlacing) with the metadata poolcli carries (ICC profile, EXIF, XMP, DPI, text);
:func:`poolcli.images.writing.save.save` sends anything else to Pillow.
"""

from __future__ import annotations

import contextlib
import struct
import zlib
from collections.abc import Mapping
from typing import BinaryIO, cast

import numpy as np
from PIL import Image

from ...pooling.threads import share, thread_count
from ..modes import MODES

#: PNG's colour type for grey, grey + alpha, RGB and RGBA samples, by channel count.
_COLOUR_TYPES = {1: 0, 2: 4, 3: 2, 4: 6}
#: Uncompressed bytes per deflate slice: fixed, so the output never depends on threads.
SLICE_BYTES = 1 << 20
_UP = 2
_LEVEL = 1


def save(image: Image.Image, target: BinaryIO, options: Mapping[str, object]) -> None:
    """Write ``image`` (a mode of the PNG record's ``own_writer_modes``) to ``target``."""
    mode = MODES[image.mode]
    depth, colour = mode.bits, _COLOUR_TYPES[mode.channels]
    width, height = image.size
    target.write(b"\x89PNG\r\n\x1a\n")
    _chunk(target, b"IHDR", struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0))
    for kind, data in _metadata(options):
        _chunk(target, kind, data)
    level = int(options.get("compress_level", _LEVEL))  # type: ignore[call-overload]
    _chunk(target, b"IDAT", _deflate(_filtered(image), level))
    _chunk(target, b"IEND", b"")


def _filtered(image: Image.Image) -> bytes:
    """Every row prefixed by filter type 2 (Up): each byte minus the byte above it."""
    pixels = np.asarray(image)
    if pixels.dtype.itemsize > 1:
        pixels = pixels.astype(pixels.dtype.newbyteorder(">"))  # PNG samples are big-endian
    rows = np.ascontiguousarray(pixels).view(np.uint8).reshape(image.height, -1)
    out = np.empty((rows.shape[0], rows.shape[1] + 1), np.uint8)
    out[:, 0] = _UP
    out[0, 1:] = rows[0]  # the row above the first is zeros
    np.subtract(rows[1:], rows[:-1], out=out[1:, 1:])  # wraps modulo 256, as PNG wants
    return out.tobytes()


def _deflate(data: bytes, level: int) -> bytes:
    """One zlib stream of ``data``: fixed slices deflated in parallel, full-flushed."""
    view = memoryview(data)
    slices = [view[i : i + SLICE_BYTES] for i in range(0, len(data), SLICE_BYTES)] or [view]
    parts: list[bytes] = [b""] * len(slices)

    def deflate(index: int) -> None:
        compressor = zlib.compressobj(level, zlib.DEFLATED, -15, 9)
        last = index == len(slices) - 1
        parts[index] = compressor.compress(slices[index]) + compressor.flush(
            zlib.Z_FINISH if last else zlib.Z_FULL_FLUSH
        )

    workers = thread_count(None, len(data), 2 * SLICE_BYTES)
    share(deflate, range(len(slices)), workers, contextlib.nullcontext)
    header = bytes([0x78, 0x01])  # deflate, 32 KB window, "fastest" level flag
    return header + b"".join(parts) + struct.pack(">I", zlib.adler32(data))


def _metadata(options: Mapping[str, object]):
    icc = options.get("icc_profile")
    if icc:
        yield b"iCCP", b"ICC Profile\0\0" + zlib.compress(icc)  # type: ignore[arg-type]
    dpi = options.get("dpi")
    if dpi:
        x, y = (round(float(v) / 0.0254) for v in dpi)  # type: ignore[attr-defined]
        yield b"pHYs", struct.pack(">IIB", x, y, 1)
    pnginfo = options.get("pnginfo")
    for kind, data, *_ in getattr(pnginfo, "chunks", []):
        yield kind, data
    xmp = options.get("xmp")
    if xmp:
        yield b"iTXt", b"XML:com.adobe.xmp\0\0\0\0\0" + cast(bytes, xmp)
    exif = options.get("exif")
    if exif:
        raw = cast(bytes, exif)
        yield b"eXIf", raw[6:] if raw.startswith(b"Exif\0\0") else raw


def _chunk(target: BinaryIO, kind: bytes, data: bytes) -> None:
    target.write(struct.pack(">I", len(data)) + kind + data)
    target.write(struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
