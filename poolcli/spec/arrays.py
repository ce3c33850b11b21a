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

#: Volume layouts: the axes holding (depth, height, width), and the channel axis.
VOLUME_LAYOUTS: dict[str, tuple[tuple[int, int, int], int | None]] = {
    "dhw": ((0, 1, 2), None),
    "dhwc": ((0, 1, 2), 3),
    "cdhw": ((1, 2, 3), 0),
    "ncdhw": ((2, 3, 4), 1),
}
#: Signal layouts: the axis holding the samples (width), and the channel axis.
SIGNAL_LAYOUTS: dict[str, tuple[tuple[int], int | None]] = {
    "w": ((0,), None),
    "wc": ((0,), 1),
    "cw": ((1,), 0),
    "ncw": ((2,), 1),
}
#: Every layout by name: the spatial axes (outermost first) and the channel axis.
ALL_LAYOUTS: dict[str, tuple[tuple[int, ...], int | None]] = {
    **LAYOUTS, **VOLUME_LAYOUTS, **SIGNAL_LAYOUTS,
}  # fmt: skip
#: The volume layout assumed when a kernel has a depth and no layout is given
#: (PyTorch's Conv3d conventions), and the layouts of dims no image layout has.
VOLUME_DEFAULT = {3: "dhw", 4: "cdhw", 5: "ncdhw"}
OTHER_DEFAULT = {1: "w", 5: "ncdhw"}

#: Array dtypes poolcli pools (and ``dtype`` accepts).
DTYPE_NAMES = (
    "bool", "uint8", "uint16", "uint32", "uint64",
    "int8", "int16", "int32", "int64",
    "float16", "float32", "float64",
)  # fmt: skip
