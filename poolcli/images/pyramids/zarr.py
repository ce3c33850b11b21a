"""OME-Zarr pyramids: level ``k`` is the array ``"k"`` of one multiscales image.

NGFF 0.4 on Zarr v2 by default (``/``-separated chunk keys, as 0.4 asks), 0.5 on
Zarr v3 with ``zarr_format=3``. Axes ``yx``, or ``cyx`` for pixels with channels
(NGFF puts channels before space); chunks of ``tile`` x ``tile`` pixels, every
channel in one chunk, zstd. Each level's ``coordinateTransformations`` scale is
``2**k`` times the input's pixel size (1 where the input does not say): exactly the
level's stride, since every level-k pixel covers ``2**k`` level-0 pixels (the last,
partial one too: the scale is the grid's spacing, not the image's size ratio). Its
translation, ``(2**k - 1) / 2`` level-0 pixels, puts each pixel's centre (NGFF's
coordinates) at the centre of the pixels it pools, as ``poolcli pool`` places them.

Rows are written a whole chunk row at a time (``tile`` rows of a level), so no
chunk is ever written twice, by :class:`~..streams.zarr_chunks.ChunkWriter` (two
threads encoding, 2-3x faster than zarr-python's own chunk pipeline). Labels
(:func:`write_label_metadata`) live under the image's ``labels/NAME``, with the
``image-label`` metadata NGFF gives them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from ..streams.zarr_chunks import ChunkWriter
from ..streams.zarr_store import ome_attributes, set_nodata, zstd
from .handoff import Handoff


class ZarrPyramid:
    """The levels ``shapes`` ((H, W[, C]) each) of ``dtype`` as an OME-Zarr image at ``path``."""

    def __init__(
        self,
        path: str,
        shapes: list[tuple[int, ...]],
        dtype: np.dtype,
        *,
        tile: int,
        zarr_format: int,
        pixel_size: tuple[float, float] = (1.0, 1.0),
        unit: str | None = None,
        name: str | None = None,
        nodata: int | float | None = None,
    ) -> None:
        import zarr

        self.tile = tile
        self.channels = len(shapes[0]) == 3
        group = zarr.open_group(path, mode="w", zarr_format=zarr_format)  # type: ignore[arg-type]
        extra: dict[str, Any] = {}
        if zarr_format == 2:
            extra["chunk_key_encoding"] = {"name": "v2", "separator": "/"}
        self.arrays = []
        scales, translations = [], []
        for level, shape in enumerate(shapes):
            stored = (shape[2], shape[0], shape[1]) if self.channels else shape
            chunks = (shape[2], tile, tile) if self.channels else (tile, tile)
            self.arrays.append(
                group.create_array(
                    str(level),
                    shape=stored,
                    dtype=dtype,
                    chunks=chunks,
                    compressors=zstd(zarr_format),
                    fill_value=0,
                    **extra,
                )  # fmt: skip
            )
            factor = float(1 << level)
            space = [pixel_size[0] * factor, pixel_size[1] * factor]
            scales.append([1.0, *space] if self.channels else space)
            # pixel centres: a level-k pixel's is that of the 2**k level-0 pixels it covers
            shift = [pixel_size[0] * (factor - 1) / 2, pixel_size[1] * (factor - 1) / 2]
            translations.append([0.0, *shift] if self.channels else shift)
        for array in self.arrays:
            set_nodata(array, nodata)
        axes = "cyx" if self.channels else "yx"
        group.attrs.update(ome_attributes(axes, scales, zarr_format, unit=unit, name=name,
                                          translations=translations))  # fmt: skip
        self.group = group
        self._held: list[list[np.ndarray]] = [[] for _ in shapes]
        self._count = [0] * len(shapes)
        self._written = [0] * len(shapes)
        # chunks are encoded and stored on a writer thread, beside the pooling
        self._handoff = Handoff(self._store)

    def _store(self, items: Iterator[Any]) -> None:
        writers = [ChunkWriter(array) for array in self.arrays]
        try:
            for level, start, data in items:
                if self.channels:
                    writers[level].write((0, start, 0), np.moveaxis(data, -1, 0))
                else:
                    writers[level].write((start, 0), data)
        finally:
            for writer in writers:
                writer.close()

    def add(self, level: int, band: np.ndarray) -> None:
        """The next rows of ``level``."""
        self._held[level].append(band)
        self._count[level] += band.shape[0]
        if self._count[level] >= self.tile:
            self._flush(level, whole=True)

    def close(self) -> None:
        """Write what every level still holds (its last, shorter chunk row)."""
        try:
            for level in range(len(self.arrays)):
                self._flush(level, whole=False)
        except BaseException:
            self._handoff.abort()
            raise
        self._handoff.close()

    def abort(self) -> None:
        """Stop writing (the caller failed)."""
        self._handoff.abort()

    def _flush(self, level: int, *, whole: bool) -> None:
        held = self._held[level]
        if not held:
            return
        rows = np.concatenate(held) if len(held) > 1 else held[0]
        take = rows.shape[0] - rows.shape[0] % self.tile if whole else rows.shape[0]
        self._handoff.put((level, self._written[level], rows[:take]))
        self._written[level] += take
        rest = rows[take:]
        self._held[level] = [rest] if rest.shape[0] else []
        self._count[level] = rest.shape[0]


def write_label_metadata(image: str, name: str, zarr_format: int) -> None:
    """List label ``name`` in ``image``'s ``labels`` group (made if missing) and mark
    ``labels/name`` an image-label whose source is the image two levels up."""
    import zarr

    labels: Any = zarr.open_group(f"{image}/labels", mode="a", zarr_format=zarr_format)  # type: ignore[arg-type]
    label: Any = zarr.open_group(f"{image}/labels/{name}", mode="r+")
    marker = {"source": {"image": "../../"}}
    if zarr_format == 2:
        names = list(dict(labels.attrs).get("labels", []))
        labels.attrs["labels"] = [*dict.fromkeys([*names, name])]
        label.attrs["image-label"] = {"version": "0.4", **marker}
        return
    ome = dict(dict(labels.attrs).get("ome", {}))
    names = list(ome.get("labels", []))
    labels.attrs["ome"] = {"version": "0.5", **ome, "labels": [*dict.fromkeys([*names, name])]}
    attrs = dict(label.attrs)
    attrs["ome"] = {**attrs.get("ome", {}), "image-label": marker}
    label.attrs.update(attrs)
