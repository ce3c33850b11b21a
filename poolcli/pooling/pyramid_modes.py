"""Mode pyramids of one-channel integer images, exact, from sorted windows merged level by level.

The mode does not compose (the mode of four modes is not the mode of their
pixels), so each level must look at level 0's pixels; but *sorted* windows do
compose: the 4**k pixels of a level-``k`` window, sorted, are its four children's
sorted pixels merged (by NumPy's vectorised sort for windows of up to 256 pixels;
above, by timsort, which merges the four sorted runs in about linear time).
:class:`SortedModes` takes level 0 in blocks of ``2**(levels-1)`` rows, sorts
level 1's 2x2 windows (a sorting network over the four pixels' planes, and the
engine's vote of four), merges them upwards, and reads each level's modes off its
sorted windows (the longest run; ties go to the smallest value, as in
:func:`~.engine.pool`). The partial windows of the right edge, and the image's
last, shorter block, are sorted window by window. Levels equal one-shot
``pool(x, 2**k, mode="mode", ceil_mode=True)``; the work is about a sort of level
0 per level, where one-shot pooling of level ``k`` sorts windows of ``4**k`` pixels
from scratch (measured: 3-4x faster over six levels of a 12000x9000 label map).
"""

from __future__ import annotations

import numpy as np

from .pyramid import LevelBand, level_length
from .ranked import sort_stack, vote


def run_modes(windows: np.ndarray) -> np.ndarray:
    """The mode of each row of sorted ``windows`` (..., taps): its longest run, the
    first (smallest value) among equals."""
    shape, taps = windows.shape[:-1], windows.shape[-1]
    rows = windows.reshape(-1, taps)
    count = rows.shape[0]
    starts = np.empty(rows.shape, bool)
    starts[:, 0] = True
    np.not_equal(rows[:, 1:], rows[:, :-1], out=starts[:, 1:])
    where = np.flatnonzero(starts)  # every row begins a run: runs never span rows
    lengths = np.diff(where, append=count * taps)
    # the key puts the run's length above its (reversed) column, so the largest key
    # is the longest run, the leftmost (smallest value) among equals
    bits = max(1, (taps - 1).bit_length())
    low = (1 << bits) - 1
    column = where & (taps - 1) if taps & (taps - 1) == 0 else where % taps
    key = lengths << bits
    key |= low - column
    firsts = np.flatnonzero(column == 0)  # each row's first run
    best = np.maximum.reduceat(key, firsts)
    best_column = low - (best & low)
    return rows[np.arange(count), best_column].reshape(shape)


class SortedModes:
    """Levels ``1..levels-1`` of mode pooling of an (H, W) integer image (see the
    module docstring), fed level 0's rows in order like :class:`~.pyramid.Cascade`."""

    def __init__(self, height: int, width: int, levels: int) -> None:
        self.height, self.width, self.levels = height, width, levels
        self.block = 1 << (levels - 1)
        self._rows: np.ndarray | None = None

    def feed(self, band: np.ndarray) -> list[LevelBand]:
        """Level-0 rows, the next in order: the levels' rows they complete."""
        rows = band if self._rows is None else np.concatenate([self._rows, band])
        out: list[LevelBand] = []
        whole = rows.shape[0] - rows.shape[0] % self.block
        for start in range(0, whole, self.block):
            out.extend(self._block(rows[start : start + self.block]))
        self._rows = rows[whole:]
        return out

    def close(self) -> list[LevelBand]:
        """The last, shorter block's rows of every level, pooled by the engine."""
        rows = self._rows
        if rows is None or rows.shape[0] == 0 or self.levels == 1:
            return []
        return [(k, _one_shot(rows, k)) for k in range(1, self.levels)]

    def _block(self, block: np.ndarray) -> list[LevelBand]:
        out: list[LevelBand] = []
        height, width = block.shape
        across = width // 2
        windows = _sorted_quads(block[:, : 2 * across])
        for level in range(1, self.levels):
            if level == 1:
                modes = vote(windows.transpose(2, 0, 1), np.array(4))
            else:
                down, across, taps = windows.shape[0] // 2, windows.shape[1] // 2, windows.shape[2]
                children = windows[: 2 * down, : 2 * across].reshape(down, 2, across, 2, taps)
                merged = children.transpose(0, 2, 1, 3, 4).reshape(down, across, 4 * taps)
                # up to 256 taps numpy's vectorised sort beats timsort merging the four
                # sorted runs (1.1-1.5 against 2.2-2.9 ns a pixel, measured); above, timsort
                windows = np.sort(merged, axis=-1, kind="quicksort" if taps <= 64 else "stable")
                modes = run_modes(windows)
            if across < level_length(self.width, level):  # the right edge's partial windows
                edge = _one_shot(block[:, across << level :], level)
                modes = np.concatenate([modes, edge], axis=1)
            out.append((level, modes))
        return out


def _sorted_quads(rows: np.ndarray) -> np.ndarray:
    """The 2x2 windows of ``rows`` (even height and width), each sorted, as a view
    (H/2, W/2, 4): a sorting network over the four pixels' planes (measured 7x
    faster than ``np.sort`` of rows of four)."""
    height, width = rows.shape
    planes = np.empty((4, height // 2, width // 2), rows.dtype)
    for index, (top, left) in enumerate(((0, 0), (0, 1), (1, 0), (1, 1))):
        planes[index] = rows[top::2, left::2]
    sort_stack(planes)
    return planes.transpose(1, 2, 0)


def _one_shot(rows: np.ndarray, level: int) -> np.ndarray:
    """``pool(rows, 2**level, mode="mode", ceil_mode=True)`` of a few rows or columns
    (a block's right edge, the image's last block), window row by window row: each
    window's pixels sorted, its longest run read off."""
    side = 1 << level
    height, width = rows.shape
    out = np.empty((level_length(height, level), level_length(width, level)), rows.dtype)
    full = width // side
    for index, top in enumerate(range(0, height, side)):
        strip = rows[top : top + side]
        tall = strip.shape[0]
        if full:
            windows = strip[:, : full * side].reshape(tall, full, side).transpose(1, 0, 2)
            out[index, :full] = run_modes(np.sort(windows.reshape(full, tall * side), axis=-1))
        if width % side:
            corner = np.sort(strip[:, full * side :].ravel())
            out[index, full] = run_modes(corner[None])[0]
    return out
