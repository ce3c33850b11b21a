"""TIFF Z stacks as volumes: pages read as depth slices, written back as pages.

With a ``WxHxD`` kernel a multi-page TIFF (an ImageJ hyperstack, an OME-TIFF Z
stack, or plain pages) is a volume: the pages are depth. It is read with tifffile
into a ``dhw`` (or ``dhwc``) array, pooled by the array route, and written as a
multi-page TIFF (tifffile's shaped series: pages are depth again), or as
.npy/.npz/Zarr. A stack larger than half of the memory budget whose pages are one
slice each is read a few pages at a time (:mod:`.streams.tiff_stack`, :mod:`.streams.slabs`);
others are read whole. A TIFF output keeps the voxel size, scaled (:mod:`.voxels`).
A TIFF's GDAL_NODATA is the nodata value unless ``--nodata`` says otherwise, and a
TIFF output carries the nodata value in effect as its GDAL_NODATA.
"""

from __future__ import annotations

from typing import Any, BinaryIO

import numpy as np

from ..errors import InputError
from ..spec.settings import PoolSettings
from .arrays.layouts import LaidOut
from .requests import ReadOptions, Report, WriteOptions, resolve_nodata
from .streams.tiff_stack import StackPlan
from .voxels import read_tiff_voxel


def convert_tiff_volume(
    path: str,
    target: BinaryIO | str,
    settings: PoolSettings,
    write: WriteOptions,
    read: ReadOptions,
    notes: list[str],
) -> Report:
    """Pool the TIFF at ``path`` as a volume (its pages are depth) into ``target``; a
    TIFF output gets the input's voxel size times the strides (:mod:`.voxels`)."""
    from .arrays.route import convert_arrays  # NumPy and the engine load here
    from .streams.slabs import stream_volume

    voxel = read_tiff_voxel(path)
    settings = resolve_nodata(settings, read_tiff_nodata(path), notes)  # GDAL_NODATA
    report = stream_volume(path, "TIFF", target, settings, write, read, notes, voxel=voxel)
    if report is not None:  # larger than half of the budget: in slabs of pages
        return report
    laid = read_tiff_volume(path, read.max_pixels)
    return convert_arrays({"": laid}, "TIFF", target, settings, write, notes, voxel=voxel)


def not_a_volume(fmt: str) -> InputError:
    """The error for a WxHxD kernel on an input that holds no volume."""
    message = (
        "a WxHxD kernel pools volumes: a multi-page TIFF file, or a .npy/.npz/Zarr array "
        f"(layouts dhw, dhwc, cdhw, ncdhw); this input is a {fmt} image"
    )
    return InputError(message)


def volume_extent(source: object, description: Any, layout: str | None) -> tuple[int, int, int]:
    """(width, height, depth) of the volume a WxHxD kernel reads from ``source``, whose
    header facts are ``description`` (:func:`~.reading.headers.probe`'s)."""
    from ..spec.arrays import VOLUME_DEFAULT, VOLUME_LAYOUTS

    if description.is_array:
        shape = tuple(description.planes[0].shape)
        chosen = layout or VOLUME_DEFAULT.get(len(shape), "")
        if chosen not in VOLUME_LAYOUTS or len(chosen) != len(shape):
            message = (
                f"a WxHxD kernel pools volumes, but the array (shape "
                f"{'x'.join(map(str, shape))}) is read as {chosen or 'no layout'}, which has no "
                f"depth; give `layout` {', '.join(VOLUME_LAYOUTS)}"
            )
            raise InputError(message)
        depth, height, width = (shape[i] for i in VOLUME_LAYOUTS[chosen][0])
        return width, height, depth
    if description.format == "TIFF" and isinstance(source, str):
        depth, height, width = tiff_volume_shape(source)[:3]
        return width, height, depth
    raise not_a_volume(description.format)


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
            plan = StackPlan.of(series.axes, tuple(series.shape))
            _check_size(plan.plane if plan.others else (1, *plan.plane), plan.layout,
                        max_pixels, "")  # fmt: skip
            data = series.asarray().reshape([plan.shape[i] for i in plan.kept])
    except (tifffile.TiffFileError, ValueError, OSError) as error:
        message = f"cannot read the TIFF as a volume: {error}"
        raise InputError(message) from None
    data = np.moveaxis(data, [plan.named.index(a) for a in plan.order], range(len(plan.order)))
    if not plan.others:
        data = data[None]  # one page: a volume one slice deep
    return LaidOut(np.ascontiguousarray(data), plan.layout)


def read_tiff_nodata(path: str) -> int | float | None:
    """The nodata value a TIFF declares (GDAL_NODATA of its first page), or None."""
    import tifffile

    from .georef import Georef

    try:
        with tifffile.TiffFile(path) as tif:
            georef = Georef.of_page(tif.pages.first)
    except (tifffile.TiffFileError, ValueError, OSError):
        return None  # the reader of the pixels words what is wrong
    return None if georef is None else georef.nodata


def tiff_volume_shape(path: str) -> tuple[int, ...]:
    """The (D, H, W[, C]) shape :func:`read_tiff_volume` reads, from the TIFF's header."""
    import tifffile

    try:
        with tifffile.TiffFile(path) as tif:
            plan = StackPlan.of(tif.series[0].axes, tuple(tif.series[0].shape))
    except (tifffile.TiffFileError, ValueError, OSError) as error:
        message = f"cannot read the TIFF as a volume: {error}"
        raise InputError(message) from None
    return plan.plane if plan.others else (1, *plan.plane)
