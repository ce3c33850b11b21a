"""``pool``, ``adaptive_pool`` and ``output_shape``: the public face of the engine.

The work is split into bands of output rows (along the first spatial axis). Each
band reads only the input rows its windows need and writes its own slice of the
result, so bands run on threads (NumPy releases the GIL in its loops) and bound the
temporaries: memory stays O(input + output) whatever the kernel. Every output is
computed by the same operations in whichever band it falls, so results do not
depend on the number of threads.

Speed comes from three habits, each measured (see benchmarks/README.md):

- plan once, run many: what does not depend on the band (dtypes, the passes along
  each axis, the divisor of interior bands) is decided once per call, so a band
  costs a few ufunc calls and little Python;
- bands of about 4 MB of touched memory, their temporaries reused from band to
  band (per thread), so they stay in cache and never page-fault;
- one task per thread, each taking the next band from a shared iterator, the
  calling thread among them: no wake-up per band.
"""

from __future__ import annotations

import contextlib
import functools
import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import InputError, ParameterError
from . import numeric, ranked
from .geometry import AxisWindows, adaptive_windows, regular_windows
from .modes import PoolMode
from .parameters import check_window_parameters, pair
from .separable import AxisPass, Scratch, pair_sums
from .threads import share, thread_count

#: Aim for bands that touch about this much memory (input rows and temporaries).
#: Smaller bands fit the cache better but pay Python overhead per band, which
#: threads then contend for (measured: about 4 MB is best for every benchmark case).
_BAND_BYTES = 4 << 20
#: Temporaries up to this size are kept per thread for the next band and call.
_KEEP_BYTES = 8 << 20
_SCRATCH = threading.local()
#: Median and mode gather whole windows; their bands may be larger.
_STACK_BYTES = 16 << 20
#: Below this many output elements threads cost more than they save.
_THREAD_MIN_OUTPUT = 1 << 16


def pool(
    x: np.ndarray,
    kernel: int | tuple[int, int],
    *,
    stride: int | tuple[int, int] | None = None,
    padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
    mode: str | PoolMode = "max",
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor: int | None = None,
    p: float = 2.0,
    axes: tuple[int, int] = (0, 1),
    channel_axis: int | None = None,
    threads: int | None = None,
) -> np.ndarray:
    """Pool the two spatial ``axes`` of ``x`` with windows of size ``kernel``.

    Semantics follow PyTorch's ``MaxPool2d`` / ``AvgPool2d`` / ``LPPool2d``; every
    other axis (channels, frames, batch) is pooled independently.

    Parameters
    ----------
    x : (..., H, ..., W, ...) array_like
        Any dtype in :data:`poolcli.pooling.numeric.SUPPORTED`, two or more dims.
        Never modified.
    kernel, stride, padding, dilation : int or (h, w) pair
        Window size, step (default: the kernel), zero padding on each side (at most
        half the kernel) and spacing between taps.
    mode : {'max', 'min', 'avg', 'sum', 'lp', 'rms', 'median', 'mode'}
        How a window is reduced (see :class:`PoolMode`).
    ceil_mode : bool
        Keep a last, partial window (PyTorch's ``ceil_mode``).
    count_include_pad : bool
        ``avg``/``rms``: divide by the window area including padding (default, as
        PyTorch), or by the number of real pixels only.
    divisor : int, optional
        ``avg`` only: divide every window sum by this instead.
    p : float
        ``lp`` only: the power; ``(sum of x**p) ** (1/p)``.
    axes : (int, int)
        The spatial axes, height first.
    channel_axis : int, optional
        ``mode`` only: the axis holding a pixel's channels, so that whole pixels vote
        and the result holds only colours that occur in the window.
    threads : int, optional
        Worker threads; default: all cores. Results are identical for any count.

    Returns
    -------
    ndarray
        A new C-contiguous array: the spatial axes shrunk to
        :func:`output_shape`, the dtype kept except ``sum`` (integers widen to
        int64/uint64). Integer means are exact and rounded half up; NaN wins
        ``max``/``min``; padding never does.

    Raises
    ------
    ParameterError
        Parameters no input could satisfy (kernel < 1, padding over half the kernel...).
    InputError
        An input they do not fit (kernel larger than the image, unsupported dtype).

    Examples
    --------
    >>> import numpy as np
    >>> pool(np.arange(16).reshape(4, 4), 2)
    array([[ 5,  7],
           [13, 15]])
    >>> pool(np.array([[1, 2], [3, 5]], np.uint8), 2, mode="avg")  # 11/4 = 2.75
    array([[3]], dtype=uint8)
    """
    mode = PoolMode.parse(mode)
    k, s, pad, d = _window_parameters(kernel, stride, padding, dilation)
    reduction = _Reduction.make(mode, count_include_pad, divisor, p, pad)
    x, axes, channel_axis = _prepare(x, axes, channel_axis, reduction)
    gh = regular_windows(x.shape[axes[0]], k[0], s[0], pad[0], d[0], ceil_mode, axis=axes[0])
    gw = regular_windows(x.shape[axes[1]], k[1], s[1], pad[1], d[1], ceil_mode, axis=axes[1])
    return _run(x, axes, channel_axis, gh, gw, reduction, threads)


def adaptive_pool(
    x: np.ndarray,
    output_size: int | tuple[int, int],
    *,
    mode: str | PoolMode = "avg",
    p: float = 2.0,
    axes: tuple[int, int] = (0, 1),
    channel_axis: int | None = None,
    threads: int | None = None,
) -> np.ndarray:
    """Pool ``x`` down to exactly ``output_size`` (h, w), as PyTorch's adaptive pooling.

    Output ``i`` of an axis of ``n`` pixels covers ``floor(i*n/out)`` up to
    ``ceil((i+1)*n/out)``; windows may overlap by one pixel and differ in size by
    one. Every mode of :func:`pool` is available; means divide by each window's
    own pixel count.

    Raises
    ------
    InputError
        When an output side is larger than the input's (poolcli only downsamples).

    Examples
    --------
    >>> import numpy as np
    >>> adaptive_pool(np.arange(15.0).reshape(3, 5), (1, 2))  # columns 0-2 and 2-4
    array([[6., 8.]])
    """
    mode = PoolMode.parse(mode)
    out_h, out_w = pair("output_size", output_size)
    reduction = _Reduction.make(mode, True, None, p, (0, 0))
    x, axes, channel_axis = _prepare(x, axes, channel_axis, reduction)
    gh = adaptive_windows(x.shape[axes[0]], out_h, axis=axes[0])
    gw = adaptive_windows(x.shape[axes[1]], out_w, axis=axes[1])
    return _run(x, axes, channel_axis, gh, gw, reduction, threads)


def output_shape(
    shape: Sequence[int],
    kernel: int | tuple[int, int],
    *,
    stride: int | tuple[int, int] | None = None,
    padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
    ceil_mode: bool = False,
    axes: tuple[int, int] = (0, 1),
) -> tuple[int, ...]:
    """The shape :func:`pool` returns for an input of ``shape``, without pooling.

    >>> output_shape((480, 640, 3), 2)
    (240, 320, 3)
    >>> output_shape((7, 7), 2, ceil_mode=True)
    (4, 4)
    """
    k, s, pad, d = _window_parameters(kernel, stride, padding, dilation)
    shape = tuple(int(n) for n in shape)
    axes = _normalise_axes(axes, len(shape))
    result = list(shape)
    for i, axis in enumerate(axes):
        windows = regular_windows(shape[axis], k[i], s[i], pad[i], d[i], ceil_mode, axis=axis)
        result[axis] = windows.out
    return tuple(result)


def _window_parameters(kernel, stride, padding, dilation):
    k = pair("kernel", kernel)
    s = k if stride is None else pair("stride", stride)
    pad = pair("padding", padding)
    d = pair("dilation", dilation)
    check_window_parameters(k, s, pad, d)
    return k, s, pad, d


def _normalise_axes(axes: Sequence[int], ndim: int) -> tuple[int, int]:
    if ndim < 2:
        message = f"pooling needs an array of 2 or more dimensions, got {ndim}"
        raise InputError(message)
    try:
        a, b = (int(v) for v in axes)
    except (TypeError, ValueError):
        message = f"axes must be two distinct axis numbers, got {axes!r}"
        raise ParameterError(message) from None
    if not (-ndim <= a < ndim and -ndim <= b < ndim) or a % ndim == b % ndim:
        message = f"axes must be two distinct axes of a {ndim}-d array, got {axes!r}"
        raise ParameterError(message)
    return a % ndim, b % ndim


def _prepare(x, axes, channel_axis, reduction):
    x = np.asarray(x)
    dtype = numeric.check_dtype(x.dtype)
    axes = _normalise_axes(axes, x.ndim)
    if channel_axis is not None:
        channel_axis = int(channel_axis)
        if not -x.ndim <= channel_axis < x.ndim or channel_axis % x.ndim in axes:
            message = (
                f"channel_axis must be an axis of the {x.ndim}-d array other than the "
                f"spatial axes {axes}, got {channel_axis}"
            )
            raise ParameterError(message)
        channel_axis %= x.ndim
    # Native byte order and C order: every band is then a cheap view.
    return np.ascontiguousarray(x, dtype=dtype), axes, channel_axis


@dataclass(frozen=True)
class _Reduction:
    """What to do with one band of windows, for one mode."""

    mode: PoolMode
    count_include_pad: bool
    divisor: int | None
    p: float

    @classmethod
    def make(cls, mode, count_include_pad, divisor, p, padding) -> _Reduction:
        if divisor is not None:
            if mode is not PoolMode.AVG:
                message = f"divisor only applies to mode 'avg', not {mode.value!r}"
                raise ParameterError(message)
            if (
                isinstance(divisor, bool)
                or not isinstance(divisor, (int, np.integer))
                or divisor < 1
            ):
                message = f"divisor must be a positive integer, got {divisor!r}"
                raise ParameterError(message)
            divisor = int(divisor)
        if mode is PoolMode.LP:
            if not (isinstance(p, (int, float, np.number)) and math.isfinite(p) and p > 0):
                message = f"p must be a finite number above 0 for mode 'lp', got {p!r}"
                raise ParameterError(message)
            if max(padding) > 0:
                message = f"mode 'lp' takes no padding (as PyTorch's LPPool2d), got {padding}"
                raise ParameterError(message)
        return cls(mode, bool(count_include_pad), divisor, float(p))

    def out_dtype(self, dtype: np.dtype) -> np.dtype:
        return numeric.sum_dtype(dtype) if self.mode is PoolMode.SUM else dtype

    def temporary_bytes(self, itemsize: int, taps: int) -> int:
        """Rough bytes of a window stack per output element (median, mode), for sizing bands."""
        return 3 * taps * max(itemsize, 8 if self.mode is PoolMode.MODE else 1)

    def prepare(self, x, axes, channel_axis, gh, gw, out_dtype) -> Callable:
        """The work for one band: ``work(source, windows, target)``, planned once per call.

        ``source`` is the band's input rows, ``windows`` their windows along
        ``axes[0]`` (from :meth:`AxisWindows.bands`), ``target`` its output rows.
        """
        if self.mode.separable:
            return _SeparableWork(self, x, axes, gh, gw, out_dtype)
        return functools.partial(self._ranked, axes=axes, channel_axis=channel_axis, gw=gw)

    def errstate(self) -> contextlib.AbstractContextManager:
        """Floating-point error handling for a thread running bands.

        IEEE results are the contract (x**p of a negative is NaN, a float16 sum past
        65504 is inf), so sums and powers must not warn. errstate is per thread.
        """
        if self.mode.separable:
            return np.errstate(invalid="ignore", over="ignore")
        return contextlib.nullcontext()

    def _ranked(self, x, gh, out, *, axes, channel_axis, gw) -> None:
        """Median or mode of the band ``x`` (windows ``gh`` x ``gw``) into ``out``."""
        order = list(axes) + ([channel_axis] if channel_axis is not None else [])
        front = list(range(len(order)))
        if channel_axis is not None:
            front[-1] = x.ndim - 1
        y = np.moveaxis(x, order, front)
        if self.mode is PoolMode.MEDIAN:
            result = ranked.median(y, gh, gw)
        else:
            pixels = channel_axis is not None and self.mode is PoolMode.MODE
            result = ranked.mode(y, gh, gw, pixels=pixels)
        np.copyto(np.moveaxis(out, order, front), result)

    def _power_mean(self, sums: np.ndarray, divisor, dtype: np.dtype) -> np.ndarray:
        if self.mode is PoolMode.RMS:
            values = np.sqrt(sums / divisor)
        else:
            values = np.power(sums, 1.0 / self.p)
        if dtype.kind == "f":
            return values
        if np.isnan(values).any():
            message = (
                f"lp pooling with p={self.p:g} has no real result for windows whose sum of "
                "x**p is negative; use an even p or pool a float array"
            )
            raise InputError(message)
        return numeric.round_half_up(values, dtype)

    def _divisor(self, gh: AxisWindows, gw: AxisWindows, ndim: int, axes) -> int | np.ndarray:
        if self.divisor is not None:
            return self.divisor
        counts_h, counts_w = (g.padded if self.count_include_pad else g.real for g in (gh, gw))
        if (counts_h == counts_h[0]).all() and (counts_w == counts_w[0]).all():
            return int(counts_h[0] * counts_w[0])
        shape_h = [1] * ndim
        shape_h[axes[0]] = len(counts_h)
        shape_w = [1] * ndim
        shape_w[axes[1]] = len(counts_w)
        return counts_h.reshape(shape_h) * counts_w.reshape(shape_w)


class _SeparableWork:
    """Max, min and the sum-based modes, band by band: rows first, then columns.

    Everything that does not depend on the band (dtypes, the column pass, the
    divisor of interior bands) is decided once here: per-band Python work is what
    made small bands and threads slow.
    """

    def __init__(self, reduction: _Reduction, x, axes, gh: AxisWindows, gw: AxisWindows, out_dtype):
        self.reduction = reduction
        self.axes = axes
        self.gw = gw
        self.ndim = x.ndim
        mode = reduction.mode
        self.source = x.dtype
        self.selects = mode in (PoolMode.MAX, PoolMode.MIN)
        self.ufunc: np.ufunc
        if self.selects:
            self.ufunc = np.maximum if mode is PoolMode.MAX else np.minimum
            self.dtype = x.dtype
            lowest = mode is PoolMode.MAX
            self.identity = numeric.lowest(x.dtype) if lowest else numeric.highest(x.dtype)
        else:
            self.ufunc, self.identity = np.add, 0
            if mode in (PoolMode.LP, PoolMode.RMS):
                self.source = np.dtype(np.float64)
            headroom = 0
            if mode is PoolMode.AVG:
                largest = reduction.divisor or _largest_count(gh, gw, reduction.count_include_pad)
                headroom = largest // 2
            values = x if self.source == x.dtype else np.empty(0, self.source)
            self.dtype = numeric.accumulator(values, gh.max_taps * gw.max_taps, headroom)
        self.out_dtype = out_dtype
        # Integer sums are exact in any order: 2-wide windows along the last axis
        # can then go first, as widened pair sums (see pair_sums), and the row pass
        # runs on those in the accumulator's dtype.
        self.pairs = (
            self.ufunc is np.add
            and self.source == x.dtype
            and x.dtype.kind in "iu"
            and self.dtype.kind == x.dtype.kind
            and self.dtype.itemsize == 2 * x.dtype.itemsize
            and axes[0] < axes[1]
            and math.prod(x.shape[axes[1] + 1 :]) == 1
            and gw.adjacent_pairs
        )
        shape = list(x.shape)
        if self.pairs:
            shape[axes[1]] = gw.out
        self.trailing = math.prod(shape[axes[0] + 1 :])
        self._rows: dict[int, tuple[AxisWindows, AxisPass, object]] = {}
        self._columns: dict[int, AxisPass] = {}

    def __call__(self, source: np.ndarray, windows: AxisWindows, target: np.ndarray) -> None:
        rows_pass, divisor = self._band_plan(windows)
        mode = self.reduction.mode
        if mode in (PoolMode.LP, PoolMode.RMS):
            source = np.power(
                source.astype(np.float64), self.reduction.p if mode is PoolMode.LP else 2.0
            )
        if self.pairs:
            values = source.reshape(source.shape[: self.axes[1] + 1])  # drop trailing 1s
            sums = rows_pass(pair_sums(values, self.gw.out)).reshape(target.shape)
            np.copyto(target, self._finish(sums, divisor, windows), casting="unsafe")
            return
        rows = rows_pass(source, scratch=self._scratch("rows"))
        shape = list(source.shape)
        shape[self.axes[0]] = windows.out
        columns = self._columns_pass(shape)
        if self.selects:
            columns(rows, target)
            return
        sums = columns(rows, scratch=self._scratch("sums")).reshape(target.shape)
        np.copyto(target, self._finish(sums, divisor, windows), casting="unsafe")

    def _scratch(self, slot: str) -> Scratch:
        """Temporaries of this thread for ``slot``, reused from band to band and call to call.

        A new array per band (or per call, for images of a few bands) costs an
        allocation and, whenever glibc hands the memory back to the system, page
        faults on first touch: 1.6x the time of a 512x512 RGB average (measured).
        A thread runs one band at a time and no band's temporaries outlive it, so
        one set per thread is safe. Buffers past ``_KEEP_BYTES`` are not kept, so a
        thread holds a few buffers of at most that size (one band's worth) between
        calls.
        """
        buffers: dict[tuple[str, str], np.ndarray] | None = getattr(_SCRATCH, "arrays", None)
        if buffers is None:
            buffers = _SCRATCH.arrays = {}

        def scratch(role: str, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
            nbytes = math.prod(shape) * np.dtype(dtype).itemsize
            if np.dtype(dtype).kind == "O" or nbytes > _KEEP_BYTES:
                return np.empty(shape, dtype)  # Python ints have no raw buffer
            buffer = buffers.get((slot, role))
            if buffer is None or buffer.nbytes < nbytes:
                buffer = buffers[slot, role] = np.empty(nbytes, np.uint8)
            return buffer[:nbytes].view(dtype).reshape(shape)

        return scratch

    def bytes_per_row(self, x: np.ndarray, gh: AxisWindows, row_elements: int) -> int:
        """Memory a band touches per output row: its input rows and every temporary."""
        input_elements = x.size // gh.length * max(1, -(-gh.length // gh.out))
        total = input_elements * x.dtype.itemsize
        if self.source != x.dtype:  # lp, rms: x**p in float64
            total += input_elements * self.source.itemsize
        if self.dtype != self.source:  # the input widened to the accumulator
            total += input_elements * self.dtype.itemsize
        total += x.size // gh.length * self.dtype.itemsize  # the row pass's result
        if not self.selects:
            total += row_elements * self.dtype.itemsize  # window sums
        return total

    def _finish(self, sums: np.ndarray, divisor, windows: AxisWindows) -> np.ndarray:
        """Window sums -> the mode's values (still in the accumulator's dtype)."""
        reduction = self.reduction
        if reduction.mode is PoolMode.SUM:
            return numeric.clip_into(sums, self.out_dtype)
        if reduction.mode is PoolMode.AVG and self.dtype.kind != "f":
            result = numeric.divide_half_up(sums, divisor)
            # A mean lies between its window's extremes unless the divisor is below
            # the window's pixel count (only a given ``divisor`` can be): then clip.
            if (
                reduction.divisor is not None
                and reduction.divisor < windows.max_taps * self.gw.max_taps
            ):
                result = numeric.clip_into(result, self.out_dtype)
            return result
        if reduction.mode is PoolMode.AVG:
            return numeric.divide_float(sums, divisor)
        return reduction._power_mean(sums, divisor, self.out_dtype)

    def _band_plan(self, windows: AxisWindows) -> tuple[AxisPass, object]:
        """The row pass and divisor of a band's windows; interior bands share one.

        Two threads may plan the same windows at once; both plans are equal, so
        whichever lands in the cache is right.
        """
        plan = self._rows.get(id(windows))
        if plan is None or plan[0] is not windows:
            source = self.dtype if self.pairs else self.source
            rows_pass = AxisPass.plan(
                windows, self.trailing, source, self.ufunc, self.dtype, self.identity,
                selects=self.selects,
            )  # fmt: skip
            divisor = None
            if not self.selects:
                divisor = self.reduction._divisor(windows, self.gw, self.ndim, self.axes)
            plan = self._rows[id(windows)] = (windows, rows_pass, divisor)
        return plan[1], plan[2]

    def _columns_pass(self, shape: list[int]) -> AxisPass:
        # The trailing block only changes with the band when the column axis comes first.
        trailing = math.prod(shape[self.axes[1] + 1 :])
        columns = self._columns.get(trailing)
        if columns is None:
            columns = AxisPass.plan(
                self.gw, trailing, self.dtype, self.ufunc, self.dtype, self.identity,
                selects=self.selects,
            )  # fmt: skip
            self._columns[trailing] = columns
        return columns


def _largest_count(gh: AxisWindows, gw: AxisWindows, count_include_pad: bool) -> int:
    """The largest divisor a window gets when the caller gives none."""
    counts_h, counts_w = (g.padded if count_include_pad else g.real for g in (gh, gw))
    return int(counts_h.max()) * int(counts_w.max())


def _run(x, axes, channel_axis, gh, gw, reduction: _Reduction, threads) -> np.ndarray:
    shape = list(x.shape)
    shape[axes[0]], shape[axes[1]] = gh.out, gw.out
    out = np.empty(shape, reduction.out_dtype(x.dtype))
    if out.size == 0:
        return out
    workers = thread_count(threads, out.size, _THREAD_MIN_OUTPUT)
    work = reduction.prepare(x, axes, channel_axis, gh, gw, out.dtype)
    if isinstance(work, _SeparableWork):
        row_bytes = work.bytes_per_row(x, gh, out.size // gh.out)
        rows = max(1, _BAND_BYTES // row_bytes)
        if threads is None:
            # A thread pays off only with at least a band of work for each: below
            # that, handing work over costs more than it saves (measured: 1.3x
            # slower on a 512x512 RGB average with 2 threads).
            workers = min(workers, max(1, row_bytes * gh.out // _BAND_BYTES))
    else:
        rows = _stack_rows(x, axes, gh, gw, reduction, out.size)
    if workers > 1:
        rows = min(rows, -(-gh.out // workers))
    bands = gh.bands(rows)

    def band(item: tuple[int, int, AxisWindows, int]) -> None:
        start, stop, windows, first = item
        source = _slice_axis(x, axes[0], first, first + windows.length)
        target = _slice_axis(out, axes[0], start, stop)
        work(source, windows, target)

    if workers == 1 or len(bands) == 1:
        with reduction.errstate():
            for item in bands:
                band(item)
    else:
        share(band, bands, workers, reduction.errstate)
    return out


def _stack_rows(x, axes, gh, gw, reduction: _Reduction, out_size: int) -> int:
    """Output rows per band of median/mode: window stacks of about the stack budget."""
    row_elements = out_size // gh.out
    per_element = reduction.temporary_bytes(x.dtype.itemsize, gh.max_taps * gw.max_taps)
    # Each band also reads its input rows: count them in the per-row cost.
    input_row = x.size // x.shape[axes[0]] * x.dtype.itemsize * max(1, x.shape[axes[0]] // gh.out)
    return max(1, _STACK_BYTES // (row_elements * per_element + input_row))


def _slice_axis(a: np.ndarray, axis: int, start: int, stop: int) -> np.ndarray:
    index: list[slice] = [slice(None)] * a.ndim
    index[axis] = slice(start, stop)
    return a[tuple(index)]
