"""How a streamable file is stored, for ``poolcli info`` and the bomb check: bytes on
disk; a TIFF's tiles or strips, compression and levels; a Zarr's chunks and codecs."""

from __future__ import annotations

import contextlib
import os
from typing import Any


def stored_bytes(path: str) -> int:
    """Bytes a file or a folder (a Zarr store) takes on disk."""
    if not os.path.isdir(path):
        return os.path.getsize(path)
    total = 0
    for root, _, names in os.walk(path):
        for name in names:
            with contextlib.suppress(OSError):
                total += os.path.getsize(os.path.join(root, name))
    return total


def storage(path: str, fmt: str) -> dict[str, Any]:
    """How a TIFF or Zarr input is stored, from its headers only (for ``poolcli info``):
    tiles or strips, compression, BigTIFF, pages and pyramid levels, an internal mask
    (:mod:`..tiff_mask`); Zarr chunks,
    shards, codecs, format version, OME axes and levels."""
    if fmt == "TIFF":
        return _tiff_storage(path)
    if fmt == "ZARR":
        return _zarr_storage(path)
    return {}


def _tiff_storage(path: str) -> dict[str, Any]:
    import tifffile

    from ..tiff_mask import mask_pages

    with tifffile.TiffFile(path) as tif:
        page: Any = tif.pages.first
        series = tif.series[0]
        facts: dict[str, Any] = {
            "layout": "tiled" if page.is_tiled else "striped",
            "compression": getattr(page.compression, "name", str(page.compression)),
            "bigtiff": tif.is_bigtiff,
            "pages": len(tif.pages),
            "levels": len(series.levels),
            "shape": list(series.levels[0].shape),
            "dtype": str(series.dtype),
        }
        if page.is_tiled:
            facts["tile"] = [page.tilewidth, page.tilelength]
        else:
            facts["rows_per_strip"] = page.rowsperstrip
        if tif.is_ome:
            facts["ome"] = True
        if 0 in mask_pages(tif):  # GDAL_TIFF_INTERNAL_MASK: pooled as alpha
            facts["internal_mask"] = "1-bit (pooled as alpha)"
    return facts


def _zarr_storage(path: str) -> dict[str, Any]:
    from .readers import open_rows

    opened = open_rows(path, "ZARR")
    assert opened is not None
    rows, facts = opened
    array = rows.array
    node: Any = array
    result: dict[str, Any] = {
        "zarr_format": int(node.metadata.zarr_format),
        "shape": list(node.shape),
        "dtype": str(node.dtype),
        "chunks": list(node.chunks),
    }
    shards = getattr(node, "shards", None)
    if shards:
        result["shards"] = list(shards)
    codecs = [type(c).__name__ for c in getattr(node, "compressors", ()) or ()]
    result["compressors"] = codecs
    if facts.axes:
        import zarr

        group: Any = zarr.open_group(path, mode="r")
        attrs = dict(group.attrs)
        multiscales = attrs.get("multiscales") or attrs.get("ome", {}).get("multiscales")
        result.update(axes=facts.axes, levels=len(multiscales[0]["datasets"]))
    return result


def raster(path: str, fmt: str) -> dict[str, Any]:
    """Where a raster's pixels lie and what marks no data: a GeoTIFF's ``crs``
    (``EPSG:32633`` or its name) and GDAL ``geotransform``, the file's ``nodata``;
    an OME-Zarr's level-0 ``scale`` (and units). Empty when it says none of these."""
    from .readers import open_rows

    opened = open_rows(path, fmt)
    if opened is None:
        if fmt == "TIFF":  # read whole by Pillow (several pages...): its first page's tags
            return _tiff_raster(path)
        return {}
    rows, facts = opened
    with rows:
        found: dict[str, Any] = {}
        if facts.georef is not None:
            found.update(crs=facts.georef.crs(), geotransform=facts.georef.geotransform())
        transforms = facts.extra.get("transforms") or {}
        if transforms.get("scale") and facts.axes:
            found["scale"] = dict(zip(facts.axes, transforms["scale"], strict=False))
            units = {a: u for a, u in zip(facts.axes, transforms.get("units") or [], strict=False)}
            if any(units.values()):
                found["units"] = {a: u for a, u in units.items() if u}
        if facts.nodata is not None:
            found["nodata"] = facts.nodata
        return {k: v for k, v in found.items() if v is not None}


def _tiff_raster(path: str) -> dict[str, Any]:
    import tifffile

    from ..georef import Georef

    with tifffile.TiffFile(path) as tif:
        georef = Georef.of_page(tif.pages.first)
    if georef is None:
        return {}
    found = {"crs": georef.crs(), "geotransform": georef.geotransform(), "nodata": georef.nodata}
    return {k: v for k, v in found.items() if v is not None}
