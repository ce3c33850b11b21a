"""Median and mode over three spatial axes: whole ``kd*kh*kw`` windows, band by band.

A 3-D window is a 2-D window over a stack of depth slices: for a run of output
depths that read the same depth taps, the slices each tap reads are laid side by
side along the height axis (``(outputs, taps*H, W, ...)``), and one 2-D window of
``taps*kh`` rows (every tap's rows) by ``kw`` columns covers the whole 3-D window.
The 2-D median and mode (:mod:`.ranked`) then run on it unchanged, so ties, NaN,
whole-pixel votes and nodata mean exactly what they mean in 2-D (with nodata, the
stacked windows go to :class:`~.valid_ranked.ValidRankedWork`, whose counts of
real voxels are the stacked windows': present depth taps times rows times columns). Work goes
in bands of output depths on threads; nothing larger than a band's window stack
is ever allocated (no ``(out..., kd, kh, kw)`` copy of the volume).

Windows of a single value are most windows of a label volume: for integers their
median and mode are that value, found with one comparison per tap, and only the
other windows are gathered and ranked (the result is the same, much sooner).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..spec.modes import PoolMode
from . import ranked, volume_modes
from .geometry import AxisWindows, Tap, regular_windows
from .reduction import Reduction
from .threads import share, thread_count
from .valid_ranked import ValidRankedWork
from .volume_passes import empty_result

#: A band's window stacks take about this much memory: large, so that two threads
#: seldom wait on each other (see volume_modes._CHUNK_WINDOWS).
_STACK_BYTES = 32 << 20
_THREAD_MIN_OUTPUT = 1 << 15


def run(
    x: np.ndarray,
    axes: tuple[int, int, int],
    channel_axis: int | None,
    windows: tuple[AxisWindows, AxisWindows, AxisWindows],
    reduction: Reduction,
    threads: int | None,
) -> np.ndarray:
    """Median or mode of ``x`` over ``windows`` along ``axes`` (depth, height, width)."""
    gd, gh, gw = windows
    out = empty_result(x, axes, windows, reduction)
    if out.size == 0:
        return out
    # depth, height, width first: views, so that slicing depth reads the input in place
    v = np.moveaxis(x, axes, (0, 1, 2))
    o = np.moveaxis(out, axes, (0, 1, 2))
    channel = None
    if channel_axis is not None:
        channel = [a for a in range(x.ndim) if a not in axes].index(channel_axis) + 3
    positions = _positions(gd)
    per_output = v[0].size * v.dtype.itemsize * len(gd.taps) + o[0].size * _temporary_bytes(
        x.dtype, windows, reduction, channel
    )
    rows = max(1, _STACK_BYTES // per_output)
    workers = thread_count(threads, out.size, _THREAD_MIN_OUTPUT)
    if workers > 1:
        rows = min(rows, -(-gd.out // workers))
    bands = [(start, min(start + rows, gd.out)) for start in range(0, gd.out, rows)]
    # What bands learn for the next ones: whether the two-label shortcut of mode pays
    # off, and the gather offsets of a band's shape. Both ways give the same values,
    # so threads may race on it.
    hint: dict[Any, Any] = {"pairs": True}

    def band(item: tuple[int, int]) -> None:
        for a, b in _runs(positions, *item):
            present = positions[:, a] >= 0
            taps = int(present.sum())
            stack = _depth_stack(v, positions[present, a:b], taps)
            _rank(stack, _stacked(gh, taps), gw, o[a:b], reduction, channel, hint)

    share(band, bands, workers, reduction.errstate)
    return out


def _temporary_bytes(
    dtype: np.dtype, windows: tuple[AxisWindows, ...], reduction: Reduction, channel: int | None
) -> int:
    """Rough scratch bytes per output element, for sizing bands. Label mode of 2x2
    row and column pairs (:mod:`.volume_modes`) needs only a few bytes per window;
    sized by the general sort's scratch, its bands were small (2 output slices of a
    512^3 volume), and so were the batches its windows set aside are sorted in
    (2000 windows, too few to amortise the sorting network's calls)."""
    gd, gh, gw = windows
    taps = len(gd.taps)
    paired = (
        reduction.mode is PoolMode.MODE
        and channel is None
        and reduction.nodata is None
        and reduction.ignore is None
        and volume_modes.suits(dtype, _stacked(gh, taps), gw)
    )
    if paired:
        return 8 * dtype.itemsize
    return reduction.temporary_bytes(dtype.itemsize, taps * gh.max_taps * gw.max_taps)


def _positions(gd: AxisWindows) -> np.ndarray:
    """(taps, outputs): the input depth each tap reads for each output, -1 where none."""
    positions = np.full((len(gd.taps), gd.out), -1, np.int64)
    for t, tap in enumerate(gd.taps):
        positions[t, _indices(tap.dst)] = _indices(tap.src)
    return positions


def _indices(index) -> np.ndarray:
    if isinstance(index, slice):
        return np.arange(index.start, index.stop, index.step or 1)
    return np.asarray(index)


def _runs(positions: np.ndarray, start: int, stop: int) -> list[tuple[int, int]]:
    """Runs of outputs ``start:stop`` whose windows read the same depth taps."""
    present = positions[:, start:stop] >= 0
    runs, a = [], start
    for i in range(start + 1, stop):
        if not (present[:, i - start] == present[:, i - 1 - start]).all():
            runs.append((a, i))
            a = i
    runs.append((a, stop))
    return runs


def _depth_stack(v: np.ndarray, positions: np.ndarray, taps: int) -> np.ndarray:
    """(outputs, taps*H, W, ...): each output's depth slices side by side along height."""
    outputs = positions.shape[1]
    base = int(positions[0, 0])
    expected = base + np.arange(outputs)[None, :] * taps + np.arange(taps)[:, None]
    if (positions == expected).all():
        # windows of adjacent slices, side by side (stride == kernel): the input itself
        slab = v[base : base + outputs * taps]
        return slab.reshape(outputs, taps * v.shape[1], *v.shape[2:])
    stack = np.stack([v[positions[t]] for t in range(taps)], axis=1)
    return stack.reshape(outputs, taps * v.shape[1], *v.shape[2:])


def _stacked(gh: AxisWindows, taps: int) -> AxisWindows:
    """``gh``'s windows repeated for each of ``taps`` stacked copies of the height axis."""
    shifted = tuple(
        Tap(tap.dst, _shift(tap.src, t * gh.length)) for t in range(taps) for tap in gh.taps
    )
    return AxisWindows(gh.length * taps, shifted, gh.real * taps, gh.padded * taps)


def _shift(index, by: int):
    if isinstance(index, slice):
        return slice(index.start + by, index.stop + by, index.step)
    return index + by


def _rank(
    y: np.ndarray,
    gh: AxisWindows,
    gw: AxisWindows,
    target: np.ndarray,
    reduction: Reduction,
    channel: int | None,
    hint: dict,
) -> None:
    """Median or mode of the 2-D windows ``gh`` x ``gw`` of ``y`` (axes 1, 2) into ``target``."""
    mode = reduction.mode
    if reduction.nodata is not None:
        ValidRankedWork(reduction, y, (1, 2), channel, gh, gw)(y, gh, target)
        return
    pixels = channel is not None and mode is PoolMode.MODE
    whole = all(_full(g, tap) for g in (gh, gw) for tap in g.taps)
    if whole and not pixels and reduction.ignore is None and y.dtype.kind in "biu":
        if mode is PoolMode.MODE and volume_modes.applies(y, gh, gw):
            volume_modes.pair_mode(y, gh, gw, target, hint)
            return
        _uniform_first(y, gh, gw, target, mode, hint)
        return
    # values to ignore (the image layer's invisible pixels) never come with volumes
    assert reduction.ignore is None, "volumes take no values to ignore"
    ranked.band(y, gh, target, statistic=mode, axes=(1, 2), channel_axis=channel, gw=gw)


def _full(g: AxisWindows, tap: Tap) -> bool:
    return isinstance(tap.src, slice) and g.covers_all(tap)


def _uniform_first(
    y: np.ndarray,
    gh: AxisWindows,
    gw: AxisWindows,
    target: np.ndarray,
    mode: PoolMode,
    hint: dict,
) -> None:
    """Windows holding one value give it; only the others are ranked (integers only:
    equal integers are the same value, where floats have NaN and signed zeros)."""
    views = [y[:, th.src, tw.src] for th in gh.taps for tw in gw.taps]
    first = views[0]
    mixed = _fill_and_find_mixed(y, gh, gw, views, target)
    if not mixed.any():
        return
    where = None
    if y.flags.c_contiguous:
        # One flat gather per tap: the windows' element offsets, found once, plus each
        # tap's own offset (fancy indexing with one index array per axis is 5x slower).
        where = np.flatnonzero(mixed)
        itemsize = y.dtype.itemsize
        offsets = _offsets(first, itemsize, hint).take(where)
        flat = y.reshape(-1)
        origin = y.__array_interface__["data"][0]
        values = [  # each tap's offset is where its flat view starts
            flat[(view.__array_interface__["data"][0] - origin) // itemsize :].take(offsets)
            for view in views
        ]
    else:
        values = [view[mixed] for view in views]
    if mode is PoolMode.MODE:
        result = _small_mode(values, hint)
    else:
        stack = np.stack(values)[:, None]
        kernel = regular_windows(len(views), len(views), len(views), 0, 1, False, axis=0)
        unit = regular_windows(1, 1, 1, 0, 1, False, axis=1)
        result = ranked.median(stack, kernel, unit).reshape(-1)
    if where is not None and target.flags.c_contiguous:
        target.reshape(-1)[where] = result
    else:
        target[mixed] = result


def _offsets(view: np.ndarray, itemsize: int, cache: dict) -> np.ndarray:
    """The flat element offset of every element of ``view`` from its first, kept in
    ``cache`` for the next band of this shape (bands repeat one or two shapes)."""
    steps = tuple(stride // itemsize for stride in view.strides)
    key = ("offsets", view.shape, steps)
    offsets = cache.get(key)
    if offsets is None:
        grid = np.zeros(view.shape, np.int64)
        for axis, (length, step) in enumerate(zip(view.shape, steps, strict=True)):
            shape = [1] * view.ndim
            shape[axis] = length
            grid += (np.arange(length, dtype=np.int64) * step).reshape(shape)
        offsets = cache[key] = grid.reshape(-1)
    return offsets


def _fill_and_find_mixed(
    y: np.ndarray, gh: AxisWindows, gw: AxisWindows, views: list, target: np.ndarray
) -> np.ndarray:
    """``target`` filled with each window's first value; True where a window holds more
    than one value."""
    first = views[0]
    same = np.empty(first.shape, bool)
    scratch = np.empty(first.shape, bool)
    if y.ndim == 3 and y.dtype.itemsize <= 4 and gw.adjacent_pairs and y.strides[2] == y.itemsize:
        # Windows two columns wide, at even columns: each column pair is one word
        # of twice the width, so the rows' words are compared whole, in contiguous
        # runs, and then each word's two halves (the 2x2x2 label case: 2x faster).
        word = np.dtype(f"u{2 * y.dtype.itemsize}")
        words = y[:, :, : 2 * gw.out].view(word)
        rows = [words[:, th.src] for th in gh.taps]
        halves = rows[0].view(f"u{y.dtype.itemsize}")
        np.equal(halves[..., 0::2], halves[..., 1::2], out=same)
        for row in rows[1:]:
            np.equal(row, rows[0], out=scratch)
            same &= scratch
        # Each word's low half is its first value (little-endian): a cast reads the
        # words in runs, where copying every other value is a slow strided loop (5x).
        half = f"u{y.dtype.itemsize}"
        if np.little_endian:
            np.copyto(target.view(half), rows[0], casting="unsafe")
        else:
            np.copyto(target, first)
    else:
        np.copyto(target, first)
        same[...] = True
        for view in views[1:]:
            np.equal(view, first, out=scratch)
            same &= scratch
    return np.logical_not(same, out=same)


def _small_mode(values: list[np.ndarray], hint: dict) -> np.ndarray:
    """The most frequent of ``values[j][i]`` over j for each i; ties go to the smallest.

    The same rule as :func:`ranked.mode`, on a few 1-d arrays of integers: sorted by
    the same network, with the arrays swapped rather than copied back, then the
    longest run of equal values wins, the first (smallest) among equals.
    """
    if not hint["pairs"]:
        return _sorted_mode(list(values))
    # Most mixed windows of a label volume hold two labels (a boundary): the mode is
    # the larger only when it is more frequent. Those are settled from the extremes'
    # counts; only windows of three or more values are sorted.
    low, high = values[0].copy(), values[0].copy()
    for v in values[1:]:
        np.minimum(low, v, out=low)
        np.maximum(high, v, out=high)
    lows, highs = _count(values, low), _count(values, high)
    result = np.where(highs > lows, high, low)
    rest = np.flatnonzero(lows + highs != len(values))
    hint["pairs"] = len(rest) < len(result) // 2
    if len(rest):
        result[rest] = _sorted_mode([v[rest] for v in values])
    return result


def _count(values: list[np.ndarray], value: np.ndarray) -> np.ndarray:
    """How many of ``values`` equal ``value``, element by element."""
    count = np.zeros(value.shape, np.uint8 if len(values) < 256 else np.uint16)
    same = np.empty(value.shape, bool)
    # bools seen as bytes: adding them to bytes is a plain loop, not a cast
    step = same.view(np.uint8) if count.dtype == np.uint8 else same
    for v in values:
        np.equal(v, value, out=same)
        count += step
    return count


def _sorted_mode(values: list[np.ndarray]) -> np.ndarray:
    """:func:`_small_mode` by sorting: the longest run of equal values, the first wins."""
    if len(values) > ranked._NETWORK_LIMIT:  # as ranked.sort_stack: np.sort beyond it
        values = list(np.sort(np.stack(values), axis=0))
    else:
        spare = np.empty_like(values[0])
        for i, j in ranked._network(len(values)):
            np.minimum(values[i], values[j], out=spare)
            np.maximum(values[i], values[j], out=values[j])
            values[i], spare = spare, values[i]
    best = values[0].copy()
    runs = np.uint8 if len(values) < 256 else np.uint16
    best_run = np.ones(best.shape, runs)
    run = np.ones(best.shape, runs)
    same = np.empty(best.shape, bool)
    step = same.view(np.uint8) if runs is np.uint8 else same
    better = np.empty(best.shape, bool)
    for j in range(1, len(values)):
        np.equal(values[j], values[j - 1], out=same)
        np.multiply(run, step, out=run)  # a new value restarts the run at 1
        run += 1
        np.greater(run, best_run, out=better)
        np.maximum(best_run, run, out=best_run)
        np.copyto(best, values[j], where=better)
    return best
