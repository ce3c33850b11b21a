"""Row bands: pooling only some output rows, from only the input rows they read.

A pooling streamed through memory computes its output a band of rows at a time. A
:class:`RowBand` says which band: outputs ``start:stop`` along the first spatial
axis of an input ``length`` rows tall. The array given with it holds just the input
rows those outputs read (the engine's ``band`` argument), so windows, padding,
ceil-mode overhang and adaptive windows are placed exactly as on the whole input.
"""

from __future__ import annotations

from typing import NamedTuple


class RowBand(NamedTuple):
    """Outputs ``start:stop`` along the rows of an input ``length`` rows tall."""

    length: int
    start: int
    stop: int
