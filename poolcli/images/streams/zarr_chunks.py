"""Whole chunks of poolcli's own Zarr arrays, encoded on two threads and stored as files.

zarr-python creates the arrays and their metadata and reads them back; this module
only stores the chunks of arrays that poolcli made itself, whose layout it knows:
a local folder, a regular chunk grid, C order, little-endian values and one zstd
compressor (Zarr v2's ``compressor``, or v3's ``bytes`` codec then ``zstd``), no
filters, no shards. Each chunk is then the zstd frame of its C-ordered bytes, at
the key the array's own chunk-key encoding gives. zarr-python's pipeline spends
about 0.8 ms of Python per 256 x 256 chunk around the 0.45 ms that zstd takes
(measured; an OME-Zarr pyramid of a 32768x32768 image has 21,800 chunks), and
encodes one chunk at a time; here the encoding, which releases the GIL, runs on
two threads. Any other array (a store that is not a folder, other codecs) is
written through zarr-python as before.

As zarr-python does by default (``write_empty_chunks=False``), a chunk holding only
the fill value is not stored: readers give the fill value for it.
"""

from __future__ import annotations

import itertools
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

#: Threads that encode and store chunks (zstd releases the GIL: two encode in 0.6x
#: the time of one, measured on this project's 2-core machines).
_WORKERS = 2


class ChunkWriter:
    """Stores regions of whole chunks of ``array`` (see the module docstring)."""

    def __init__(self, array: Any) -> None:
        self.array = array
        self._level = _zstd_level(array)
        self._folder: str | None = None
        self._chunks = tuple(int(n) for n in array.chunks)
        self._fill = array.fill_value
        if self._level is not None:
            store = array.store_path.store
            self._folder = os.path.join(str(store.root), *filter(None, [array.store_path.path]))
        self._made: set[str] = set()
        self._pool: ThreadPoolExecutor | None = None

    def write(self, start: tuple[int, ...], data: np.ndarray) -> None:
        """``data`` into the array from ``start``: a region that begins on chunk
        boundaries and ends on them or at the array's end."""
        sides = list(zip(start, data.shape, self._chunks, self.array.shape, strict=True))
        whole = all(s % c == 0 and ((s + n) % c == 0 or s + n == end) for s, n, c, end in sides)
        if self._folder is None or not whole:
            self.array[tuple(slice(s, s + n) for s, n, _, _ in sides)] = data
            return
        grids = [
            range(s // c, -(-(s + n) // c))
            for s, n, c in zip(start, data.shape, self._chunks, strict=True)
        ]
        jobs = list(itertools.product(*grids))
        if self._pool is None:
            self._pool = ThreadPoolExecutor(_WORKERS, thread_name_prefix="zarr-chunks")
        for _ in self._pool.map(lambda coords: self._store(start, data, coords), jobs):
            pass  # raises the first worker's error, if any

    def close(self) -> None:
        """Stop the encoding threads."""
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    def _store(self, start: tuple[int, ...], data: np.ndarray, coords: tuple[int, ...]) -> None:
        import numcodecs

        region = tuple(
            slice(i * c - s, min((i + 1) * c - s, s_n))
            for i, c, s, s_n in zip(coords, self._chunks, start, data.shape, strict=True)
        )
        part = np.ascontiguousarray(data[region])
        if self._fill is not None and _only(part, self._fill):
            return
        if part.shape != self._chunks:  # an edge chunk: stored whole, the rest fill
            whole = np.full(self._chunks, self._fill or 0, data.dtype)
            whole[tuple(slice(0, n) for n in part.shape)] = part
            part = whole
        encoded = numcodecs.Zstd(level=self._level).encode(part)
        assert self._folder is not None
        path = os.path.join(self._folder, *self.array.metadata.encode_chunk_key(coords).split("/"))
        parent = os.path.dirname(path)
        if parent not in self._made:
            os.makedirs(parent, exist_ok=True)
            self._made.add(parent)
        with open(path, "wb") as file:
            file.write(encoded)


def _only(part: np.ndarray, fill: Any) -> bool:
    """Whether ``part`` holds the fill value only (NaN fills match NaN)."""
    if fill == 0:
        return not np.count_nonzero(part)  # 1.5x faster than any() (measured)
    if fill != fill:
        return bool(np.isnan(part).all())
    return bool((part == fill).all())


def _zstd_level(array: Any) -> int | None:
    """The zstd level of an array whose chunks :class:`ChunkWriter` may store itself,
    or None (see the module docstring)."""
    import numcodecs
    import zarr.codecs
    from zarr.storage import LocalStore

    dtype = np.dtype(array.dtype)
    plain = dtype.kind in "biuf" and (dtype.byteorder in "=|<") and np.little_endian
    if not plain or not isinstance(array.store_path.store, LocalStore):
        return None
    if array.shards is not None or array.filters or array.order != "C":
        return None
    compressors = array.compressors
    if len(compressors) != 1:
        return None
    (codec,) = compressors
    if array.metadata.zarr_format == 2:
        return int(codec.level) if isinstance(codec, numcodecs.Zstd) else None
    serializer = array.serializer
    little = isinstance(serializer, zarr.codecs.BytesCodec) and serializer.endian in (
        None,
        zarr.codecs.Endian.little,
    )
    if little and isinstance(codec, zarr.codecs.ZstdCodec) and not codec.checksum:
        return int(codec.level)
    return None
