"""The output side of a streamed pooling: which writer takes the bands, and what it keeps.

:class:`Output` is planned from the input's header facts and the output format
(None when they do not stream together); it picks the engine route the bands go
through (the image policy or an array layout) and writes the pooled bands with the
input's compression, DPI, ICC profile, GeoTIFF tags and OME pixel sizes, moved to
where the output pixels lie (:meth:`poolcli.spec.settings.PoolSettings.placement`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, BinaryIO

import numpy as np

from ...spec.settings import PoolSettings
from ..arrays import files
from ..arrays.layouts import LaidOut, pick_layout
from ..arrays.route import _pool_laid_out
from ..engine_route.passes import pool_all
from ..engine_route.route import pool_channels
from ..formats import record_of
from ..georef import pooled_tags
from ..modes import array_mode, image_mode
from ..requests import ReadOptions, WriteOptions
from . import writers, zarr_store
from .rows import Facts

Compute = Callable[[np.ndarray, PoolSettings], np.ndarray]
#: ((scale, offset) along x, along y[, along z]): see :meth:`PoolSettings.placement`
#: (and ``depth_placement`` for a volume's z).
Placement = tuple[tuple[float, float], ...]


class Output:
    """How the bands of one input are pooled and written in one output format."""

    def __init__(
        self, kind: str, write: WriteOptions, facts: Facts, layout: str | None, record: Any
    ) -> None:
        self.kind, self.format, self.facts, self.layout, self.record = (
            kind,
            write.format,
            facts,
            layout,
            record,
        )
        self.save_options = write.save_options

    @classmethod
    def plan(
        cls,
        shape: tuple[int, ...],
        dtype: np.dtype,
        row_axis: int,
        facts: Facts,
        write: WriteOptions,
        read: ReadOptions,
    ) -> Output | None:
        """The plan for this input and output, or None when they do not stream together."""
        fmt = write.format
        if not record_of(fmt).streams_out:
            return None
        asked = write.save_options.get("compression")
        if fmt == "TIFF" and asked is not None and asked not in writers.PILLOW_NAMES:
            return None  # a bilevel or WebP compression: Pillow's writer, whole
        if facts.kind == "image":
            channels = shape[2] if len(shape) == 3 else 1
            record = array_mode(str(dtype), channels, alpha=facts.alpha)
            if fmt == "PNG" and (dtype not in (np.uint8, np.uint16) or channels > 4):
                return None
            return cls("image", write, facts, None, record)  # (--dtype is for arrays only)
        layout = read.layout or facts.extra.get("layout") or pick_layout(shape, None)
        if fmt in ("PNG", "TIFF"):
            if layout not in ("hw", "hwc", "chw"):
                return None
            channels = 1 if layout == "hw" else shape[2 if layout == "hwc" else 0]
            out_dtype = np.dtype(write.dtype) if write.dtype else dtype
            if image_mode(str(out_dtype), channels) is None or channels > 4:
                return None
            if fmt == "PNG" and out_dtype not in (np.uint8, np.uint16):
                return None
        return cls("array", write, facts, layout, None)

    def compute(self, settings: PoolSettings, notes: list[str]) -> Compute:
        if self.kind == "image":
            record = self.record
            if record is not None and record.poolable:
                # a sum into an array keeps its integers; into a GeoTIFF too (a raster's
                # sums are measurements, and GDAL reads 64-bit integer samples)
                wide = record_of(self.format).array or (
                    self.format == "TIFF" and self.facts.georef is not None
                )
                return lambda slab, s: pool_channels(slab, record, s, notes, wide=wide)
            # past four samples a pixel: a raster's bands, each pooled (mode too) on its own
            return lambda slab, s: pool_all(slab, s)
        layout = self.layout
        assert layout is not None
        return lambda slab, s: _pool_laid_out(LaidOut(slab, layout), s)

    @property
    def row_axis(self) -> int:
        return 0 if self.kind == "image" else _layout_row_axis(self.layout)

    def create_zarr(
        self,
        path: str,
        shape: tuple[int, ...],
        dtype: np.dtype,
        placement: Placement,
        nodata: int | float | None,
    ) -> Any:
        """The Zarr array of this output: OME-Zarr when the input was, in the input's
        layout, its pixel sizes scaled by ``placement``."""
        axes = self.facts.axes if self.facts.format == "ZARR" else None
        layout = self.layout if self.kind == "array" else ("hwc" if len(shape) == 3 else "hw")
        version = zarr_store.zarr_format(self.save_options)
        transforms = None
        if axes is not None:
            transforms = placed_transforms(self.facts.extra.get("transforms"), axes, placement)
        return zarr_store.create_zarr(path, shape, dtype, self.row_axis, axes, layout, version,
                                   transforms=transforms, nodata=nodata)  # fmt: skip

    def fill_zarr(self, array: Any, start: int, bands: Any) -> None:
        """Write ``bands`` into ``array`` from output row ``start``, a chunk row at a time."""
        regrouped = writers.regroup(bands, writers.TILE, axis=self.row_axis)
        zarr_store.write_zarr_bands(array, self.row_axis, regrouped, start)

    def write(
        self,
        target: BinaryIO | str,
        shape: tuple[int, ...],
        dtype: np.dtype,
        bands: Any,
        placement: Placement,
        nodata: int | float | None,
    ) -> None:
        """Write the pooled ``bands`` (``shape``, ``dtype``) to ``target``; ``placement``
        and ``nodata`` say where the pixels lie and what marks no data (GeoTIFF tags,
        DPI, OME pixel sizes)."""
        facts = self.facts
        (scale_x, _), (scale_y, _) = placement[:2]
        dpi = None if facts.dpi is None else (facts.dpi[0] / scale_x, facts.dpi[1] / scale_y)
        row_axis = 0 if self.kind == "image" else _layout_row_axis(self.layout)
        if self.format == "ZARR":
            assert isinstance(target, str)
            self.fill_zarr(self.create_zarr(target, shape, dtype, placement, nodata), 0, bands)
            return
        assert not isinstance(target, str)
        if self.format == "NPY":
            writers.write_npy(target, shape, dtype, bands, row_axis)
            return
        if self.format == "NPZ":  # one array, its bands joined (np.load reads it whole)
            files.write(target, {"": np.concatenate(list(bands), axis=row_axis)}, npz=True)
            return
        if self.kind == "array":  # an image from an array: channels last
            bands = (_channels_last(b, self.layout) for b in bands)
            shape = _channels_last_shape(shape, self.layout)
        if self.format == "PNG":
            writers.write_png(target, shape, dtype, bands, dpi=dpi, icc_profile=facts.icc_profile)
            return
        photometric = facts.photometric_for(shape)
        kept = facts.compression if facts.format == "TIFF" else None
        compression = writers.asked_compression(self.save_options, kept)
        georef = pooled_tags(facts.georef, (placement[0], placement[1]), nodata)
        writers.write_tiff(
            target,
            shape,
            dtype,
            bands,
            photometric=photometric,
            compression=compression,
            predictor=bool(facts.predictor and facts.predictor > 1),
            dpi=dpi,
            icc_profile=facts.icc_profile,
            xmp=facts.xmp,
            extratags=georef.extratags() if georef is not None else (),
            ome=_scaled_sizes(facts.extra.get("ome"), placement),
            extrasamples=facts.extrasamples,
        )


def placed_transforms(
    transforms: dict[str, Any] | None, axes: str, placement: Placement
) -> dict[str, Any]:
    """OME ``transforms`` of the output: x, y (and a volume's z) scaled by the stride,
    translated so that each pixel centre (OME's coordinates) is its window's centre."""
    transforms = transforms or {}
    scale = list(transforms.get("scale") or [1.0] * len(axes))
    translation = list(transforms.get("translation") or [0.0] * len(axes))
    for name, (step, offset) in zip("xyz", placement, strict=False):
        if name in axes:
            i = axes.index(name)
            translation[i] += scale[i] * (offset + step / 2 - 0.5)
            scale[i] *= step
    return {"units": transforms.get("units"), "scale": scale, "translation": translation}


def _scaled_sizes(sizes: dict[str, Any] | None, placement: Placement) -> dict[str, Any] | None:
    """An OME-TIFF's physical pixel sizes times the pixels each output pixel spans."""
    if sizes is None:
        return None
    scaled = dict(sizes)
    for name, (step, _) in zip("XY", placement[:2], strict=True):
        if f"PhysicalSize{name}" in scaled:
            scaled[f"PhysicalSize{name}"] = float(scaled[f"PhysicalSize{name}"]) * step
    return scaled


def _layout_row_axis(layout: str | None) -> int:
    from ...spec.arrays import ALL_LAYOUTS

    assert layout is not None
    return ALL_LAYOUTS[layout][0][0]


def _channels_last(band: np.ndarray, layout: str | None) -> np.ndarray:
    return np.moveaxis(band, 0, -1) if layout == "chw" else band


def _channels_last_shape(shape: tuple[int, ...], layout: str | None) -> tuple[int, ...]:
    return shape[1:] + shape[:1] if layout == "chw" else shape
