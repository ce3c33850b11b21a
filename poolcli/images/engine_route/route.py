"""A frame through the engine: its pixels as a NumPy view, pooled per channel.

Everything :func:`poolcli.images.policy.pool_frame` does not leave to Pillow's own
``reduce``: alpha-weighted means, linear light, sums clipped into the mode, palette
indices voted on with their palette kept.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from PIL import Image

from ...spec.bands import RowBand
from ...spec.modes import AlphaPolicy, PoolMode
from ...spec.settings import PoolSettings
from ..modes import Mode, mode_of
from ..pooled import PooledFrame
from ..requests import add_note
from . import linear as srgb
from .alpha import pool_premultiplied, pool_visible
from .passes import pool_all
from .pixels import view


def pool_pixels(
    image: Image.Image, settings: PoolSettings, notes: list[str], *, wide: bool = False
) -> PooledFrame:
    """Pool ``image`` (a mode the policy pools directly, not a palette) with the engine;
    ``wide``: a sum keeps its widened integers (for an array output)."""
    record = mode_of(image.mode)
    assert record is not None, "the policy sends the modes of the mode table only"
    # channel by channel, RGB may carry Pillow's padding byte along (no copy out);
    # whole-pixel modes and the colour transforms want the real channels only
    linear, weighted = _transforms(record, settings)
    plain = not (weighted or linear or settings.mode is PoolMode.MODE)
    pixels = view(image, padded=plain)
    pooled = pool_channels(pixels, record, settings, notes, wide=wide)
    if pooled.dtype == pixels.dtype:
        return PooledFrame(pooled, image.mode)
    if pooled.ndim == 3 and pooled.shape[2] > record.channels:
        pooled = pooled[..., : record.channels]  # RGB's padding channel
    return PooledFrame(pooled, image.mode, sums=True)


def pool_channels(
    array: np.ndarray, record: Mode, settings: PoolSettings, notes: list[str], *, wide: bool = False
) -> np.ndarray:
    """Pool the (H, W[, C]) pixels of a ``record`` image: the policy of :func:`pool_pixels`.

    A sum of integers saturates at the mode's maximum, unless ``wide`` (an array
    output): then it keeps the engine's widened integers.

    Arrays of any height go through here, the rows of a streamed image a band at a
    time as well (``settings.bands``).
    """
    mode = settings.mode
    assert record.poolable, "the policy sends poolable modes only"
    if settings.nodata_value is not None:
        return _pool_with_nodata(array, record, settings, notes, wide=wide)
    linear, weighted = _transforms(record, settings)
    if (linear or weighted) and not settings.bands and array.shape[0] > 1:
        # linear light is float64 and alpha-weighted sums are 32-bit products (and
        # their temporaries): a band of rows at a time keeps them within a small
        # multiple of the image itself
        return _in_bands(array, record, settings, notes, wide=wide)
    if settings.linear and mode.weighted_by_alpha and not linear:
        add_note(
            notes,
            f"`linear` does not apply to mode {record.name} (not sRGB-encoded); pooled as stored",
        )
    if mode is PoolMode.SUM and array.dtype.kind != "f" and not wide:
        add_note(
            notes,
            f"sum saturates at the {record.name} image's maximum; write .npy to keep full sums",
        )
    if weighted:
        colour, alpha = pool_premultiplied(array[..., :-1], array[..., -1], settings, linear=linear)
        pooled = np.concatenate([colour, alpha[..., None]], axis=-1)
    elif linear:
        pooled = _pool_linear(array, record.alpha, settings)
    elif _selects_visible(record, settings, array):
        pooled = pool_visible(array, settings)
    else:
        pooled = pool_all(array, settings, channel_axis=_pixel_axis(record, array))
    return _into_mode(pooled, array.dtype, wide=wide)


def _pool_with_nodata(
    array: np.ndarray, record: Mode, settings: PoolSettings, notes: list[str], *, wide: bool
) -> np.ndarray:
    """Samples pooled as stored, nodata left out of every window (per sample, as GDAL's
    per-band nodata; ``mode`` of a colour image votes whole pixels, nodata when all
    their samples are; a raster's bands vote each on its own)."""
    if record.alpha and settings.alpha is AlphaPolicy.PREMULTIPLIED:
        add_note(notes, "with nodata, alpha is a sample like the others (as --alpha independent)")
    if settings.linear and settings.mode.weighted_by_alpha and record.srgb:
        add_note(notes, "with nodata, samples are averaged as stored, not in linear light")
    pooled = pool_all(array, settings, channel_axis=_pixel_axis(record, array))
    return _into_mode(pooled, array.dtype, wide=wide)


def _pixel_axis(record: Mode, array: np.ndarray) -> int | None:
    """The axis of a pixel's samples, which ``mode`` votes with as one (colour images);
    None where each sample is voted on alone (one channel, or a raster's bands)."""
    return 2 if array.ndim == 3 and not record.bands else None


def _into_mode(pooled: np.ndarray, dtype: np.dtype, *, wide: bool) -> np.ndarray:
    """``pooled`` in the image's ``dtype``: a widened sum clipped back, unless ``wide``."""
    if pooled.dtype == dtype or wide:
        return pooled
    info = np.iinfo(dtype) if dtype.kind in "iu" else None
    return (np.clip(pooled, info.min, info.max) if info else pooled).astype(dtype)


#: Bytes of wide (float64, 32-bit product) work per band of the transforms.
LINEAR_BAND_BYTES = 32 << 20


def _in_bands(
    array: np.ndarray, record: Mode, settings: PoolSettings, notes: list[str], *, wide: bool
) -> np.ndarray:
    """:func:`pool_channels` a band of output rows at a time (byte-identical: see
    :mod:`poolcli.pooling.streaming`), concatenated."""
    from ...pooling.streaming import ArrayRows, RowPlan, stream

    height, width = array.shape[:2]
    plan = RowPlan.of(settings, height, width)
    row_values = array.size // height
    rows = plan.rows_per_band(row_values * 8 * 4, LINEAR_BAND_BYTES)  # float64, ~4 copies

    def compute(slab: np.ndarray, bands: tuple[RowBand, ...]) -> np.ndarray:
        return pool_channels(slab, record, replace(settings, bands=bands), notes, wide=wide)

    return np.concatenate(list(stream(ArrayRows(array), plan, compute, rows)), axis=0)


def _selects_visible(record: Mode, settings: PoolSettings, array: np.ndarray) -> bool:
    """Whether colour comes from visible pixels only: a selecting mode (or median) on
    unsigned pixels with alpha, under the premultiplied policy."""
    selecting = settings.mode in (PoolMode.MAX, PoolMode.MIN, PoolMode.MEDIAN, PoolMode.MODE)
    return (
        selecting
        and record.alpha
        and settings.alpha is AlphaPolicy.PREMULTIPLIED
        and array.ndim == 3
        and array.dtype.kind == "u"
    )


def _transforms(record: Mode, settings: PoolSettings) -> tuple[bool, bool]:
    """Whether ``settings`` pool a ``record`` image in linear light, and weighted by alpha."""
    averaging = settings.mode.weighted_by_alpha
    linear = settings.linear and averaging and record.srgb
    weighted = record.alpha and averaging and settings.alpha is AlphaPolicy.PREMULTIPLIED
    return linear, weighted


def pool_palette(image: Image.Image, settings: PoolSettings) -> PooledFrame:
    """``mode`` pooling of palette indices: the palette and transparency stay as they are.

    Under the premultiplied alpha policy, as for RGBA, invisible pixels vote only
    where a window has no visible pixel: a transparent index (``P`` with
    transparency; any index whose tRNS alpha is 0 counts as the first such) is left
    out of the vote, and ``PA`` votes whole visible (index, alpha) pixels.
    """
    indices = view(image)
    transparency = image.info.get("transparency")
    visible_only = settings.alpha is AlphaPolicy.PREMULTIPLIED
    if indices.ndim == 3 and visible_only:
        pooled = pool_visible(indices, settings)
    elif indices.ndim == 3:
        pooled = pool_all(indices, settings, channel_axis=2)
    else:
        hidden = _hidden_indices(transparency) if visible_only else []
        if len(hidden) > 1:  # one invisible index to leave out: the others become it
            indices = np.where(np.isin(indices, hidden), np.uint8(hidden[0]), indices)
        pooled = pool_all(indices, settings, ignore=hidden[0] if hidden else None)
    palette = image.palette.copy() if image.palette is not None else None
    return PooledFrame(pooled, image.mode, palette, transparency)


def _hidden_indices(transparency: object) -> list[int]:
    """The palette indices a ``P`` image's ``transparency`` info makes invisible: its
    one index (GIF, PNG), or those whose alpha in a PNG's tRNS table is 0."""
    if isinstance(transparency, int):
        return [transparency] if 0 <= transparency < 256 else []
    if isinstance(transparency, bytes):
        return [index for index, alpha in enumerate(transparency[:256]) if alpha == 0]
    return []


def _pool_linear(array: np.ndarray, alpha: bool, settings: PoolSettings) -> np.ndarray:
    """Averaging in linear light; alpha (when not weighting) pooled as stored."""
    codes = array.astype(array.dtype.newbyteorder("="), copy=False)
    colour = codes[..., :-1] if alpha else codes
    pooled = srgb.to_codes(pool_all(srgb.to_linear(colour), settings), codes.dtype)
    if alpha:
        opacity = pool_all(codes[..., -1], settings)
        pooled = np.concatenate([pooled, opacity[..., None]], axis=-1)
    return pooled
