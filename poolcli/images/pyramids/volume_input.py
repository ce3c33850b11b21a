"""A volume pyramid's input: the whole volume as (D, H, W[, C]), and its voxel size.

A TIFF Z stack (an ImageJ hyperstack, an OME-TIFF, plain pages: pages are depth,
as ``poolcli pool`` reads it with a ``WxHxD`` kernel), a .npy or a Zarr/OME-Zarr
array in a volume layout (``dhw``, ``dhwc``, ``cdhw``, ``ncdhw`` of one volume; a
3-dim array defaults to ``dhw``, a 4-dim one to ``cdhw``, as PyTorch's Conv3d).
The voxel's physical (z, y, x) size and unit come from OME-XML's PhysicalSize*,
ImageJ's spacing and resolution (:func:`~poolcli.images.voxels.read_tiff_voxel`),
or an OME-Zarr image's level-0 scale; 1 where the input does not say. The nodata
value is a TIFF's GDAL_NODATA or a Zarr array's (or group's) ``nodata`` attribute.

Volumes are read whole: a volume pyramid holds level 0 and its levels in memory.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...errors import InputError
from ...spec.arrays import VOLUME_DEFAULT, VOLUME_LAYOUTS
from ..volumes import read_tiff_nodata, read_tiff_volume, tiff_volume_shape
from ..voxels import NGFF_UNITS, read_tiff_voxel

_LAYOUTS = ", ".join(VOLUME_LAYOUTS)


@dataclass(frozen=True)
class VolumeInput:
    """Level 0 of a volume pyramid, channels last, and what the input says of it."""

    array: np.ndarray  # (D, H, W) or (D, H, W, C)
    format: str
    #: Physical (z, y, x) size of a voxel, and the unit of the space axes.
    voxel: tuple[float, float, float] = (1.0, 1.0, 1.0)
    unit: str | None = None
    #: The nodata value the file declares (a TIFF's GDAL_NODATA, a Zarr's ``nodata``).
    nodata: int | float | None = None

    @property
    def size(self) -> tuple[int, int, int]:
        """(width, height, depth)."""
        depth, height, width = self.array.shape[:3]
        return width, height, depth


def volume_shape(path: str, fmt: str | None, layout: str | None) -> tuple[int, ...]:
    """The (D, H, W[, C]) shape of the volume at ``path``, from its header only."""
    if fmt == "TIFF":
        return tiff_volume_shape(path)
    array, name = _array(path, fmt)
    return _channels_last_shape(tuple(array.shape), _layout(tuple(array.shape), layout, name))


def read_volume(
    path: str, fmt: str | None, layout: str | None, max_pixels: int | None
) -> VolumeInput:
    """The volume at ``path`` (``fmt``: TIFF, NPY or ZARR) read whole."""
    if fmt == "TIFF":
        laid = read_tiff_volume(path, max_pixels)
        found = read_tiff_voxel(path)  # the one reader ``poolcli pool`` uses too
        unit = _unit(found.unit[2])
        return VolumeInput(laid.array, "TIFF", found.or_ones(), unit, read_tiff_nodata(path))
    from ..arrays.files import _check_size

    array, name = _array(path, fmt)
    shape = tuple(array.shape)
    chosen = _layout(shape, layout, name)
    _check_size(shape, chosen, max_pixels, "")
    data = np.asarray(array[...])
    if chosen == "ncdhw":
        data = data[0]
    if chosen in ("cdhw", "ncdhw"):
        data = np.moveaxis(data, 0, -1)
    voxel, unit = ome_voxel_size(path) if fmt == "ZARR" else ((1.0, 1.0, 1.0), None)
    nodata = _zarr_nodata(path, array) if fmt == "ZARR" else None
    return VolumeInput(np.ascontiguousarray(data), str(fmt), voxel, unit, nodata)


def _zarr_nodata(path: str, array: Any) -> int | float | None:
    """The ``nodata`` (or ``_FillValue``) attribute of a Zarr array or of its group."""
    import zarr

    from ..streams.zarr_rows import declared_nodata

    node: Any = zarr.open(path, mode="r")
    return declared_nodata(array.attrs, node.attrs)


def _array(path: str, fmt: str | None) -> tuple[Any, str]:
    """The array at ``path``, opened lazily (a memory map, a Zarr array)."""
    if fmt == "NPY":
        try:
            return np.load(path, mmap_mode="r", allow_pickle=False), "the .npy"
        except (ValueError, OSError) as error:
            message = f"cannot read the .npy: {error}"
            raise InputError(message) from None
    if fmt == "ZARR":
        import zarr

        try:
            node: Any = zarr.open(path, mode="r")
        except Exception as error:  # noqa: BLE001 - zarr raises many kinds
            message = f"cannot open the Zarr store: {error}"
            raise InputError(message) from None
        if not isinstance(node, zarr.Array):
            if "0" not in node:
                message = "the Zarr group holds no array '0' (an OME-Zarr image's level 0)"
                raise InputError(message)
            node = node["0"]
        return node, "the Zarr array"
    message = (
        "a volume pyramid reads a TIFF Z stack, a .npy or a Zarr array (layouts "
        f"{_LAYOUTS}); this input is an image of one plane"
    )
    raise InputError(message)


def _layout(shape: tuple[int, ...], layout: str | None, name: str) -> str:
    chosen = layout or VOLUME_DEFAULT.get(len(shape))
    if chosen not in VOLUME_LAYOUTS or len(chosen) != len(shape):
        given = f"read as {layout}" if layout else "of no volume layout"
        message = (
            f"{name} (shape {'x'.join(map(str, shape))}) is {given}: a volume pyramid needs "
            f"`layout` {_LAYOUTS}"
        )
        raise InputError(message)
    if chosen == "ncdhw" and shape[0] != 1:
        message = f"{name} holds a batch of {shape[0]} volumes (ncdhw): a pyramid is of one volume"
        raise InputError(message)
    return chosen


def _channels_last_shape(shape: tuple[int, ...], layout: str) -> tuple[int, ...]:
    if layout == "ncdhw":
        shape, layout = shape[1:], "cdhw"
    if layout == "cdhw":
        return (*shape[1:], shape[0])
    return shape


def ome_voxel_size(path: str) -> tuple[tuple[float, float, float], str | None]:
    """(z, y, x) scale and unit of an OME-Zarr image's level 0 (1 where it has none)."""
    import zarr

    try:
        attrs: dict[str, Any] = dict(zarr.open_group(path, mode="r").attrs)
    except Exception:  # noqa: BLE001 - a bare array: no physical size
        return (1.0, 1.0, 1.0), None
    multiscales = attrs.get("multiscales") or attrs.get("ome", {}).get("multiscales") or [{}]
    axes = multiscales[0].get("axes", [])
    names = [a["name"] if isinstance(a, dict) else a for a in axes]
    scale = [1.0] * len(names)
    for transform in multiscales[0].get("datasets", [{}])[0].get("coordinateTransformations", []):
        if transform.get("type") == "scale" and len(transform["scale"]) == len(names):
            scale = [float(s) for s in transform["scale"]]
    voxel = tuple(scale[names.index(a)] if a in names else 1.0 for a in "zyx")
    units = {a.get("name"): a.get("unit") for a in axes if isinstance(a, dict)}
    return (voxel[0], voxel[1], voxel[2]), units.get("x")


def _unit(name: str | None) -> str | None:
    if not name or name in ("pixel", "pixels"):
        return None
    return NGFF_UNITS.get(name, name if re.fullmatch(r"[a-z]+meter", name) else None)
