"""Array layouts: which axes of a feature map are height, width and channels."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...errors import InputError, OutputError
from ...spec.arrays import ALL_LAYOUTS, DEFAULT_LAYOUT, LAYOUTS, OTHER_DEFAULT, VOLUME_LAYOUTS


@dataclass(frozen=True)
class LaidOut:
    """An array and the layout that says which axes are height, width and channels."""

    array: np.ndarray
    layout: str
    name: str = ""
    #: The layout is the default for the number of dims, not one asked for.
    defaulted: bool = False

    @property
    def axes(self) -> tuple[int, ...]:
        """The spatial axes: (height, width); (depth, height, width) or (width,)."""
        return ALL_LAYOUTS[self.layout][0]

    @property
    def channel_axis(self) -> int | None:
        return ALL_LAYOUTS[self.layout][1]

    @property
    def size(self) -> tuple[int, int]:
        """(width, height); a volume's slices', a signal's length by 1."""
        return plane_size(self.array.shape, self.layout)

    @property
    def extent(self) -> tuple[int, ...]:
        """(width, height), or (width, height, depth) for a volume."""
        if self.layout not in VOLUME_LAYOUTS:
            return self.size
        depth = self.array.shape[self.axes[0]]
        return (*self.size, depth)

    def with_array(self, array: np.ndarray) -> LaidOut:
        return LaidOut(array, self.layout, self.name, self.defaulted)

    def channels_last_hint(self) -> str | None:
        """A hint when a defaulted chw/nchw layout reads what looks like channels-last
        pixels (the last axis 1 to 4 long, the channel axis longer): hwc/nhwc meant?"""
        shape = self.array.shape
        meant = {"chw": "hwc", "nchw": "nhwc"}.get(self.layout)
        channel = ALL_LAYOUTS[self.layout][1]
        if not self.defaulted or meant is None or channel is None:
            return None
        if not (1 <= shape[-1] <= 4 < shape[channel]):
            return None
        label = f"array {self.name!r}" if self.name else "the array"
        return (
            f"{label} of shape {shape_text(shape)} was read as {self.layout} (the default: "
            f"{shape[channel]} channels); if its last axis holds the channels, pass "
            f"`layout={meant}`"
        )


def pick_layout(shape: tuple[int, ...], layout: str | None, name: str = "") -> str:
    """``layout`` checked against ``shape``, or the default for its number of dims."""
    label = f"array {name!r}" if name else "the array"
    if layout is None:
        default = DEFAULT_LAYOUT.get(len(shape)) or OTHER_DEFAULT.get(len(shape))
        if default is None:
            message = (
                f"{label} has {len(shape)} dims (shape {shape_text(shape)}); poolcli pools 1- to "
                "5-dim arrays (layouts: images hw, hwc, chw, nchw, nhwc; volumes dhw, dhwc, "
                "cdhw, ncdhw; signals w, wc, cw, ncw)"
            )
            raise InputError(message)
        return default
    if layout not in ALL_LAYOUTS:
        message = f"unknown layout {layout!r}; choose one of: {', '.join(ALL_LAYOUTS)}"
        raise InputError(message)
    if len(layout) != len(shape):
        fitting = " or ".join(f"`layout={name}`" for name in ALL_LAYOUTS if len(name) == len(shape))
        message = (
            f"{label} has shape {shape_text(shape)} ({len(shape)} dims) but layout {layout} "
            f"needs {len(layout)}; use {fitting or 'a layout that fits (none does)'}"
        )
        raise InputError(message)
    return layout


@dataclass(frozen=True)
class ArrayHeader:
    """What a .npy header says, and the layout that applies."""

    name: str
    shape: tuple[int, ...]
    dtype: np.dtype
    layout: str

    @property
    def size(self) -> tuple[int, int]:
        """(width, height)."""
        return plane_size(self.shape, self.layout)


def plane_size(shape: tuple[int, ...], layout: str) -> tuple[int, int]:
    """(width, height) of the planes of an array of ``shape`` in ``layout``: a
    volume's slices, a signal's length by 1."""
    axes = ALL_LAYOUTS[layout][0]
    if len(axes) == 1:
        return shape[axes[0]], 1
    return shape[axes[-1]], shape[axes[-2]]


def is_plane_layout(layout: str) -> bool:
    """True for image layouts (two spatial axes), False for volumes and signals."""
    return layout in LAYOUTS


def to_nhwc(laid: LaidOut) -> np.ndarray:
    """The array as (N, H, W, C): a batch of channels-last planes (a view)."""
    a = laid.array
    if laid.layout not in LAYOUTS:
        message = f"a {laid.layout} array (a volume or signal) is not an image; write .npy/.npz"
        raise OutputError(message)
    return {
        "hw": lambda: a[None, :, :, None],
        "hwc": lambda: a[None],
        "chw": lambda: np.moveaxis(a, 0, -1)[None],
        "nchw": lambda: np.moveaxis(a, 1, -1),
        "nhwc": lambda: a,
    }[laid.layout]()


def shape_text(shape: tuple[int, ...]) -> str:
    return "x".join(map(str, shape)) or "()"
