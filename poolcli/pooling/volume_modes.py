"""Mode of integer windows of 2x2 rows and columns (2x2x2 label volumes), in chunks.

:mod:`.volume_ranked` stacks a 3-D window's depth slices along the height axis, so
a 2x2x2 window is two pairs of adjacent rows (one pair per depth tap) by one pair of
adjacent columns. A column pair is one word of twice the width, and a row pair two
words one row apart, so:

- when the word below the first equals it and each other depth tap's row pair
  equals the first's (compared as one run of words), the window holds its first
  word's two voxels four times each, and its mode is the smaller of the two (one
  value, or a tie): a few passes over contiguous words settle most windows of a
  label volume, those with a boundary across columns among them;
- the other windows' voxels are gathered (one ``take`` per voxel of the window) until
  there are enough to vote on at once. Those whose column pairs each hold one
  value (a boundary across rows or depth) vote on one voxel of each pair; the rest
  on all. The votes are sorted by a sorting network and their mode read off: of
  four values by three comparisons, of more through a table (the equalities of
  neighbours, ``s[j] == s[j+1]``, make a bit pattern, and the pattern alone says
  where the first longest run starts). Ties go to the smallest value, the first
  run among equals, as in :func:`.ranked.mode`. Windows that need all their voxels
  (a boundary across columns and another axis: few) wait in a buffer of their own
  and are sorted many at once, since a network's calls cost the same for 2000
  windows as for 30000.

Measured on 512^3 uint32 labels (one thread): the uniform test reads the volume at
about 8 GB/s (65 ms; the old per-slice test took 166 ms), and a vote costs about
70 us in NumPy calls plus 11 ns a window, against 45 ns a window for counting the
extremes and sorting the rest (:func:`.volume_ranked._small_mode`). On blocks
shifted by one voxel (a third of the windows straddle labels, 23% across rows or
depth), settling column boundaries in place and voting on half the voxels of the
others took 308 ms to 277; reading four values' mode off by comparisons, sorting
the whole windows in batches of 32768 and bands of 8 slices took it from 346 ms to
247 (tinybrain: 160-180 ms).
"""

from __future__ import annotations

import threading
from functools import cache

import numpy as np

from . import ranked
from .geometry import AxisWindows

#: Windows per chunk. Larger chunks leave a core's cache, but two threads running
#: small ones wait on each other between NumPy calls (measured on 512^3 uint32
#: labels, shifted blocks: 2**15 windows took 268 ms on one thread, 244 on two;
#: 2**17 (with 32 MB bands, see volume_ranked) 262 and 187).
_CHUNK_WINDOWS = 1 << 17
#: Mixed windows voted on at once (the vote's calls cost as much as 6000 windows).
_VOTE_WINDOWS = 1 << 15
#: At most this many depth taps: the table has 2**(4 * taps - 1) entries.
_MAX_DEPTH_TAPS = 4


def applies(y: np.ndarray, gh: AxisWindows, gw: AxisWindows) -> bool:
    """True for windows this route takes: ``y`` (outputs, rows, columns) of integers
    up to 32 bits in C order, windows of whole pairs of adjacent rows (see
    :func:`row_pairs`) by adjacent column pairs."""
    return y.ndim == 3 and y.flags.c_contiguous and suits(y.dtype, gh, gw)


def suits(dtype: np.dtype, gh: AxisWindows, gw: AxisWindows) -> bool:
    """True for integers up to 32 bits and windows of whole pairs of adjacent rows by
    adjacent column pairs: what :func:`applies` asks beyond the array's layout."""
    return (
        dtype.kind in "biu"
        and dtype.itemsize <= 4
        and np.little_endian
        and gw.adjacent_pairs
        and row_pairs(gh) is not None
    )


def row_pairs(gh: AxisWindows) -> list[int] | None:
    """The first row of each pair of row taps when ``gh``'s taps are pairs of
    adjacent rows at stride 2 (rows ``p + 2i`` and ``p + 2i + 1`` for output ``i``),
    each covering every output; else None."""
    taps = gh.taps
    if len(taps) % 2 or len(taps) > 2 * _MAX_DEPTH_TAPS:
        return None
    firsts = []
    for upper, lower in zip(taps[0::2], taps[1::2], strict=True):
        a, b = upper.src, lower.src
        if not (isinstance(a, slice) and isinstance(b, slice)):
            return None
        if not (gh.covers_all(upper) and gh.covers_all(lower)):
            return None
        if a.step != 2 or b.step != 2 or b.start != a.start + 1:
            return None
        firsts.append(a.start)
    return firsts


def pair_mode(
    y: np.ndarray, gh: AxisWindows, gw: AxisWindows, target: np.ndarray, cache: dict
) -> None:
    """Mode of the windows ``gh`` x ``gw`` of ``y`` (axes 1, 2) into ``target``; ties
    go to the smallest value. ``y`` is one :func:`applies` accepts; ``cache`` keeps
    each thread's buffers from band to band (threads may share it)."""
    if not target.flags.c_contiguous:  # the votes land by flat index
        result = np.empty(target.shape, target.dtype)
        pair_mode(y, gh, gw, result, cache)
        np.copyto(target, result)
        return
    work = y.view(np.uint8) if y.dtype == bool else y
    out = target.view(np.uint8) if target.dtype == bool else target
    firsts = row_pairs(gh)
    assert firsts is not None
    height = max(1, min(gh.out, _CHUNK_WINDOWS // gw.out))
    key = ("pair_mode", threading.get_ident(), work.dtype, work.shape[1:], len(firsts), height)
    buffers = cache.get(key)
    if buffers is None:
        buffers = cache[key] = _Buffers(work, gw.out, len(firsts), height)
    votes = _Votes(work, out, firsts, gh.out, gw.out, buffers)
    for d in range(work.shape[0]):
        for top in range(0, gh.out, height):
            votes.chunk(d, top, min(top + height, gh.out))
    votes.flush(last=True)


class _Buffers:
    """One thread's scratch for chunks of ``height`` x ``wide`` windows of ``taps``
    row pairs (fresh arrays this size cost page faults: 10% of the time, measured)."""

    def __init__(self, work: np.ndarray, wide: int, taps: int, height: int) -> None:
        self.mixed = np.empty((height, wide), bool)
        self.pairs = np.empty((height, 2, wide), bool)
        self.capacity = 2 * _VOTE_WINDOWS + height * wide
        self.values = np.empty((4 * taps + 1, self.capacity), work.dtype)
        self.where = np.empty(self.capacity, np.intp)  # each gathered window's output
        # windows set aside to be sorted whole, many at once (see _Votes.flush)
        self.whole = np.empty((4 * taps + 1, _VOTE_WINDOWS + self.capacity // 2), work.dtype)
        self.whole_where = np.empty(self.whole.shape[1], np.intp)
        # element offsets of a chunk's windows' first voxels from the chunk's first
        grid = np.arange(height)[:, None] * (2 * work.shape[2]) + 2 * np.arange(wide)
        self.grid = grid.reshape(-1)


class _Votes:
    """One band's windows, chunk by chunk: uniform windows settled in place, the
    others' voxels gathered until there are enough to vote on at once."""

    def __init__(
        self, work: np.ndarray, out: np.ndarray, firsts: list[int], high: int, wide: int,
        buffers: _Buffers,
    ) -> None:  # fmt: skip
        self.work, self.out, self.flat = work, out.reshape(-1), work.reshape(-1)
        self.firsts, self.high, self.wide, self.buffers = firsts, high, wide, buffers
        self.half = np.dtype(f"u{work.dtype.itemsize}")
        words = work[:, :, : 2 * wide].view(self.half).view(f"u{2 * work.dtype.itemsize}")
        self.words = words
        self.filled = 0  # windows gathered in buffers.values
        self.waiting = 0  # windows set aside in buffers.whole

    def chunk(self, d: int, top: int, bottom: int) -> None:
        """Output rows ``top:bottom`` of output depth ``d``."""
        n, wide, buffers = bottom - top, self.wide, self.buffers
        # each depth tap's row pairs, (n, 2, wide) words: upper row, lower row
        pairs = [
            self.words[d, p + 2 * top : p + 2 * bottom].reshape(n, 2, wide) for p in self.firsts
        ]
        first = pairs[0][:, 0]
        target = self.out[(d * self.high + top) * wide :][: n * wide].reshape(n, wide)
        # a window whose words are all equal holds its first word's two voxels, four
        # times each: its mode is the smaller (a tie or one value)
        voxels = first.view(self.work.dtype)
        np.minimum(voxels[:, 0::2], voxels[:, 1::2], out=target)
        mixed = buffers.mixed[:n]
        np.not_equal(first, pairs[0][:, 1], out=mixed)
        for other in pairs[1:]:
            differ = np.not_equal(other, pairs[0], out=buffers.pairs[:n])
            mixed |= differ[:, 0]
            mixed |= differ[:, 1]
        if not mixed.any():
            return
        where = np.flatnonzero(mixed)
        count = len(where)
        if self.filled + count > buffers.capacity:
            self.flush()
        a, b = self.filled, self.filled + count
        offsets = buffers.grid.take(where)
        values, (rows, row) = buffers.values, self.work.shape[1:]
        k = 0
        for p in self.firsts:
            start = (d * rows + p + 2 * top) * row  # the first voxel of the first window
            for shift in (start, start + 1, start + row, start + row + 1):
                # mode="wrap": offsets are in range, and wrap takes without a buffer
                self.flat[shift:].take(offsets, out=values[k, a:b], mode="wrap")
                k += 1
        np.add(where, (d * self.high + top) * wide, out=buffers.where[a:b])
        self.filled = b
        if b >= _VOTE_WINDOWS:
            self.flush()

    def flush(self, last: bool = False) -> None:
        """Vote on the gathered windows and write their modes; ``last``: the band's
        last call, which votes on the windows set aside too."""
        buffers = self.buffers
        every = list(range(buffers.values.shape[0] - 1))  # all rows but the spare
        if self.filled:
            count = self.filled
            values, where = buffers.values, buffers.where[:count]
            whole = _whole_windows(values, count)
            if 2 * whole.size > count:  # most need all their voxels
                self.out[where] = _sorted_vote(values, every, count)
            else:
                # the others' modes are those of their pairs' first voxels; the
                # windows that need all theirs are set aside, to be sorted in
                # batches big enough to amortise the sorting network's calls, and
                # overwrite what this vote gives them
                a, b = self.waiting, self.waiting + whole.size
                values.take(whole, axis=1, out=buffers.whole[:, a:b])
                where.take(whole, out=buffers.whole_where[a:b])
                self.waiting = b
                self.out[where] = _sorted_vote(values, every[::2], count)
            self.filled = 0
        if self.waiting and (last or self.waiting >= _VOTE_WINDOWS):
            whole, count = buffers.whole, self.waiting
            self.out[buffers.whole_where[:count]] = _sorted_vote(whole, every, count)
            self.waiting = 0


def _whole_windows(values: np.ndarray, count: int) -> np.ndarray:
    """Which of the first ``count`` columns of ``values`` (rows of voxels in column
    pairs, then a spare row) hold a column pair of two different voxels. A window
    whose pairs each hold one value (a label boundary across rows or depth only:
    most mixed windows of a label volume) holds each pair's value twice, so its mode
    is the mode of the pairs' first voxels: half the rows to sort. The others are
    sorted whole."""
    columns = values[:, :count]
    flat = np.equal(columns[0], columns[1])
    for j in range(2, values.shape[0] - 1, 2):
        flat &= columns[j] == columns[j + 1]
    return np.flatnonzero(~flat)


def _sorted_vote(values: np.ndarray, chosen: list[int], count: int) -> np.ndarray:
    """The mode of the first ``count`` columns of ``values`` over its rows ``chosen``;
    ties go to the smallest. The last row of ``values`` is a spare, which ``chosen``
    leaves out. The sorting network swaps the row views rather than copying them
    back, and the table's row numbers follow the swaps."""
    n = len(chosen)
    order = [*chosen, values.shape[0] - 1]  # which row of ``values`` holds sorted position i
    rows = [values[r, :count] for r in order]
    for i, j in ranked._network(n):
        spare = rows[n]
        np.minimum(rows[i], rows[j], out=spare)
        np.maximum(rows[i], rows[j], out=rows[j])
        rows[i], rows[n] = spare, rows[i]
        order[i], order[n] = order[n], order[i]
    if n == 4:
        return _mode_of_four_sorted(rows[:4])
    # bit j of the pattern: sorted values j and j + 1 are equal
    pattern: np.ndarray = np.zeros(count, np.uint8 if n <= 8 else np.uint16)
    same = np.empty(count, bool)
    for j in range(n - 2, -1, -1):
        np.add(pattern, pattern, out=pattern)  # shift left by one
        np.bitwise_or(pattern, np.equal(rows[j], rows[j + 1], out=same), out=pattern)
    # the flat index of each column's mode: its row's start plus its column
    table = np.asarray(order, np.intp)[_first_longest_runs(n)] * values.shape[1]
    index = table.take(pattern)
    index += np.arange(count)
    return values.reshape(-1).take(index)


def _mode_of_four_sorted(rows: list[np.ndarray]) -> np.ndarray:
    """The mode of four sorted rows ``s0 <= s1 <= s2 <= s3``, ties to the smallest: s1
    when ``s1 == s2`` (it holds two of the four, or more, and no other value does);
    else s0 when ``s0 == s1`` (a pair, the smaller if s2 == s3 is one too); else s2
    when ``s2 == s3``; else s0 (four values once each). Six calls instead of the
    pattern's ten and the table's two gathers."""
    s0, s1, s2, s3 = rows
    same = np.equal(s2, s3)
    result = np.where(same, s2, s0)
    np.copyto(result, s0, where=np.equal(s0, s1, out=same))
    np.copyto(result, s1, where=np.equal(s1, s2, out=same))
    return result


@cache
def _first_longest_runs(n: int) -> np.ndarray:
    """For each pattern of equal neighbours among ``n`` sorted values (bit j: values j
    and j + 1 are equal), where the first of the longest runs starts."""
    table = np.empty(1 << (n - 1), np.intp)
    for pattern in range(len(table)):
        best, best_start, start = 0, 0, 0
        for j in range(n):
            if j == n - 1 or not pattern >> j & 1:  # a run ends at j
                if j + 1 - start > best:
                    best, best_start = j + 1 - start, start
                start = j + 1
        table[pattern] = best_start
    return table
