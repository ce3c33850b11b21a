"""Where the windows fall along one axis: output lengths, taps and pixel counts.

A 2-D window is the product of two 1-D windows, so everything the engine needs to
know about placement is computed per axis, once, on small integer arrays. A *tap*
is one kernel offset: for every output position it touches, the input position it
reads. Taps that would read padding are simply absent for those outputs, which is
how padding "never wins" and is never materialised.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError, ParameterError
from ..spec.bands import RowBand
from ..spec.parameters import fitted_length

#: An index along one axis: a slice (regular windows) or an integer array (adaptive).
Index = slice | np.ndarray


@dataclass(frozen=True)
class Tap:
    """One kernel offset: output positions ``dst`` read input positions ``src``."""

    dst: Index
    src: Index


@dataclass(frozen=True)
class AxisWindows:
    """All windows along one axis of ``length`` input pixels.

    ``real[i]`` counts the taps of output ``i`` that land on real pixels;
    ``padded[i]`` also counts those on zero padding (PyTorch's ``count_include_pad``
    divisor, which never includes a ceil-mode overhang past the padding).
    """

    length: int
    taps: tuple[Tap, ...]
    real: np.ndarray
    padded: np.ndarray

    @property
    def out(self) -> int:
        return len(self.real)

    @property
    def max_taps(self) -> int:
        return int(self.real.max())

    def band(self, start: int, stop: int) -> tuple[AxisWindows, int]:
        """The windows of outputs ``start:stop`` and the first input pixel they read.

        Input positions of the result count from that first pixel, so the band can
        be computed from ``x[first:first + result.length]`` alone.
        """
        clipped = [_clip_tap(tap, start, stop) for tap in self.taps]
        kept = [tap for tap in clipped if tap is not None]
        first = min(_first(tap.src) for tap in kept)
        last = max(_last(tap.src) for tap in kept)
        shifted = tuple(Tap(_shift(tap.dst, -start), _shift(tap.src, -first)) for tap in kept)
        band = AxisWindows(
            last - first + 1, shifted, self.real[start:stop], self.padded[start:stop]
        )
        return band, first

    def bands(self, rows: int) -> list[tuple[int, int, AxisWindows, int]]:
        """``(start, stop, windows, first)`` of :meth:`band` for outputs split every ``rows``.

        Interior bands (every tap inside the input for all their outputs) of one
        size are the same windows shifted, so they share one :class:`AxisWindows`:
        work planned for it is planned once.
        """
        step = self._regular_step()
        shared: dict[int, tuple[AxisWindows, int, int]] = {}
        result = []
        for start in range(0, self.out, rows):
            stop = min(start + rows, self.out)
            if step is not None and stop - start in shared and self._interior(start, stop):
                windows, first, origin = shared[stop - start]
                result.append((start, stop, windows, first + (start - origin) * step))
                continue
            windows, first = self.band(start, stop)
            if step is not None and self._interior(start, stop):
                shared[stop - start] = (windows, first, start)
            result.append((start, stop, windows, first))
        return result

    def _regular_step(self) -> int | None:
        """The stride when every tap is a slice with one step, else None (adaptive)."""
        steps = {tap.src.step if isinstance(tap.src, slice) else None for tap in self.taps}
        return steps.pop() if len(steps) == 1 and None not in steps else None

    def _interior(self, start: int, stop: int) -> bool:
        # taps are slices here (see _regular_step)
        return all(tap.dst.start <= start and stop <= tap.dst.stop for tap in self.taps)  # type: ignore[union-attr]

    @property
    def adjacent_pairs(self) -> bool:
        """True when output ``j`` is exactly inputs ``2j`` and ``2j + 1`` (kernel 2, stride 2)."""
        if len(self.taps) != 2 or not all(self.covers_all(tap) for tap in self.taps):
            return False
        n = self.out
        expected = (slice(0, 2 * n - 1, 2), slice(1, 2 * n, 2))
        return all(
            isinstance(tap.src, slice) and tap.src == e
            for tap, e in zip(self.taps, expected, strict=True)
        )

    def covers_all(self, tap: Tap) -> bool:
        """True when ``tap`` contributes to every output."""
        if isinstance(tap.dst, slice):
            return tap.dst.start == 0 and tap.dst.stop == self.out
        return len(tap.dst) == self.out


def regular_windows(
    n: int,
    kernel: int,
    stride: int,
    padding: int,
    dilation: int,
    ceil_mode: bool,
    *,
    axis: int,
) -> AxisWindows:
    """The windows of an ordinary (PyTorch-style) pooling along an axis of ``n`` pixels.

    :class:`InputError` when no window fits, or when some window holds only padding.
    """
    out = fitted_length(n, kernel, stride, padding, dilation, ceil_mode, where=f"axis {axis}")
    taps = []
    for t in range(kernel):
        offset = t * dilation - padding  # output i reads input i * stride + offset
        lo = max(0, -(offset // stride))
        hi = min(out, (n - 1 - offset) // stride + 1)
        if lo < hi:
            start = lo * stride + offset
            taps.append(
                Tap(slice(lo, hi), slice(start, start + (hi - lo - 1) * stride + 1, stride))
            )
    positions = np.arange(out)[:, None] * stride + np.arange(kernel)[None, :] * dilation - padding
    real = ((positions >= 0) & (positions < n)).sum(axis=1)
    padded = ((positions >= -padding) & (positions < n + padding)).sum(axis=1)
    if real.min() < 1:
        message = (
            f"along axis {axis} some windows hold only padding (`kernel` {kernel}, `dilation` "
            f"{dilation}, `padding` {padding}, {n} pixels); use less `padding` or `dilation`"
        )
        raise InputError(message)
    return AxisWindows(n, tuple(taps), real, padded)


def adaptive_windows(n: int, out: int, *, axis: int) -> AxisWindows:
    """PyTorch's adaptive windows: output ``i`` covers ``floor(i*n/out):ceil((i+1)*n/out)``."""
    if not 1 <= out <= n:
        message = (
            f"`output_size` {out} along axis {axis} must be between 1 and the input's {n} "
            "pixels (poolcli only downsamples)"
        )
        raise InputError(message)
    if n % out == 0:
        return regular_windows(n, n // out, n // out, 0, 1, False, axis=axis)
    i = np.arange(out)
    starts = i * n // out
    lengths = -(-(i + 1) * n // out) - starts
    taps = []
    for t in range(int(lengths.max())):
        dst = np.flatnonzero(lengths > t)
        taps.append(Tap(dst, starts[dst] + t))
    return AxisWindows(n, tuple(taps), lengths, lengths)


def _clip_tap(tap: Tap, start: int, stop: int) -> Tap | None:
    if isinstance(tap.dst, slice):
        assert isinstance(tap.src, slice)
        lo, hi = max(tap.dst.start, start), min(tap.dst.stop, stop)
        if lo >= hi:
            return None
        step = tap.src.step
        first = tap.src.start + (lo - tap.dst.start) * step
        return Tap(slice(lo, hi), slice(first, first + (hi - lo - 1) * step + 1, step))
    keep = (tap.dst >= start) & (tap.dst < stop)
    if not keep.any():
        return None
    assert isinstance(tap.src, np.ndarray)
    return Tap(tap.dst[keep], tap.src[keep])


def _first(index: Index) -> int:
    return int(index.start if isinstance(index, slice) else index[0])


def _last(index: Index) -> int:
    return int(index.stop - 1 if isinstance(index, slice) else index[-1])


def _shift(index: Index, by: int) -> Index:
    if isinstance(index, slice):
        return slice(index.start + by, index.stop + by, index.step)
    return index + by


def banded(gh: AxisWindows, band: RowBand | None, rows: int) -> AxisWindows:
    """The row windows of ``band`` (all of ``gh`` without one), checked against the
    ``rows`` the array holds."""
    if band is None:
        return gh
    if not 0 <= band.start < band.stop <= gh.out:
        message = f"`band` rows {band.start}:{band.stop} are not within the {gh.out} output rows"
        raise ParameterError(message, parameter="band", value=band)
    windows, _ = gh.band(band.start, band.stop)
    if rows != windows.length:
        message = (
            f"`band` rows {band.start}:{band.stop} read {windows.length} input rows, "
            f"but the array holds {rows}"
        )
        raise InputError(message)
    return windows
