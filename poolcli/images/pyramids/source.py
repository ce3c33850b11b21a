"""A pyramid's input as level-0 rows, and the level maker its mode needs.

TIFF/BigTIFF/OME-TIFF, .npy, Zarr/OME-Zarr and deep PNGs are read a band of rows
at a time by the streamed readers (:mod:`..streams.readers`); any other image
Pillow reads (JPEG, PNG, WebP...) is decoded whole, as ``poolcli pool`` decodes it,
and then fed in bands. Every input becomes (H, W[, C]) rows, channels last; an
array whose layout puts channels first (``chw``, OME ``cyx``) is turned as it is
read. Four-dimensional arrays are refused.

:func:`level_maker` picks the engine's level maker (:mod:`poolcli.pooling.pyramid`):
the cascade for means (alpha-weighted on images with alpha, as ``pool`` weights
them), max and min, and sums of arrays; the direct maker, which pools level 0 with
a ``2**k`` window through the same policy as ``poolcli pool``
(:func:`~..engine_route.route.pool_channels`), for everything else: median, mode,
lp, rms, linear light, and max/min of colour under alpha (visible pixels only).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ...errors import InputError
from ...pooling.pyramid import (
    Cascade,
    Direct,
    extreme_reducer,
    fits_sums,
    mean_reducer,
    sum_reducer,
    weighted_mean_reducer,
)
from ...pooling.pyramid_modes import SortedModes
from ...spec.modes import AlphaPolicy, PoolMode
from ...spec.settings import PoolSettings
from ..georef import with_colour_table
from ..modes import Mode, array_mode
from ..requests import ReadOptions, add_note
from ..streams.readers import open_rows
from ..streams.rows import Facts
from ..voxels import NGFF_UNITS


@dataclass
class LevelInput:
    """Level 0 of a pyramid: ``rows(start, stop)`` gives (rows, W[, C]) arrays."""

    source: Any
    shape: tuple[int, ...]
    dtype: np.dtype
    facts: Facts
    #: The image record its pixels pool as (None: an array with no image meaning).
    record: Mode | None
    #: Physical (y, x) size of a level-0 pixel, and its unit, where the input says.
    pixel_size: tuple[float, float] = (1.0, 1.0)
    unit: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def height(self) -> int:
        return self.shape[0]

    @property
    def width(self) -> int:
        return self.shape[1]

    @property
    def channels(self) -> int:
        return self.shape[2] if len(self.shape) == 3 else 1

    @property
    def row_bytes(self) -> int:
        return math.prod(self.shape[1:]) * self.dtype.itemsize

    def rows(self, start: int, stop: int) -> np.ndarray:
        band = self.source.rows(start, stop)
        return np.moveaxis(band, 0, -1) if self._channels_first else band

    _channels_first: bool = False

    def bands(self, rows: int) -> Iterator[np.ndarray]:
        """Level 0, ``rows`` rows at a time."""
        for start in range(0, self.height, rows):
            yield self.rows(start, min(start + rows, self.height))


class _Whole:
    """A decoded image's pixels as a row source."""

    def __init__(self, pixels: np.ndarray) -> None:
        self.pixels = pixels

    def rows(self, start: int, stop: int) -> np.ndarray:
        return np.ascontiguousarray(self.pixels[start:stop])


@contextmanager
def opened_input(
    path: str, fmt: str | None, read: ReadOptions, *, palette: bool = False
) -> Iterator[LevelInput]:
    """``path`` as level 0 (``fmt``: TIFF, NPY, ZARR, PNG for a deep PNG, or None for
    whatever Pillow reads, decoded whole). ``palette``: a palette image (without
    transparency) is its indices, its colour table kept; else its colours."""
    opened = open_rows(path, fmt, read.layout) if fmt is not None else None
    if opened is None:
        yield _decoded(path, read, palette)
        return
    rows, facts = opened
    with rows:
        yield _streamed(rows, facts, path)


def _streamed(rows: Any, facts: Facts, path: str) -> LevelInput:
    shape = tuple(rows.shape)
    first = rows.row_axis == 1 and len(shape) == 3
    if len(shape) > 3 or rows.row_axis > 1 or (rows.row_axis == 1 and not first):
        message = f"a pyramid is made of 2-D images, with channels; this array is {shape}"
        raise InputError(message)
    if first:
        shape = shape[1:] + shape[:1]
    channels = shape[2] if len(shape) == 3 else 1
    record = array_mode(str(rows.dtype), channels, alpha=facts.alpha)
    if record is not None and not record.poolable:
        record = None
    made = LevelInput(rows, shape, rows.dtype, facts, record)
    made._channels_first = first
    if facts.extra.get("images", 1) > 1:  # a TIFF of several pages, each an image
        made.notes.append(_first_only(facts.extra["images"]))
    if facts.format == "ZARR":
        made.pixel_size, made.unit = _ome_pixel_size(path)
    elif facts.extra.get("ome"):  # an OME-TIFF's PhysicalSizeX/Y (µm unless it says)
        sizes = facts.extra["ome"]
        made.unit = NGFF_UNITS.get(str(sizes.get("PhysicalSizeXUnit", "µm")))
        x, y = sizes.get("PhysicalSizeX"), sizes.get("PhysicalSizeY", sizes.get("PhysicalSizeX"))
        if x is not None and made.unit is not None:
            made.pixel_size = (float(y), float(x))
        else:
            made.unit = None
    return made


def _ome_pixel_size(path: str) -> tuple[tuple[float, float], str | None]:
    """Level 0's (y, x) scale and unit in an OME-Zarr image, (1, 1) where it has none."""
    from .volume_input import ome_voxel_size

    (_, y, x), unit = ome_voxel_size(path)
    return (y, x), unit


def _first_only(count: int) -> str:
    """The note for an input of several frames or pages, of which a pyramid takes one."""
    return f"only the first of its {count} frames is used: a pyramid holds one image"


def _decoded(path: str, read: ReadOptions, palette: bool) -> LevelInput:
    """An image Pillow reads, decoded whole (its first frame, upright), as poolcli
    pool decodes it, with a TIFF's GeoTIFF tags and nodata; palette images are their
    indices (``palette``) or become RGB or RGBA (:func:`_colours`)."""
    from ..engine_route.pixels import view
    from ..reading.frames import decoding

    notes: list[str] = []
    with decoding(path, max_pixels=read.max_pixels, frame=read.frame) as decoded:
        if decoded.is_array:
            name, laid = next(iter(decoded.arrays.items()))
            if len(decoded.arrays) > 1 or laid.layout not in ("hw", "hwc", "chw"):
                message = "a pyramid takes one 2-D array (hw, hwc or chw); write it as .npy"
                raise InputError(message)
            pixels = laid.array if laid.layout != "chw" else np.moveaxis(laid.array, 0, -1)
            facts = Facts(decoded.format, "array")
        else:
            if decoded.count > 1:
                notes.append(_first_only(decoded.count))
            image = next(decoded.frames)
            metadata = decoded.metadata
            georef, nodata = metadata.georef, metadata.nodata
            photometric = None
            if image.mode == "P" and palette and "transparency" not in image.info:
                pixels = np.array(view(image, padded=False))  # the indices, pooled as labels
                georef, photometric = with_colour_table(georef, image.getpalette() or []), "palette"
            else:
                pixels, nodata = _colours(image, nodata, notes)
                if georef is not None and nodata is None:  # a nodata index is no colour
                    georef = georef.pooled(((1.0, 0.0), (1.0, 0.0)), None)
            facts = Facts(decoded.format, "image", photometric=photometric, dpi=metadata.dpi,
                          icc_profile=metadata.icc_profile, georef=georef,
                          nodata=nodata, xmp=getattr(metadata, "xmp", None))  # fmt: skip
    channels = pixels.shape[2] if pixels.ndim == 3 else 1
    record = array_mode(str(pixels.dtype), channels)
    if record is not None and not record.poolable:
        record = None
    return LevelInput(_Whole(pixels), pixels.shape, pixels.dtype, facts, record, notes=notes)


def _colours(
    image: Any, nodata: int | float | None, notes: list[str]
) -> tuple[np.ndarray, int | float | None]:
    """``image``'s pixels as ``pool`` averages them, and the nodata they keep: a
    palette's colours (RGB, or RGBA with transparency), its nodata index made
    transparent (alpha 0: left out of every mean, and masked by GDAL)."""
    from ..engine_route.pixels import view
    from ..policy import _poolable, transparent_index

    if image.mode not in ("P", "PA"):
        return np.array(view(_poolable(image, PoolMode.AVG, notes), padded=False)), nodata
    if nodata is not None:
        colours = transparent_index(image, nodata, notes)
        return np.array(view(colours, padded=False)), None
    colours = _poolable(image, PoolMode.AVG, notes)
    note = f"palette pooled as its {colours.mode} colours"
    if colours.mode == "RGB":  # a TIFF colour table holds no transparency
        note += "; -m mode into a .tif pyramid keeps its indices and colour table"
    add_note(notes, note)
    return np.array(view(colours, padded=False)), None


def level_settings(settings: PoolSettings, level: int) -> PoolSettings:
    """One-shot pooling of level 0 into ``level``: a ``2**level`` window, ceil mode,
    real pixels only; the mode, alpha policy, power and linear light of ``settings``."""
    counting = settings.mode in (PoolMode.AVG, PoolMode.RMS)
    return PoolSettings.make(
        1 << level, mode=settings.mode, ceil_mode=True, count_include_pad=not counting,
        p=settings.p, alpha=settings.alpha, linear=settings.linear, nodata=settings.nodata,
        min_valid=settings.min_valid,
    )  # fmt: skip


def level_maker(
    level0: LevelInput, settings: PoolSettings, levels: int, notes: list[str]
) -> Cascade | Direct | SortedModes:
    """The engine's level maker for ``level0`` under ``settings``' mode (module docstring)."""
    mode, record, dtype = settings.mode, level0.record, level0.dtype
    height, width = level0.height, level0.width
    alpha = record is not None and record.alpha and settings.alpha is AlphaPolicy.PREMULTIPLIED
    linear = settings.linear and record is not None and record.srgb and mode.weighted_by_alpha
    if settings.nodata_value is not None:  # windows of their valid pixels: from level 0
        return Direct(height, width, levels, _direct(level0, settings, notes))
    if mode is PoolMode.AVG and not linear:
        if alpha and dtype.kind == "u" and dtype.itemsize <= 2:
            return Cascade(height, width, levels, weighted_mean_reducer(dtype))
        if not alpha and fits_sums(dtype, levels):
            return Cascade(height, width, levels, mean_reducer(dtype))
    visible = alpha and dtype.kind == "u" and level0.channels > 1
    if mode in (PoolMode.MAX, PoolMode.MIN) and not visible:
        return Cascade(height, width, levels, extreme_reducer(mode is PoolMode.MAX))
    if mode is PoolMode.SUM and record is None and fits_sums(dtype, levels):
        return Cascade(height, width, levels, sum_reducer(dtype))
    if mode is PoolMode.MODE and len(level0.shape) == 2 and dtype.kind in "iu":
        return SortedModes(height, width, levels)  # label maps: sorted windows merged
    return Direct(height, width, levels, _direct(level0, settings, notes))


def _direct(level0: LevelInput, settings: PoolSettings, notes: list[str]) -> Any:
    from ..engine_route.passes import pool_all
    from ..engine_route.route import pool_channels

    record = level0.record

    def compute(rows: np.ndarray, level: int) -> np.ndarray:
        single = level_settings(settings, level)
        if record is not None:
            return pool_channels(rows, record, single, notes)
        # an array's pixels vote as wholes, as pool votes them; an image's five or more
        # samples are a raster's bands, each (mode too) pooled on its own
        whole = settings.mode is PoolMode.MODE and rows.ndim == 3 and level0.facts.kind == "array"
        return pool_all(rows, single, channel_axis=2 if whole else None)

    return compute
