"""Array layouts: which axes of a feature map are height, width and channels."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...errors import InputError
from ...spec.arrays import DEFAULT_LAYOUT, LAYOUTS


@dataclass(frozen=True)
class LaidOut:
    """An array and the layout that says which axes are height, width and channels."""

    array: np.ndarray
    layout: str
    name: str = ""
    #: The layout is the default for the number of dims, not one asked for.
    defaulted: bool = False

    @property
    def axes(self) -> tuple[int, int]:
        return LAYOUTS[self.layout][0]

    @property
    def channel_axis(self) -> int | None:
        return LAYOUTS[self.layout][1]

    @property
    def size(self) -> tuple[int, int]:
        """(width, height)."""
        h, w = (self.array.shape[a] for a in self.axes)
        return w, h

    def with_array(self, array: np.ndarray) -> LaidOut:
        return LaidOut(array, self.layout, self.name, self.defaulted)

    def channels_last_hint(self) -> str | None:
        """A hint when a defaulted chw/nchw layout reads what looks like channels-last
        pixels (the last axis 1 to 4 long, the channel axis longer): hwc/nhwc meant?"""
        shape = self.array.shape
        meant = {"chw": "hwc", "nchw": "nhwc"}.get(self.layout)
        channel = LAYOUTS[self.layout][1]
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
        if len(shape) not in DEFAULT_LAYOUT:
            message = (
                f"{label} has {len(shape)} dims (shape {shape_text(shape)}); poolcli pools 2- to "
                "4-dim arrays (layouts hw, hwc, chw, nchw, nhwc)"
            )
            raise InputError(message)
        return DEFAULT_LAYOUT[len(shape)]
    if layout not in LAYOUTS:
        message = f"unknown layout {layout!r}; choose one of: {', '.join(LAYOUTS)}"
        raise InputError(message)
    if len(layout) != len(shape):
        fitting = " or ".join(f"`layout={name}`" for name in LAYOUTS if len(name) == len(shape))
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
        (ah, aw), _ = LAYOUTS[self.layout]
        return self.shape[aw], self.shape[ah]


def to_nhwc(laid: LaidOut) -> np.ndarray:
    """The array as (N, H, W, C): a batch of channels-last planes (a view)."""
    a = laid.array
    return {
        "hw": lambda: a[None, :, :, None],
        "hwc": lambda: a[None],
        "chw": lambda: np.moveaxis(a, 0, -1)[None],
        "nchw": lambda: np.moveaxis(a, 1, -1),
        "nhwc": lambda: a,
    }[laid.layout]()


def shape_text(shape: tuple[int, ...]) -> str:
    return "x".join(map(str, shape)) or "()"
