"""Pooling inputs larger than memory: row sources in, bands of output rows out.

A *row source* is anything with a ``shape``, a native ``dtype``, the ``row_axis``
bands are cut along (the first spatial axis), a natural band height
``chunk_rows`` (a TIFF tile's height, a Zarr chunk's) and ``rows(start, stop)``
returning those rows as a new array. :class:`ArrayRows` makes one of an array
(a NumPy memory map, say); the TIFF, Zarr and .npy readers of
:mod:`poolcli.images.streams` are others.

A :class:`RowPlan` knows, pass by pass (``repeat`` passes, or one adaptive pass),
where the windows of the row axis fall. For a band of final output rows it names
the input rows they read, halo included (kernel, dilation, padding and stride
across band seams), and the :class:`~poolcli.spec.bands.RowBand` of every pass, so
the engine computes those rows exactly as it would on the whole input: a streamed
result equals the in-memory one byte for byte. :func:`stream` walks the bands in
order, reading the input forward once through a buffer that keeps the rows that
two bands share, so memory is O(band x width) whatever the image's height.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ..spec.bands import RowBand
from ..spec.settings import PoolSettings
from ..spec.volumes import FLAT
from .geometry import AxisWindows, adaptive_windows, regular_windows

#: The default memory budget of one band: the input rows it reads.
BAND_BUDGET = 64 << 20


class RowSource(Protocol):
    """An array read a band of rows at a time (see the module docstring)."""

    @property
    def shape(self) -> tuple[int, ...]: ...

    @property
    def dtype(self) -> np.dtype: ...

    @property
    def row_axis(self) -> int: ...

    @property
    def chunk_rows(self) -> int: ...

    def rows(self, start: int, stop: int) -> np.ndarray: ...


@dataclass(frozen=True)
class ArrayRows:
    """An array (in memory or memory-mapped) as a row source."""

    array: np.ndarray
    row_axis: int = 0
    chunk_rows: int = 1

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.array.shape)

    @property
    def dtype(self) -> np.dtype:
        return self.array.dtype.newbyteorder("=")

    def rows(self, start: int, stop: int) -> np.ndarray:
        index = [slice(None)] * self.array.ndim
        index[self.row_axis] = slice(start, stop)
        return np.ascontiguousarray(self.array[tuple(index)], dtype=self.dtype)


@dataclass(frozen=True)
class RowPlan:
    """Where the windows of every pass fall along the row axis (``windows[0]`` first)."""

    windows: tuple[AxisWindows, ...]

    @classmethod
    def of(cls, settings: PoolSettings, height: int, width: int) -> RowPlan:
        """The plan of ``settings`` for an input ``height`` x ``width``; InputError if none fits."""
        settings.output_size(width, height)  # the image-worded errors first
        if settings.size is not None:
            _, out_h = settings.adaptive_size(width, height)
            return cls((adaptive_windows(height, out_h, axis=0),))
        (k, _), (s, _) = settings.kernel, settings.effective_stride
        (p, _), (d, _) = settings.padding, settings.dilation
        windows = []
        for _ in range(settings.repeat):
            windows.append(regular_windows(height, k, s, p, d, settings.ceil_mode, axis=0))
            height = windows[-1].out
        return cls(tuple(windows))

    @classmethod
    def of_depth(cls, settings: PoolSettings, depth: int) -> RowPlan:
        """The plan along a volume's depth (its rows are depth slices): the depth
        window of ``settings`` (``size``'s depth, or the depth kept, when adaptive)."""
        along = settings.depth or FLAT
        if settings.size is not None:
            return cls((adaptive_windows(depth, along.size or depth, axis=0),))
        windows = []
        for _ in range(settings.repeat):
            windows.append(regular_windows(depth, along.kernel, along.effective_stride,
                                           along.padding, along.dilation, settings.ceil_mode,
                                           axis=0))  # fmt: skip
            depth = windows[-1].out
        return cls(tuple(windows))

    @property
    def height(self) -> int:
        """The input's rows."""
        return self.windows[0].length

    @property
    def out_rows(self) -> int:
        """The final output's rows."""
        return self.windows[-1].out

    def bands(self, start: int, stop: int) -> tuple[tuple[RowBand, ...], int, int]:
        """The band of every pass for final outputs ``start:stop``, and the input rows read.

        Returns ``(bands, first, stop)``: ``bands[j]`` is pass ``j``'s, and input
        rows ``first:stop`` are all the first pass reads.
        """
        bands: list[RowBand] = []
        for windows in reversed(self.windows):
            bands.append(RowBand(windows.length, start, stop))
            band, first = windows.band(start, stop)
            start, stop = first, first + band.length
        return tuple(reversed(bands)), start, stop

    def rows_per_band(self, input_row_bytes: int, budget: int, align: int = 1) -> int:
        """Output rows per band so that a band's input rows fit ``budget`` bytes.

        A multiple of ``align`` (a writer's tile or chunk height) when the budget
        allows one; at least one row.
        """
        per_output = max(1, -(-self.height // self.out_rows)) * max(1, input_row_bytes)
        rows = max(1, budget // per_output)
        if rows >= align > 1:
            rows -= rows % align
        return min(rows, self.out_rows)


class ForwardRows:
    """A row source read forward: the rows two consecutive requests share are kept.

    Reads go up to a multiple of the source's ``chunk_rows``, so each tile or chunk
    is decoded once when the requests walk down the image.
    """

    def __init__(self, source: RowSource) -> None:
        self.source = source
        self._start = 0
        self._rows: np.ndarray | None = None

    def take(self, start: int, stop: int) -> np.ndarray:
        """Source rows ``start:stop`` (a view of the buffer)."""
        axis, height = self.source.row_axis, self.source.shape[self.source.row_axis]
        rows = self._rows
        held = 0 if rows is None else rows.shape[axis]
        if rows is None or start < self._start or start >= self._start + held:
            rows, self._start, held = None, start, 0
        else:
            rows = _cut(rows, axis, start - self._start, held)
            held -= start - self._start
            self._start = start
        if self._start + held < stop:
            chunk = max(1, self.source.chunk_rows)
            end = min(height, max(stop, -(-stop // chunk) * chunk))
            more = self.source.rows(self._start + held, end)
            rows = more if rows is None else np.concatenate([rows, more], axis=axis)
        assert rows is not None
        self._rows = rows
        return _cut(rows, axis, 0, stop - start)


def stream(
    source: RowSource,
    plan: RowPlan,
    compute: Callable[[np.ndarray, tuple[RowBand, ...]], np.ndarray],
    rows: int,
    start: int = 0,
    stop: int | None = None,
) -> Iterator[np.ndarray]:
    """Final output rows ``start:stop`` (default: all), ``rows`` at a time, in order.

    ``compute(slab, bands)`` pools a slab of input rows into the band's outputs
    (the engine's ``band`` argument, pass by pass); :func:`stream` plans the bands
    and reads the source forward.
    """
    reader = ForwardRows(source)
    end = plan.out_rows if stop is None else stop
    for first_row in range(start, end, rows):
        bands, first, last = plan.bands(first_row, min(first_row + rows, end))
        yield compute(reader.take(first, last), bands)


def band_input(windows: AxisWindows, start: int, stop: int) -> tuple[int, int]:
    """The input rows ``first:stop`` that outputs ``start:stop`` of ``windows`` read."""
    band, first = windows.band(start, stop)
    return first, first + band.length


def split(total: int, step: int) -> list[tuple[int, int]]:
    """``0:total`` cut into consecutive ``(start, stop)`` pieces of ``step``."""
    return [(start, min(start + step, total)) for start in range(0, total, step)]


def _cut(a: np.ndarray, axis: int, start: int, stop: int) -> np.ndarray:
    index = [slice(None)] * a.ndim
    index[axis] = slice(start, stop)
    return a[tuple(index)]
