"""Every level of a multiscale pyramid of an array held in memory: :func:`pyramid`.

Level ``k`` of an axis of ``n`` pixels and factor ``f`` has ``ceil(n / f**k)``
pixels and equals ``pool(x, f**k, ceil_mode=True)``: one window of ``f**k`` level-0
pixels, the last one clipped to the real pixels. So no level inherits rounding from
the one before (an integer mean is rounded half up once, from level 0), a median
or mode is that of its level-0 pixels, and a label never appears that level 0 lacks.
Max and min are exact level from level and are made that way (a max of maxes);
every other mode pools level 0 once per level, which costs about one pass over
``x`` per level. ``poolcli pyramid`` streams images bigger than memory instead
(:mod:`.pyramid`); this is the library's form, and the command's for volumes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from ..errors import ParameterError
from ..spec.modes import PoolMode
from .engine import pool


def pyramid(
    x: np.ndarray,
    levels: int | None = None,
    *,
    factors: int | tuple[int, ...] = 2,
    mode: str | PoolMode = "avg",
    axes: tuple[int, ...] = (0, 1),
    channel_axis: int | None = None,
    p: float = 2.0,
    nodata: object = None,
    min_valid: float = 0.0,
    threads: int | None = None,
) -> list[np.ndarray]:
    """The levels of ``x``'s pyramid over its spatial ``axes``, level 0 (``x``) first.

    Parameters
    ----------
    x : array_like
        As :func:`~poolcli.pool` takes it: one, two or three spatial ``axes``.
    levels : int, optional
        How many levels, level 0 included; by default down to one pixel along every
        axis that shrinks.
    factors : int or tuple of one int per axis in ``axes``
        What each level divides an axis by (1 keeps it: ``(1, 2, 2)`` halves a
        volume's planes and keeps its depth).
    mode, channel_axis, p, nodata, min_valid, threads
        As :func:`~poolcli.pool` takes them (``mode`` avg by default).

    Returns
    -------
    list of numpy.ndarray
        Level ``k`` equals ``pool(x, [f**k for f in factors], ceil_mode=True,
        count_include_pad=False, ...)``, with ``ceil(n / f**k)`` pixels per axis.

    >>> import numpy as np, poolcli
    >>> [level.tolist() for level in poolcli.pyramid(np.array([[1, 2, 4], [3, 5, 9]]))]
    [[[1, 2, 4], [3, 5, 9]], [[3, 7]], [[4]]]
    """
    x = np.asarray(x)
    shrink = _factors(factors, len(axes))
    count = _levels(levels, [x.shape[a] for a in axes], shrink)
    return list(_made(x, shrink, count, PoolMode.parse(mode), dict(
        axes=axes, channel_axis=channel_axis, p=p, nodata=nodata, min_valid=min_valid,
        threads=threads,
    )))  # fmt: skip


def _made(x: np.ndarray, factors: tuple[int, ...], count: int, mode: PoolMode,
          options: dict[str, Any]) -> Iterator[np.ndarray]:  # fmt: skip
    cascades = mode in (PoolMode.MAX, PoolMode.MIN) and options["min_valid"] == 0
    if mode in (PoolMode.AVG, PoolMode.RMS):
        options = {**options, "count_include_pad": False}  # the last windows: real pixels
    yield x
    previous = x
    for k in range(1, count):
        window, source = (factors, previous) if cascades else (tuple(f**k for f in factors), x)
        previous = pool(source, window, stride=window, mode=mode, ceil_mode=True, **options)
        yield previous


def _factors(factors: int | tuple[int, ...], count: int) -> tuple[int, ...]:
    shrink = (factors,) * count if isinstance(factors, int) else tuple(factors)
    if len(shrink) != count or any(not isinstance(f, int) or f < 1 for f in shrink):
        message = f"`factors` must be a whole number or {count} of them, each at least 1"
        raise ParameterError(message, parameter="factors", value=factors)
    if max(shrink) < 2:
        message = f"`factors` {factors} shrink nothing: one of them must be 2 or more"
        raise ParameterError(message, parameter="factors", value=factors)
    return shrink


def _levels(levels: int | None, lengths: list[int], factors: tuple[int, ...]) -> int:
    """``levels``, at most down to one pixel along every shrinking axis."""
    deepest = 1
    for n, f in zip(lengths, factors, strict=True):
        steps, left = 0, n
        while f > 1 and left > 1:
            left, steps = -(-left // f), steps + 1
        deepest = max(deepest, steps + 1)
    if levels is None:
        return deepest
    if not isinstance(levels, int) or levels < 1:
        message = f"`levels` must be a whole number of at least 1, got {levels!r}"
        raise ParameterError(message, parameter="levels", value=levels)
    return min(levels, deepest)
