"""Running the engine with image settings: repeats, adaptive sizes, one pass at a time."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import numpy as np

from ...pooling import adaptive_pool, pool
from ...spec.modes import PoolMode
from ...spec.parameters import COUNTING_MODES
from ...spec.settings import PoolSettings


def passes(settings: PoolSettings) -> Iterator[PoolSettings]:
    """The single passes ``settings`` stands for (``repeat`` of them, or one adaptive),
    each with its own row band when ``settings.bands`` restricts them."""
    if settings.bands:
        for band in settings.bands:
            yield replace(settings, repeat=1, bands=(band,))
        return
    single = replace(settings, repeat=1)
    for _ in range(settings.repeat):
        yield single


def pool_pass(
    array: np.ndarray,
    settings: PoolSettings,
    *,
    mode: PoolMode | None = None,
    channel_axis: int | None = None,
    ignore: object = None,
    nodata: object = None,
) -> np.ndarray:
    """One pass of ``settings`` (``repeat`` ignored) over an (H, W, ...) array;
    ``ignore`` (median, mode): values that count in no window; ``nodata``: as
    :func:`poolcli.pooling.pool` has it (default: the settings')."""
    mode = settings.mode if mode is None else mode
    band = settings.bands[0] if settings.bands else None
    # another mode than the settings' (the sums under an alpha-weighted mean) takes
    # none of the options only the settings' mode has
    p = settings.p if mode is PoolMode.LP else 2.0
    value = settings.nodata_value if nodata is None else nodata  # the caller's, else the file's
    if settings.size is not None:
        height, width = array.shape[:2]
        out_w, out_h = settings.adaptive_size(width, height if band is None else band.length)
        return adaptive_pool(
            array, (out_h, out_w), mode=mode, p=p, channel_axis=channel_axis,
            threads=settings.threads, band=band, nodata=value,
            min_valid=settings.min_valid, _ignore=ignore,
        )  # fmt: skip
    options = settings.engine_options
    options["p"] = p
    options["nodata"] = value
    if mode is not PoolMode.AVG:
        options["divisor"] = None
    if mode not in COUNTING_MODES:
        options["count_include_pad"] = True
    return pool(array, settings.kernel, mode=mode, channel_axis=channel_axis, band=band,
                _ignore=ignore, **options)  # fmt: skip


def pool_all(
    array: np.ndarray,
    settings: PoolSettings,
    *,
    mode: PoolMode | None = None,
    channel_axis: int | None = None,
    ignore: object = None,
) -> np.ndarray:
    """Every pass of ``settings`` over an (H, W, ...) array; ``ignore`` as in :func:`pool_pass`."""
    for single in passes(settings):
        array = pool_pass(array, single, mode=mode, channel_axis=channel_axis, ignore=ignore)
    return array
