"""Headers only: what an input is (format, frames or arrays, sizes, metadata),
never its pixels. Dry runs and ``poolcli info`` are built on :func:`probe`."""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass, field
from typing import IO

from PIL import Image

from ...errors import InputError
from ...spec.limits import check_pixels
from ..formats import FORMATS
from ..metadata import Metadata, exif_of
from ..modes import sample_dtype
from ..tiff_mask import MASKED_MODES, frame_pages
from .limits import open_image, pillow_limit
from .sources import Source, opened, pillow_errors, silenced, sniffed


@dataclass(frozen=True)
class Plane:
    """Header facts of one frame or array: enough to plan, never decoded."""

    name: str
    mode: str
    size: tuple[int, int]
    shape: tuple[int, ...] | None = None
    layout: str | None = None


@dataclass
class Description:
    """What ``probe`` learns from headers alone."""

    format: str
    planes: list[Plane]
    metadata: Metadata
    is_array: bool = False
    #: How a TIFF or Zarr is stored (tiles, compression, chunks, levels), for ``info``.
    storage: dict[str, object] = field(default_factory=dict)
    #: A raster's CRS, geotransform, nodata and pixel sizes, for ``info``.
    raster: dict[str, object] = field(default_factory=dict)
    #: Arrays of an .npz that cannot be pooled, said (``probe(tolerant=True)``).
    skipped: list[str] = field(default_factory=list)

    @property
    def size(self) -> tuple[int, int]:
        return self.planes[0].size

    @property
    def dtype(self) -> str:
        """The NumPy dtype of the first plane's samples, as pooling reads them."""
        mode = self.planes[0].mode
        return mode if self.is_array else sample_dtype(mode)


def probe(
    source: Source,
    *,
    max_pixels: int | None = None,
    layout: str | None = None,
    tolerant: bool = False,
    first_only: bool = False,
) -> Description:
    """Read headers only: format, every frame's (or array's) mode and size, metadata.

    ``tolerant``: arrays of an .npz that cannot be pooled are said in ``skipped``
    rather than failing the file (while one array can be described). ``first_only``:
    the first frame only, never seeking to the others.
    """
    with opened(source) as stream:
        head, array_format = sniffed(stream)
        if array_format is not None:
            from ..arrays import files  # NumPy loads here, for arrays only

            is_npz = array_format.name == "NPZ"
            skipped: list[str] | None = [] if tolerant and is_npz else None
            headers = files.probe(
                stream, is_npz, layout=layout, max_pixels=max_pixels, skipped=skipped
            )
            if not headers and skipped:
                raise InputError(skipped[0])
            planes = [Plane(h.name, str(h.dtype), h.size, h.shape, h.layout) for h in headers]
            described = Description(array_format.name, planes, Metadata(), is_array=True)
            described.skipped = skipped or []
            return described
        with silenced(head), pillow_errors(head), pillow_limit(max_pixels):
            image = open_image(stream, max_pixels)
            metadata = Metadata.from_image(image, headers_only=True)
            planes = []
            durations = []
            # a TIFF's internal masks and overviews are no frames (masks: its frames' alpha)
            pages = frame_pages(image, stream)
            count = getattr(image, "n_frames", 1) if pages is None else len(pages[0])
            for index in range(1 if first_only else count):
                page = index if pages is None else pages[0][index]
                image.seek(page)
                check_pixels(image.size, max_pixels)
                mode = image.mode
                if pages is not None and page in pages[1]:
                    mode = MASKED_MODES.get(mode, mode)  # as decoding reads it
                planes.append(Plane(str(index), mode, _upright_size(image)))
                if isinstance(image.info.get("duration"), (int, float)):
                    durations.append(float(image.info["duration"]))
            if image.format == "WEBP" and len(planes) > 1:
                durations = webp_durations(stream)[: len(planes)]
            if len(planes) > 1 and durations:
                metadata.durations = durations
            return Description(image.format or "?", planes, metadata)


def webp_durations(stream: IO[bytes]) -> list[float]:
    """An animated WebP's frame durations (ms) from its ANMF chunk headers, without
    decoding: Pillow knows a frame's duration only once it has decoded that frame."""
    durations: list[float] = []
    position = stream.tell()
    try:
        stream.seek(12)  # past "RIFF", the file size and "WEBP"
        while len(header := stream.read(8)) == 8:
            kind, size = header[:4], struct.unpack("<I", header[4:])[0]
            skip = size + (size & 1)  # chunks are padded to even sizes
            if kind == b"ANMF":
                frame = stream.read(16)  # x, y, width - 1, height - 1, duration: 24 bits each
                if len(frame) < 16:
                    break
                durations.append(float(int.from_bytes(frame[12:15], "little")))
                skip -= 16
            stream.seek(skip, io.SEEK_CUR)
    finally:
        stream.seek(position)
    return durations


def orientation(image: Image.Image, *, headers_only: bool = False) -> int | None:
    """The EXIF orientation still pending on ``image`` (None: none, or unreadable)."""
    exif = exif_of(image, headers_only=headers_only)
    return None if exif is None else exif.get(0x0112)


def _upright_size(image: Image.Image) -> tuple[int, int]:
    """Size after EXIF orientation, without decoding."""
    record = FORMATS.get(image.format or "")
    if record is not None and record.oriented_on_load:
        return image.size  # Pillow reports the display size and rotates at load
    width, height = image.size
    turned = orientation(image, headers_only=True) in (5, 6, 7, 8)
    return (height, width) if turned else (width, height)
