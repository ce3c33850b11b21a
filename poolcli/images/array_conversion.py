"""The array side of a conversion: .npy/.npz inputs pooled in their layout, and
pooled images written as .npy/.npz.
"""

from __future__ import annotations

from typing import BinaryIO

import numpy as np
from PIL import Image

from ..errors import OutputError
from ..pooling.modes import PoolMode
from . import arrays, encode
from .conversion import Report, WriteOptions
from .decode import Decoded
from .passes import pool_all
from .settings import PoolSettings


def convert_arrays(
    decoded: Decoded,
    target: BinaryIO,
    settings: PoolSettings,
    write: WriteOptions,
    notes: list[str],
) -> Report:
    """Pool every array of a .npy/.npz input in its layout; write arrays or an image."""
    pooled = {}
    for name, laid in decoded.arrays.items():
        settings.output_size(*laid.size)  # image-worded errors before the engine's
        result = _pool_laid_out(laid, settings)
        pooled[name] = laid.with_array(arrays.cast(result, write.dtype))
    first = next(iter(pooled.values()))
    in_size = next(iter(decoded.arrays.values())).size
    if write.format in ("NPY", "NPZ"):
        if write.format == "NPY" and len(pooled) > 1:
            message = f"the .npz holds {len(pooled)} arrays and .npy holds one; write .npz"
            raise OutputError(message)
        arrays.write(
            target, {n: laid.array for n, laid in pooled.items()}, npz=write.format == "NPZ"
        )
        return Report(decoded.format, in_size, first.size, len(pooled), tuple(notes))
    if len(pooled) > 1:
        message = f"the .npz holds {len(pooled)} arrays and an image holds one; write .npz"
        raise OutputError(message)
    frames = arrays.to_images(first)
    encode.save(frames, target, write.format, metadata_options={},
                user_options=write.save_options, notes=notes)  # fmt: skip
    return Report(decoded.format, in_size, first.size, len(frames), tuple(notes))


def _pool_laid_out(laid: arrays.LaidOut, settings: PoolSettings) -> np.ndarray:
    """Pool an array in its layout: spatial axes first for the engine, then back."""
    moved = np.moveaxis(laid.array, laid.axes, (0, 1))
    channel = None
    if laid.channel_axis is not None and settings.mode is PoolMode.MODE:
        # whole pixels vote; the channel axis lands after the spatial ones
        rest = [a for a in range(laid.array.ndim) if a not in laid.axes]
        channel = 2 + rest.index(laid.channel_axis)
    pooled = pool_all(moved, settings, channel_axis=channel)
    return np.ascontiguousarray(np.moveaxis(pooled, (0, 1), laid.axes))


def write_images(frames: list[Image.Image], target: BinaryIO, write: WriteOptions) -> None:
    """Pooled image frames as one .npy (frames stacked) or a .npz (one array per frame)."""
    planes = {f"frame_{i}" if len(frames) > 1 else "": np.asarray(f) for i, f in enumerate(frames)}
    planes = {name: arrays.cast(a, write.dtype) for name, a in planes.items()}
    if write.format == "NPY":
        planes = {"": arrays.image_array(planes.values())}
    arrays.write(target, planes, npz=write.format == "NPZ")
