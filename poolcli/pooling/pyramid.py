"""Pyramids: every level of a multiscale image from one pass over level 0's rows.

Level ``k`` of an axis of ``n`` pixels has ``ceil(n / 2**k)`` pixels, and its pixel
``i`` covers level-0 pixels ``i * 2**k`` to ``min((i + 1) * 2**k, n)``: the windows
of ``pool(x, 2**k, ceil_mode=True)`` over real pixels only. Both level makers here
are fed level 0's rows a band at a time, in order (:meth:`feed`, then
:meth:`close`), and hand back bands of the other levels' rows, in order per level,
so that memory stays O(band x width) whatever the image's height.

- :class:`Cascade` (mean, sum, max, min, and the mean weighted by the last
  channel): level ``k + 1``'s *state* is the 2x2 reduction (ceil mode) of level
  ``k``'s, and a level's pixels are made from its state once. Means keep exact
  window sums (integers in an accumulator that cannot overflow, floats in float64)
  and divide them by the level-0 pixel count, rounded half up once for integers:
  no rounding ever reaches the next level. Max and min are exact level from level.
- :class:`Direct` (median, mode, whatever does not compose): level ``k`` is
  computed from level-0 rows with a ``2**k`` window by a callable, so it equals the
  one-shot result by construction; it costs one pass over level 0 per level and
  holds ``2**k`` level-0 rows for level ``k``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from .numeric import divide_half_up, sum_dtype, value_range

#: A level's rows: ``(level, band)``, bands of one level arriving in row order.
LevelBand = tuple[int, np.ndarray]


def level_length(n: int, level: int) -> int:
    """Pixels of an ``n``-pixel axis at ``level``: ``ceil(n / 2**level)``."""
    return -(-n // (1 << level))


def levels_to_fit(height: int, width: int, tile: int) -> int:
    """Levels down to the first that fits one ``tile`` x ``tile`` tile (at least one)."""
    levels = 1
    while max(level_length(height, levels - 1), level_length(width, levels - 1)) > tile:
        levels += 1
    return levels


def levels_to_one(height: int, width: int) -> int:
    """Levels down to one pixel (Deep Zoom's): ``ceil(log2(max(h, w))) + 1``."""
    return max(height, width).__sub__(1).bit_length() + 1


def counts(n: int, level: int, start: int, stop: int) -> np.ndarray:
    """Level-0 pixels in each of ``level``'s windows ``start:stop`` along an axis of ``n``."""
    side = 1 << level
    first = np.arange(start, stop, dtype=np.int64) * side
    return np.minimum(side, n - first)


class Combine:
    """How 2x2 states merge (``np.add``, ``np.maximum``, ``np.minimum``)."""

    SUM = np.add
    MAX = np.maximum
    MIN = np.minimum


@dataclass(frozen=True)
class Reducer:
    """What a :class:`Cascade` keeps and makes.

    States of the levels are planar, (C, h, w). ``lift(rows)`` turns level-0 rows
    into level-0 state; ``combine`` merges two states; ``state_dtype(level)`` is
    the dtype with room for ``level``'s windows (None: the state's own);
    ``finish(state, level, row_counts, col_counts)`` makes ``level``'s pixels from
    its state.
    """

    lift: Callable[[np.ndarray], np.ndarray]
    combine: Callable[..., np.ndarray]
    state_dtype: Callable[[int], np.dtype | None]
    finish: Callable[[np.ndarray, int, np.ndarray, np.ndarray], np.ndarray]
    #: The dtype of the pixels ``finish`` makes (None: the dtype it returns).
    out_dtype: np.dtype | None = None


def _same(a: np.ndarray, *_: object) -> np.ndarray:
    return a


def _kept(level: int) -> None:
    return None


def extreme_reducer(largest: bool) -> Reducer:
    """Max (``largest``) or min: exact level from level; NaN wins, as in ``pool``."""
    combine = Combine.MAX if largest else Combine.MIN
    return Reducer(lift=_same, combine=combine, state_dtype=_kept, finish=_same)


def _sum_dtype_at(dtype: np.dtype, level: int, headroom_factor: int = 1) -> np.dtype:
    """The narrowest accumulator of ``dtype`` holding any sum of ``4**level`` values
    (plus half of it again, for rounding)."""
    if dtype.kind == "f":
        return np.dtype(np.float64)
    lo, hi = value_range(dtype)
    taps = 1 << (2 * level)
    low, high = min(int(lo), 0) * taps * headroom_factor, max(int(hi), 0) * taps * headroom_factor
    high += taps
    names = ("uint16", "uint32", "uint64") if dtype.kind in "ub" else ("int16", "int32", "int64")
    for name in names:
        info = np.iinfo(name)
        if info.min <= low and high <= info.max:
            return np.dtype(name)
    message = f"no integer accumulator holds the sums of {taps} {dtype} values"
    raise OverflowError(message)


def fits_sums(dtype: np.dtype, levels: int, headroom_factor: int = 1) -> bool:
    """Whether 64-bit integers hold ``levels``' window sums of ``dtype`` (floats: always)."""
    try:
        _sum_dtype_at(np.dtype(dtype), levels - 1, headroom_factor)
    except OverflowError:
        return False
    return True


def _widener(dtype: np.dtype) -> Callable[[int], np.dtype | None]:
    return lambda level: _sum_dtype_at(dtype, level)


def _divisors(rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Pixels per window of a (C, h, w) state, as a (1, h, w) array."""
    return (rows[:, None] * cols[None, :])[None]


def _divided(state: np.ndarray, rows: np.ndarray, cols: np.ndarray, dtype: np.dtype) -> np.ndarray:
    area = _divisors(rows, cols)
    if dtype.kind == "f":
        return (state / area).astype(dtype)
    return divide_half_up(state.copy(), area).astype(dtype)


def mean_reducer(dtype: np.dtype) -> Reducer:
    """Means of real pixels: exact sums, divided once (integers rounded half up)."""
    dtype = np.dtype(dtype)

    def finish(state: np.ndarray, level: int, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        # whole windows hold 4**level pixels: a shift (or an exact power-of-two
        # product) divides them; only the partial last row and column divide
        # (the result stays in the state's dtype: the layout copy casts it)
        shift, full = 2 * level, 1 << level
        if dtype.kind == "f":
            out = state * (1.0 / (1 << shift))
        else:
            out = state + state.dtype.type(1 << (shift - 1))
            np.right_shift(out, shift, out=out)
        if rows[-1] < full:
            out[:, -1:] = _divided(state[:, -1:], rows[-1:], cols, dtype)
        if cols[-1] < full:
            out[:, :, -1:] = _divided(state[:, :, -1:], rows, cols[-1:], dtype)
        return out

    return Reducer(lift=_same, combine=Combine.SUM, state_dtype=_widener(dtype), finish=finish,
                   out_dtype=dtype)  # fmt: skip


def sum_reducer(dtype: np.dtype) -> Reducer:
    """Window sums, in ``pool``'s sum dtype (integers widen to 64 bits)."""
    out = sum_dtype(np.dtype(dtype))

    def finish(state: np.ndarray, *_: object) -> np.ndarray:
        return state.astype(out)

    return Reducer(
        lift=_same, combine=Combine.SUM, state_dtype=_widener(np.dtype(dtype)), finish=finish
    )


def weighted_mean_reducer(dtype: np.dtype) -> Reducer:
    """(H, W, C) unsigned pixels whose last channel weighs the others: the other
    channels become ``Σ(c·w) / Σw`` (0 where ``Σw`` is 0) and the last its own mean,
    each rounded half up once, as alpha-premultiplied means are."""
    dtype = np.dtype(dtype)
    assert dtype.kind == "u", "unsigned weights only"
    assert dtype.itemsize <= 2, "8- and 16-bit weights only"
    # c * w of 8-bit pixels fits 16 bits (255 * 255), of 16-bit pixels 32 bits
    product = np.dtype(np.uint16 if dtype.itemsize == 1 else np.uint32)

    def lift(rows: np.ndarray) -> np.ndarray:
        state = rows.astype(product)
        state[..., :-1] *= state[..., -1:]
        return state

    def finish(state: np.ndarray, level: int, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        state = state.astype(np.uint64)  # room for 2 * Σ(c·w) + Σw
        weights = state[-1:]
        out = np.empty(state.shape, dtype)
        colour = (2 * state[:-1] + weights) // np.maximum(2 * weights, 1)
        out[:-1] = np.where(weights > 0, colour, 0)
        out[-1] = divide_half_up(weights[0].copy(), _divisors(rows, cols)[0].astype(np.uint64))
        return out

    return Reducer(lift=lift, combine=Combine.SUM, state_dtype=_widener(product), finish=finish)


class Cascade:
    """Levels ``1..levels-1`` of an image ``height`` x ``width`` from level 0's rows,
    each level's state reduced 2x2 from the one above (see the module docstring).

    Bands are (rows, width, ...) arrays: the rows are axis 0, the columns axis 1.
    """

    def __init__(self, height: int, width: int, levels: int, reducer: Reducer) -> None:
        self.height, self.width, self.levels, self.reducer = height, width, levels, reducer
        self._pending: list[np.ndarray | None] = [None] * levels
        self._next = [0] * levels
        self.flat = False

    def feed(self, band: np.ndarray) -> list[LevelBand]:
        """Level-0 rows, the next in order: the levels' rows they complete."""
        self.flat = band.ndim == 2
        return self._run(self.reducer.lift(band), final=False)

    def close(self) -> list[LevelBand]:
        """The last rows of every level (the partial windows of the bottom edge)."""
        return self._run(None, final=True)

    def _run(self, carry: np.ndarray | None, *, final: bool) -> list[LevelBand]:
        # level 0's rows come (h, w, C); every other level's state is kept planar,
        # (C, h, w), where pairing columns reads long runs (measured: 5x faster on
        # RGB than pairing interleaved pixels)
        out: list[LevelBand] = []
        if carry is not None and carry.ndim == 2:
            carry = carry[..., None]
        for level in range(1, self.levels):
            axis = 0 if level == 1 else 1  # the rows of level - 1's state
            held = self._pending[level]
            parts = [a for a in (held, carry) if a is not None and a.shape[axis]]
            if not parts:
                carry = None
                continue
            rows = np.concatenate(parts, axis=axis) if len(parts) > 1 else parts[0]
            count = rows.shape[axis]
            paired = count if final else count - count % 2
            kept = rows[paired:] if axis == 0 else rows[:, paired:]
            self._pending[level] = None if final else kept.copy()
            if paired == 0:
                carry = None
                continue
            taken = rows[:paired] if axis == 0 else rows[:, :paired]
            state = self._halve(taken, self.reducer.state_dtype(level), planar=axis == 1)
            start = self._next[level]
            self._next[level] += state.shape[1]
            row_counts = counts(self.height, level, start, self._next[level])
            col_counts = counts(self.width, level, 0, state.shape[2])
            made = self.reducer.finish(state, level, row_counts, col_counts)
            out.append((level, self._layout(made, self.reducer.out_dtype)))
            carry = state
        return out

    def _layout(self, planar: np.ndarray, dtype: np.dtype | None) -> np.ndarray:
        """A (C, h, w) level band in level 0's layout, (h, w) or (h, w, C), and in
        ``dtype`` (None: its own), in one copy."""
        channels, height, width = planar.shape
        dtype = planar.dtype if dtype is None else dtype
        if self.flat:
            return planar[0].astype(dtype, copy=False)
        narrow = planar.astype(dtype, copy=False)  # contiguous casts, then strided copies
        out = np.empty((height, width, channels), dtype)
        for c in range(channels):
            out[..., c] = narrow[c]
        return out

    def _halve(self, rows: np.ndarray, dtype: np.dtype | None, *, planar: bool) -> np.ndarray:
        """The 2x2 (ceil) merge of ``rows`` ((h, w, C) level-0 rows, or a planar
        (C, h, w) state) into a planar state of ``dtype``: rows, then columns."""
        combine = self.reducer.combine
        dtype = rows.dtype if dtype is None else dtype
        if planar:
            rows = np.moveaxis(rows, 0, -1)  # a view: index as (h, w, C)
        height, width, channels = rows.shape
        paired = np.empty(((height + 1) // 2, width, channels), dtype)
        if planar:
            paired = np.moveaxis(np.empty((channels, (height + 1) // 2, width), dtype), 0, -1)
        combine(rows[0 : height - 1 : 2], rows[1::2], out=paired[: height // 2], dtype=dtype)
        if height % 2:
            paired[-1] = rows[-1]
        halved = np.empty((channels, paired.shape[0], (width + 1) // 2), dtype)
        for c in range(channels):
            lane = paired[:, :, c]
            combine(lane[:, 0 : width - 1 : 2], lane[:, 1::2], out=halved[c, :, : width // 2])
            if width % 2:
                halved[c, :, -1] = lane[:, -1]
        return halved


class Direct:
    """Levels ``1..levels-1`` each computed from level-0 rows: ``compute(rows, level)``
    pools level-0 rows ``i * 2**level`` on (whole windows, the image's last row at
    most) into ``level``'s rows ``i`` on. Holds up to ``2**(levels-1)`` level-0 rows
    beside the band."""

    def __init__(
        self, height: int, width: int, levels: int, compute: Callable[[np.ndarray, int], np.ndarray]
    ) -> None:
        self.height, self.levels, self.compute = height, levels, compute
        self._rows: np.ndarray | None = None
        self._base = 0  # the level-0 row _rows[0] is
        self._next = [0] * levels

    def feed(self, band: np.ndarray) -> list[LevelBand]:
        """Level-0 rows, the next in order: the levels' rows they complete."""
        if self._rows is None or self._rows.shape[0] == 0:
            self._rows = band
        else:
            self._rows = np.concatenate([self._rows, band])
        return self._run(final=False)

    def close(self) -> list[LevelBand]:
        """The last rows of every level."""
        return self._run(final=True) if self._rows is not None else []

    def _run(self, *, final: bool) -> list[LevelBand]:
        assert self._rows is not None
        end = self._base + self._rows.shape[0]
        out: list[LevelBand] = []
        for level in range(1, self.levels):
            side = 1 << level
            stop = level_length(self.height, level) if final else end // side
            start = self._next[level]
            if stop <= start:
                continue
            first, last = start * side - self._base, min(stop * side, self.height) - self._base
            out.append((level, self.compute(self._rows[first:last], level)))
            self._next[level] = stop
        keep = min(self._next[level] << level for level in range(1, self.levels)) if (
            self.levels > 1
        ) else end  # fmt: skip
        keep = min(keep, end)
        self._rows = self._rows[keep - self._base :]
        self._base = keep
        return out


class LevelMaker(Protocol):
    """What :func:`level_bands` drives: a :class:`Cascade`, a :class:`Direct`, or
    :class:`~.pyramid_modes.SortedModes`."""

    def feed(self, band: np.ndarray) -> list[LevelBand]: ...

    def close(self) -> list[LevelBand]: ...


def level_bands(bands: Iterable[np.ndarray], maker: LevelMaker) -> Iterator[LevelBand]:
    """Every level's rows from level 0's ``bands``: ``(0, band)`` for each band as
    given, then the other levels' rows as ``maker`` completes them."""
    for band in bands:
        yield 0, band
        yield from maker.feed(band)
    yield from maker.close()
