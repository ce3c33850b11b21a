"""The array side of a conversion: .npy/.npz inputs pooled in their layout, pooled
images written as .npy/.npz, and arrays written as images when a mode fits."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, BinaryIO

import numpy as np
from PIL import Image

from ...errors import InputError, OutputError
from ...pooling.numeric import SUPPORTED, round_half_up
from ...spec.modes import PoolMode
from ...spec.settings import PoolSettings
from ..engine_route.passes import pool_all
from ..engine_route.pixels import image_from
from ..formats import record_of
from ..georef import nodata_tags
from ..modes import MODES, image_mode
from ..requests import Report, WriteOptions, add_note
from ..writing.save import save
from . import files, volumes
from .layouts import LaidOut, to_nhwc

if TYPE_CHECKING:
    from ..voxels import Voxel


def convert_arrays(
    arrays: dict[str, LaidOut],
    input_format: str,
    target: BinaryIO | str,
    settings: PoolSettings,
    write: WriteOptions,
    notes: list[str],
    *,
    voxel: Voxel | None = None,
) -> Report:
    """Pool every array of a .npy/.npz input in its layout; write arrays or an image.
    ``voxel``: a volume's voxel size, written (times the strides) into a TIFF Z stack."""
    pooled = {}
    arrays = {name: volumes.relaid(laid, settings) for name, laid in arrays.items()}
    for name, laid in arrays.items():
        hint = laid.channels_last_hint()
        if hint is not None:
            add_note(notes, hint)
        if not volumes.is_volume_or_signal(laid):
            settings.output_size(*laid.size)  # image-worded errors before the engine's
        result = _pool_laid_out(laid, settings)
        pooled[name] = laid.with_array(cast(result, write.dtype))
    first = next(iter(pooled.values()))
    in_size = next(iter(arrays.values())).extent
    if record_of(write.format).array:
        if write.format in ("NPY", "ZARR") and len(pooled) > 1:
            one = record_of(write.format).extension
            message = f"the .npz holds {len(pooled)} arrays and {one} holds one; write .npz"
            raise OutputError(message)
        if isinstance(target, str):  # a Zarr store
            _write_zarr(target, first.array, first.axes[0], first.layout, write,
                        settings.nodata_value)  # fmt: skip
            return Report(input_format, in_size, first.extent, 1, tuple(notes))
        files.write(
            target, {n: laid.array for n, laid in pooled.items()}, npz=write.format == "NPZ"
        )
        return Report(input_format, in_size, first.extent, len(pooled), tuple(notes))
    if len(pooled) > 1:
        message = f"the .npz holds {len(pooled)} arrays and an image holds one; write .npz"
        raise OutputError(message)
    if volumes.is_volume_or_signal(first):
        assert not isinstance(target, str)
        placed = None if voxel is None else voxel.scaled(settings.volume_placement(*in_size))
        volumes.write_volume(target, first, write.format, write.save_options, voxel=placed,
                             ome=write.ome_name, notes=notes,
                             nodata=settings.nodata_value)  # fmt: skip
        return Report(input_format, in_size, first.extent, 1, tuple(notes))
    nodata = settings.nodata_value
    if write.format == "TIFF" and _tiff_by_tifffile(first):
        assert not isinstance(target, str)
        _write_tiff_plane(target, first, write, nodata, notes)
        return Report(input_format, in_size, first.extent, 1, tuple(notes))
    try:
        frames = to_images(first)
    except OutputError as error:
        hint = next(iter(arrays.values())).channels_last_hint()
        if hint is None:
            raise
        message = f"{error.message}; {hint}"
        raise OutputError(message) from None
    assert not isinstance(target, str)
    tags = {}
    if write.format == "TIFF" and nodata is not None:  # GDAL_NODATA, as GDAL writes it
        tags = {"tiffinfo": nodata_tags(nodata).pillow_tags()}
    save(frames, target, write.format, metadata_options=tags,
         user_options=write.save_options, notes=notes)  # fmt: skip
    return Report(input_format, in_size, first.extent, len(frames), tuple(notes))


def _tiff_by_tifffile(laid: LaidOut) -> bool:
    """True for one plane of 1-4 channels whose dtype no Pillow mode holds (int16,
    uint32, float64...): tifffile writes it as it is, as it writes a TIFF input's."""
    batch = to_nhwc(laid)
    frames, channels = batch.shape[0], batch.shape[3]
    return frames == 1 and channels <= 4 and image_mode(str(batch.dtype), channels) is None


def _write_tiff_plane(
    target: BinaryIO,
    laid: LaidOut,
    write: WriteOptions,
    nodata: int | float | None,
    notes: list[str],
) -> None:
    from ..streams.writers import asked_compression, note_jpeg_fallback, write_tiff

    plane = to_nhwc(laid)[0]
    if plane.shape[2] == 1:
        plane = plane[..., 0]
    samples = plane.shape[2] if plane.ndim == 3 else 1
    extratags = () if nodata is None else nodata_tags(nodata).extratags()
    note_jpeg_fallback(write.save_options, plane.dtype, notes)
    write_tiff(target, plane.shape, plane.dtype, [np.ascontiguousarray(plane)],
               photometric="rgb" if samples in (3, 4) else "minisblack",
               compression=asked_compression(write.save_options, None),
               extratags=extratags)  # fmt: skip


def _pool_laid_out(laid: LaidOut, settings: PoolSettings) -> np.ndarray:
    """Pool an array in its layout: spatial axes first for the engine, then back."""
    if volumes.is_volume_or_signal(laid):
        return volumes.pool_laid(laid, settings)
    moved = np.moveaxis(laid.array, laid.axes, (0, 1))
    channel = None
    if laid.channel_axis is not None and settings.mode is PoolMode.MODE:
        # whole pixels vote; the channel axis lands after the spatial ones
        rest = [a for a in range(laid.array.ndim) if a not in laid.axes]
        channel = 2 + rest.index(laid.channel_axis)
    pooled = pool_all(moved, settings, channel_axis=channel)
    return np.ascontiguousarray(np.moveaxis(pooled, (0, 1), laid.axes))


def write_images(
    frames: list[np.ndarray],
    target: BinaryIO | str,
    write: WriteOptions,
    nodata: int | float | None = None,
) -> None:
    """Pooled image frames, (H, W[, C]) each, as one .npy or Zarr array (frames
    stacked) or a .npz (one array per frame); a Zarr array's ``nodata`` attribute
    says ``nodata``."""
    planes = {f"frame_{i}" if len(frames) > 1 else "": f for i, f in enumerate(frames)}
    planes = {name: cast(a, write.dtype) for name, a in planes.items()}
    if isinstance(target, str):  # a Zarr store
        stacked = image_array(planes.values())
        layout = "nhwc" if len(frames) > 1 else ("hwc" if stacked.ndim == 3 else "hw")
        if layout == "nhwc" and stacked.ndim == 3:
            stacked = stacked[..., None]
        _write_zarr(target, stacked, 1 if len(frames) > 1 else 0, layout, write, nodata)
        return
    if write.format == "NPY":
        planes = {"": image_array(planes.values())}
    files.write(target, planes, npz=write.format == "NPZ")


def _write_zarr(
    path: str,
    array: np.ndarray,
    row_axis: int,
    layout: str,
    write: WriteOptions,
    nodata: int | float | None = None,
) -> None:
    from ..streams.zarr_store import write_zarr_whole, zarr_format

    write_zarr_whole(path, array, row_axis, layout, zarr_format=zarr_format(write.save_options),
                     nodata=nodata)  # fmt: skip


def cast(array: np.ndarray, dtype_name: str | None) -> np.ndarray:
    """``array`` as ``dtype``: floats to integers round half up and clip; nothing wraps."""
    if dtype_name is None:
        return array
    dtype = parse_dtype(dtype_name)
    if array.dtype == dtype:
        return array
    if dtype.kind == "b":
        return array != 0
    if dtype.kind in "iu" and array.dtype.kind == "f":
        with np.errstate(invalid="ignore"):
            return round_half_up(np.nan_to_num(array.astype(np.float64)), dtype)
    if dtype.kind in "iu" and array.dtype.kind in "iub":
        info = np.iinfo(dtype)
        return np.clip(array, info.min, info.max).astype(dtype)
    return array.astype(dtype)


def parse_dtype(name: str) -> np.dtype:
    """A supported dtype from its NumPy name; InputError listing the choices otherwise."""
    try:
        dtype = np.dtype(name)
    except TypeError:
        dtype = None
    if dtype is None or dtype not in SUPPORTED:
        names = ", ".join(str(d) for d in SUPPORTED)
        message = f"unknown or unsupported `dtype` {name!r}; choose one of: {names}"
        raise InputError(message)
    return dtype


def to_images(laid: LaidOut) -> list[Image.Image]:
    """The frames an array makes as images (one per batch entry), when a mode fits."""
    batch = to_nhwc(laid)
    channels = batch.shape[3]
    mode = image_mode(str(laid.array.dtype), channels)
    if mode is None:
        fitting = ", ".join(f"{m.dtype} x{m.channels}" for m in MODES.values() if m.from_array)
        message = (
            f"an array of dtype {laid.array.dtype} with {channels} channel(s) fits no image "
            f"mode (fitting: {fitting}); write .npy/.npz, TIFF (one plane of 1-4 channels, "
            "any dtype), or convert with `dtype`"
        )
        raise OutputError(message)
    return [image_from(frame, mode.name) for frame in batch]


def image_array(frames: Iterable[np.ndarray]) -> np.ndarray:
    """Pooled image frames as one array: (H, W[, C]), or (N, H, W, C) for several."""
    frames = list(frames)
    if len(frames) == 1:
        return frames[0]
    if len({(f.shape, f.dtype) for f in frames}) > 1:
        message = (
            "the frames differ in size or mode, so they do not stack into one .npy array; "
            "write .npz (one array per frame) or pick one with `frame=N`"
        )
        raise OutputError(message)
    return np.stack([f if f.ndim == 3 else f[..., None] for f in frames])
