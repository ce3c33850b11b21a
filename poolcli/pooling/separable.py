"""Max, min and sum over the windows of one axis, one ufunc call per kernel offset.

A rectangular window's max (or sum) is the max of its rows' maxes, so 2-D pooling
is this pass along one spatial axis and then the other. Each call works on whole
strided views, so the cost is ``kernel`` vectorised passes over the output, with no
window copies. Taps are applied in kernel order, so every output is combined in the
same order whichever band of rows it is computed in: results do not depend on how
the work is split between threads.

A pass is planned once (:meth:`AxisPass.plan`) and then run on every band: the
engine calls it hundreds of times per image, and the per-call Python work is what
keeps small, cache-sized bands from paying off.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .geometry import AxisWindows, Index, Tap

# Below this many trailing elements per position (pixel channels, say), ufuncs run
# one channel at a time: NumPy's inner loop then runs along the axis, not over the
# few channels, which is several times faster.
_FEW_LANES = 16

#: Where a pass gets its temporaries: ``scratch(role, shape, dtype)`` -> an array to
#: overwrite, distinct for each role.
Scratch = Callable[[str, tuple[int, ...], np.dtype], np.ndarray]


def fresh(role: str, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """A :data:`Scratch` that allocates every time."""
    return np.empty(shape, dtype)


@dataclass(frozen=True)
class AxisPass:
    """One reduction along one axis, planned for arrays of a given axis and trailing size.

    Arrays are seen as ``(before, length, trailing)``: ``length`` positions along
    the axis, each a block of ``trailing`` elements (pixel channels, say). Only
    ``before`` may differ between calls, so bands of rows share one plan.

    The taps combine ``span`` positions; when ``pick`` > 1 those are the windows
    of every position (stride 1) and the outputs are every ``pick``-th of them.
    """

    length: int
    out_length: int
    trailing: int
    span: int
    pick: int
    taps: tuple[Tap, ...]
    #: The same taps on the axis folded with its trailing block, or None (see plan).
    folded: tuple[Tap, ...] | None
    #: Index of the tap that starts every output (None: fill with ``identity``).
    first: int | None
    #: Index of a tap combined with ``first`` in the same call, over its outputs.
    second: int | None
    #: Widen the input to ``dtype`` once before the taps read it.
    widen: bool
    ufunc: np.ufunc
    dtype: np.dtype
    identity: object

    @classmethod
    def plan(
        cls,
        windows: AxisWindows,
        trailing: int,
        source: np.dtype,
        ufunc: np.ufunc,
        dtype: np.dtype,
        identity: object,
        *,
        selects: bool = False,
    ) -> AxisPass:
        """Plan reducing ``windows`` with ``ufunc`` in ``dtype`` over inputs of dtype ``source``.

        ``identity`` starts outputs whose first taps read padding: ``-inf`` for
        max, ``0`` for sum. ``selects``: every output is one of its inputs (max,
        min), so outputs may be picked from a stride-1 pass (see below).
        """
        taps, span, pick = windows.taps, windows.out, 1
        if selects and 1 < trailing <= _FEW_LANES:
            slid = _slide(windows)
            if slid is not None:
                # A few lanes and stride > 1: one strided call per tap and lane is
                # slow (NumPy's strided float max most of all). Windows at every
                # position are contiguous calls on the folded axis, then one strided
                # copy per lane picks the outputs. Measured on RGB: 0.45x (uint8
                # max 3x3 stride 2), 0.7x (float32 max 2x2); on one lane (T = 1)
                # stride-2 reads are cheap enough that it loses (1.2x).
                taps, span, pick = slid
        folded = None
        if trailing > 1 and all(_unit_step(tap.src) for tap in taps):
            # Stride 1: a window's taps are whole runs of (position, trailing) blocks,
            # so the trailing block folds into the axis and every call reads
            # contiguous memory instead of one strided lane per channel.
            folded = tuple(_scale(tap, trailing) for tap in taps)
        first, second = _opening(taps, span)
        # Widen the input once, in one contiguous cast, rather than in every
        # mixed-dtype call: those cast through small buffers, 1.5x slower on a
        # band streamed from memory (measured), and overlapping windows would
        # even cast each input several times.
        widen = source != dtype
        return cls(
            windows.length, windows.out, trailing, span, pick, taps, folded, first, second,
            widen, ufunc, np.dtype(dtype), identity,
        )  # fmt: skip

    def __call__(
        self, y: np.ndarray, out: np.ndarray | None = None, scratch: Scratch = fresh
    ) -> np.ndarray:
        """Reduce ``y`` (``before`` x ``length`` x ``trailing`` elements, C order inside).

        Writes ``out`` (shaped like ``y`` with ``out_length`` positions) and returns
        it; without ``out``, returns a C-contiguous array of the pass's dtype shaped
        ``(before, out_length, trailing)`` from ``scratch``, which also holds the
        widened input and the windows of every position.
        """
        if out is None:
            out = scratch("out", (self.before(y), self.out_length, self.trailing), self.dtype)
            self._run(y, out, scratch)
            return out
        try:
            self._run(y, out, scratch)
        except _NotAView:
            np.copyto(out, self(y, scratch=scratch).reshape(out.shape), casting="unsafe")
        return out

    def before(self, y: np.ndarray) -> int:
        """The ``before`` extent of ``y`` seen as (before, length, trailing)."""
        return y.size // (self.length * self.trailing)

    def _run(self, y: np.ndarray, out: np.ndarray, scratch: Scratch) -> None:
        out3 = _view(out, (-1, self.out_length, self.trailing), copy_ok=False)
        if self.pick == 1:
            self._combine(y, out3, scratch)
            return
        every = scratch("every", (out3.shape[0], self.span, self.trailing), self.dtype)
        self._combine(y, every, scratch)
        picked = every[:, :: self.pick]
        for lane in range(self.trailing):
            np.copyto(out3[:, :, lane], picked[:, :, lane])

    def _combine(self, y: np.ndarray, out3: np.ndarray, scratch: Scratch) -> None:
        """The taps of ``span`` positions of ``y`` combined into ``out3`` (before, span, lanes)."""
        taps = self.taps
        y3 = _view(y, (-1, self.length, self.trailing), copy_ok=True)
        if self.folded is not None:
            taps = self.folded
            y3 = y3.reshape(y3.shape[0], -1, 1)
            out3 = _view(out3, (-1, self.span * self.trailing, 1), copy_ok=False)
        if self.widen:
            wide = scratch("wide", y3.shape, self.dtype)
            np.copyto(wide, y3, casting="unsafe")
            y3 = wide
        ufunc, dtype = self.ufunc, self.dtype
        lanes = range(y3.shape[2]) if 1 < y3.shape[2] <= _FEW_LANES else (slice(None),)
        first, second = self.first, self.second
        rest = [tap for i, tap in enumerate(taps) if i != first and i != second]
        for lane in lanes:
            target = out3[:, :, lane]
            if first is None:
                target[...] = self.identity
            elif second is None:
                np.copyto(target, _read(y3, taps[first].src, lane), casting="unsafe")
            else:
                self._open(y3, lane, taps[first], taps[second], target)
            for tap in rest:
                _update(ufunc, target, tap.dst, _read(y3, tap.src, lane), dtype)

    def _open(self, y3: np.ndarray, lane: int | slice, first: Tap, second: Tap, target) -> None:
        """Start every output: ``first`` combined with ``second`` where it reaches, alone elsewhere.

        One call over (almost) every output instead of a copy and then an update:
        the edges that ``second`` misses (padding) are short copies.
        """
        assert isinstance(second.dst, slice)
        lo, hi = second.dst.start, second.dst.stop
        self.ufunc(
            _read(y3, _part(first, lo, hi), lane),
            _read(y3, second.src, lane),
            out=target[:, lo:hi],
            dtype=self.dtype,
        )
        for a, b in ((0, lo), (hi, target.shape[1])):
            if a < b:
                np.copyto(target[:, a:b], _read(y3, _part(first, a, b), lane), casting="unsafe")


def pair_sums(y: np.ndarray, pairs: int) -> np.ndarray:
    """Sums of elements ``2j`` and ``2j + 1`` of ``y``'s last axis, in the integer twice as wide.

    Each pair is viewed as one word of twice the width and split with shifts
    (SWAR): both halves arrive already widened, so there is no mixed-dtype
    (buffered) call and no strided read. ``y`` holds integers of at most 32 bits;
    its last axis is contiguous, with at least ``2 * pairs`` elements.
    """
    bits = y.dtype.itemsize * 8
    words = y[..., : 2 * pairs].view(f"{y.dtype.kind}{2 * y.dtype.itemsize}")
    sums = words >> bits  # the high half, sign-extended for signed words
    if y.dtype.kind == "u":
        low = words & ((1 << bits) - 1)
    else:
        low = words << bits
        low >>= bits  # arithmetic: the low half, sign-extended
    sums += low
    return sums


def first_tap(windows: AxisWindows) -> int | None:
    """The tap that starts every output of a sum over ``windows`` (None: +0.0 does)."""
    return _opening(windows.taps, windows.out)[0]


class _NotAView(ValueError):
    """An output that cannot be seen as (before, length, trailing) without a copy."""


def _view(a: np.ndarray, shape: tuple[int, int, int], *, copy_ok: bool) -> np.ndarray:
    try:
        return a.reshape(shape, copy=False)
    except ValueError:
        if copy_ok:
            return np.ascontiguousarray(a).reshape(shape)
        raise _NotAView from None


def _opening(taps: tuple[Tap, ...], span: int) -> tuple[int | None, int | None]:
    """Which tap starts every output, and which tap joins it in the same call.

    An output is its taps combined in kernel order. A tap that reaches every
    output can start them all (no identity fill); tap 1 may start in place of
    tap 0, and the other of the two may join it in one call over the outputs it
    reaches, since ``max``/``min``/``add`` of two values commute: the values are
    the same as combining in order.
    """
    if taps and _covers(taps[0], span):
        first = 0
    elif len(taps) > 1 and _covers(taps[1], span):
        first = 1
    else:
        return None, None
    second = 1 - first
    if second >= len(taps) or not all(
        isinstance(taps[i].src, slice) and isinstance(taps[i].dst, slice) for i in (first, second)
    ):
        return first, None  # adaptive windows (index arrays): no partial call
    return first, second


def _covers(tap: Tap, span: int) -> bool:
    if isinstance(tap.dst, slice):
        return tap.dst.start == 0 and tap.dst.stop == span
    return len(tap.dst) == span


def _slide(windows: AxisWindows) -> tuple[tuple[Tap, ...], int, int] | None:
    """Stride-1 taps whose every ``stride``-th position is a window of ``windows``.

    Returns ``(taps, span, stride)``, or None when there is nothing to gain (stride
    1) or the windows are not regular (adaptive).
    """
    slices = [(t.dst, t.src) for t in windows.taps]
    regular = [(d, s) for d, s in slices if isinstance(d, slice) and isinstance(s, slice)]
    if len(regular) != len(slices):
        return None
    steps = {src.step for _, src in regular}
    if len(steps) != 1 or (stride := steps.pop()) == 1:
        return None
    span = (windows.out - 1) * stride + 1
    taps = []
    for dst, src in regular:
        offset = src.start - dst.start * stride  # position q reads q + offset
        lo, hi = max(0, -offset), min(span, windows.length - offset)
        if lo < hi:
            taps.append(Tap(slice(lo, hi), slice(lo + offset, hi + offset, 1)))
    return tuple(taps), span, stride


def _part(tap: Tap, lo: int, hi: int) -> slice:
    """The input positions that a tap reaching every output reads for outputs ``lo:hi``."""
    assert isinstance(tap.src, slice)
    step = tap.src.step or 1
    start = tap.src.start + lo * step
    return slice(start, start + (hi - lo - 1) * step + 1, step)


def _unit_step(index: Index) -> bool:
    return isinstance(index, slice) and index.step in (None, 1)


def _length(index: Index) -> int:
    if isinstance(index, slice):
        return len(range(index.start, index.stop, index.step or 1))
    return len(index)


def _scale(tap: Tap, block: int) -> Tap:
    """``tap`` on an axis whose positions each became ``block`` consecutive ones."""
    assert isinstance(tap.src, slice)
    assert isinstance(tap.dst, slice)
    return Tap(
        slice(tap.dst.start * block, tap.dst.stop * block),
        slice(tap.src.start * block, tap.src.stop * block),
    )


def _read(y3: np.ndarray, index: Index, lane: int | slice) -> np.ndarray:
    if isinstance(index, slice):
        return y3[:, index, lane]
    return y3[:, :, lane][:, index]


def _update(
    ufunc: np.ufunc, target: np.ndarray, dst: Index, values: np.ndarray, dtype: np.dtype
) -> None:
    if isinstance(dst, slice):
        region = target[:, dst]
        ufunc(region, values, out=region, dtype=dtype)
    else:
        target[:, dst] = ufunc(target[:, dst], values, dtype=dtype)
