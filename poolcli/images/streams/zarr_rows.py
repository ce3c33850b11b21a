"""Zarr and OME-Zarr arrays as row sources: level 0 of an OME-Zarr image, or one
array, with its layout (from OME axes, poolcli's ``layout`` attribute, or the shape),
its declared nodata and its OME transforms (see :mod:`.readers`)."""

from __future__ import annotations

from typing import Any

from ...errors import InputError
from ..georef import parse_nodata
from .rows import Facts, Rows, row_axis_of


def open_zarr(path: str, layout: str | None) -> tuple[Rows, Facts] | None:
    """A row source of the Zarr store ``path`` and its facts."""
    import zarr

    try:
        node: Any = zarr.open(path, mode="r")
    except (OSError, ValueError, KeyError, FileNotFoundError) as error:
        message = f"not a readable Zarr store: {error}"
        raise InputError(message) from None
    except Exception as error:  # zarr raises its own classes for a broken store
        message = f"not a readable Zarr store: {type(error).__name__}: {error}"
        raise InputError(message) from None
    axes, group_attrs, transforms = None, {}, None
    if isinstance(node, zarr.Group):
        attrs: dict[str, Any] = dict(node.attrs)
        group_attrs = attrs
        multiscales = attrs.get("multiscales") or attrs.get("ome", {}).get("multiscales")
        if not multiscales:
            message = "the Zarr store is a group with no `multiscales` image; name an array in it"
            raise InputError(message)
        first = multiscales[0]
        level_path = first["datasets"][0]["path"]
        axes = "".join(a["name"] if isinstance(a, dict) else a for a in first.get("axes", []))
        transforms = _ome_transforms(first)
        node = node[level_path]
    if node.ndim < 2:
        message = f"the Zarr array has {node.ndim} dims; poolcli pools 2 or more"
        raise InputError(message)
    if layout is None and axes:
        layout = _layout_of_axes(axes)
    if layout is None and isinstance(node.attrs.get("layout"), str):
        layout = node.attrs["layout"]  # as poolcli wrote it
    axis = row_axis_of(node.ndim, layout)
    chunk = node.chunks[axis] if node.chunks else 1
    nodata = declared_nodata(node.attrs, group_attrs)
    facts = Facts("ZARR", "array", axes=axes or None, nodata=nodata,
                  extra={"layout": layout, "path": path, "transforms": transforms})  # fmt: skip
    return Rows(node, row_axis=axis, chunk_rows=chunk), facts


def declared_nodata(*attributes: Any) -> int | float | None:
    """A ``nodata`` (or CF's ``_FillValue``) attribute of the array or its group."""
    for attrs in attributes:
        for name in ("nodata", "_FillValue"):
            value = attrs.get(name) if hasattr(attrs, "get") else None
            if isinstance(value, (int, float, str)) and not isinstance(value, bool):
                return parse_nodata(value)
    return None


def _ome_transforms(multiscale: dict[str, Any]) -> dict[str, Any] | None:
    """The units of an OME image's axes and level 0's scale and translation."""
    axes = multiscale.get("axes", [])
    result: dict[str, Any] = {
        "units": [a.get("unit") if isinstance(a, dict) else None for a in axes],
    }
    for transform in multiscale["datasets"][0].get("coordinateTransformations", []):
        if transform.get("type") in ("scale", "translation") and "path" not in transform:
            result[transform["type"]] = [float(v) for v in transform[transform["type"]]]
    return result


def _layout_of_axes(axes: str) -> str | None:
    """The poolcli layout of OME axis names: yx -> hw, cyx -> chw, tcyx -> nchw."""
    known = {"yx": "hw", "cyx": "chw", "yxc": "hwc", "tcyx": "nchw",
             "zyx": "dhw", "czyx": "cdhw", "tczyx": "ncdhw"}  # fmt: skip
    if axes.lower() in known:
        return known[axes.lower()]
    message = f"OME-Zarr axes {axes!r} are not 2 to 5 axes ending in y, x; name an array instead"
    raise InputError(message)
