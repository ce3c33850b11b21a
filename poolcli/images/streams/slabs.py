"""Volumes larger than memory: a .npy or Zarr volume pooled in slabs of depth slices.

A ``dhw`` or ``dhwc`` volume (depth outermost, as .npy stacks and Zarr volumes are
laid out) larger than half of ``--memory`` is pooled a slab at a time: each slab
reads the depth slices its output slices' windows need (a
:class:`~poolcli.pooling.streaming.RowPlan` along the depth, halo and ``repeat``
included), goes through the engine's ``band`` (so the result equals the whole
volume's byte for byte) and is written as it comes: .npy (its rows are depth
slices), Zarr (chunks of a few slices by 256 x 256, each written once) or a
multi-page TIFF (a page per slice). Other layouts (channels first: every slab would
be a strided read) and other outputs are pooled whole.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import TYPE_CHECKING, Any, BinaryIO

import numpy as np

from ...pooling.streaming import RowPlan, stream
from ...spec.arrays import VOLUME_DEFAULT
from ...spec.settings import PoolSettings
from ..arrays.files import _check_size
from ..arrays.layouts import LaidOut
from ..arrays.route import cast
from ..arrays.volumes import pool_laid, z_stack_options
from ..requests import ReadOptions, Report, WriteOptions, resolve_nodata
from ..voxels import ome_zarr_voxel
from . import writers, zarr_store
from .output import placed_transforms
from .readers import Facts, open_rows
from .tiff_stack import TiffStack

if TYPE_CHECKING:
    from ..voxels import Voxel

#: Layouts whose depth is the outermost axis: slabs are contiguous reads.
_SLABBED = ("dhw", "dhwc")
#: Most depth slices in one Zarr chunk.
_CHUNK_DEPTH = 64


def stream_volume(path: str, input_format: str, target: BinaryIO | str,
                  settings: PoolSettings, write: WriteOptions, read: ReadOptions,
                  notes: list[str], *, voxel: Voxel | None = None) -> Report | None:  # fmt: skip
    """Pool the volume at ``path`` into ``target`` in slabs; None when it is better
    pooled whole (small, a layout with depth inside, an output that does not stream).
    ``voxel``: the input's voxel size, written (times the strides) into a TIFF output."""
    if input_format not in ("NPY", "ZARR", "TIFF") or write.format not in ("NPY", "ZARR", "TIFF"):
        return None
    opened = _opened(path, input_format, read)
    if opened is None:
        return None
    source, facts, layout = opened
    if voxel is None and facts.format == "ZARR":  # an OME-Zarr's scale
        voxel = ome_zarr_voxel(facts.axes, facts.extra.get("transforms"))
    settings = resolve_nodata(settings, facts.nodata, notes)  # a Zarr's own, unless given
    with source:
        shape, dtype = tuple(source.shape), np.dtype(source.dtype)
        if math.prod(shape) * dtype.itemsize <= read.memory // 2:
            return None
        _check_size(shape, layout, read.max_pixels, "")
        slabs = _Slabs(source, facts, layout, settings, write, read)
        if write.format == "NPY":
            assert not isinstance(target, str)
            writers.write_npy(target, slabs.shape, slabs.dtype, slabs.bands(), 0)
        elif write.format == "ZARR":
            assert isinstance(target, str)
            slabs.write_zarr(target)
        else:
            assert not isinstance(target, str)
            slabs.write_tiff(target, voxel, notes)
        return slabs.report(facts.format, notes)


def _opened(path: str, input_format: str, read: ReadOptions) -> tuple[Any, Facts, str] | None:
    """The volume's row source along depth, its facts and layout; None when its
    depth is not the outermost axis (or a TIFF's pages are not one slice each)."""
    if input_format == "TIFF":
        stack = TiffStack.open(path)
        return None if stack is None else (stack, Facts("TIFF", "array"), stack.layout)
    layout = read.layout
    if layout is None:
        opened = open_rows(path, input_format, None)
        if opened is None:
            return None
        source, facts = opened
        with source:
            layout = facts.extra.get("layout") or VOLUME_DEFAULT.get(len(source.shape))
    if layout not in _SLABBED:
        return None
    opened = open_rows(path, input_format, layout)
    return None if opened is None else (*opened, layout)


class _Slabs:
    """One volume pooled slab by slab: its depth plan, slab height, output shape, dtype."""

    def __init__(self, source: Any, facts: Facts, layout: str, settings: PoolSettings,
                 write: WriteOptions, read: ReadOptions) -> None:  # fmt: skip
        self.source, self.layout, self.settings, self.write = source, layout, settings, write
        self.facts = facts
        depth, height, width = source.shape[:3]
        self.in_size = (width, height, depth)
        self.out_size = settings.planned_volume(width, height, depth)  # worded errors first
        self.plan = RowPlan.of_depth(settings, depth)
        self.slice_bytes = math.prod(source.shape[1:]) * np.dtype(source.dtype).itemsize
        rows = self.plan.rows_per_band(self.slice_bytes, read.memory // 4)
        self.chunk_depth = min(_CHUNK_DEPTH, rows)
        self.rows = rows - rows % self.chunk_depth
        bands, first, stop = self.plan.bands(0, 1)  # one output slice tells the dtype
        self.dtype = self._pooled(source.rows(first, stop), bands).dtype
        w, h, d = self.out_size
        self.shape = (d, h, w, *source.shape[3:])

    def _pooled(self, slab: np.ndarray, bands: Any) -> np.ndarray:
        pooled = pool_laid(LaidOut(slab, self.layout), replace(self.settings, bands=bands))
        return cast(pooled, self.write.dtype)

    def bands(self) -> Any:
        """The output's depth slices, a slab at a time, in order."""
        return stream(self.source, self.plan, self._pooled, self.rows)

    def write_zarr(self, path: str) -> None:
        chunks = (self.chunk_depth, *(min(writers.TILE, n) for n in self.shape[1:3]),
                  *self.shape[3:])  # fmt: skip
        axes = self.facts.axes if self.facts.format == "ZARR" else None
        transforms = None
        if axes is not None:  # an OME-Zarr volume stays one, its voxel sizes scaled
            placement = self.settings.volume_placement(*self.in_size)
            transforms = placed_transforms(self.facts.extra.get("transforms"), axes, placement)
        array = zarr_store.create_zarr(
            path, self.shape, self.dtype, 0, axes, self.layout, chunks=chunks,
            zarr_format=zarr_store.zarr_format(self.write.save_options), transforms=transforms,
            nodata=self.settings.nodata_value,
        )  # fmt: skip
        slabs = writers.regroup(self.bands(), self.chunk_depth, axis=0)
        zarr_store.write_zarr_bands(array, 0, slabs)

    def write_tiff(self, stream_out: BinaryIO, voxel: Voxel | None, notes: list[str]) -> None:
        import tifffile

        dtype = np.dtype(np.uint8) if self.dtype == bool else self.dtype
        pages = (page.view(dtype) for slab in self.bands() for page in slab)
        if voxel is not None:  # the output grid's spacing, as an OME-Zarr's scale
            voxel = voxel.scaled(self.settings.volume_placement(*self.in_size))
        options = z_stack_options(self.shape, dtype, self.write.save_options, voxel=voxel,
                                  ome=self.write.ome_name, notes=notes,
                                  nodata=self.settings.nodata_value)  # fmt: skip
        tifffile.imwrite(stream_out, data=pages, shape=self.shape, dtype=dtype, **options)

    def report(self, input_format: str, notes: list[str]) -> Report:
        spread = max(1, -(-self.plan.height // self.plan.out_rows))
        megabytes = self.rows * self.slice_bytes * spread
        return Report(
            input_format, self.in_size, self.out_size, 1, tuple(notes),
            streamed=f"in slabs of {self.rows} depth slice{'s' if self.rows > 1 else ''} "
            f"(about {megabytes / 2**20:.0f} MB read each)",
        )  # fmt: skip
