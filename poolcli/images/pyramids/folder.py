"""A folder of levels: ``DIR/0.png``, ``DIR/1.png``, ... one file per level.

PNG (the default), TIFF and .npy levels are written by the streamed writers of
:mod:`..streams.writers`, each on its own thread fed a band at a time
(:mod:`.handoff`), so every level streams; other formats Pillow writes (JPEG,
WebP...) are held whole per level and saved by Pillow at the end, so they cost
the level's pixels in memory (level 0's above all).

TIFF levels carry a GeoTIFF's georeferencing, each placed for its level as ``pool``
places a pooling of level 0 (:func:`.tags.file_extratags`), and the nodata in effect
as GDAL_NODATA; the other formats hold neither, and a note says so.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from ...errors import InputError
from ..georef import unkept_note
from ..requests import add_note
from ..streams import writers
from .dzi import tile_format_of
from .handoff import Handoff
from .source import LevelInput
from .tags import Placement, file_extratags

_STREAMED = ("PNG", "TIFF", "NPY")


class FolderPyramid:
    """The levels ``shapes`` as one file each in the folder ``path``; ``placements``:
    where each level's pixels lie on level 0 (:meth:`PoolSettings.placement`)."""

    def __init__(
        self,
        path: str,
        shapes: list[tuple[int, ...]],
        dtype: np.dtype,
        level0: LevelInput,
        *,
        tile_format: str | None,
        save_options: Mapping[str, object],
        notes: list[str],
        placements: Sequence[Placement],
    ) -> None:
        self.format, extension = _format(level0, dtype, tile_format)
        self.shapes, self.dtype, self.facts_in = shapes, np.dtype(dtype), level0.facts
        self.placements = placements
        if self.format != "TIFF":
            lost = unkept_note(f"a .{extension} level", level0.facts.georef, nodata=True)
            if lost is not None:
                add_note(notes, lost)
        self.save = {k: v for k, v in save_options.items() if k != "zarr_format"}
        self.names = [os.path.join(path, f"{k}.{extension}") for k in range(len(shapes))]
        self._files: list[Any] = []
        self._handoffs: list[Handoff] = []
        self._whole: list[list[np.ndarray]] = [[] for _ in shapes]
        if self.format in _STREAMED:
            if self.format == "PNG" and (dtype not in (np.uint8, np.uint16)
                                         or level0.channels > 4):  # fmt: skip
                message = f"PNG levels hold 8- or 16-bit pixels, not {dtype}: use --format tif"
                raise InputError(message)
            for level in range(len(shapes)):
                file = open(self.names[level], "wb")  # noqa: SIM115 - closed by close/abort
                self._files.append(file)
                self._handoffs.append(Handoff(self._writer(level, file)))

    def _writer(self, level: int, file: Any) -> Any:
        shape, dtype = self.shapes[level], self.dtype
        dpi = self.facts_in.dpi
        if dpi is not None:
            dpi = (dpi[0] / (1 << level), dpi[1] / (1 << level))
        icc = self.facts_in.icc_profile

        def write(bands: Iterator[np.ndarray]) -> None:
            if self.format == "PNG":
                writers.write_png(file, shape, dtype, bands, dpi=dpi, icc_profile=icc)
            elif self.format == "NPY":
                writers.write_npy(file, shape, dtype, bands)
            else:
                facts = self.facts_in
                tags = file_extratags(facts, self.placements[level])
                writers.write_tiff(file, shape, dtype, bands, dpi=dpi, icc_profile=icc,
                                   photometric=facts.photometric_for(shape),
                                   extrasamples=facts.extrasamples, extratags=tags,
                                   xmp=facts.xmp)  # fmt: skip

        return write

    def add(self, level: int, band: np.ndarray) -> None:
        """The next rows of ``level``."""
        if self._handoffs:
            self._handoffs[level].put(band)
        else:
            self._whole[level].append(band)

    def close(self) -> None:
        """Finish every level's file."""
        try:
            for handoff in self._handoffs:
                handoff.close()
        finally:
            for file in self._files:
                file.close()
        if not self._handoffs:
            self._save_whole()

    def abort(self) -> None:
        for handoff in self._handoffs:
            handoff.abort()
        for file in self._files:
            file.close()

    def _save_whole(self) -> None:
        from PIL import Image

        for level, bands in enumerate(self._whole):
            pixels = np.concatenate(bands)
            if pixels.ndim == 3 and pixels.shape[2] == 1:
                pixels = pixels[..., 0]
            self._whole[level] = []
            with open(self.names[level], "wb") as file:
                Image.fromarray(pixels).save(file, self.format, **self.save)


def _format(level0: LevelInput, dtype: np.dtype, asked: str | None) -> tuple[str, str]:
    if asked is None:
        return ("PNG", "png") if dtype in (np.uint8, np.uint16) else ("TIFF", "tif")
    if asked.lower().lstrip(".") == "npy":
        return "NPY", "npy"
    return tile_format_of(level0.record, dtype, asked)
