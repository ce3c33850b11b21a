"""Deep Zoom pyramids: ``NAME.dzi`` and ``NAME_files/LEVEL/COL_ROW.EXT``.

Deep Zoom numbers levels from 1x1 (level 0) up to the full image (level
``ceil(log2(max(w, h)))``); each level is the one above halved with ceil, which is
poolcli's level ``k`` counted from the other end. A level is cut into tiles of
``tile`` pixels, each grown by ``overlap`` pixels on every side that has a
neighbour, as OpenSeadragon's ``DziTileSource`` reads them: tile ``(col, row)``
spans x from ``col * tile - (overlap if col else 0)`` to
``min((col + 1) * tile + overlap, width)``, and y likewise.

Tiles are JPEG (``quality`` 90 unless ``-O quality=``) for 8-bit grey and RGB
pixels, PNG for pixels with alpha or 16 bits, or the format asked; they are
encoded on a small thread pool as each row of tiles is complete, so a level
holds about ``tile + 2 * overlap`` of its rows.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, BinaryIO
from xml.sax.saxutils import quoteattr

import numpy as np

from ...errors import InputError, ParameterError
from ..formats import format_named
from ..modes import Mode

#: Tiles being encoded at once, at most (their pixels are held until written).
_PENDING = 64


def tile_format_of(record: Mode | None, dtype: np.dtype, asked: str | None) -> tuple[str, str]:
    """(Pillow format, file extension) of the tiles: ``asked``, else JPEG or PNG."""
    if asked is not None:
        found = format_named(asked)
        if found is None or not found.extensions:
            message = f"unknown tile `format` {asked!r}; try png or jpg"
            raise ParameterError(message, parameter="format", value=asked)
        return found.name, found.extensions[0].lstrip(".")
    if dtype == np.uint8 and record is not None and not record.alpha:
        return "JPEG", "jpeg"
    return "PNG", "png"


class DziPyramid:
    """The levels ``shapes`` written as Deep Zoom tiles into the folder ``path``
    (``NAME_files``); :attr:`facts` then describes it for :func:`write_descriptor`."""

    def __init__(
        self,
        path: str,
        shapes: list[tuple[int, ...]],
        dtype: np.dtype,
        record: Mode | None,
        *,
        tile: int,
        overlap: int,
        tile_format: str | None,
        save_options: Mapping[str, object],
        notes: list[str],
    ) -> None:
        if dtype not in (np.uint8, np.uint16) or (len(shapes[0]) == 3 and shapes[0][2] > 4):
            message = f"Deep Zoom tiles hold 8- or 16-bit grey or colour pixels, not {dtype}"
            raise InputError(message)
        self.path, self.shapes, self.tile, self.overlap = path, shapes, tile, overlap
        self.format, self.extension = tile_format_of(record, dtype, tile_format)
        if self.format == "JPEG" and dtype != np.uint8:
            message = "JPEG tiles hold 8-bit pixels: use --format png"
            raise InputError(message)
        self.save = {k: v for k, v in save_options.items() if k != "zarr_format"}
        if self.format == "JPEG":
            self.save.setdefault("quality", 90)
        self.mode = _pillow_mode(shapes[0], dtype)
        self.top = len(shapes) - 1
        self._held: list[np.ndarray | None] = [None] * len(shapes)
        self._first = [0] * len(shapes)  # the level row _held[level][0] is
        self._next_row = [0] * len(shapes)  # the next row of tiles to cut
        self._pool = ThreadPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1)))
        self._pending: list[Future[None]] = []
        for level in range(len(shapes)):
            os.mkdir(os.path.join(path, str(self.top - level)))
        self.facts: dict[str, Any] = {
            "format": self.extension, "overlap": overlap, "tile": tile,
            "width": shapes[0][1], "height": shapes[0][0],
        }  # fmt: skip

    def add(self, level: int, band: np.ndarray) -> None:
        """The next rows of ``level``."""
        held = self._held[level]
        self._held[level] = band if held is None else np.concatenate([held, band])
        self._cut(level, final=False)

    def close(self) -> None:
        """Cut the last rows of tiles and wait for every tile to be written."""
        try:
            for level in range(len(self.shapes)):
                self._cut(level, final=True)
            self._wait(0)
        finally:
            self._pool.shutdown(wait=True)

    def abort(self) -> None:
        for future in self._pending:
            future.cancel()
        self._pool.shutdown(wait=True)

    def _cut(self, level: int, *, final: bool) -> None:
        held = self._held[level]
        if held is None:
            return
        height, width = self.shapes[level][:2]
        tile, overlap = self.tile, self.overlap
        rows_of_tiles = -(-height // tile)
        have = self._first[level] + held.shape[0]
        while self._next_row[level] < rows_of_tiles:
            row = self._next_row[level]
            top, bottom = max(0, row * tile - overlap), min(height, (row + 1) * tile + overlap)
            if bottom > have:
                break
            band = held[top - self._first[level] : bottom - self._first[level]]
            for col in range(-(-width // tile)):
                left, right = max(0, col * tile - overlap), min(width, (col + 1) * tile + overlap)
                name = os.path.join(self.path, str(self.top - level),
                                    f"{col}_{row}.{self.extension}")  # fmt: skip
                self._submit(name, np.ascontiguousarray(band[:, left:right]))
            self._next_row[level] = row + 1
        keep = max(0, self._next_row[level] * tile - overlap) - self._first[level]
        if keep > 0:
            self._held[level] = held[keep:]
            self._first[level] += keep
        assert final is False or self._next_row[level] == rows_of_tiles

    def _submit(self, name: str, pixels: np.ndarray) -> None:
        self._wait(_PENDING)
        self._pending.append(self._pool.submit(self._encode, name, pixels))

    def _wait(self, most: int) -> None:
        while len(self._pending) > most:
            self._pending.pop(0).result()

    def _encode(self, name: str, pixels: np.ndarray) -> None:
        from PIL import Image

        if pixels.ndim == 3 and pixels.shape[2] == 1:
            pixels = pixels[..., 0]
        if pixels.dtype == np.uint16:
            image = Image.fromarray(pixels.astype("<u2") if pixels.ndim == 2 else pixels)
        else:
            image = Image.fromarray(pixels, self.mode)
        with open(name, "wb") as file:
            image.save(file, self.format, **self.save)


def _pillow_mode(shape: tuple[int, ...], dtype: np.dtype) -> str | None:
    channels = shape[2] if len(shape) == 3 else 1
    if dtype == np.uint8:
        return ("L", "LA", "RGB", "RGBA")[channels - 1]
    if channels == 1:
        return None  # I;16 from a 2-D uint16 array
    message = "Deep Zoom tiles of 16-bit colour are not written (Pillow holds 8-bit colour)"
    raise InputError(message)


def write_descriptor(stream: BinaryIO, facts: Mapping[str, Any]) -> None:
    """The ``.dzi`` XML of a Deep Zoom image whose tiles :class:`DziPyramid` wrote."""
    text = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<Image xmlns="http://schemas.microsoft.com/deepzoom/2008"\n'
        f'  Format={quoteattr(str(facts["format"]))} Overlap="{facts["overlap"]}" '
        f'TileSize="{facts["tile"]}">\n'
        f'  <Size Width="{facts["width"]}" Height="{facts["height"]}"/>\n'
        "</Image>\n"
    )
    stream.write(text.encode("utf-8"))
