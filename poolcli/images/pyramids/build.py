"""One input into one pyramid: level 0 read in bands, every level made and written.

:func:`build_pyramid` opens the input (:mod:`.source`), plans the levels (their
shapes, the tile), picks the engine's level maker for the mode and hands every
level's rows to the container's writer (:mod:`.zarr`, :mod:`.tiff`, :mod:`.dzi`,
:mod:`.folder`) in one pass over the input. Memory: a band of level-0 rows of
about an eighth of ``read.memory``, plus what the level maker and the writer
hold (a few tiles' rows of each level; for median and mode, ``2**k`` level-0
rows for level ``k``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from typing import Any, BinaryIO

import numpy as np

from ...errors import InputError
from ...pooling.pyramid import level_bands, level_length, levels_to_fit, levels_to_one
from ...spec.limits import check_pixels
from ...spec.modes import PoolMode
from ...spec.pyramids import Container, PyramidOptions
from ...spec.settings import PoolSettings
from ..requests import ReadOptions
from ..streams import writers, zarr_store
from .source import LevelInput, level_maker, level_settings, opened_input


@dataclass(frozen=True)
class PyramidJob:
    """One pyramid: the container, its options, the pooling settings (mode, alpha,
    linear), how to read, and ``-O`` options (``compression``, ``zarr_format``,
    ``quality``...)."""

    container: Container
    options: PyramidOptions
    settings: PoolSettings
    read: ReadOptions
    save_options: dict[str, object]

    @property
    def zarr_format(self) -> int:
        """OME-Zarr's Zarr version: 2 (NGFF 0.4) unless ``-O zarr_format=3``; a label
        pyramid takes its image's."""
        image = self.options.image
        if image is not None:
            return 3 if os.path.exists(os.path.join(image, "zarr.json")) else 2
        return zarr_store.zarr_format({"zarr_format": 2, **self.save_options})


@dataclass(frozen=True)
class PyramidReport:
    """What one pyramid is: the input's format and (width, height), every level's
    (width, height), notes, how it streamed, and the container's own facts
    (``extra``: Deep Zoom's descriptor)."""

    input_format: str
    in_size: tuple[int, ...]
    levels: tuple[tuple[int, ...], ...]
    notes: tuple[str, ...] = ()
    streamed: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def level_shapes(level0: LevelInput, levels: int) -> list[tuple[int, ...]]:
    """Every level's (H, W[, C]) shape: ``ceil(n / 2**k)`` pixels per axis."""
    rest = level0.shape[2:]
    return [
        (level_length(level0.height, k), level_length(level0.width, k), *rest)
        for k in range(levels)
    ]


def plan_levels(height: int, width: int, job: PyramidJob) -> int:
    """How many levels: all down to one pixel for Deep Zoom, ``levels`` if given
    (at most down to one pixel), else down to the first that fits one tile."""
    deepest = levels_to_one(height, width)
    if job.container is Container.DZI:
        return deepest
    if job.options.levels is not None:
        return min(job.options.levels, deepest)
    return levels_to_fit(height, width, job.options.tile_for(job.container))


def plan_sizes(
    path: str, input_format: str | None, job: PyramidJob
) -> tuple[tuple[int, int], tuple[tuple[int, int], ...]]:
    """The input's (width, height) and every level's, from its header (a dry run)."""
    if input_format is not None:
        from ..streams.readers import open_rows

        opened = open_rows(path, input_format, job.read.layout)
        if opened is not None:
            rows, _ = opened
            with rows:
                shape = rows.shape
                height, width = shape[rows.row_axis], shape[rows.row_axis + 1]
            return (width, height), _sizes(height, width, job)
    from ..reading.headers import probe

    described = probe(path, max_pixels=job.read.max_pixels)
    width, height = described.size
    return (width, height), _sizes(height, width, job)


def _sizes(height: int, width: int, job: PyramidJob) -> tuple[tuple[int, int], ...]:
    levels = plan_levels(height, width, job)
    return tuple((level_length(width, k), level_length(height, k)) for k in range(levels))


def build_pyramid(
    path: str, input_format: str | None, target: BinaryIO | str, job: PyramidJob
) -> PyramidReport:
    """Make ``path``'s pyramid into ``target`` (a stream for a TIFF; a folder's path
    for OME-Zarr, Deep Zoom and a folder of levels)."""
    read = job.read
    # a palette's colour table: a page of a TIFF pyramid holds it, under mode (labels)
    palette = job.settings.mode is PoolMode.MODE and job.container is Container.TIFF
    with opened_input(path, input_format, read, palette=palette) as level0:
        if level0.facts.format not in ("TIFF", "ZARR", "NPY"):
            check_pixels((level0.width, level0.height), read.max_pixels)
        else:
            from ..streaming import _check_bomb

            _check_bomb(path, level0.shape, read.max_pixels)
        levels = plan_levels(level0.height, level0.width, job)
        shapes = level_shapes(level0, levels)
        notes = list(level0.notes)
        settings = _with_nodata(level0, job.settings, notes)
        maker = level_maker(level0, settings, levels, notes)
        dtype = _level_dtype(level0, job.settings)
        sink = _sink(job, target, level0, shapes, dtype, notes, settings)
        rows = _band_rows(level0, read.memory, job.options.tile_for(job.container))
        try:
            for level, band in level_bands(level0.bands(rows), maker):
                sink.add(level, band)
            sink.close()
        except BaseException:
            abort = getattr(sink, "abort", None)
            if abort is not None:
                abort()
            raise
        return PyramidReport(
            level0.facts.format, (level0.width, level0.height),
            tuple((s[1], s[0]) for s in shapes), tuple(notes),
            streamed=f"in bands of {rows} rows", extra=getattr(sink, "facts", {}),
        )  # fmt: skip


def _with_nodata(level0: LevelInput, settings: PoolSettings, notes: list[str]) -> PoolSettings:
    """``settings`` with the input's own nodata unless one was given; a TIFF pyramid's
    level 0 then carries that nodata as its GDAL_NODATA (GDAL's overviews take it),
    and none after ``--nodata none``."""
    from ..georef import pooled_tags
    from ..requests import resolve_nodata

    settings = resolve_nodata(settings, level0.facts.nodata, notes)
    nodata = settings.nodata_value
    if nodata is not None or level0.facts.georef is not None:  # none: the file's tag dropped
        same = ((1.0, 0.0), (1.0, 0.0))  # level 0 is the input's own grid
        level0.facts = replace(level0.facts, georef=pooled_tags(level0.facts.georef, same, nodata))
    return settings


def _level_dtype(level0: LevelInput, settings: PoolSettings) -> np.dtype:
    """The dtype every level is written in: level 0's (a sum of an array: 64 bits)."""
    from ...pooling.numeric import sum_dtype

    if settings.mode is PoolMode.SUM and level0.record is None:
        return sum_dtype(level0.dtype)
    return level0.dtype


def _band_rows(level0: LevelInput, memory: int, tile: int) -> int:
    """Level-0 rows per band: about an eighth of the budget, whole tile rows if it allows."""
    rows = max(1, (memory // 8) // max(1, level0.row_bytes))
    if rows >= tile:
        rows -= rows % tile
    return min(rows, level0.height)


def _sink(
    job: PyramidJob,
    target: BinaryIO | str,
    level0: LevelInput,
    shapes: list[tuple[int, ...]],
    dtype: np.dtype,
    notes: list[str],
    settings: PoolSettings,
) -> Any:
    container, tile = job.container, job.options.tile_for(job.container)
    nodata = settings.nodata_value
    if dtype != level0.dtype and container is not Container.OME_ZARR:
        message = f"{dtype} sums are written to OME-Zarr only; use -o NAME.ome.zarr"
        raise InputError(message)
    if container is Container.OME_ZARR:
        from .zarr import ZarrPyramid

        assert isinstance(target, str)
        _note_unkept("OME-Zarr", level0, notes, nodata=False)  # its levels carry the nodata
        return ZarrPyramid(
            target, shapes, dtype, tile=tile, zarr_format=job.zarr_format,
            pixel_size=level0.pixel_size, unit=level0.unit, name=job.options.label, nodata=nodata,
        )  # fmt: skip
    if container in (Container.TIFF, Container.OME_TIFF):
        from .tiff import TiffPyramid

        assert not isinstance(target, str)
        facts = level0.facts
        photometric = facts.photometric_for(shapes[0])
        kept = facts.compression if facts.format == "TIFF" else None
        compression = writers.asked_compression(job.save_options, kept)
        writers.note_jpeg_fallback(job.save_options, dtype, notes)  # as tiff_options falls back
        return TiffPyramid(
            target, shapes, dtype, tile=tile, facts=facts, photometric=photometric,
            compression=compression, predictor=bool(facts.predictor and facts.predictor > 1),
            ome=container is Container.OME_TIFF, pixel_size=level0.pixel_size, unit=level0.unit,
        )  # fmt: skip
    if container is Container.DZI:
        from .dzi import DziPyramid

        assert isinstance(target, str)
        _note_unkept("a Deep Zoom tile", level0, notes, nodata=True)
        return DziPyramid(target, shapes, dtype, level0.record, tile=tile,
                          overlap=job.options.overlap, tile_format=job.options.tile_format,
                          save_options=job.save_options, notes=notes)  # fmt: skip
    from .folder import FolderPyramid

    assert isinstance(target, str)
    # level k is level 0 pooled once by a 2**k window: placed as pool places that
    placements = [level_settings(settings, k).placement(level0.width, level0.height)
                  for k in range(len(shapes))]  # fmt: skip
    return FolderPyramid(target, shapes, dtype, level0, tile_format=job.options.tile_format,
                         save_options=job.save_options, notes=notes,
                         placements=placements)  # fmt: skip


def _note_unkept(holder: str, level0: LevelInput, notes: list[str], *, nodata: bool) -> None:
    """A note that ``holder`` keeps no GeoTIFF georeferencing (or nodata) of level 0."""
    from ..georef import unkept_note
    from ..requests import add_note

    lost = unkept_note(holder, level0.facts.georef, nodata=nodata)
    if lost is not None:
        add_note(notes, lost)
