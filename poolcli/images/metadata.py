"""Metadata that survives pooling: ICC profile, EXIF, XMP, DPI, PNG text, animation.

Read once from the input, adjusted to the pooled result (EXIF orientation reset to 1
and pixel dimensions updated, DPI divided by the pooling scale), and handed to
Pillow's ``save`` as the keywords each output format understands.
"""

from __future__ import annotations

import warnings
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from PIL import Image, PngImagePlugin, TiffImagePlugin

from ..errors import OutputError
from .formats import FORMATS, record_of, xmp_bytes
from .georef import Georef
from .writing.options import BILEVEL_COMPRESSIONS, JPEG_TIFF_MODES, TIFF_FALLBACK

_ORIENTATION = 0x0112
_EXIF_IFD = 0x8769
_PIXEL_X, _PIXEL_Y = 0xA002, 0xA003
_X_RESOLUTION, _Y_RESOLUTION, _RESOLUTION_UNIT = 0x011A, 0x011B, 0x0128
#: TIFF tags that describe how an image is stored, never a photo's metadata: EXIF's
#: IFD0 may carry them (a camera's ImageWidth, say), and Pillow's TIFF writer would
#: take them over the real ones and write a file that does not open.
_STRUCTURAL = frozenset({
    254, 255, 256, 257, 258, 259, 262, 263, 266, 273, 277, 278, 279, 284, 292, 293, 317,
    320, 322, 323, 324, 325, 338, 339, 340, 341, 347, 530, 531, 532,
})  # fmt: skip


@dataclass
class Metadata:
    """What poolcli carries from an input to its output."""

    icc_profile: bytes | None = None
    exif: Image.Exif | None = None
    xmp: bytes | None = None
    dpi: tuple[float, float] | None = None
    text: dict[str, str] = field(default_factory=dict)
    loop: int | None = None
    background: object = None
    comment: bytes | None = None
    #: The animation's frame durations (ms); a default image has none.
    durations: list[float] = field(default_factory=list)
    #: The first frame is an APNG's default image, not a frame of its animation:
    #: shown by viewers that do not animate, kept apart where the output can.
    default_image: bool = False
    #: A JPEG input's quantisation tables and chroma subsampling, for ``keep``.
    jpeg_tables: dict[int, list[int]] | None = None
    jpeg_sampling: int | None = None
    #: A TIFF input's compression (Pillow's name: ``tiff_lzw``, ``group4``...).
    compression: str | None = None
    #: Each decoded TIFF page's own compression, in order (set as the pages are read).
    page_compressions: list[str | None] = field(default_factory=list)
    #: A WebP input is lossless (VP8L): its output stays lossless.
    lossless: bool = False
    #: A TIFF input's GeoTIFF and GDAL tags (:class:`~.georef.Georef`), GDAL_NODATA
    #: among them: nodata unless ``--nodata`` says otherwise.
    georef: Georef | None = None

    @property
    def nodata(self) -> int | float | None:
        return None if self.georef is None else self.georef.nodata

    @classmethod
    def from_image(cls, image: Image.Image, *, headers_only: bool = False) -> Metadata:
        """The metadata of an opened (not necessarily loaded) image's first frame.

        ``headers_only``: never decode pixels to find more (Pillow's PNG reader loads
        the whole image to look for EXIF and text after the pixels): what the
        chunks before them say is enough for ``poolcli info`` and dry runs.
        """
        info = image.info
        exif = None
        record = FORMATS.get(image.format or "")
        if "exif" in info or (record is not None and record.exif_outside_info):
            candidate = exif_of(image, headers_only=headers_only)
            if candidate:
                exif = candidate
        text = {}
        if record is not None and record.carries("text"):
            found = _text_before_pixels(image) if headers_only else getattr(image, "text", {})
            text = {k: v for k, v in found.items() if isinstance(v, str)}
        return cls(
            icc_profile=info.get("icc_profile") or None,
            exif=exif,
            xmp=xmp_bytes(info.get("xmp")),
            dpi=_dpi(info) if _has_resolution(image) else None,
            text=text,
            # a still WebP has a loop count and background too: not an animation
            loop=info.get("loop") if _animation(image) else None,
            background=info.get("background") if _animation(image) else None,
            comment=info.get("comment") if isinstance(info.get("comment"), bytes) else None,
            compression=info.get("compression") if image.format == "TIFF" else None,
            georef=Georef.of_pillow(image) if image.format == "TIFF" else None,
            lossless=image.format == "WEBP" and _webp_lossless(image),
            default_image=_has_default_image(image),
            **_jpeg_settings(image),
        )

    def kept(self, options: Mapping[str, object]) -> dict[str, object]:
        """``options`` with ``keep`` values (``quality``, ``subsampling``, ``qtables``)
        made the JPEG input's own tables and subsampling: Pillow keeps them only for
        the very image it read, and a pooled image is a new one."""
        if "keep" not in options.values():
            return dict(options)
        if self.jpeg_tables is None:
            message = "`save_options` keep takes a JPEG input's own settings; this input is not one"
            raise OutputError(message)
        result = {k: v for k, v in options.items() if v != "keep"}
        if "keep" in (options.get("quality"), options.get("qtables")):
            result["qtables"] = self.jpeg_tables
            result["quality"] = -1  # the tables are the quality: none over them
        if options.get("subsampling") == "keep" and self.jpeg_sampling not in (None, -1):
            result["subsampling"] = self.jpeg_sampling
        return result

    def set_durations(self, durations: list) -> None:
        """Per-frame durations as read; a missing one becomes 0.

        Disposal and blend ops are not carried: poolcli writes whole frames, and the
        animation writers choose the ops that reproduce them (see animation.py).
        """
        if any(d is not None for d in durations):
            self.durations = [d if d is not None else 0 for d in durations]

    def tiff_pages(self, modes: Sequence[str], notes: list[str]) -> list[str] | None:
        """The compression of each pooled page (of ``modes``, in order) of a TIFF input
        written as TIFF: its own page's where Pillow writes it for that mode, else the
        nearest lossless one (see :func:`_tiff_compression_for`), with a note when a
        bilevel page is no longer 1-bit. None when the input was not a compressed TIFF."""
        if self.compression is None or len(self.page_compressions) != len(modes):
            return None
        chosen = []
        for number, (own, mode) in enumerate(zip(self.page_compressions, modes, strict=True)):
            own = own or "raw"
            chosen.append(own if own == "raw" else _tiff_compression_for(own, {mode}))
            if own in _CCITT and mode != "1":
                page = f"page {number + 1}" if len(modes) > 1 else "the page"
                notes.append(f"{own} (CCITT) holds 1-bit pages only, and {page} was pooled into "
                             f"{mode}: written with {chosen[-1]} (lossless)")  # fmt: skip
        return chosen

    @property
    def present(self) -> list[str]:
        """Names of what is present, for ``poolcli info``."""
        names = [
            ("icc_profile", self.icc_profile),
            ("exif", self.exif),
            ("xmp", self.xmp),
            ("dpi", self.dpi),
            ("text", self.text),
            ("animation", self.durations or self.loop is not None),
            ("georeferencing", self.georef is not None and self.georef.georeferenced),
            ("gdal_metadata", self.georef is not None and self.georef.gdal_items() is not None),
            ("nodata", self.nodata is not None),
        ]
        return [name for name, value in names if value]

    def values(self) -> dict[str, object]:
        """What is present, with its values, for ``poolcli info``: the ICC profile's
        description, the EXIF orientation and camera, dpi, text, loop, durations, the
        names of GDAL_METADATA's items."""
        shown: dict[str, object] = {}
        if self.icc_profile:
            shown["icc_profile"] = _profile_description(self.icc_profile)
        if self.exif is not None:
            tags = {"orientation": 0x0112, "make": 0x010F, "model": 0x0110, "date": 0x0132}
            exif = {k: self.exif.get(t) for k, t in tags.items() if self.exif.get(t) is not None}
            shown["exif"] = {
                k: v if isinstance(v, int) else str(v).strip() for k, v in exif.items()
            }
        if self.xmp:
            shown["xmp"] = f"{len(self.xmp)} bytes"
        if self.dpi:
            shown["dpi"] = [round(self.dpi[0], 2), round(self.dpi[1], 2)]
        if self.text:
            shown["text"] = {k: v[:80] for k, v in self.text.items()}
        if self.loop is not None:
            shown["loop"] = self.loop
        if self.durations:
            shown["durations"] = [round(d, 3) for d in self.durations]
        if self.default_image:
            shown["default_image"] = True
        if self.georef is not None and self.georef.gdal_items() is not None:
            shown["gdal_metadata"] = self.georef.gdal_items()
        return shown

    def save_options(
        self,
        format: str,
        *,
        scale: tuple[float, float],
        size: tuple[int, int],
        frames: int,
        modes: Collection[str] = (),
        georef: Georef | None = None,
    ) -> dict[str, object]:
        """Keywords for ``Image.save`` in ``format`` for a result of ``size`` (w, h)
        whose frames have ``modes``: the input's TIFF compression or WebP losslessness
        is kept when the output is of the same format; ``georef``: the output's GeoTIFF
        tags (:meth:`Georef.pooled`), for a TIFF."""
        record = record_of(format)
        options: dict[str, object] = {}
        if record.name == "TIFF" and georef is not None:
            options["tiffinfo"] = georef.pillow_tags()
        if record.name == "TIFF" and self.compression not in (None, "raw"):
            options["compression"] = _tiff_compression_for(str(self.compression), set(modes))
        if record.name == "WEBP" and self.lossless:
            options["lossless"] = True
        if self.icc_profile and record.carries("icc_profile"):
            options["icc_profile"] = self.icc_profile
        if self.exif is not None and record.carries("exif"):
            options["exif"] = self._exif_bytes(size, scale)
        if self.xmp and record.carries("xmp"):
            options["xmp"] = self.xmp
        if self.dpi and record.carries("dpi"):
            options["dpi"] = (self.dpi[0] / scale[0], self.dpi[1] / scale[1])
        if self.text and record.carries("text"):
            pnginfo = PngImagePlugin.PngInfo()
            for key, value in self.text.items():
                pnginfo.add_text(key, value)
            options["pnginfo"] = pnginfo
        if self.comment and record.carries("comment"):
            options["comment"] = self.comment
        if frames > 1 and record.animated:
            if self.loop is not None:
                options["loop"] = self.loop
            elif record.name != "GIF":
                # no loop count (a GIF without its NETSCAPE block) plays once; APNG and
                # WebP loop forever unless told: 1 play
                options["loop"] = 1
            if self.durations:
                options["duration"] = self.durations[:frames]
            if self.default_image and record.default_image:
                options["default_image"] = True  # frame 0: the still, out of the animation
        return options

    def _exif_bytes(self, size: tuple[int, int], scale: tuple[float, float]) -> bytes:
        assert self.exif is not None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # damaged tags are dropped, not reported
            return self._rewritten_exif(size, scale)

    def _rewritten_exif(self, size: tuple[int, int], scale: tuple[float, float]) -> bytes:
        assert self.exif is not None
        exif = Image.Exif()
        exif.load(self.exif.tobytes())
        for tag in _STRUCTURAL & set(exif):
            del exif[tag]
        # The pixels are now upright: orientation 1, and the stored size is the new one;
        # the resolution is the pooled one, as the format's own (JFIF, pHYs) says.
        exif[_ORIENTATION] = 1
        for tag, factor in ((_X_RESOLUTION, scale[0]), (_Y_RESOLUTION, scale[1])):
            value = exif.get(tag)
            try:
                if value is not None and float(value) > 0:
                    exif[tag] = TiffImagePlugin.IFDRational(float(value) / factor)
            except (TypeError, ValueError, ZeroDivisionError):
                del exif[tag]
        try:
            sub = exif.get_ifd(_EXIF_IFD)
        except Exception:  # noqa: BLE001 - a broken sub-IFD is left as it was
            sub = {}
        if _PIXEL_X in sub:
            sub[_PIXEL_X] = size[0]
        if _PIXEL_Y in sub:
            sub[_PIXEL_Y] = size[1]
        return exif.tobytes()


#: The CCITT codings Pillow reads (Group 3, Group 4, RLE): 1-bit images only.
_CCITT = BILEVEL_COMPRESSIONS | {"tiff_ccitt", "tiff_raw_16"}
#: TIFF compressions Pillow writes that a pooled TIFF keeps: bilevel ones for 1-bit
#: images only, JPEG for the modes JPEG-in-TIFF holds.
_KEPT = frozenset({"tiff_lzw", "tiff_adobe_deflate", "packbits", "jpeg"}) | BILEVEL_COMPRESSIONS


def _tiff_compression_for(compression: str, modes: set[str]) -> str:
    """``compression`` where Pillow writes it for frames of the pooled ``modes``, else
    the nearest lossless one: Group 4 for other 1-bit codings (CCITT RLE), deflate
    otherwise (a Group 4 scan averaged into grey levels, say)."""
    name = {"tiff_deflate": "tiff_adobe_deflate", "tiff_jpeg": "jpeg"}.get(compression, compression)
    if name in _CCITT and modes == {"1"}:
        return name if name in BILEVEL_COMPRESSIONS else "group4"
    if name not in _KEPT or name in BILEVEL_COMPRESSIONS:
        return TIFF_FALLBACK
    if name == "jpeg" and not modes <= JPEG_TIFF_MODES:
        return TIFF_FALLBACK
    return name


def _webp_lossless(image: Image.Image) -> bool:
    """Whether a WebP file's image chunk is VP8L (lossless), from its RIFF chunks."""
    stream = getattr(image, "fp", None)
    if stream is None:
        return False
    try:
        position = stream.tell()
        stream.seek(12)
        found = False
        for _ in range(16):  # VP8X, ICCP, ANIM... come first: a few chunks at most
            header = stream.read(8)
            if len(header) < 8:
                break
            kind, length = header[:4], int.from_bytes(header[4:], "little")
            if kind in (b"VP8L", b"VP8 ", b"ANMF"):
                found = kind == b"VP8L" or (kind == b"ANMF" and b"VP8L" in stream.read(32))
                break
            stream.seek(length + (length & 1), 1)
        stream.seek(position)
        return found
    except (OSError, ValueError):
        return False


def _profile_description(profile: bytes) -> str:
    """An ICC profile's own description ('sRGB IEC61966-2.1'), else its size."""
    import io

    try:
        from PIL import ImageCms

        text = ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(profile)))
        return text.strip() or f"{len(profile)} bytes"
    except Exception:  # noqa: BLE001 - a broken or exotic profile: its size says enough
        return f"{len(profile)} bytes"


def _jpeg_settings(image: Image.Image) -> dict[str, Any]:
    if image.format not in ("JPEG", "MPO"):
        return {}
    from PIL import JpegImagePlugin

    tables = getattr(image, "quantization", None)
    return {
        "jpeg_tables": dict(tables) if tables else None,
        "jpeg_sampling": JpegImagePlugin.get_sampling(image),
    }


def exif_of(image: Image.Image, *, headers_only: bool = False) -> Image.Exif | None:
    """The EXIF of ``image``; with ``headers_only``, only what Pillow has without
    decoding (a PNG's eXIf after its pixels is not looked for). None when broken."""
    if headers_only and image.format == "PNG" and "exif" not in image.info:
        return None
    try:
        return image.getexif()
    except Exception:  # noqa: BLE001 - a corrupt EXIF block is dropped, not fatal
        return None


#: Keys of a PNG's ``info`` that are Pillow's own, not text chunks.
_PNG_INFO_KEYS = frozenset({"xmp", "dpi", "gamma", "aspect", "srgb", "transparency", "exif"})


def _text_before_pixels(image: Image.Image) -> dict[str, object]:
    """A PNG's text chunks read so far (before the pixels): Pillow puts them in ``info``."""
    return {k: v for k, v in image.info.items() if isinstance(k, str) and k not in _PNG_INFO_KEYS}


def _has_default_image(image: Image.Image) -> bool:
    """An APNG whose default image (before the first fcTL) is not an animation frame:
    Pillow then counts it as frame 0 (``n_frames`` is the acTL's count + 1)."""
    return image.format == "PNG" and bool(image.info.get("default_image"))


def _animation(image: Image.Image) -> bool:
    return image.format != "WEBP" or bool(getattr(image, "is_animated", False))


def _has_resolution(image: Image.Image) -> bool:
    """False for a TIFF without a resolution: no tags, or ResolutionUnit 'none' (Pillow
    reports a made-up 1 dpi for both)."""
    tags = getattr(image, "tag_v2", None)
    if tags is None or image.format != "TIFF":
        return True
    return _X_RESOLUTION in tags and tags.get(_RESOLUTION_UNIT, 2) != 1


def _dpi(info: dict) -> tuple[float, float] | None:
    dpi = info.get("dpi")
    if not dpi:
        return None
    try:
        x, y = (float(v) for v in dpi)
    except (TypeError, ValueError):
        return None
    # a damaged header can claim anything; keep only resolutions a device could have
    return (x, y) if 0 < x < 1e6 and 0 < y < 1e6 else None
