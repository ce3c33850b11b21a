"""Writers fed bands of rows: .npy, tiled (Big)TIFF and PNG (Zarr: :mod:`.zarr_store`).

Each takes the whole output's ``shape`` and ``dtype`` up front and an iterable of
consecutive bands along the first axis (images: (rows, W[, C]); arrays: rows along
their ``row_axis``), of any heights, and holds at most a few tiles' or chunks'
rows at a time. Errors of the file system (a full disk) propagate as OSError, for
the atomic writer to report and clean up.
"""

from __future__ import annotations

import errno
import math
import struct
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, BinaryIO

import numpy as np

from ...errors import OutputError
from ..formats import TIFF_XMP, TIFF_XMP_TYPE
from ..requests import add_note
from ..writing.options import jpeg_fallback_note

#: Tile side of TIFF outputs and chunk side of Zarr outputs.
TILE = 256
#: Past this many bytes of pixels a TIFF is written as BigTIFF (TIFF's offsets are 32-bit).
BIGTIFF_BYTES = 4_000_000_000 - (64 << 20)
#: TIFF compressions kept as they are (other inputs' get deflate).
_KEPT = {
    "NONE": None,
    "ADOBE_DEFLATE": "zlib",
    "DEFLATE": "zlib",
    "LZW": "lzw",
    "ZSTD": "zstd",
    "PACKBITS": "packbits",
    "LZMA": "lzma",
    "WEBP": None,
    "JPEG": "jpeg",
}


def write_npy(
    stream: BinaryIO,
    shape: tuple[int, ...],
    dtype: np.dtype,
    bands: Iterable[np.ndarray],
    row_axis: int = 0,
) -> None:
    """A .npy file: its header, then the bands, each where C order puts its rows.

    With the rows on an inner axis (a (C, H, W) array) each band is a block of rows
    of every leading index: the stream must be seekable then.
    """
    from numpy.lib import format as npy

    dtype = np.dtype(dtype)
    header = {"descr": npy.dtype_to_descr(dtype), "fortran_order": False, "shape": tuple(shape)}
    npy.write_array_header_1_0(stream, header)
    leading = math.prod(shape[:row_axis])
    if leading == 1:
        for band in bands:
            stream.write(np.ascontiguousarray(band, dtype=dtype).tobytes())
        return
    base, height = stream.tell(), shape[row_axis]
    inner = math.prod(shape[row_axis + 1 :]) * dtype.itemsize
    start = 0
    for band in bands:
        rows = band.shape[row_axis]
        blocks = np.ascontiguousarray(band, dtype=dtype).reshape(leading, -1)
        for index, block in enumerate(blocks):
            stream.seek(base + (index * height + start) * inner)
            stream.write(block.tobytes())
        start += rows
    stream.seek(0, 2)


#: ``-O compression=`` names (Pillow's) as the TIFF compression names above.
PILLOW_NAMES = {
    "raw": "NONE",
    "tiff_lzw": "LZW",
    "tiff_adobe_deflate": "ADOBE_DEFLATE",
    "tiff_deflate": "DEFLATE",
    "packbits": "PACKBITS",
    "jpeg": "JPEG",
    "zstd": "ZSTD",
    "lzma": "LZMA",
}


def asked_compression(save_options: Mapping[str, object], kept: str | None) -> str | None:
    """The tifffile compression of a TIFF tifffile writes: ``-O compression=`` (Pillow's
    names), else ``kept`` (the input TIFF's), else deflate. An :class:`OutputError` for
    a name only Pillow writes (``group3``, ``group4``, ``webp``)."""
    asked = save_options.get("compression")
    if asked is None:
        return tiff_compression(kept)
    if str(asked) not in PILLOW_NAMES:
        message = (
            f"-O compression={asked} is written by Pillow, for images pooled in memory; "
            f"this TIFF is written by tifffile, which takes {', '.join(PILLOW_NAMES)}"
        )
        raise OutputError(message)
    return tiff_compression(PILLOW_NAMES[str(asked)])


def note_jpeg_fallback(
    save_options: Mapping[str, object], dtype: np.dtype, notes: list[str] | None
) -> None:
    """Say so when ``-O compression=jpeg`` meets samples JPEG cannot hold (not 8-bit):
    :func:`tiff_options` writes them deflated."""
    if notes is not None and save_options.get("compression") == "jpeg":
        if np.dtype(dtype) != np.uint8:
            add_note(notes, jpeg_fallback_note(f"{np.dtype(dtype)} samples"))


def tiff_compression(name: str | None) -> str | None:
    """The tifffile compression that keeps an input TIFF's ``name`` (deflate if unknown)."""
    if name is None:
        return "zlib"
    return _KEPT.get(name.upper(), "zlib")


def write_tiff(
    stream: BinaryIO,
    shape: tuple[int, ...],
    dtype: np.dtype,
    bands: Iterable[np.ndarray],
    *,
    photometric: str,
    compression: str | None = "zlib",
    predictor: bool = False,
    dpi: tuple[float, float] | None = None,
    icc_profile: bytes | None = None,
    xmp: bytes | None = None,
    extratags: Sequence[tuple[int, int, int, Any, bool]] = (),
    ome: Mapping[str, Any] | None = None,
    extrasamples: Sequence[str] = (),
) -> None:
    """A tiled TIFF (BigTIFF past 4 GB) of an (H, W[, S]) image fed in bands;
    ``xmp``: an XMP packet for its tag; ``extratags`` as tifffile takes them (GeoTIFF
    tags); ``ome``: an OME-TIFF, with these OME-XML pixel attributes (``PhysicalSizeX``...)."""
    import tifffile

    samples = shape[2] if len(shape) == 3 else 1
    size = int(np.prod(shape)) * np.dtype(dtype).itemsize
    options = tiff_options(shape, dtype, photometric=photometric, compression=compression,
                           predictor=predictor, dpi=dpi, icc_profile=icc_profile,
                           extrasamples=extrasamples)  # fmt: skip
    options["metadata"] = None
    if ome is not None:
        options.update(ome=True, metadata={"axes": "YXS" if samples > 1 else "YX", **ome})
    with short_writes():
        tifffile.imwrite(
            stream, tiles(shape, bands), planarconfig="contig" if samples > 1 else None,
            bigtiff=size > BIGTIFF_BYTES, extratags=[*extratags, *xmp_tags(xmp)], **options,
        )  # fmt: skip


def xmp_tags(xmp: bytes | None) -> list[tuple[int, int, int, Any, bool]]:
    """tifffile ``extratags`` that write ``xmp`` (none when there is none)."""
    return [(TIFF_XMP, TIFF_XMP_TYPE, len(xmp), xmp, True)] if xmp else []


def tiff_options(
    shape: tuple[int, ...],
    dtype: np.dtype,
    *,
    photometric: str,
    compression: str | None = "zlib",
    predictor: bool = False,
    dpi: tuple[float, float] | None = None,
    icc_profile: bytes | None = None,
    tile: int = TILE,
    extrasamples: Sequence[str] = (),
) -> dict[str, Any]:
    """tifffile ``write`` options of a tiled page of an (H, W[, S]) image: the tile,
    photometric, compression (JPEG only for 8 bits), predictor, resolution, profile.
    Samples beyond grey or RGB are the input TIFF's ``extrasamples`` when it had as
    many; else one is an alpha (grey + alpha, RGBA), and more are unspecified (the
    bands of a multispectral raster, as GDAL writes them)."""
    samples = shape[2] if len(shape) == 3 else 1
    base = 3 if photometric == "rgb" else 1
    extra = samples - base if photometric in ("rgb", "minisblack") and samples > base else 0
    options: dict[str, Any] = {}
    if dpi is not None:
        options.update(resolution=dpi, resolutionunit="INCH")
    if icc_profile:
        options["iccprofile"] = icc_profile
    if extra and len(extrasamples) == extra:
        options["extrasamples"] = tuple(extrasamples)
    elif extra == 1:
        options["extrasamples"] = ("UNASSALPHA",)
    elif extra:
        options["extrasamples"] = ("UNSPECIFIED",) * extra
    if compression == "jpeg" and np.dtype(dtype) != np.uint8:
        compression = "zlib"  # JPEG holds 8-bit samples only
    if predictor and compression in ("zlib", "lzw", "zstd"):
        options["predictor"] = True
    options.update(shape=shape, dtype=dtype, tile=(tile, tile), photometric=photometric)
    options["compression"] = compression
    return options


@contextmanager
def short_writes() -> Iterator[None]:
    """tifffile's own check of a short write as the full disk it means (ENOSPC)."""
    try:
        yield
    except OSError as error:
        if error.errno is None:
            message = f"a short write, the disk is probably full ({error})"
            raise OSError(errno.ENOSPC, message) from None
        raise


def tiles(
    shape: tuple[int, ...], bands: Iterable[np.ndarray], tile: int = TILE
) -> Iterator[np.ndarray]:
    """Tiles in TIFF order (rows of tiles, left to right) from bands of any height."""
    width = shape[1]
    for rows in regroup(bands, tile, axis=0):
        for x in range(0, width, tile):
            yield rows[:, x : x + tile]


def regroup(bands: Iterable[np.ndarray], height: int, *, axis: int) -> Iterator[np.ndarray]:
    """The rows of ``bands`` again, ``height`` rows at a time (the last may be shorter)."""
    held: list[np.ndarray] = []
    count = 0
    for band in bands:
        held.append(band)
        count += band.shape[axis]
        while count >= height:
            rows = np.concatenate(held, axis=axis) if len(held) > 1 else held[0]
            yield _take(rows, axis, 0, height)
            rest = _take(rows, axis, height, count)
            held, count = ([rest] if rest.shape[axis] else []), count - height
    if count:
        yield np.concatenate(held, axis=axis) if len(held) > 1 else held[0]


def _take(a: np.ndarray, axis: int, start: int, stop: int) -> np.ndarray:
    index = [slice(None)] * a.ndim
    index[axis] = slice(start, stop)
    return a[tuple(index)]


def write_png(
    stream: BinaryIO,
    shape: tuple[int, ...],
    dtype: np.dtype,
    bands: Iterable[np.ndarray],
    *,
    dpi: tuple[float, float] | None = None,
    icc_profile: bytes | None = None,
    level: int = 6,
) -> None:
    """A PNG of an (H, W[, C]) image of 8- or 16-bit samples, deflated band by band."""
    height, width = shape[:2]
    channels = shape[2] if len(shape) == 3 else 1
    bits = np.dtype(dtype).itemsize * 8
    colour = {1: 0, 2: 4, 3: 2, 4: 6}[channels]
    stream.write(b"\x89PNG\r\n\x1a\n")
    _chunk(stream, b"IHDR", struct.pack(">IIBBBBB", width, height, bits, colour, 0, 0, 0))
    if icc_profile:
        _chunk(stream, b"iCCP", b"icc\x00\x00" + zlib.compress(icc_profile))
    if dpi is not None:
        x, y = (round(v / 0.0254) for v in dpi)
        _chunk(stream, b"pHYs", struct.pack(">IIB", x, y, 1))
    deflate = zlib.compressobj(level)
    for band in bands:
        rows = np.ascontiguousarray(band, dtype=np.dtype(dtype).newbyteorder(">"))
        rows = rows.reshape(rows.shape[0], -1).view(np.uint8)
        filtered = np.zeros((rows.shape[0], rows.shape[1] + 1), np.uint8)  # filter 0: none
        filtered[:, 1:] = rows
        data = deflate.compress(filtered.tobytes())
        if data:
            _chunk(stream, b"IDAT", data)
    _chunk(stream, b"IDAT", deflate.flush())
    _chunk(stream, b"IEND", b"")


def _chunk(stream: BinaryIO, kind: bytes, data: bytes) -> None:
    stream.write(struct.pack(">I", len(data)) + kind + data)
    stream.write(struct.pack(">I", zlib.crc32(data, zlib.crc32(kind)) & 0xFFFFFFFF))
