"""The names the command line offers, free of NumPy and Pillow imports.

``poolcli --help`` builds its choices from here, so it answers without loading the
heavy libraries; the layers that do the work import the same definitions.
"""

from __future__ import annotations

from enum import Enum

from .pooling.modes import PoolMode

#: Pillow's decompression-bomb threshold (``Image.MAX_IMAGE_PIXELS``): the default limit.
DEFAULT_MAX_PIXELS = 89_478_485


class AlphaPolicy(str, Enum):
    """How averaging modes treat colour under transparency."""

    #: Colour weighted by alpha, Σ(c·a)/Σa rounded once: no colour bleeds from
    #: invisible pixels (what Pillow's ``reduce`` intends, but exact).
    PREMULTIPLIED = "premultiplied"
    #: Every channel, alpha included, pooled on its own.
    INDEPENDENT = "independent"

    def __str__(self) -> str:
        return self.value


#: Array layouts: the axes holding (height, width), and the channel axis.
LAYOUTS: dict[str, tuple[tuple[int, int], int | None]] = {
    "hw": ((0, 1), None),
    "hwc": ((0, 1), 2),
    "chw": ((1, 2), 0),
    "nchw": ((2, 3), 1),
    "nhwc": ((1, 2), 3),
}
#: The layout assumed when none is given, by number of dims: PyTorch's conventions.
DEFAULT_LAYOUT = {2: "hw", 3: "chw", 4: "nchw"}

#: Array dtypes poolcli pools (and --dtype accepts).
DTYPE_NAMES = (
    "bool", "uint8", "uint16", "uint32", "uint64",
    "int8", "int16", "int32", "int64",
    "float16", "float32", "float64",
)  # fmt: skip

__all__ = [
    "DEFAULT_LAYOUT",
    "DEFAULT_MAX_PIXELS",
    "DTYPE_NAMES",
    "LAYOUTS",
    "AlphaPolicy",
    "PoolMode",
]
