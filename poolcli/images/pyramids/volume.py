"""Volume pyramids (``--factors WxHxD``): every level of a 3-D image, exact.

Level ``k`` has ``ceil(n / f**k)`` voxels along an axis of factor ``f`` (``f`` = 1:
the axis is kept, as the depth of an anisotropic stack with ``2x2x1``) and equals
pooling level 0 once with an ``f**k`` window in ceil mode over real voxels only.
Max and min are made level from level (exact: a max of maxes); every other mode
from level 0 (integer means rounded half up once, median and mode of the very
voxels of each window), which costs one pass over level 0 per level. Label
volumes (``-m mode``) never gain a value; with channels, mode votes whole voxels.

The volume is read whole (:mod:`.volume_input`) and the levels are held in memory:
about 1.15 times level 0 with ``2x2x2`` (the levels add an eighth, a
sixty-fourth...). Containers: OME-Zarr (axes ``zyx`` or ``czyx``, each level's scale
``f**k`` times the input's voxel size) and a folder of one file per level (a TIFF
Z stack, pages are depth, or .npy). TIFF pyramids and Deep Zoom are planes. The
input's own nodata (a TIFF's GDAL_NODATA, a Zarr's ``nodata``) is left out unless
``--nodata`` says otherwise, and every level carries the nodata in effect.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from ...errors import OutputError
from ...pooling.multiscale import pyramid
from ...pooling.numeric import sum_dtype
from ...spec.modes import PoolMode
from ...spec.pyramids import Container
from ..arrays.layouts import LaidOut
from ..streams.zarr_store import ome_attributes, set_nodata, zstd
from .build import PyramidJob, PyramidReport
from .volume_input import VolumeInput, read_volume, volume_shape

#: In-plane chunk side by default: (T, T, T) voxels when the depth shrinks too, so
#: that a 3-D viewer's chunks are cubes; (1, 256, 256) planes when it is kept.
_CUBE = 64
_PLANE = 256


def level_shapes(shape: tuple[int, ...], factors: tuple[int, int, int], levels: int) -> list:
    """Every level's (D, H, W[, C]) shape: ``ceil(n / f**k)`` voxels per axis."""
    return [
        tuple(-(-n // f**k) for n, f in zip(shape[:3], factors, strict=True)) + tuple(shape[3:])
        for k in range(levels)
    ]


def plan_levels(shape: tuple[int, ...], factors: tuple[int, int, int], job: PyramidJob) -> int:
    """``levels`` if given (at most down to one voxel), else down to the first level
    whose every shrinking axis fits in one chunk."""
    chunks = _chunks(factors, job)
    count = 1
    while True:
        sides = level_shapes(shape, factors, count)[-1][:3]
        shrinking = [(n, c) for n, c, f in zip(sides, chunks, factors, strict=True) if f > 1]
        if all(n == 1 for n, _ in shrinking):
            break  # one voxel across: no further level differs
        if job.options.levels is None and all(n <= c for n, c in shrinking):
            break
        if job.options.levels is not None and count >= job.options.levels:
            break
        count += 1
    return count


def volume_sizes(path: str, fmt: str | None, job: PyramidJob) -> tuple[tuple, tuple]:
    """The input's (width, height, depth) and every level's, from its header (a dry run)."""
    shape = volume_shape(path, fmt, job.read.layout)
    factors = volume_factors(job)
    count = plan_levels(shape, factors, job)
    sizes = tuple(_size(s) for s in level_shapes(shape, factors, count))
    return sizes[0], sizes


def build_volume_pyramid(path: str, fmt: str | None, target: str, job: PyramidJob) -> PyramidReport:
    """Make the pyramid of the volume at ``path`` in the folder ``target`` (an OME-Zarr
    image, or a folder of levels)."""
    if job.container not in (Container.OME_ZARR, Container.FOLDER):
        message = (
            f"a volume pyramid is written as OME-Zarr (NAME.ome.zarr) or a folder of levels "
            f"(DIR/), not {job.container}: its pages would be both depth and levels"
        )
        raise OutputError(message)
    from ..requests import resolve_nodata

    volume = read_volume(path, fmt, job.read.layout, job.read.max_pixels)
    notes: list[str] = []
    job = replace(job, settings=resolve_nodata(job.settings, volume.nodata, notes))
    mode, level0 = job.settings.mode, volume.array
    if mode is PoolMode.SUM:
        level0 = level0.astype(sum_dtype(level0.dtype))  # every level in the sums' dtype
    factors = volume_factors(job)
    count = plan_levels(level0.shape, factors, job)
    made = pyramid(
        level0,
        count,
        factors=factors,
        mode=mode,
        axes=(0, 1, 2),
        p=job.settings.p,
        channel_axis=3 if level0.ndim == 4 and mode is PoolMode.MODE else None,
        nodata=job.settings.nodata_value,
        min_valid=job.settings.min_valid,
    )
    if job.container is Container.OME_ZARR:
        sizes = _write_zarr(target, volume, made, factors, job)
    else:
        sizes = _write_folder(target, volume, made, factors, job)
    whole = "never: a volume is read whole"
    return PyramidReport(volume.format, volume.size, tuple(sizes), tuple(notes), streamed=whole)


def volume_factors(job: PyramidJob) -> tuple[int, int, int]:
    """The (depth, height, width) factors: ``--factors``, or 2 along every axis."""
    factors = job.options.factors
    if factors is None or len(factors) != 3:
        return 2, 2, 2
    return factors[0], factors[1], factors[2]


def _write_zarr(path: str, volume: VolumeInput, made: Sequence[np.ndarray],
                factors: tuple[int, int, int], job: PyramidJob) -> list:  # fmt: skip
    import zarr

    group: Any = zarr.open_group(path, mode="w", zarr_format=job.zarr_format)  # type: ignore[arg-type]
    extra: dict[str, Any] = {}
    if job.zarr_format == 2:
        extra["chunk_key_encoding"] = {"name": "v2", "separator": "/"}
    chunks = _chunks(factors, job)
    sizes, scales, translations = [], [], []
    channels = volume.array.ndim == 4
    for k, level in enumerate(made):
        stored = np.moveaxis(level, -1, 0) if channels else level
        sides = tuple(min(c, n) for c, n in zip(chunks, level.shape[:3], strict=True))
        array = group.create_array(
            str(k), shape=stored.shape, dtype=stored.dtype, compressors=zstd(job.zarr_format),
            chunks=(stored.shape[0], *sides) if channels else sides, fill_value=0, **extra,
        )  # fmt: skip
        array[...] = stored
        set_nodata(array, job.settings.nodata_value)
        sizes.append(_size(level.shape))
        space = [v * f**k for v, f in zip(volume.voxel, factors, strict=True)]
        scales.append([1.0, *space] if channels else space)
        # voxel centres at the centres of the level-0 voxels each pools
        shift = [v * (f**k - 1) / 2 for v, f in zip(volume.voxel, factors, strict=True)]
        translations.append([0.0, *shift] if channels else shift)
    axes = "czyx" if channels else "zyx"
    group.attrs.update(ome_attributes(axes, scales, job.zarr_format, unit=volume.unit,
                                      name=job.options.label,
                                      translations=translations))  # fmt: skip
    return sizes


def _write_folder(path: str, volume: VolumeInput, made: Sequence[np.ndarray],
                  factors: tuple[int, int, int], job: PyramidJob) -> list:  # fmt: skip
    from ..arrays.volumes import write_volume
    from ..voxels import Voxel, ome_unit

    unit = ome_unit(volume.unit)  # a Z stack's voxel size, when the input says it

    kind = (job.options.tile_format or "tif").lower().lstrip(".")
    if kind not in ("tif", "tiff", "npy"):
        message = f"a volume's levels are written as tif (Z stacks) or npy, not {kind}"
        raise OutputError(message)
    sizes = []
    for k, level in enumerate(made):
        name = os.path.join(path, f"{k}.{'npy' if kind == 'npy' else 'tif'}")
        with open(name, "wb") as stream:
            if kind == "npy":
                np.save(stream, level)
            else:
                layout = "dhwc" if level.ndim == 4 else "dhw"
                z, y, x = (v * f**k for v, f in zip(volume.voxel, factors, strict=True))
                voxel = None if unit is None else Voxel((z, y, x), (unit,) * 3, ome=True)
                write_volume(stream, LaidOut(level, layout), "TIFF", job.save_options,
                             voxel=voxel, nodata=job.settings.nodata_value)  # fmt: skip
        sizes.append(_size(level.shape))
    return sizes


def _chunks(factors: tuple[int, int, int], job: PyramidJob) -> tuple[int, int, int]:
    """(depth, height, width) of a chunk: cubes when the depth shrinks, else planes."""
    if factors[0] == 1:
        side = job.options.tile or _PLANE
        return 1, side, side
    side = job.options.tile or _CUBE
    return side, side, side


def _size(shape: tuple[int, ...]) -> tuple[int, int, int]:
    depth, height, width = shape[:3]
    return width, height, depth
