"""Zarr outputs: arrays created for streamed rows, OME-Zarr metadata, nodata marks.

Chunks of 256 x 256 along a plane's axes (a volume's depth in runs of 64 slices),
zstd; OME-Zarr images as NGFF 0.5 on Zarr v3 or 0.4 on v2. Rows written a whole
chunk row at a time (:func:`write_zarr_bands`), so that no chunk is written twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from .writers import TILE
from .zarr_chunks import ChunkWriter


def zarr_format(save_options: Mapping[str, object]) -> int:
    """The Zarr version ``-O zarr_format=`` asks for (checked up front): 3 by default."""
    return int(str(save_options.get("zarr_format", 3)))


def create_zarr(
    path: str,
    shape: tuple[int, ...],
    dtype: np.dtype,
    row_axis: int,
    axes: str | None = None,
    layout: str | None = None,
    zarr_format: int = 3,
    *,
    transforms: Mapping[str, Any] | None = None,
    nodata: int | float | None = None,
    chunks: tuple[int, ...] | None = None,
) -> Any:
    """A new Zarr array at ``path`` (v3, or v2 with ``zarr_format=2``): ``chunks``, by
    default 256 along the two axes from ``row_axis`` and whole along the others; zstd.

    With OME ``axes`` (``"cyx"``) the folder is an OME-Zarr image (NGFF 0.5 on v3,
    0.4 on v2) whose level 0 is the array; ``transforms`` gives its axes' ``units``
    and its ``scale`` and ``translation`` (default: scale 1). ``nodata`` becomes the
    array's ``nodata`` attribute (``"NaN"`` for NaN, as JSON has no NaN).
    """
    import zarr

    if chunks is None:
        chunks = _default_chunks(shape, row_axis, layout)
    codecs = zstd(zarr_format)
    if axes is None:
        array = zarr.create_array(
            path,
            shape=shape,
            dtype=dtype,
            chunks=chunks,
            compressors=codecs,
            zarr_format=zarr_format,  # type: ignore[arg-type]
            overwrite=True,
        )
        if layout is not None:  # read back in the same layout (hwc for a colour image)
            array.attrs["layout"] = layout
        set_nodata(array, nodata)
        return array
    group = zarr.open_group(path, mode="w", zarr_format=zarr_format)  # type: ignore[arg-type]
    array = group.create_array("0", shape=shape, dtype=dtype, chunks=chunks, compressors=codecs)
    set_nodata(array, nodata)
    transforms = transforms or {}
    scale = list(transforms.get("scale") or [1.0] * len(axes))
    translation = transforms.get("translation")
    group.attrs.update(ome_attributes(
        axes, [scale], zarr_format, units=transforms.get("units"),
        translations=[translation] if translation and any(translation) else None,
    ))  # fmt: skip
    return array


def set_nodata(array: Any, nodata: int | float | None) -> None:
    """Mark a Zarr array's nodata value as poolcli and GDAL read it (``"NaN"`` for NaN)."""
    if nodata is not None:
        array.attrs["nodata"] = "NaN" if nodata != nodata else nodata


def zstd(zarr_format: int) -> Any:
    """The zstd compressor of poolcli's Zarr outputs, in the form ``zarr_format`` takes."""
    if zarr_format == 2:
        import numcodecs

        return numcodecs.Zstd(level=3)
    import zarr.codecs

    return zarr.codecs.ZstdCodec(level=3)


#: OME axis types by name.
_AXIS_TYPES = {"t": "time", "c": "channel", "z": "space", "y": "space", "x": "space"}


def ome_attributes(
    axes: str,
    scales: list[list[float]],
    zarr_format: int,
    *,
    unit: str | None = None,
    name: str | None = None,
    units: Sequence[str | None] | None = None,
    translations: list[list[float]] | None = None,
) -> dict[str, Any]:
    """The group attributes of an OME-Zarr image whose level ``k`` is the array ``"k"``
    at ``scales[k]`` (one factor per axis), translated by ``translations[k]`` when
    given: NGFF 0.5 on Zarr v3, 0.4 on v2.

    ``unit``: the unit of the space axes, when known; ``units``: one per axis instead.
    """
    described = []
    for i, a in enumerate(axes):
        axis: dict[str, Any] = {"name": a, "type": _AXIS_TYPES[a]}
        own = units[i] if units is not None and i < len(units) else None
        if own:
            axis["unit"] = own
        elif unit is not None and axis["type"] == "space":
            axis["unit"] = unit
        described.append(axis)
    datasets = []
    for k, s in enumerate(scales):
        placed: list[dict[str, Any]] = [{"type": "scale", "scale": s}]
        if translations is not None:
            placed.append({"type": "translation", "translation": translations[k]})
        datasets.append({"path": str(k), "coordinateTransformations": placed})
    image: dict[str, Any] = {"axes": described, "datasets": datasets}
    if name is not None:
        image["name"] = name
    if zarr_format == 2:  # NGFF 0.4: the metadata at the top of the attributes
        return {"multiscales": [{"version": "0.4", **image}]}
    return {"ome": {"version": "0.5", "multiscales": [image]}}


def _default_chunks(shape: tuple[int, ...], row_axis: int, layout: str | None) -> tuple:
    """256 x 256 along the plane's two axes (from ``row_axis``), whole along the others;
    a volume's depth in runs of 64 slices (a chunk of all of it would be the volume)."""
    from ...spec.arrays import VOLUME_LAYOUTS

    if layout in VOLUME_LAYOUTS:
        depth = VOLUME_LAYOUTS[layout][0][0]
        sides = {depth: 64, depth + 1: TILE, depth + 2: TILE}
        return tuple(min(sides.get(a, n), n) for a, n in enumerate(shape))
    return tuple(TILE if a in (row_axis, row_axis + 1) else n for a, n in enumerate(shape))


def write_zarr_whole(
    path: str,
    array: np.ndarray,
    row_axis: int = 0,
    layout: str | None = None,
    zarr_format: int = 3,
    nodata: int | float | None = None,
) -> None:
    """An array pooled in memory written as a Zarr store at ``path`` (``nodata``: its
    ``nodata`` attribute)."""
    create = create_zarr(path, array.shape, array.dtype, row_axis, layout=layout,
                         zarr_format=zarr_format, nodata=nodata)  # fmt: skip
    create[...] = array


def write_zarr_bands(
    array: Any, row_axis: int, bands: Iterable[np.ndarray], start: int = 0
) -> None:
    """Write ``bands``, in order, into ``array`` along ``row_axis`` from ``start``: whole
    chunks when each band's height is a multiple of the chunk rows (the last band
    excepted), so that no chunk is written twice (see :mod:`.zarr_chunks`)."""
    writer = ChunkWriter(array)
    try:
        for band in bands:
            corner = [0] * array.ndim
            corner[row_axis] = start
            writer.write(tuple(corner), band)
            start += band.shape[row_axis]
    finally:
        writer.close()
