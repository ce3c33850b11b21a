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
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any, BinaryIO

import numpy as np

from ..errors import InputError, LimitError
from ..pooling.streaming import RowPlan, split, stream
from ..spec.arrays import VOLUME_LAYOUTS
from ..spec.bands import RowBand
from ..spec.limits import check_pixels, over_limit
from ..spec.settings import PoolSettings
from .arrays.layouts import LaidOut, is_plane_layout, pick_layout
from .arrays.route import _pool_laid_out, cast
from .formats import record_of
from .georef import unkept_note
from .modes import array_mode, image_mode
from .requests import ReadOptions, Report, WriteOptions, add_note, resolve_nodata, unused_options
from .streams import writers
from .streams.output import Output
from .streams.readers import open_rows
from .streams.rows import Facts
from .streams.storage import stored_bytes

#: A streamed input claiming more pixels than this per byte stored is a bomb.
BOMB_RATIO = 1000


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
    this way whatever their size, so that they keep their depth, and so do TIFFs that
    Pillow misreads (planar grey + alpha: see :mod:`.streams.tiff_alpha`).
    """
    if settings.depth is not None:  # a volume: in slabs of depth slices, or whole
        from .streams.slabs import stream_volume

        report = stream_volume(path, input_format, target, settings, write, read, notes)
        if report is not None:
            return report
    with _planned(path, input_format, write, read) as planned:
        if planned is None:
            return None
        source, facts, out = planned
        settings = resolve_nodata(settings, facts.nodata, notes)
        if facts.georef is not None and (rpcs := facts.georef.unkept_rpcs()) is not None:
            add_note(notes, rpcs)
        small = _nbytes(source) <= read.memory // 2
        count = _channels(source)
        bands = facts.alpha is False and count > 1  # extra samples, not alpha: as stored
        deep = facts.kind == "image" and (bands or image_mode(str(source.dtype), count) is None)
        deep = deep or facts.pillow_misreads  # a planar grey + alpha TIFF...: tifffile reads it
        # a GeoTIFF or OME-TIFF keeps its tags through tifffile's writer (Pillow's drops them)
        tagged = facts.georef is not None or "ome" in facts.extra
        deep = deep or (tagged and out is not None and out.format == "TIFF")
        if bands and write.format == "PNG":
            add_note(notes, f"PNG has no bands: the {count} bands are written as grey or "
                     "colour and alpha; write TIFF or .npy to keep them bands")  # fmt: skip
        if deep and out is None:
            depth = array_mode(str(source.dtype), count, alpha=facts.alpha)
            name = depth.name if depth is not None else str(source.dtype)
            if facts.pillow_misreads or not _pillow_opens(path):
                message = (
                    f"Pillow, which writes {write.format}, cannot read these {name} pixels; "
                    "write TIFF, PNG, .npy or Zarr, which keep them as stored"
                )
                raise InputError(message)
            png = source.dtype in (np.uint8, np.uint16) and count <= 4  # as PNG's writer takes
            kept = ("PNG", "TIFF", ".npy") if png else ("TIFF", ".npy")
            keep = ", ".join(f for f in kept if f.strip(".").upper() != write.format)
            keep = " or ".join(keep.rsplit(", ", 1))
            add_note(notes, f"{name} pixels read by Pillow, as it reads them: {write.format} "
                     f"holds none of this depth; write {keep} to keep it")  # fmt: skip
        # volumes and signals are pooled whole (bands are rows of planes)
        whole = settings.depth is not None or (
            facts.kind != "image"
            and not is_plane_layout(
                read.layout or facts.extra.get("layout") or pick_layout(source.shape, None)
            )
        )
        lost = None
        if write.format != "TIFF":  # its georeferencing, and its nodata but in a Zarr's attribute
            lost = unkept_note(write.format, facts.georef, nodata=write.format != "ZARR")
        if lost is not None:  # whichever path writes it
            add_note(notes, lost)
        if out is None or (small and not deep) or whole:
            if input_format != "ZARR":
                return None  # the whole-image path
            return _whole_zarr(source, facts, out, target, settings, write, read)
        job = Streamed(path, source, out, settings, write, read, notes)
        out.write(target, job.shape, job.dtype, job.bands(), job.placement, settings.nodata_value)
        return job.report()


@contextmanager
def _planned(
    path: str, input_format: str, write: WriteOptions, read: ReadOptions
) -> Iterator[tuple[Any, Facts, Output | None] | None]:
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
            Output.plan(source.shape, source.dtype, source.row_axis, facts, write, read),
        )


def _pillow_opens(path: str) -> bool:
    """Whether Pillow reads the header of the file at ``path``."""
    from PIL import Image

    try:
        with Image.open(path):
            return True
    except Exception:  # noqa: BLE001 - Pillow raises many kinds for what it cannot read
        return False


def _channels(source: Any) -> int:
    return source.shape[2] if len(source.shape) == 3 else 1


def _nbytes(source: Any) -> int:
    return math.prod(source.shape) * source.dtype.itemsize


class Streamed:
    """One streamed pooling: its plan, band height, output shape and dtype."""

    def __init__(self, path: str, source: Any, out: Output, settings: PoolSettings,
                 write: WriteOptions, read: ReadOptions,
                 notes: Sequence[str] = ()) -> None:  # fmt: skip
        if out.facts.format == "PNG":  # decoded whole: the plain pixel limit
            check_pixels((source.shape[1], source.shape[0]), read.max_pixels)
        _check_bomb(path, source.shape, read.max_pixels)
        self.source, self.out, self.settings, self.write = source, out, settings, write
        self.notes: list[str] = list(notes)  # what the plan said before pooling
        if out.facts.kind == "image":
            self.notes += unused_options(read, write, array_out=record_of(write.format).array)
        self._compute = out.compute(settings, self.notes)
        axis = source.row_axis
        self.height, self.width = source.shape[axis], source.shape[axis + 1]
        self.plan = RowPlan.of(settings, self.height, self.width)
        self.row_bytes = _nbytes(source) // self.height
        self.rows = self.plan.rows_per_band(self.row_bytes, read.memory // 4, align=writers.TILE)
        self.out_size = settings.output_size(self.width, self.height)
        self.placement = settings.placement(self.width, self.height)
        bands, first, stop = self.plan.bands(0, 1)  # one output row tells the dtype
        self.dtype = self._pooled(source.rows(first, stop), bands).dtype
        if write.format == "TIFF":
            writers.note_jpeg_fallback(write.save_options, self.dtype, self.notes)
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
    out: Output | None,
    target: BinaryIO | str,
    settings: PoolSettings,
    write: WriteOptions,
    read: ReadOptions,
) -> Report:
    """A Zarr input read whole, then pooled as an array (as a .npy is); into Zarr,
    written by the streamed writer as one band (OME-Zarr stays OME-Zarr)."""
    from .arrays.files import _check_size
    from .arrays.route import convert_arrays
    from .voxels import ome_zarr_voxel

    named = read.layout or facts.extra.get("layout")
    layout = named or pick_layout(source.shape, None)
    _check_size(source.shape, layout, read.max_pixels, "")
    laid = LaidOut(source.rows(0, source.shape[source.row_axis]), layout, defaulted=not named)
    # an OME-Zarr volume stays one, its voxel sizes scaled (as an image's pixel sizes)
    ome_volume = layout in VOLUME_LAYOUTS and facts.axes is not None and "z" in facts.axes
    plane = is_plane_layout(layout) and settings.depth is None
    if out is None or write.format != "ZARR" or not (plane or ome_volume):
        voxel = ome_zarr_voxel(facts.axes, facts.extra.get("transforms"))  # into a Z stack
        return convert_arrays({"": laid}, "ZARR", target, settings, write, [], voxel=voxel)
    pooled = cast(_pool_laid_out(laid, settings), write.dtype)
    placement = settings.placement(*laid.size)
    if ome_volume:
        placement = settings.volume_placement(*laid.extent)
    out.write(target, pooled.shape, pooled.dtype, [pooled], placement, settings.nodata_value)
    return Report("ZARR", laid.extent, laid.with_array(pooled).extent, 1, ())


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
    if settings.depth is not None:
        return None  # a volume: one worker, which streams it in slabs of depth slices
    with _planned(path, input_format, write, read) as planned:
        if planned is None:
            return None
        source, facts, out = planned
        if out is None or _nbytes(source) <= read.memory // 2:
            return None
        settings = settings.for_file(facts.nodata)
        job = Streamed(path, source, out, settings, write, read)
        out.create_zarr(target, job.shape, job.dtype, job.placement, settings.nodata_value)
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
        job = Streamed(path, source, out, settings.for_file(facts.nodata), write, read)
        node: Any = zarr.open(target, mode="r+")
        array = node if isinstance(node, zarr.Array) else node["0"]
        out.fill_zarr(array, start, job.bands(start, stop))
