"""A TIFF's internal mask (GDAL's ``GDAL_TIFF_INTERNAL_MASK``), read as alpha.

GDAL writes a dataset's mask as the IFD right after the image's: NewSubfileType 4
(a mask), photometric MASK (4), one bit per pixel, 1 where the pixel is valid. It is
common on JPEG-compressed orthophotos. A mask page is no frame of the image: it says
which of its pixels are transparent, as GDAL reads it. poolcli reads it as an
unassociated alpha sample, 0 where masked and the samples' maximum where valid, so
pooling leaves the colour of masked pixels out of every window (as for any alpha),
and the output's alpha is the pooled mask (GDAL reads an alpha band as the mask).

:func:`mask_pages` finds them, :func:`with_alpha` makes one alpha of a band of
rows; :func:`frame_pages` and :func:`masked` do the same for Pillow's frames.
"""

from __future__ import annotations

from typing import IO, TYPE_CHECKING, Any

from PIL import Image

if TYPE_CHECKING:  # NumPy loads with the first mask read, not with every decode
    import numpy as np

#: NewSubfileType's bit for a transparency mask, and photometric MASK.
_MASK_BIT, _PHOTOMETRIC_MASK = 4, 4
#: NewSubfileType's bit for a reduced-resolution page (an overview of another).
_REDUCED_BIT = 1
#: What a Pillow frame with an internal mask is read as (its alpha the mask).
MASKED_MODES = {"L": "LA", "RGB": "RGBA", "LA": "LA", "RGBA": "RGBA", "P": "RGBA", "PA": "RGBA"}


def mask_pages(tif: Any) -> dict[int, int]:
    """Which pages of an open ``tifffile.TiffFile`` are the internal masks of which:
    ``{image page index: its mask page index}`` (empty for a TIFF without one)."""
    masks: dict[int, int] = {}
    pages = tif.pages
    previous = None
    for index in range(len(pages)):
        page = pages[index]
        if is_mask(page):
            if previous is not None and _same_size(pages[previous], page):
                masks[previous] = index
            previous = None
        else:
            previous = index
    return masks


def is_mask(page: Any) -> bool:
    """Whether a tifffile page is a transparency mask (NewSubfileType bit 4, photometric MASK)."""
    try:
        flagged = bool(int(page.subfiletype) & _MASK_BIT)
        return flagged and int(page.photometric) == _PHOTOMETRIC_MASK
    except (AttributeError, TypeError, ValueError):
        return False


def _same_size(image: Any, mask: Any) -> bool:
    return (int(image.imagelength), int(image.imagewidth)) == (
        int(mask.imagelength),
        int(mask.imagewidth),
    )


def with_alpha(band: np.ndarray, valid: np.ndarray, *, has_alpha: bool = False) -> np.ndarray:
    """(rows, W[, C]) samples with the mask ``valid`` (rows, W; True: valid) as alpha:
    a sample appended, the dtype's maximum (1.0 for floats) where valid and 0 where
    masked; or with ``has_alpha``, the last sample (an alpha) made 0 where masked.
    A new array."""
    import numpy as np

    samples = band if band.ndim == 3 else band[..., None]
    if has_alpha:
        out = samples.copy()
        out[..., -1][~valid] = 0
        return out
    top = 1 if band.dtype.kind == "f" else np.iinfo(band.dtype).max
    alpha = np.where(valid, band.dtype.type(top), band.dtype.type(0))
    return np.concatenate([samples, alpha[..., None]], axis=-1)


def frame_pages(image: Image.Image, stream: IO[bytes]) -> tuple[list[int], dict[int, int]] | None:
    """For a TIFF of several pages, some of them internal masks or reduced-resolution
    overviews, the pages Pillow should read as frames (the others, by index) and
    :func:`mask_pages`; None for any other image (every page a frame), or a TIFF
    tifffile cannot open (Pillow then says what is wrong)."""
    if image.format != "TIFF":  # (Pillow's n_frames would decode a mask page, and fail)
        return None
    import tifffile

    position = stream.tell()
    try:
        stream.seek(0)
        with tifffile.TiffFile(stream) as tif:
            masks = mask_pages(tif)
            pages = [i for i in range(len(tif.pages)) if _is_frame(tif.pages[i])]
            if len(pages) == len(tif.pages):
                return None
    except Exception:  # noqa: BLE001 - not a TIFF tifffile reads: no mask known
        return None
    finally:
        stream.seek(position)
    return pages, masks


def _is_frame(page: Any) -> bool:
    """A page that is an image of its own: no mask, and no overview of another page."""
    try:
        return not (is_mask(page) or int(page.subfiletype) & _REDUCED_BIT)
    except (AttributeError, TypeError, ValueError):
        return True


def masked(image: Image.Image, stream: IO[bytes], page: int) -> Image.Image:
    """A loaded Pillow frame with the mask at page ``page`` of the TIFF ``stream`` as
    its alpha: ``L``/``RGB`` become ``LA``/``RGBA`` (alpha 255 where valid), an alpha
    already there is made 0 where masked. InputError for modes that hold no alpha."""
    import numpy as np
    import tifffile

    from ..errors import InputError

    if image.mode not in MASKED_MODES:
        message = (
            f"its internal mask cannot be applied to {image.mode} pixels read by Pillow; "
            "write TIFF, PNG or .npy, which keep it as alpha"
        )
        raise InputError(message)
    position = stream.tell()
    try:
        stream.seek(0)
        with tifffile.TiffFile(stream) as tif:
            valid = np.asarray(tif.pages[page].asarray()).astype(bool)
    finally:
        stream.seek(position)
    out = image.convert(MASKED_MODES[image.mode])
    alpha = np.asarray(out.getchannel("A")).copy()
    alpha[~valid] = 0
    out.putalpha(Image.fromarray(alpha))
    return out


class MaskRows:
    """Rows ``start:stop`` of a mask page as booleans (True: valid), decoded by
    tifffile (one bit per pixel: no segment reader takes it)."""

    def __init__(self, page: Any) -> None:
        import zarr

        self._store = page.aszarr()
        self._array: Any = zarr.open(self._store, mode="r")

    def rows(self, start: int, stop: int) -> np.ndarray:
        import numpy as np

        return np.asarray(self._array[start:stop]).astype(bool)

    def close(self) -> None:
        self._store.close()
