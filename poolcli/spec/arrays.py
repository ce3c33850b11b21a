"""Arrays poolcli pools: the layouts of their axes and the dtypes it accepts."""

from __future__ import annotations

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

#: Array dtypes poolcli pools (and ``dtype`` accepts).
DTYPE_NAMES = (
    "bool", "uint8", "uint16", "uint32", "uint64",
    "int8", "int16", "int32", "int64",
    "float16", "float32", "float64",
)  # fmt: skip
