"""TIFF Z stacks: how a series' axes become a volume's, and its pages as a row source.

:class:`StackPlan` says which axes of a TIFF series are depth, Y, X and channels
(pages are depth: an ImageJ or OME-TIFF Z stack, or plain pages); :class:`TiffStack`
serves a stack whose pages are one slice each a few pages at a time, so that a
stack larger than memory is pooled in slabs (:mod:`.slabs`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ...errors import InputError

#: tifffile's axis letters for a pixel's channels; every other letter but Y and X
#: may be the depth (Z, but also I for plain pages, Q for unknown, T for time).
_CHANNELS = "SC"


@dataclass(frozen=True)
class StackPlan:
    """How a TIFF series' axes become a volume's: ``kept`` axes (``named``), put in
    ``order`` (depth, Y, X, channels), of shape ``plane`` in that order."""

    shape: tuple[int, ...]
    kept: list[int]
    named: str
    order: list[str]
    others: list[str]
    layout: str
    plane: tuple[int, ...]

    @classmethod
    def of(cls, axes: str, shape: tuple[int, ...]) -> StackPlan:
        kept = [i for i, a in enumerate(axes) if a in "YX" or shape[i] > 1]
        named = "".join(axes[i] for i in kept)
        channels = [a for a in named if a in _CHANNELS]
        others = [a for a in named if a not in "YX" + _CHANNELS]
        if not others and channels == ["C"]:
            others, channels = channels, []  # pages of channels only: pages are depth
        if len(channels) > 1 or len(others) > 1:
            message = (
                f"the TIFF's axes {axes} (shape {'x'.join(map(str, shape))}) hold more than "
                "a depth and channels; save the stack as .npy and give `layout`"
            )
            raise InputError(message)
        order = others + ["Y", "X"] + channels
        plane = tuple(shape[axes.index(a)] for a in order)
        return cls(shape, kept, named, order, others, "dhwc" if channels else "dhw", plane)


class TiffStack:
    """A TIFF Z stack whose pages are its depth slices, as a row source along depth
    (:mod:`poolcli.pooling.streaming`): ``rows(start, stop)`` decodes those pages only."""

    row_axis = 0
    chunk_rows = 1

    def __init__(self, tif: Any, pages: list[Any], shape: tuple[int, ...], layout: str) -> None:
        self._tif, self._pages, self.shape, self.layout = tif, pages, shape, layout
        self.dtype = np.dtype(pages[0].dtype).newbyteorder("=")

    @classmethod
    def open(cls, path: str) -> TiffStack | None:
        """The stack at ``path``, or None when its pages are not one slice each (an
        ImageJ hyperstack of channel pages, a time series: read whole)."""
        import tifffile

        try:
            tif = tifffile.TiffFile(path)
        except (tifffile.TiffFileError, ValueError, OSError):
            return None
        try:
            series = tif.series[0]
            plan = StackPlan.of(series.axes, tuple(series.shape))
            pages = list(series.pages)
            slice_shape = plan.plane[1:] if plan.others else plan.plane
            depth = plan.plane[0] if plan.others else 1
            whole = plan.order[-1] == "C" or len(pages) != depth
            if whole or any(p is None or tuple(p.shape) != slice_shape for p in pages):
                tif.close()
                return None
        except (InputError, tifffile.TiffFileError, ValueError, AttributeError):
            tif.close()
            return None
        return cls(tif, pages, (depth, *slice_shape), plan.layout)

    def rows(self, start: int, stop: int) -> np.ndarray:
        try:
            return np.stack([np.asarray(p.asarray(), self.dtype) for p in self._pages[start:stop]])
        except (ValueError, OSError, RuntimeError) as error:
            message = f"cannot decode pages {start}:{stop}: {error}"
            raise InputError(message) from None

    def close(self) -> None:
        self._tif.close()

    def __enter__(self) -> TiffStack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
