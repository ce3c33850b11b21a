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
        return LaidOut(array, self.layout, self.name)


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
