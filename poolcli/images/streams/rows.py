"""What the row readers give: a row source (:class:`Rows`) and the header facts of
its file (:class:`Facts`), shared by :mod:`.readers` and :mod:`.zarr_rows`."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ...errors import InputError


@dataclass(frozen=True)
class Facts:
    """What a streamed input's header says that its output keeps."""

    format: str
    #: ``"image"`` (grey or colour planes, channels last) or ``"array"`` (a layout).
    kind: str
    photometric: str | None = None
    compression: str | None = None
    predictor: int | None = None
    tile: tuple[int, int] | None = None
    #: (x, y) pixels per inch, when the file says.
    dpi: tuple[float, float] | None = None
    icc_profile: bytes | None = None
    #: The XMP packet (a TIFF's tag 700, a PNG's iTXt), kept in a TIFF output.
    xmp: bytes | None = None
    #: A TIFF's ExtraSamples, by tifffile's names (``UNASSALPHA``, ``UNSPECIFIED``...).
    extrasamples: tuple[str, ...] = ()
    #: Pillow decodes this TIFF wrongly or not at all (:func:`.tiff_alpha.pillow_misreads`).
    pillow_misreads: bool = False
    #: OME-Zarr axis names (``"cyx"``), for the layout.
    axes: str | None = None
    #: GeoTIFF and GDAL tags (:class:`poolcli.images.georef.Georef`).
    georef: Any = None
    #: The value the file declares as nodata (GDAL_NODATA, a Zarr ``nodata`` attribute).
    nodata: int | float | None = None
    #: Format-specific facts: ``ome`` sizes, ``layout``, ``transforms``, ``images`` (a
    #: TIFF's count of series, when it holds several images; only the first is read).
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def alpha(self) -> bool | None:
        """Whether a TIFF's last sample is alpha, as its ExtraSamples say (grey or RGB
        with extra samples); None when the file does not say (guessed from the count)."""
        if self.format != "TIFF" or not self.extrasamples:
            return None
        return self.extrasamples[-1] in ("ASSOCALPHA", "UNASSALPHA")

    def photometric_for(self, shape: tuple[int, ...]) -> str:
        """The photometric interpretation of an output of ``shape`` (H, W[, S]) made
        of this input's samples: a TIFF's own (grey and unspecified bands stay so,
        never RGB and alpha), else RGB for three samples or more, grey for fewer."""
        if self.photometric is not None:
            return self.photometric
        return "rgb" if len(shape) == 3 and shape[2] >= 3 else "minisblack"


class Rows:
    """A row source over anything sliceable (a memory map, a Zarr array)."""

    def __init__(self, array: Any, *, row_axis: int, chunk_rows: int, planar: bool = False,
                 decode: Callable[[np.ndarray], np.ndarray] | None = None) -> None:  # fmt: skip
        self.array, self.decode = array, decode  # decode: each band, as read
        self.row_axis = row_axis
        self.chunk_rows = max(1, int(chunk_rows))
        self._planar = planar  # (S, H, W) on disk, served as (H, W, S)
        shape = tuple(int(n) for n in array.shape)
        self.shape = shape[1:] + shape[:1] if planar else shape
        self.dtype = np.dtype(array.dtype).newbyteorder("=")
        self._closers: list[Any] = []

    def rows(self, start: int, stop: int) -> np.ndarray:
        axis = 1 if self._planar else self.row_axis
        index = [slice(None)] * len(self.shape)
        index[axis] = slice(start, stop)
        try:
            band = np.asarray(self.array[tuple(index)])
        except (OSError, ValueError, RuntimeError, KeyError) as error:
            message = f"cannot decode rows {start}:{stop}: {error}"
            raise InputError(message) from None
        if self._planar:
            band = np.moveaxis(band, 0, -1)
        band = np.ascontiguousarray(band, dtype=self.dtype)
        return band if self.decode is None else self.decode(band)

    def close(self) -> None:
        for closer in self._closers:
            with contextlib.suppress(Exception):
                closer.close()

    def __enter__(self) -> Rows:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def row_axis_of(ndim: int, layout: str | None) -> int:
    """The axis of an ``ndim``-d array's rows in ``layout`` (its default when None)."""
    from ...spec.arrays import ALL_LAYOUTS, DEFAULT_LAYOUT, OTHER_DEFAULT

    name = layout or DEFAULT_LAYOUT.get(ndim) or OTHER_DEFAULT.get(ndim)
    if name is None or len(name) != ndim:
        message = f"an array of {ndim} dims needs one of the layouts {', '.join(ALL_LAYOUTS)}"
        raise InputError(message)
    return ALL_LAYOUTS[name][0][0]
