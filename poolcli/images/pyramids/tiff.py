"""TIFF pyramids: reduced-resolution pages in the main chain, or OME-TIFF SubIFDs.

``.tif``: a tiled (Big)TIFF whose first page is level 0 and whose next pages are
levels 1, 2, ..., each marked reduced-resolution (NewSubfileType 1): the layout of
GDAL's internal overviews, COGs and libvips, so GDAL reads them as overviews 2, 4,
8, .... ``.ome.tif``: an OME-TIFF whose one page is level 0, with OME-XML, and the
other levels as its SubIFDs (the layout of Bio-Formats and QuPath).

A TIFF is written in order, level 0's page first, while the level maker makes all
levels at once: level 0's tiles go to tifffile as they come (on a writer thread,
see :mod:`.handoff`), and the other levels' rows, a third of level 0's pixels in
all, wait in temporary files until level 0 is done; then they are read back a
band at a time. Memory stays a few bands; the disk holds the reduced levels once
more for a while.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from typing import Any, BinaryIO

import numpy as np

from ..streams import writers
from ..streams.rows import Facts
from ..voxels import ome_unit
from .handoff import Handoff
from .tags import level_extratags


class TiffPyramid:
    """The levels ``shapes`` of ``dtype`` written to ``stream`` as one TIFF."""

    def __init__(
        self,
        stream: BinaryIO,
        shapes: list[tuple[int, ...]],
        dtype: np.dtype,
        *,
        tile: int,
        facts: Facts,
        photometric: str,
        compression: str | None,
        predictor: bool,
        ome: bool = False,
        pixel_size: tuple[float, float] = (1.0, 1.0),
        unit: str | None = None,
        spill_dir: str | None = None,
    ) -> None:
        self.stream, self.shapes, self.dtype, self.tile = stream, shapes, np.dtype(dtype), tile
        self.facts, self.ome = facts, ome
        self.pixel_size, self.unit = pixel_size, unit
        self.options: dict[str, Any] = dict(
            photometric=photometric, compression=compression, predictor=predictor
        )
        self._spills = [tempfile.TemporaryFile(dir=spill_dir) for _ in shapes[1:]]
        self._handoff = Handoff(self._write)

    def add(self, level: int, band: np.ndarray) -> None:
        """The next rows of ``level``."""
        if level == 0:
            self._handoff.put(band)
        else:
            # a 1-D view: file writes count a many-dimensional buffer by its first axis
            self._spills[level - 1].write(np.ascontiguousarray(band, self.dtype).data.cast("B"))

    def close(self) -> None:
        """Finish the file: level 0's last tiles, then the other levels' pages."""
        try:
            self._handoff.close()
        finally:
            self._drop()

    def abort(self) -> None:
        """Stop writing (the caller failed); the temporary files go."""
        self._handoff.abort()
        self._drop()

    def _drop(self) -> None:
        for spill in self._spills:
            spill.close()

    def _page(self, level: int) -> dict[str, Any]:
        shape = self.shapes[level]
        dpi = self.facts.dpi
        if dpi is not None:
            dpi = (dpi[0] / (1 << level), dpi[1] / (1 << level))
        icc = self.facts.icc_profile
        options = writers.tiff_options(shape, self.dtype, dpi=dpi, icc_profile=icc,
                                       tile=self.tile, extrasamples=self.facts.extrasamples,
                                       **self.options)  # fmt: skip
        samples = shape[2] if len(shape) == 3 else 1
        options["planarconfig"] = "contig" if samples > 1 else None
        options["extratags"] = level_extratags(self.facts, level, shape)
        if level == 0:  # the image's XMP, once (as its GeoTIFF tags)
            options["extratags"] += writers.xmp_tags(self.facts.xmp)
        if level:
            options["subfiletype"] = 1  # reduced-resolution
        return options

    def _write(self, bands: Iterator[np.ndarray]) -> None:
        import tifffile

        size = sum(int(np.prod(s)) for s in self.shapes) * self.dtype.itemsize
        first = self._page(0)
        if self.ome:
            axes = "YXS" if len(self.shapes[0]) == 3 else "YX"
            described: dict[str, Any] = {"axes": axes}
            symbol = ome_unit(self.unit)  # OME-XML's symbol of the NGFF unit name
            if symbol is not None:
                y, x = self.pixel_size
                described.update(PhysicalSizeY=y, PhysicalSizeX=x)
                described.update(PhysicalSizeYUnit=symbol, PhysicalSizeXUnit=symbol)
            metadata: dict[str, Any] | None = described
            first["subifds"] = len(self.shapes) - 1
        else:
            metadata = None
        with (
            writers.short_writes(),
            tifffile.TiffWriter(
                self.stream, bigtiff=size > writers.BIGTIFF_BYTES, ome=self.ome
            ) as tif,
        ):
            tif.write(writers.tiles(self.shapes[0], bands, self.tile), metadata=metadata,
                      **first)  # fmt: skip
            # tifffile stops at level 0's last tile; the other levels' last rows may
            # still be on their way into the temporary files until the bands end
            for _ in bands:
                pass
            for level in range(1, len(self.shapes)):
                tiles = writers.tiles(self.shapes[level], self._spilled(level), self.tile)
                tif.write(tiles, metadata=None if not self.ome else {}, **self._page(level))

    def _spilled(self, level: int) -> Iterator[np.ndarray]:
        """Level ``level``'s rows back from its temporary file, ``tile`` rows at a time."""
        shape = self.shapes[level]
        spill = self._spills[level - 1]
        spill.seek(0)
        row = int(np.prod(shape[1:]))
        for start in range(0, shape[0], self.tile):
            count = min(self.tile, shape[0] - start)
            data = np.fromfile(spill, self.dtype, count * row)
            if data.size != count * row:
                message = f"a temporary file of level {level} came back short"
                raise OSError(message)
            yield data.reshape((count, *shape[1:]))
