"""Nodata per window: counting a band's nodata pixels, finding the windows that need
more than the plain work, and what a valid window must never give.

Shared by the band workers of :mod:`.valid_separable` and :mod:`.valid_ranked`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import numeric
from .geometry import AxisWindows, Index
from .separable import AxisPass, pair_sums
from .separable_work import thread_scratch


class MaskCounts:
    """Pixels set in a band's boolean mask, per window: a separable sum of bytes.

    Counts of up to 255 sum in bytes (64 to a SIMD register). 2-wide windows along a
    last axis then sum as pairs of bytes seen as 16-bit words (see
    :func:`~.separable.pair_sums`): rows first, then pairs, measured 15x faster than
    pairs first and 2x faster than two byte passes.
    """

    def __init__(
        self, shape: tuple[int, ...], axes: tuple[int, int], gh: AxisWindows, gw: AxisWindows
    ):
        taps = gh.max_taps * gw.max_taps
        if taps <= 255:
            self.dtype = np.dtype(np.uint8)
        else:
            like = np.broadcast_to(np.zeros((), np.uint8), shape)  # shape and dtype only
            self.dtype = numeric.accumulator(like, taps)
        self.axes, self.gw = axes, gw
        self.trailing = math.prod(shape[axes[0] + 1 :])
        self.pairs = (
            self.dtype.itemsize == 1
            and axes[0] < axes[1]
            and math.prod(shape[axes[1] + 1 :]) == 1
            and gw.adjacent_pairs
        )
        self._rows: dict[int, tuple[AxisWindows, AxisPass]] = {}
        self._columns: dict[int, AxisPass] = {}

    def __call__(
        self, mask: np.ndarray, windows: AxisWindows, shape: tuple[int, ...]
    ) -> np.ndarray:
        """Set pixels per window of ``mask`` (a band, windows ``windows``), shaped ``shape``."""
        rows = self._row_sums(mask, windows)
        if self.pairs:
            return pair_sums(rows, self.gw.out).reshape(shape)
        trailing = math.prod(rows.shape[self.axes[1] + 1 :])
        columns = self._columns.get(trailing)
        if columns is None:
            columns = self._columns[trailing] = AxisPass.plan(
                self.gw, trailing, self.dtype, np.add, self.dtype, 0
            )
        return columns(rows, scratch=thread_scratch("counts-columns")).reshape(shape)

    def mixed_pairs(
        self, mask: np.ndarray, windows: AxisWindows, shape: tuple[int, ...], real, allowed
    ) -> tuple[np.ndarray | None, np.ndarray | None]:
        """2x2 windows: those with some set pixels but not all (flat indices into
        ``shape``) and their counts as pairs of byte counts (``(w & 0xFF) + (w >> 8)``),
        without counting the others; (None, None) for other windows, or when some
        must be left with more than one valid pixel.

        Each 16-bit word of the row sums holds a window's two column counts (0 to 2
        each): 0 is no set pixel, 0x0202 set pixels only.
        """
        if not (self.pairs and _is(real, 4) and _is(allowed, 3)):
            return None, None
        rows = self._row_sums(mask, windows)
        words = rows[..., : 2 * self.gw.out].view(np.uint16).reshape(shape)
        flags = thread_scratch("counts-flags")("flags", shape, np.dtype(np.uint16))
        np.subtract(words, np.uint16(1), out=flags)  # none wraps to the top
        flat = np.flatnonzero(flags < 0x0201)
        return flat, words.reshape(-1)[flat]

    def words(
        self, mask: np.ndarray, windows: AxisWindows, shape: tuple[int, ...]
    ) -> np.ndarray | None:
        """2x2 windows: the row sums of ``mask`` as 16-bit words, each a window's two
        column counts (``(w & 0xFF) + (w >> 8)`` set pixels); None for other windows."""
        if not self.pairs:
            return None
        rows = self._row_sums(mask, windows)
        return rows[..., : 2 * self.gw.out].view(np.uint16).reshape(shape)

    def _row_sums(self, mask: np.ndarray, windows: AxisWindows) -> np.ndarray:
        """The row pass over ``mask``, shaped as the band with its rows pooled."""
        plan = self._rows.get(id(windows))
        if plan is None or plan[0] is not windows:
            rows_pass = AxisPass.plan(
                windows, self.trailing, np.dtype(np.uint8), np.add, self.dtype, 0
            )
            plan = self._rows[id(windows)] = (windows, rows_pass)
        rows = plan[1](mask.view(np.uint8), scratch=thread_scratch("counts"))
        shape = list(mask.shape)
        shape[self.axes[0]] = windows.out
        rows = rows.reshape(shape)
        if self.pairs:
            return rows.reshape(shape[: self.axes[1] + 1])  # drop trailing 1s
        return rows


def _is(value: Any, expected: int | None) -> bool:
    """True when ``value`` is one number (equal to ``expected`` unless that is None)."""
    if np.ndim(value) != 0:
        return False
    return expected is None or int(value) == expected


def needed(real: Any, min_valid: float) -> Any:
    """Valid pixels a window of ``real`` real pixels must hold to give a value: at
    least one, and ``min_valid`` of them (rounded up); an int64 per window."""
    if min_valid == 0:
        return np.int64(1)
    return np.maximum(1, np.ceil(min_valid * np.asarray(real))).astype(np.int64)


def zero_where(
    values: np.ndarray, missing: np.ndarray, out: np.ndarray | None = None,
    keep: np.ndarray | None = None,
) -> np.ndarray:  # fmt: skip
    """``values`` with its ``missing`` ones made 0 (+0.0 for floats) into ``out`` (default:
    in place), by clearing their bits; ``keep``: scratch for the mask, unsigned and as
    wide as ``values``. A masked copy branches on every value (5 ns a value on mixed
    windows, measured; this is 1.3, and 2.5x faster on whole volumes)."""
    bits = np.dtype(f"u{values.dtype.itemsize}")
    out = values if out is None else out
    if keep is None:
        keep = np.empty(missing.shape, bits)
    # 0 - 1 wraps to all ones: kept where valid, cleared where nodata
    np.subtract(missing.view(np.uint8), np.uint8(1), out=keep, dtype=bits, casting="unsafe")
    np.bitwise_and(values.view(bits), keep, out=out.view(bits))
    return out


def step_away(target: np.ndarray, nodata: Any, nan: bool, landed: np.ndarray | None = None) -> None:
    """Values of valid windows equal to ``nodata`` move to the next value (down at the
    top of the range), in place. ``landed``: which may move (default: all equal to it)."""
    if nan:
        return  # NaN equals nothing
    if landed is None:
        landed = target == nodata
    if not landed.any():
        return
    dtype = target.dtype
    if dtype.kind == "f":
        target[landed] = np.nextafter(dtype.type(nodata), dtype.type(np.inf))
        return
    high = numeric.value_range(dtype)[1]
    step = -1 if int(nodata) >= high else 1
    target[landed] = dtype.type(int(nodata) + step)


def positions(windows: AxisWindows) -> np.ndarray:
    """(taps, out) input positions each tap reads for each output, -1 where it reads
    padding (or nothing)."""
    table = np.full((len(windows.taps), windows.out), -1, np.int64)
    for t, tap in enumerate(windows.taps):
        table[t, _as_array(tap.dst, windows.out)] = _as_array(tap.src, windows.length)
    return table


def _as_array(index: Index, length: int) -> np.ndarray:
    if isinstance(index, slice):
        return np.arange(length)[index]
    return index


def window_sums_at(
    source: np.ndarray,
    flat: np.ndarray,
    shape: tuple[int, ...],
    axes: tuple[int, int],
    tables: tuple[np.ndarray, np.ndarray],
    zero_starts: tuple[bool, bool],
    missing,
    power: float | None,
) -> np.ndarray:
    """float64 sums of the valid values (``power``: of their powers) of the windows
    ``flat`` (indices into ``shape``) of ``source``, with the very additions of the
    plain passes over the band with nodata as +0.0: rows first, taps in kernel order,
    each pass from +0.0 where ``zero_starts`` says (a pass whose first tap misses some
    outputs), elsewhere from its first tap. A missing tap adds -0.0, which changes
    nothing. ``missing(values)`` says which values are nodata.
    """
    index = list(np.unravel_index(flat, shape))
    rows = np.take(tables[0], index[axes[0]], axis=1).T  # (windows, row taps)
    cols = np.take(tables[1], index[axes[1]], axis=1).T  # (windows, column taps)
    # each window's pixels side by side, (windows, row taps, column taps): one pass
    # over the image instead of one per tap (measured 2x faster), C-ordered (np.take,
    # not fancy indexing, on whose results the arithmetic below ran 8x slower)
    where: list[np.ndarray] = [i[:, None, None] for i in index]
    where[axes[0]] = np.maximum(rows, 0)[:, :, None]
    where[axes[1]] = np.maximum(cols, 0)[:, None, :]
    if source.flags.c_contiguous:  # one flat gather
        steps = np.cumprod((1,) + source.shape[:0:-1])[::-1]  # elements per step, each axis
        offsets = where[0] * int(steps[0])
        for axis in range(1, source.ndim):
            offsets = offsets + where[axis] * int(steps[axis])
        raw = np.take(source.reshape(-1), offsets)
    else:
        raw = source[tuple(where)]
    values = raw.astype(np.float64)
    if power is not None:
        values = np.power(values, power, out=values)
    padded = bool((rows < 0).any() or (cols < 0).any())
    gone = missing(raw)
    if padded:
        gone &= (rows >= 0)[:, :, None] & (cols >= 0)[:, None, :]
    zero_where(values, gone)  # nodata as +0.0
    if padded:
        np.copyto(values, -0.0, where=(rows < 0)[:, :, None])
    row_sums = np.full((flat.size, values.shape[2]), 0.0 if zero_starts[0] else -0.0)
    for tap in range(values.shape[1]):  # the row pass: each column tap's rows, in kernel order
        row_sums += values[:, tap]
    if padded:
        np.copyto(row_sums, -0.0, where=cols < 0)
    total = np.full(flat.shape, 0.0 if zero_starts[1] else -0.0)
    for tap in range(row_sums.shape[1]):  # the column pass
        total += row_sums[:, tap]
    return total
