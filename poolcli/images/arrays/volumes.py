"""Volumes and signals as arrays: the layout a volume request reads, and pooling them.

A volume layout (``dhw``, ``dhwc``, ``cdhw``, ``ncdhw``) is pooled over its three
spatial axes with the settings' :class:`~poolcli.spec.volumes.Depth` along depth (no
depth: slice by slice); a signal layout (``w``, ``wc``, ``cw``, ``ncw``) over its one
axis with the width values. Whole arrays, in memory: volumes and signals are not
streamed in bands.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, BinaryIO

import numpy as np

from ...errors import InputError, OutputError, ParameterError
from ...pooling import adaptive_pool, pool
from ...spec.arrays import LAYOUTS, SIGNAL_LAYOUTS, VOLUME_DEFAULT, VOLUME_LAYOUTS
from ...spec.modes import PoolMode
from ...spec.settings import PoolSettings
from ...spec.volumes import FLAT
from ..engine_route.passes import passes
from ..voxels import Voxel, voxel_options

if TYPE_CHECKING:
    from typing import Any
from .layouts import LaidOut, shape_text

_VOLUMES = ", ".join(VOLUME_LAYOUTS)


def relaid(laid: LaidOut, settings: PoolSettings) -> LaidOut:
    """``laid`` in the layout a volume request (``settings.depth``) reads it in: a
    defaulted 3-, 4- or 5-dim layout becomes dhw, cdhw or ncdhw (PyTorch's Conv3d)."""
    if settings.depth is None or laid.layout in VOLUME_LAYOUTS:
        return laid
    ndim = laid.array.ndim
    if laid.defaulted and ndim in VOLUME_DEFAULT:
        return LaidOut(laid.array, VOLUME_DEFAULT[ndim], laid.name, defaulted=True)
    label = f"array {laid.name!r}" if laid.name else "the array"
    message = (
        f"a WxHxD kernel pools volumes, but {label} (shape {shape_text(laid.array.shape)}) is "
        f"read as {laid.layout}, which has no depth; give `layout` {_VOLUMES}"
    )
    raise InputError(message)


def is_volume_or_signal(laid: LaidOut) -> bool:
    return laid.layout not in LAYOUTS


def pool_laid(laid: LaidOut, settings: PoolSettings) -> np.ndarray:
    """Pool a volume or signal array in its layout, every pass of ``repeat``."""
    channel = laid.channel_axis if settings.mode is PoolMode.MODE else None
    array = laid.array
    options = _options(laid, settings)
    for single in passes(settings):  # each with its band of depth slices, when streamed
        band = single.bands[0] if single.bands else None
        if "output_size" in options:
            size = options["output_size"]
            array = adaptive_pool(array, size, mode=settings.mode, p=settings.p, axes=laid.axes,
                                  channel_axis=channel, threads=settings.threads,
                                  band=band, nodata=settings.nodata_value,
                                  min_valid=settings.min_valid)  # fmt: skip
        else:
            array = pool(array, **options, mode=settings.mode, axes=laid.axes,
                         channel_axis=channel, band=band)  # fmt: skip
    return np.ascontiguousarray(array)


def _options(laid: LaidOut, settings: PoolSettings) -> dict[str, Any]:
    """The engine's window options for ``laid``'s spatial axes: (d, h, w) or (w,)."""
    if laid.layout in SIGNAL_LAYOUTS:
        return _signal_options(laid, settings)
    depth = settings.depth or FLAT
    if settings.size is not None:
        width, height = settings.adaptive_size(*laid.size)
        return {"output_size": (depth.size, height, width)}
    options = settings.engine_options
    for name, along in (("stride", depth.effective_stride), ("padding", depth.padding),
                        ("dilation", depth.dilation)):  # fmt: skip
        options[name] = (along, *options[name])
    options["kernel"] = (depth.kernel, *settings.kernel)
    return options


def _signal_options(laid: LaidOut, settings: PoolSettings) -> dict[str, Any]:
    """A signal has only a width: sizes must be one number (``-k 4``, not ``4x2``)."""
    if settings.depth is not None:
        message = f"a WxHxD kernel pools volumes; a {laid.layout} array is a signal: give N"
        raise ParameterError(message, parameter="kernel")
    if settings.size is not None:
        width, height = settings.size
        if width is None or height not in (None, 1):
            message = f"a signal has one axis: give `size` as Wx (its length), got {settings.size}"
            raise ParameterError(message, parameter="size", value=settings.size)
        return {"output_size": (width,)}
    options = settings.engine_options
    values = {
        "kernel": settings.kernel,
        **{n: options[n] for n in ("stride", "padding", "dilation")},
    }
    for name, (height, width) in values.items():
        if height != width:
            message = (
                f"a signal has one axis: give `{name}` as one number N, not WxH "
                f"(a {laid.layout} array)"
            )
            raise ParameterError(message, parameter=name, value=(height, width))
        options[name] = (width,)
    return options


def write_volume(
    target: BinaryIO,
    laid: LaidOut,
    fmt: str,
    save_options: Mapping[str, object],
    *,
    voxel: Voxel | None = None,
    ome: bool = False,
    notes: list[str] | None = None,
    nodata: int | float | None = None,
) -> int:
    """A pooled volume as a multi-page TIFF (pages are depth), deflated unless
    ``-O compression=`` says otherwise, with the output's ``voxel`` size (see
    :func:`z_stack_options`); returns the page count."""
    import tifffile

    if laid.layout not in VOLUME_LAYOUTS:
        message = f"a signal ({laid.layout} array) is written as .npy, .npz or Zarr, not {fmt}"
        raise OutputError(message)
    if fmt != "TIFF":
        message = f"a volume is written as TIFF (pages are depth), .npy, .npz or Zarr, not {fmt}"
        raise OutputError(message)
    array = laid.array
    if laid.layout == "cdhw":
        array = np.moveaxis(array, 0, -1)
    elif laid.layout == "ncdhw":
        if array.shape[0] != 1:
            message = f"a batch of {array.shape[0]} volumes (ncdhw) is written as .npy or Zarr"
            raise OutputError(message)
        array = np.moveaxis(array[0], 0, -1)
    if array.dtype == bool:
        array = array.view(np.uint8)
    options = z_stack_options(array.shape, array.dtype, save_options, voxel=voxel, ome=ome,
                              notes=notes, nodata=nodata)  # fmt: skip
    tifffile.imwrite(target, np.ascontiguousarray(array), **options)
    return array.shape[0]


def z_stack_options(
    shape: tuple[int, ...],
    dtype: np.dtype,
    save_options: Mapping[str, object],
    *,
    voxel: Voxel | None = None,
    ome: bool = False,
    notes: list[str] | None = None,
    nodata: int | float | None = None,
) -> dict[str, Any]:
    """tifffile's options for a (D, H, W[, C]) volume written as pages: grey or RGB(A)
    samples, deflated unless ``-O compression=`` says otherwise (JPEG: 8 bits only),
    the output's ``voxel`` size as OME-XML, an ImageJ hyperstack's calibration or
    resolution tags (:func:`~poolcli.images.voxels.voxel_options`; ``ome``: the
    output's name asks for an OME-TIFF); ``nodata`` as the GDAL_NODATA tag, which GDAL
    and poolcli read back."""
    from ..streams import writers
    from ..streams.writers import asked_compression

    channels = shape[3] if len(shape) == 4 else 1
    compression = asked_compression(save_options, None)
    if compression == "jpeg" and np.dtype(dtype) != np.uint8:
        compression = "zlib"  # JPEG holds 8-bit samples only
        writers.note_jpeg_fallback(save_options, dtype, notes)
    # tifffile picks BigTIFF for uncompressed arrays only, not compressed or streamed
    big = math.prod(shape) * np.dtype(dtype).itemsize > writers.BIGTIFF_BYTES
    options = dict(
        photometric="rgb" if channels in (3, 4) else "minisblack",
        planarconfig="contig" if channels > 1 else None,
        compression=compression,
        bigtiff=big,
        **voxel_options(voxel, shape, dtype, ome=ome, notes=notes, big=big),
    )
    if nodata is not None:
        from ..georef import nodata_tags

        options["extratags"] = nodata_tags(nodata).extratags()
    return options
