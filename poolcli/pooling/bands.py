"""The band scheduler: one pooling call split into bands of output rows, run on threads.

The work is split into bands of output rows (along the first spatial axis). Each
band reads only the input rows its windows need and writes its own slice of the
result, so bands run on threads (NumPy releases the GIL in its loops) and bound the
temporaries: memory stays O(input + output) whatever the kernel. Every output is
computed by the same operations in whichever band it falls, so results do not
depend on the number of threads.

Speed comes from three habits, each measured (see benchmarks/README.md):

- plan once, run many: what does not depend on the band (dtypes, the passes along
  each axis, the divisor of interior bands) is decided once per call, so a band
  costs a few ufunc calls and little Python (:class:`~.separable_work.SeparableWork`);
- bands of about 4 MB of touched memory, their temporaries reused from band to
  band (per thread), so they stay in cache and never page-fault;
- one task per thread, each taking the next band from a shared iterator, the
  calling thread among them: no wake-up per band (:func:`~.threads.share`).
"""

from __future__ import annotations

import functools

import numpy as np

from . import ranked
from .geometry import AxisWindows
from .reduction import Reduction
from .separable_work import SeparableWork
from .threads import share, thread_count
from .valid_ranked import ValidRankedWork
from .valid_separable import ValidSeparableWork

#: Aim for bands that touch about this much memory (input rows and temporaries).
#: Smaller bands fit the cache better but pay Python overhead per band, which
#: threads then contend for: about 4 MB is best on one thread, and on two, whose
#: NumPy calls wait on each other, 16 MB (measured on 4000x4000 rasters, 2 threads:
#: float32 means 27 -> 20 ms, int16 sums 15 -> 11, RGB means 25 -> 20; 32 MB left
#: too few bands to share).
_BAND_BYTES = 4 << 20
_THREADED_BAND_BYTES = 16 << 20
#: Median and mode gather whole windows; their bands may be larger.
_STACK_BYTES = 16 << 20
#: Below this many output elements threads cost more than they save.
_THREAD_MIN_OUTPUT = 1 << 16


def run(
    x: np.ndarray,
    axes: tuple[int, int],
    channel_axis: int | None,
    gh: AxisWindows,
    gw: AxisWindows,
    reduction: Reduction,
    threads: int | None,
) -> np.ndarray:
    """Pool ``x`` (native, C order) over windows ``gh`` x ``gw`` along ``axes``, band by band.

    Returns a new array; ``threads`` None picks a thread count from the work's size.
    """
    shape = list(x.shape)
    shape[axes[0]], shape[axes[1]] = gh.out, gw.out
    out = np.empty(shape, reduction.out_dtype(x.dtype))
    if out.size == 0:
        return out
    workers = thread_count(threads, out.size, _THREAD_MIN_OUTPUT)
    work: SeparableWork | ValidSeparableWork | ValidRankedWork | functools.partial[None]
    if reduction.mode.separable:
        plan = SeparableWork if reduction.nodata is None else ValidSeparableWork
        work = plan(reduction, x, axes, gh, gw, out.dtype)
        row_bytes = work.bytes_per_row(x, gh, out.size // gh.out)
        if threads is None:
            # A thread pays off only with at least a band of work for each: below
            # that, handing work over costs more than it saves (measured: 1.3x
            # slower on a 512x512 RGB average with 2 threads).
            workers = min(workers, max(1, row_bytes * gh.out // _BAND_BYTES))
        band_bytes = _BAND_BYTES if workers == 1 else _THREADED_BAND_BYTES
        rows = max(1, band_bytes // row_bytes)
    elif reduction.nodata is not None or reduction.ignore is not None:
        work = ValidRankedWork(reduction, x, axes, channel_axis, gh, gw)
        rows = _stack_rows(x, axes, gh, gw, reduction, out.size)
    else:
        work = functools.partial(
            ranked.band, statistic=reduction.mode, axes=axes, channel_axis=channel_axis, gw=gw
        )
        rows = _stack_rows(x, axes, gh, gw, reduction, out.size)
    if workers > 1:
        rows = min(rows, -(-gh.out // workers))
    bands = gh.bands(rows)
    # nodata sums and means: windows redone after the bands, all at once
    valid = work if isinstance(work, ValidSeparableWork) else None

    def band(item: tuple[int, int, AxisWindows, int]) -> None:
        start, stop, windows, first = item
        source = _slice_axis(x, axes[0], first, first + windows.length)
        target = _slice_axis(out, axes[0], start, stop)
        if valid is None:
            work(source, windows, target)
        else:
            valid(source, windows, target, start)

    share(band, bands, workers, reduction.errstate)
    if valid is not None:
        valid.finalize(x, out)
    return out


def _stack_rows(
    x: np.ndarray,
    axes: tuple[int, int],
    gh: AxisWindows,
    gw: AxisWindows,
    reduction: Reduction,
    out_size: int,
) -> int:
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
