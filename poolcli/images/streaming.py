"""Inputs larger than memory: a TIFF, .npy or Zarr pooled a band of rows at a time.

:func:`convert_streamed` takes an input the whole-image path would hold in memory
and, when it is larger than half the memory budget (``ReadOptions.memory``) and
the output streams too (TIFF, PNG, .npy, Zarr), pools it in bands: each band reads
the input rows its windows need (about a quarter of the budget), goes through the
same image or array policy as a whole image (:func:`~.engine_route.route.pool_channels`,
the array route's layouts), and is handed to a streamed writer. The result equals
the whole-image result byte for byte (:mod:`poolcli.pooling.streaming`).

Zarr inputs always come through here (Pillow does not read them): read whole when
they are small or their output does not stream, in bands otherwise.

The pixel limit guards against decompression bombs, which bounded memory makes
harmless but for the time they would take: a streamed input is refused when it is
over ``max_pixels`` *and* claims more than :data:`BOMB_RATIO` pixels per byte
stored (no real codec packs that tight).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any, BinaryIO

import numpy as np

from ..errors import LimitError
from ..pooling.streaming import RowPlan, split, stream
from ..spec.bands import RowBand
from ..spec.limits import check_pixels, over_limit
from ..spec.modes import PoolMode
from ..spec.settings import PoolSettings
from .arrays.layouts import LaidOut, is_plane_layout, pick_layout
from .arrays.route import _pool_laid_out, cast
from .engine_route.passes import pool_all
from .engine_route.route import pool_channels
from .formats import record_of
from .modes import array_mode, image_mode
from .requests import ReadOptions, Report, WriteOptions, add_note, unused_options
from .streams import writers
from .streams.readers import Facts, open_rows, stored_bytes

#: A streamed input claiming more pixels than this per byte stored is a bomb.
BOMB_RATIO = 1000

Compute = Callable[[np.ndarray, PoolSettings], np.ndarray]


def convert_streamed(
    path: str,
    input_format: str,
    target: BinaryIO | str,
    settings: PoolSettings,
    write: WriteOptions,
    read: ReadOptions,
    notes: list[str],
) -> Report | None:
    """Pool ``path`` into ``target`` in bands; None when the whole-image path should
    (``notes`` then holds what it should say).

    Deep images (16-bit RGB, signed 16-bit grey: pixels Pillow has no mode for) come
    this way whatever their size, so that they keep their depth.
    """
    with _planned(path, input_format, write, read) as planned:
        if planned is None:
            return None
        source, facts, out = planned
        small = _nbytes(source) <= read.memory // 2
        deep = facts.kind == "image" and image_mode(str(source.dtype), _channels(source)) is None
        if deep and out is None:
            depth = array_mode(str(source.dtype), _channels(source))
            name = depth.name if depth is not None else str(source.dtype)
            add_note(notes, f"{name} pixels read by Pillow, as it reads them: {write.format} "
                     "holds none of this depth; write PNG, TIFF or .npy to keep it")  # fmt: skip
        # volumes and signals are pooled whole (bands are rows of planes)
        whole = settings.depth is not None or (
            facts.kind != "image"
            and not is_plane_layout(
                read.layout or facts.extra.get("layout") or pick_layout(source.shape, None)
            )
        )
        if out is None or (small and not deep) or whole:
            if input_format != "ZARR":
                return None  # the whole-image path
            return _whole_zarr(source, facts, out, target, settings, write, read)
        job = Streamed(path, source, out, settings, write, read)
        out.write(target, job.shape, job.dtype, job.bands(), job.scale)
        return job.report()


@contextmanager
def _planned(
    path: str, input_format: str, write: WriteOptions, read: ReadOptions
) -> Iterator[tuple[Any, Facts, _Output | None] | None]:
    """The open row source of ``path``, its facts and the output plan (None: the
    output does not stream); None when this file is better read whole."""
    opened = open_rows(path, input_format, read.layout)
    if opened is None:
        yield None
        return
    source, facts = opened
    with source:
        yield (
            source,
            facts,
            _Output.plan(source.shape, source.dtype, source.row_axis, facts, write, read),
        )


def _channels(source: Any) -> int:
    return source.shape[2] if len(source.shape) == 3 else 1


def _nbytes(source: Any) -> int:
    return math.prod(source.shape) * source.dtype.itemsize


class Streamed:
    """One streamed pooling: its plan, band height, output shape and dtype."""

    def __init__(self, path: str, source: Any, out: _Output, settings: PoolSettings,
                 write: WriteOptions, read: ReadOptions) -> None:  # fmt: skip
        if out.facts.format == "PNG":  # decoded whole: the plain pixel limit
            check_pixels((source.shape[1], source.shape[0]), read.max_pixels)
        _check_bomb(path, source.shape, read.max_pixels)
        self.source, self.out, self.settings, self.write = source, out, settings, write
        self.notes: list[str] = []
        if out.facts.kind == "image":
            self.notes += unused_options(read, write, array_out=record_of(write.format).array)
        self._compute = out.compute(settings, self.notes)
        axis = source.row_axis
        self.height, self.width = source.shape[axis], source.shape[axis + 1]
        self.plan = RowPlan.of(settings, self.height, self.width)
        self.row_bytes = _nbytes(source) // self.height
        self.rows = self.plan.rows_per_band(self.row_bytes, read.memory // 4, align=writers.TILE)
        self.out_size = settings.output_size(self.width, self.height)
        self.scale = settings.scale(self.width, self.height)
        bands, first, stop = self.plan.bands(0, 1)  # one output row tells the dtype
        self.dtype = self._pooled(source.rows(first, stop), bands).dtype
        shape = list(source.shape)
        shape[axis], shape[axis + 1] = self.out_size[1], self.out_size[0]
        self.shape = tuple(shape)

    def _pooled(self, slab: np.ndarray, bands: tuple[RowBand, ...]) -> np.ndarray:
        return cast(self._compute(slab, replace(self.settings, bands=bands)), self.write.dtype)

    def bands(self, start: int = 0, stop: int | None = None) -> Any:
        """Output rows ``start:stop``, a band at a time."""
        return stream(self.source, self.plan, self._pooled, self.rows, start, stop)

    def report(self) -> Report:
        megabytes = self.rows * self.row_bytes * max(1, self.height // self.plan.out_rows) / 2**20
        return Report(
            self.out.facts.format, (self.width, self.height), self.out_size, 1, tuple(self.notes),
            streamed=f"in bands of {self.rows} rows (about {megabytes:.0f} MB read each)",
        )  # fmt: skip


class _Output:
    """How the bands of one input are pooled and written in one output format."""

    def __init__(
        self, kind: str, write: WriteOptions, facts: Facts, layout: str | None, record: Any
    ) -> None:
        self.kind, self.format, self.facts, self.layout, self.record = (
            kind,
            write.format,
            facts,
            layout,
            record,
        )
        self.save_options = write.save_options

    @classmethod
    def plan(
        cls,
        shape: tuple[int, ...],
        dtype: np.dtype,
        row_axis: int,
        facts: Facts,
        write: WriteOptions,
        read: ReadOptions,
    ) -> _Output | None:
        """The plan for this input and output, or None when they do not stream together."""
        fmt = write.format
        if not record_of(fmt).streams_out:
            return None
        asked = write.save_options.get("compression")
        if fmt == "TIFF" and asked is not None and asked not in writers.PILLOW_NAMES:
            return None  # a bilevel or WebP compression: Pillow's writer, whole
        if facts.kind == "image":
            channels = shape[2] if len(shape) == 3 else 1
            record = array_mode(str(dtype), channels)
            if fmt == "PNG" and (dtype not in (np.uint8, np.uint16) or channels > 4):
                return None
            if fmt in ("PNG", "TIFF") and write.dtype is not None:
                return None
            return cls("image", write, facts, None, record)
        layout = read.layout or facts.extra.get("layout") or pick_layout(shape, None)
        if fmt in ("PNG", "TIFF"):
            if layout not in ("hw", "hwc", "chw"):
                return None
            channels = 1 if layout == "hw" else shape[2 if layout == "hwc" else 0]
            out_dtype = np.dtype(write.dtype) if write.dtype else dtype
            if image_mode(str(out_dtype), channels) is None or channels > 4:
                return None
            if fmt == "PNG" and out_dtype not in (np.uint8, np.uint16):
                return None
        return cls("array", write, facts, layout, None)

    def compute(self, settings: PoolSettings, notes: list[str]) -> Compute:
        if self.kind == "image":
            record = self.record
            if record is not None and record.poolable:
                wide = record_of(self.format).array  # a sum into an array keeps its integers
                return lambda slab, s: pool_channels(slab, record, s, notes, wide=wide)
            whole = settings.mode is PoolMode.MODE
            return lambda slab, s: pool_all(
                slab, s, channel_axis=2 if whole and slab.ndim == 3 else None
            )
        layout = self.layout
        assert layout is not None
        return lambda slab, s: _pool_laid_out(LaidOut(slab, layout), s)

    @property
    def row_axis(self) -> int:
        return 0 if self.kind == "image" else _layout_row_axis(self.layout)

    def create_zarr(self, path: str, shape: tuple[int, ...], dtype: np.dtype) -> Any:
        """The Zarr array of this output: OME-Zarr when the input was, in the input's layout."""
        axes = self.facts.axes if self.facts.format == "ZARR" else None
        layout = self.layout if self.kind == "array" else ("hwc" if len(shape) == 3 else "hw")
        version = writers.zarr_format(self.save_options)
        return writers.create_zarr(path, shape, dtype, self.row_axis, axes, layout, version)

    def fill_zarr(self, array: Any, start: int, bands: Any) -> None:
        """Write ``bands`` into ``array`` from output row ``start``, a chunk row at a time."""
        for band in writers.regroup(bands, writers.TILE, axis=self.row_axis):
            writers.write_zarr_rows(array, self.row_axis, start, band)
            start += band.shape[self.row_axis]

    def write(
        self,
        target: BinaryIO | str,
        shape: tuple[int, ...],
        dtype: np.dtype,
        bands: Any,
        scale: tuple[float, float],
    ) -> None:
        facts = self.facts
        dpi = None if facts.dpi is None else (facts.dpi[0] / scale[0], facts.dpi[1] / scale[1])
        row_axis = 0 if self.kind == "image" else _layout_row_axis(self.layout)
        if self.format == "ZARR":
            assert isinstance(target, str)
            self.fill_zarr(self.create_zarr(target, shape, dtype), 0, bands)
            return
        assert not isinstance(target, str)
        if self.format == "NPY":
            writers.write_npy(target, shape, dtype, bands, row_axis)
            return
        if self.kind == "array":  # an image from an array: channels last
            bands = (_channels_last(b, self.layout) for b in bands)
            shape = _channels_last_shape(shape, self.layout)
        if self.format == "PNG":
            writers.write_png(target, shape, dtype, bands, dpi=dpi, icc_profile=facts.icc_profile)
            return
        photometric = facts.photometric or (
            "rgb" if len(shape) == 3 and shape[2] >= 3 else "minisblack"
        )
        asked = self.save_options.get("compression")
        kept = facts.compression if facts.format == "TIFF" else None
        compression = writers.tiff_compression(
            writers.PILLOW_NAMES[str(asked)] if asked is not None else kept
        )
        writers.write_tiff(
            target,
            shape,
            dtype,
            bands,
            photometric=photometric,
            compression=compression,
            predictor=bool(facts.predictor and facts.predictor > 1),
            dpi=dpi,
            icc_profile=facts.icc_profile,
        )


def _layout_row_axis(layout: str | None) -> int:
    from ..spec.arrays import LAYOUTS

    assert layout is not None
    return LAYOUTS[layout][0][0]


def _channels_last(band: np.ndarray, layout: str | None) -> np.ndarray:
    return np.moveaxis(band, 0, -1) if layout == "chw" else band


def _channels_last_shape(shape: tuple[int, ...], layout: str | None) -> tuple[int, ...]:
    return shape[1:] + shape[:1] if layout == "chw" else shape


def _check_bomb(path: str, shape: tuple[int, ...], max_pixels: int | None) -> None:
    pixels = math.prod(shape)
    if max_pixels is None or pixels <= max_pixels:
        return
    stored = max(1, stored_bytes(path))
    if pixels > BOMB_RATIO * stored:
        subject = f"the input, {stored:,} bytes stored, claims"
        raise LimitError(over_limit(f"{pixels:,}", max_pixels, subject=subject))


def _whole_zarr(
    source: Any,
    facts: Facts,
    out: _Output | None,
    target: BinaryIO | str,
    settings: PoolSettings,
    write: WriteOptions,
    read: ReadOptions,
) -> Report:
    """A Zarr input read whole, then pooled as an array (as a .npy is); into Zarr,
    written by the streamed writer as one band (OME-Zarr stays OME-Zarr)."""
    from .arrays.files import _check_size
    from .arrays.route import convert_arrays

    named = read.layout or facts.extra.get("layout")
    layout = named or pick_layout(source.shape, None)
    _check_size(source.shape, layout, read.max_pixels, "")
    laid = LaidOut(source.rows(0, source.shape[source.row_axis]), layout, defaulted=not named)
    if out is None or write.format != "ZARR" or settings.depth or not is_plane_layout(layout):
        return convert_arrays({"": laid}, "ZARR", target, settings, write, [])
    pooled = cast(_pool_laid_out(laid, settings), write.dtype)
    out.write(target, pooled.shape, pooled.dtype, [pooled], settings.scale(*laid.size))
    return Report("ZARR", laid.size, laid.with_array(pooled).size, 1, ())


@dataclass(frozen=True)
class Split:
    """A Zarr output of a streamed input, cut into bands of whole chunk rows, so that
    each band can be pooled and written by another process (``--executor dask``)."""

    bands: tuple[tuple[int, int], ...]
    report: Report


def plan_split(
    path: str,
    input_format: str | None,
    target: str,
    settings: PoolSettings,
    write: WriteOptions,
    read: ReadOptions,
) -> Split | None:
    """Create the Zarr array at ``target`` and cut its rows, or None when this input is
    not streamed into Zarr (then it is pooled whole by one worker)."""
    if input_format is None or write.format != "ZARR":
        return None
    with _planned(path, input_format, write, read) as planned:
        if planned is None:
            return None
        source, facts, out = planned
        if out is None or _nbytes(source) <= read.memory // 2:
            return None
        job = Streamed(path, source, out, settings, write, read)
        out.create_zarr(target, job.shape, job.dtype)
        step = max(writers.TILE, job.rows - job.rows % writers.TILE)
        return Split(tuple(split(job.plan.out_rows, step)), job.report())


def pool_split_band(
    path: str,
    input_format: str,
    target: str,
    settings: PoolSettings,
    write: WriteOptions,
    read: ReadOptions,
    start: int,
    stop: int,
) -> None:
    """Pool output rows ``start:stop`` of ``path`` into the Zarr array :func:`plan_split` made."""
    import zarr

    with _planned(path, input_format, write, read) as planned:
        assert planned is not None, "plan_split streamed it"
        source, facts, out = planned
        assert out is not None
        job = Streamed(path, source, out, settings, write, read)
        node: Any = zarr.open(target, mode="r+")
        array = node if isinstance(node, zarr.Array) else node["0"]
        out.fill_zarr(array, start, job.bands(start, stop))
