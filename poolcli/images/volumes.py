"""TIFF Z stacks as volumes: every page read into one array, written back as pages.

With a ``WxHxD`` kernel a multi-page TIFF (an ImageJ hyperstack, an OME-TIFF Z
stack, or plain pages) is a volume: the pages are depth. It is read whole with
tifffile into a ``dhw`` (or ``dhwc``) array, pooled by the array route, and written
as a multi-page TIFF (tifffile's shaped series: pages are depth again), or as
.npy/.npz/Zarr. Volumes are pooled in memory, never streamed in bands.
"""

from __future__ import annotations

from typing import BinaryIO

import numpy as np

from ..errors import InputError
from ..spec.settings import PoolSettings
from .arrays.layouts import LaidOut
from .requests import ReadOptions, Report, WriteOptions

#: tifffile's axis letters for a pixel's channels; every other letter but Y and X
#: may be the depth (Z, but also I for plain pages, Q for unknown, T for time).
_CHANNELS = "SC"


def convert_tiff_volume(
    path: str,
    target: BinaryIO | str,
    settings: PoolSettings,
    write: WriteOptions,
    read: ReadOptions,
    notes: list[str],
) -> Report:
    """Pool the TIFF at ``path`` as a volume (its pages are depth) into ``target``."""
    from .arrays.route import convert_arrays  # NumPy and the engine load here

    laid = read_tiff_volume(path, read.max_pixels)
    return convert_arrays({"": laid}, "TIFF", target, settings, write, notes)


def read_tiff_volume(path: str, max_pixels: int | None) -> LaidOut:
    """The first series of a TIFF as a ``dhw`` or ``dhwc`` array (pages are depth).

    Axes of length 1 are dropped; what is left must be Y, X, at most one channel
    axis (S or C) and at most one more axis, the depth. Pages that only hold
    channels (an ImageJ ``CYX`` stack) are depth too: pages are depth.
    """
    import tifffile

    from .arrays.files import _check_size

    try:
        with tifffile.TiffFile(path) as tif:
            series = tif.series[0]
            axes, shape = series.axes, tuple(series.shape)
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
            layout = "dhwc" if channels else "dhw"
            order = others + ["Y", "X"] + channels
            plane = tuple(shape[axes.index(a)] for a in order)
            _check_size(plane if others else (1, *plane), layout, max_pixels, "")
            data = series.asarray().reshape([shape[i] for i in kept])
    except (tifffile.TiffFileError, ValueError, OSError) as error:
        message = f"cannot read the TIFF as a volume: {error}"
        raise InputError(message) from None
    data = np.moveaxis(data, [named.index(a) for a in order], range(len(order)))
    if not others:
        data = data[None]  # one page: a volume one slice deep
    return LaidOut(np.ascontiguousarray(data), layout)
