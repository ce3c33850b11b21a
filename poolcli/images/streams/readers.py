"""Row sources of files: .npy memory maps, (Big)TIFF through tifffile, Zarr through zarr.

Each reader gives a row source (see :mod:`poolcli.pooling.streaming`) that decodes
only the strips, tiles or chunks a band needs, plus the header facts the streamed
conversion carries to its output (:class:`~.rows.Facts`). Readers refuse, with None from
:func:`open_rows`, what the streamed path does not take (a multi-page TIFF, a
colour model other than grey or RGB, an orientation to apply), so that the whole
image path handles it as before. A TIFF's associated alpha is served straight, as
Pillow decodes it (:mod:`.tiff_alpha`). Zarr stores: :mod:`.zarr_rows`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ...errors import InputError
from ..formats import TIFF_XMP, is_deep_png, xmp_bytes
from ..georef import Georef
from ..tiff_mask import MaskRows, is_mask, mask_pages, with_alpha
from .rows import Facts, Rows, row_axis_of
from .segments import segment_rows
from .tiff_alpha import pillow_misreads, straightening
from .zarr_rows import open_zarr

#: TIFF photometric interpretations streamed as they are.
_PHOTOMETRIC = {"MINISBLACK": "minisblack", "RGB": "rgb"}


def open_rows(path: str, fmt: str, layout: str | None = None) -> tuple[Rows, Facts] | None:
    """A row source of ``path`` (format ``fmt``: TIFF, NPY, ZARR or a deep PNG) and its facts.

    ``layout`` is the array layout asked for (it tells the row axis of arrays).
    None when this file is better read whole (see the module docstring).
    """
    if fmt == "ZARR":
        return open_zarr(path, layout)
    opener = {"NPY": _open_npy, "TIFF": _open_tiff, "PNG": _open_png}[fmt]
    return opener(path, layout)


class _NpyRows(Rows):
    """A .npy file's rows read with plain reads at their offsets: no memory map, so
    neither the process's memory nor its page cache share holds the whole file."""

    def __init__(self, path: str, shape: tuple[int, ...], dtype: np.dtype, offset: int,
                 row_axis: int) -> None:  # fmt: skip
        super().__init__(np.empty((0,) * len(shape), dtype), row_axis=row_axis, chunk_rows=1)
        self.shape, self._stored, self._offset = shape, dtype, offset
        self._file = open(path, "rb")  # noqa: SIM115 - closed by close()
        self._closers.append(self._file)

    def rows(self, start: int, stop: int) -> np.ndarray:
        axis, shape = self.row_axis, self.shape
        leading, height = math.prod(shape[:axis]), shape[axis]
        inner = math.prod(shape[axis + 1 :])
        count = (stop - start) * inner
        out = np.empty((leading, count), self._stored)
        for index in range(leading):
            self._file.seek(self._offset + (index * height + start) * inner * self._stored.itemsize)
            if self._file.readinto(memoryview(out[index]).cast("B")) != out[index].nbytes:
                message = f"the .npy is truncated: rows {start}:{stop} are missing"
                raise InputError(message)
        band_shape = shape[:axis] + (stop - start,) + shape[axis + 1 :]
        return np.ascontiguousarray(out.reshape(band_shape), dtype=self.dtype)


def _open_npy(path: str, layout: str | None) -> tuple[Rows, Facts] | None:
    from numpy.lib import format as npy

    from ..arrays.files import probe

    try:  # the checks of every .npy read (header, data length) first
        with open(path, "rb") as file:
            probe(file, False, layout=layout)
    except (InputError, OSError):
        return None  # the whole-image path reports it, as for any .npy
    try:
        with open(path, "rb") as file:
            version = npy.read_magic(file)
            if version not in ((1, 0), (2, 0)):
                return None  # 3.0 (UTF-8 field names): read whole
            header = npy.read_array_header_1_0 if version == (1, 0) else npy.read_array_header_2_0
            shape, fortran, dtype = header(file)
            offset = file.tell()
    except (OSError, ValueError) as error:
        message = f"not a readable .npy file: {error}"
        raise InputError(message) from None
    if fortran or len(shape) < 2 or dtype.kind not in "biuf" or dtype.hasobject:
        return None
    axis = row_axis_of(len(shape), layout)
    return _NpyRows(path, tuple(shape), dtype, offset, axis), Facts("NPY", "array")


def _open_tiff(path: str, layout: str | None) -> tuple[Rows, Facts] | None:
    import tifffile

    try:
        tif = tifffile.TiffFile(path)
    except Exception:  # noqa: BLE001 - Pillow's reader says what is wrong with it
        return None
    try:
        series = tif.series[0]
        page: Any = tif.pages.first
        photometric = _PHOTOMETRIC.get(getattr(page.photometric, "name", ""))
        if getattr(page.photometric, "name", "") == "YCBCR" and page.compression == 7:
            photometric = "rgb"  # JPEG tiles: the codec gives RGB
        orientation = page.tags.valueof(274, 1)
        several = len(tif.pages) > 1 and not series.is_pyramidal and len(tif.series) == 1
        several = several and series.levels[0].shape[0] == len(tif.pages)
        axes = series.levels[0].axes
        # an OME or ImageJ image whose channels are pages (CYX): one image, its channels bands
        channel_pages = axes == "CYX" and (tif.is_ome or tif.is_imagej) and photometric != "rgb"
        several = several and not channel_pages
        if photometric is None or orientation != 1 or several or axes not in _PLANE_AXES:
            tif.close()
            return None
        level = series.levels[0]
        # tifffile's own readers cost a millisecond a tile: the page's segments
        # are read directly where they can be (zarr, and its import, are not needed)
        planar = axes in ("SYX", "CYX")
        array: Any = segment_rows(page, tif.filehandle) if not planar else None
        if array is None:
            import zarr

            array = zarr.open(level.aszarr(), mode="r")
        tile = (page.tilelength, page.tilewidth) if page.is_tiled else None
        chunk_rows = page.tilelength if page.is_tiled else page.rowsperstrip
        icc = page.tags.valueof(34675)
        xmp = page.tags.valueof(TIFF_XMP)
        georef = Georef.of_page(page)
        ome = _ome_sizes(tif) if tif.is_ome else None
        extra: dict[str, Any] = {} if ome is None else {"ome": ome}
        images = sum(not is_mask(s.pages[0]) for s in tif.series)  # a mask is no image
        if images > 1:  # pages of other sizes or kinds: images of their own
            extra["images"] = images
        extras = tuple(getattr(e, "name", str(e)) for e in page.extrasamples)
        if channel_pages:  # channels beyond the first: bands, not alpha
            extras = ("UNSPECIFIED",) * (series.shape[0] - 1)
        misread = pillow_misreads(planar, photometric, extras, int(page.compression))
        straighten = straightening(extras, photometric, page.dtype)
        if straighten is not None:  # served straight, as Pillow decodes it
            extras = ("UNASSALPHA",)
        mask, masked = mask_pages(tif).get(0), None
        if mask is not None:  # an internal mask: alpha (see ..tiff_mask)
            has_alpha = bool(extras) and extras[-1] in ("ASSOCALPHA", "UNASSALPHA")
            extras = extras if has_alpha else (*extras, "UNASSALPHA")
            masked = (MaskRows(tif.pages[mask]), has_alpha)
    except Exception:  # noqa: BLE001 - an odd TIFF: the whole-image path tells what is wrong
        tif.close()
        return None
    kind = Rows if masked is None else _MaskedRows
    rows = kind(array, row_axis=0, chunk_rows=chunk_rows or 1, planar=planar, decode=straighten)
    if masked is not None:
        assert isinstance(rows, _MaskedRows)
        rows.add_mask(masked)
    rows._closers[:0] = [array] if hasattr(array, "close") else []
    rows._closers.append(tif)
    facts = Facts(
        "TIFF", "image", photometric=photometric,
        compression=getattr(page.compression, "name", None), predictor=int(page.predictor),
        tile=tile, dpi=_dpi(page), icc_profile=bytes(icc) if icc is not None else None,
        xmp=xmp_bytes(xmp), extrasamples=extras, pillow_misreads=misread, georef=georef,
        nodata=None if georef is None else georef.nodata,
        extra=extra,
    )  # fmt: skip
    return rows, facts


class _MaskedRows(Rows):
    """A TIFF page's rows with its internal mask appended as an alpha sample."""

    def add_mask(self, masked: tuple[MaskRows, bool]) -> None:
        """``masked``: the mask's rows, and whether the samples' last is an alpha already."""
        self._mask, self._has_alpha = masked
        self._closers.insert(0, self._mask)
        if not self._has_alpha:
            height, width = self.shape[:2]
            self.shape = (height, width, (self.shape[2] if len(self.shape) == 3 else 1) + 1)

    def rows(self, start: int, stop: int) -> np.ndarray:
        valid = self._mask.rows(start, stop)
        return with_alpha(super().rows(start, stop), valid, has_alpha=self._has_alpha)


#: tifffile axes of the series read as one image: grey, samples, planar samples, channels.
_PLANE_AXES = ("YX", "YXS", "SYX", "CYX")


def _ome_sizes(tif: Any) -> dict[str, Any]:
    """An OME-TIFF's physical pixel sizes (``PhysicalSizeX``, its unit...), as OME-XML says."""
    import tifffile

    image = tifffile.xml2dict(tif.ome_metadata)["OME"]["Image"]
    pixels = (image[0] if isinstance(image, list) else image)["Pixels"]
    names = ("PhysicalSizeX", "PhysicalSizeY", "PhysicalSizeXUnit", "PhysicalSizeYUnit")
    return {name: pixels[name] for name in names if name in pixels}


class _DecodedPng:
    """A deep PNG decoded whole by imagecodecs on first use (PNG rows are one
    deflate stream): ``shape`` and ``dtype`` from the header, before any decoding."""

    def __init__(self, path: str, width: int, height: int, channels: int) -> None:
        self.path, self.shape, self.dtype = path, (height, width, channels), np.dtype(">u2")
        self.chunks = None
        self._pixels: np.ndarray | None = None

    def __getitem__(self, index: Any) -> np.ndarray:
        if self._pixels is None:
            import imagecodecs

            with open(self.path, "rb") as file:
                data = file.read()
            from ..reading.sources import quiet_stderr

            with quiet_stderr():  # libpng prints its warnings
                try:
                    pixels = imagecodecs.png_decode(data)
                except Exception as error:  # noqa: BLE001 - imagecodecs raises its own PngError
                    message = f"not a readable PNG: {error}"
                    raise InputError(message) from None
            self._pixels = pixels.reshape(self.shape)
        return self._pixels[index]


def _open_png(path: str, layout: str | None) -> tuple[Rows, Facts] | None:
    """A 16-bit colour PNG (Pillow would read it at 8 bits), with its dpi and ICC
    profile; None for any other PNG, or one that an EXIF orientation turns."""
    from PIL import Image, UnidentifiedImageError

    try:
        with open(path, "rb") as file:
            head = file.read(26)
        if not is_deep_png(head):
            return None
        with Image.open(path) as image:  # the chunks before the pixels: no decoding
            info = dict(image.info)
            width, height = image.size
    except (OSError, UnidentifiedImageError, ValueError):
        return None  # the whole-image path says what is wrong
    if "exif" in info:
        exif = Image.Exif()
        exif.load(info["exif"])
        if exif.get(274, 1) != 1:
            return None
    channels = {2: 3, 4: 2, 6: 4}[head[25]]
    rows = Rows(_DecodedPng(path, width, height, channels), row_axis=0, chunk_rows=height)
    dpi = info.get("dpi")
    facts = Facts(
        "PNG",
        "image",
        photometric="rgb" if channels >= 3 else "minisblack",
        dpi=(float(dpi[0]), float(dpi[1])) if dpi else None,
        icc_profile=info.get("icc_profile") or None,
        xmp=xmp_bytes(info.get("xmp")),
    )
    return rows, facts


def _dpi(page: Any) -> tuple[float, float] | None:
    """Pixels per inch from a TIFF page's resolution tags; None when it has none."""
    if 282 not in page.tags or 283 not in page.tags:
        return None
    x, y = page.get_resolution()
    unit = page.tags.valueof(296, 2)
    factor = {2: 1.0, 3: 2.54}.get(int(unit))
    if factor is None or not (x > 0 and y > 0):
        return None
    return float(x) * factor, float(y) * factor
