"""Alpha-weighted (premultiplied) pooling, exact.

An invisible pixel has no colour to give, so averaging modes weight each colour by
its alpha: ``colour = Σ(c·a) / Σa``, rounded half up once. Pillow's ``reduce`` means
the same but rounds through 8-bit premultiplied values and lands several levels
off where alpha is low (up to 16 on random pixels).
Alpha itself is pooled like any channel (its mean equals Pillow's). A window with
no opacity at all gets colour 0, as Pillow gives. ``rms`` weights the same way,
``sqrt(Σ(a·c²) / Σa)``; ``lp`` is a sum, not a mean, so each pixel counts by its
coverage: ``(Σ (a/a_max)·c^p)^(1/p)``, which is plain ``lp`` where all is opaque.

The selecting modes take colour from visible pixels only (:func:`pool_visible`):
``max``, ``min`` and ``median`` of each colour channel among the pixels with alpha
above 0, alpha pooled over all; ``mode`` votes with whole visible pixels. A window
with no visible pixel gives transparent black (colour 0, alpha 0).
"""

from __future__ import annotations

import numpy as np

from ...pooling.numeric import round_half_up
from ...spec.modes import PoolMode
from ...spec.settings import PoolSettings
from . import linear as srgb
from .passes import passes, pool_pass


def pool_premultiplied(
    colour: np.ndarray, alpha: np.ndarray, settings: PoolSettings, *, linear: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Pool (H, W, C) ``colour`` weighted by (H, W) ``alpha``; returns (colour, alpha).

    ``settings.mode`` must be an averaging mode (avg, rms, lp). With ``linear`` the
    colour codes are weighted in linear light and encoded back to sRGB codes.
    """
    dtype = colour.dtype
    for single in passes(settings):
        weights = pool_pass(alpha, single, mode=PoolMode.SUM)
        if settings.mode is PoolMode.AVG and not linear and dtype.kind in "ui":
            colour = _exact_mean(colour, alpha, weights, single)
        else:
            colour = _power_mean(colour, alpha, weights, single, linear)
        alpha = pool_pass(alpha, single)
    return colour.astype(dtype), alpha


def _exact_mean(colour, alpha, weights, single) -> np.ndarray:
    """round_half_up(Σ(c·a) / Σa) in integers: (2·Σca + Σa) // (2·Σa)."""
    product = colour.astype(np.uint32) * alpha[..., None]
    sums = pool_pass(product, single, mode=PoolMode.SUM)
    w = weights[..., None]
    return np.where(w > 0, (2 * sums + w) // np.maximum(2 * w, 1), 0).astype(colour.dtype)


def _power_mean(colour, alpha, weights, single, linear) -> np.ndarray:
    """Alpha-weighted avg (p = 1), rms (p = 2) or lp (``single.p``) in float64; float
    colour (whose alpha's full opacity is 1.0) comes back unrounded."""
    p = {PoolMode.AVG: 1.0, PoolMode.RMS: 2.0}.get(single.mode, single.p)
    values = srgb.to_linear(colour) if linear else colour.astype(np.float64)
    weighted = np.power(values, p) * alpha[..., None]
    sums = pool_pass(weighted, single, mode=PoolMode.SUM)
    if single.mode is PoolMode.LP:
        total = 1.0 if alpha.dtype.kind == "f" else np.iinfo(alpha.dtype).max
        means = np.power(sums / total, 1.0 / p)
    else:
        w = weights[..., None].astype(np.float64)
        means = np.power(sums / np.where(w > 0, w, 1.0), 1.0 / p)
    if linear:
        return srgb.to_codes(means, colour.dtype)
    if colour.dtype.kind == "f":
        return means.astype(colour.dtype)
    return round_half_up(means, colour.dtype)


def pool_visible(pixels: np.ndarray, settings: PoolSettings) -> np.ndarray:
    """``max``, ``min``, ``median`` or ``mode`` of (H, W, C) pixels whose last channel
    is alpha, with colour from visible pixels only (see the module docstring)."""
    colour, alpha = pixels[..., :-1], pixels[..., -1]
    for single in passes(settings):
        colour, alpha = _visible_pass(colour, alpha, single)
    return np.concatenate([colour, alpha[..., None]], axis=-1)


def _visible_pass(
    colour: np.ndarray, alpha: np.ndarray, single: PoolSettings
) -> tuple[np.ndarray, np.ndarray]:
    mode, dtype = single.mode, colour.dtype
    visible = (alpha > 0)[..., None]
    if mode is PoolMode.MODE:
        # whole pixels vote; invisible ones, all 0 (which no visible pixel is: its
        # alpha is above 0), are nodata and do not; a window of them gives them back,
        # transparent black. In the input's own dtype: 16x faster on RGBA than
        # widened, whose 64-bit pixels vote through np.unique (measured)
        pixels = np.concatenate([colour, alpha[..., None]], axis=-1)
        pixels[~visible[..., 0]] = 0
        voted = pool_pass(pixels, single, channel_axis=2, nodata=0)
        return voted[..., :-1].astype(dtype), voted[..., -1].astype(alpha.dtype)
    seen = pool_pass(alpha, single, mode=PoolMode.MAX) > 0  # any visible pixel
    if mode is PoolMode.MEDIAN:
        wide = _widened(colour)
        top = np.iinfo(wide.dtype).max
        pooled = pool_pass(np.where(visible, wide, top), single, ignore=top)
    else:
        hidden = 0 if mode is PoolMode.MAX else np.iinfo(dtype).max  # never wins
        pooled = pool_pass(np.where(visible, colour, dtype.type(hidden)), single)
    pooled = np.where(seen[..., None], pooled, 0).astype(dtype)
    return pooled, pool_pass(alpha, single)


def _widened(values: np.ndarray) -> np.ndarray:
    """Unsigned ``values`` in the next wider unsigned dtype: room for a value above all."""
    wider = {1: np.uint16, 2: np.uint32, 4: np.uint64}[values.dtype.itemsize]
    return values.astype(wider)
