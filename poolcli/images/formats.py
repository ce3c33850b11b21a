"""The format table: one record per file format, with every fact poolcli needs of it.

Naming outputs, choosing a mode a format can hold, carrying metadata, writing
frames and animations, decoding ahead and finding inputs in folders all ask this
table. Formats it does not list are still read and written when Pillow's plugins
know them (:func:`format_named` builds a plain record for those).
Adding a format means adding one :class:`Format` record to :data:`FORMATS`.

Only the standard library and no Pillow plugin are loaded to answer for the formats
listed with ``core=True`` (loading every plugin costs tens of milliseconds at
start-up); anything else is looked up in Pillow's registry.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from ..enums import StrEnum


class Frames(StrEnum):
    """How many frames a format holds."""

    ONE = "one"
    #: Several pages or frames, no timing (TIFF, MPO, PDF).
    PAGES = "pages"
    #: An animation: frames with durations and a loop count.
    ANIMATION = "animation"


@dataclass(frozen=True)
class Format:
    """What poolcli knows of one file format."""

    #: Pillow's format name (``NPY`` and ``NPZ`` are poolcli's arrays).
    name: str
    #: File extensions, the one written first.
    extensions: tuple[str, ...] = ()
    #: Further ``--format`` names (besides the name and the extensions).
    aliases: tuple[str, ...] = ()
    #: Pillow reads and writes it in every build: known without loading Pillow's
    #: plugins. Other formats are writable when Pillow's build can write them.
    core: bool = False
    #: Modes it stores exactly (reads back with the same values); None: not known,
    #: whatever Pillow takes.
    modes: frozenset[str] | None = None
    #: The metadata it carries: ``icc_profile``, ``exif``, ``xmp``, ``dpi``,
    #: ``text`` (PNG text chunks), ``comment``.
    metadata: frozenset[str] = frozenset()
    frames: Frames = Frames.ONE
    #: Holds a still default image besides its animation frames, shown by viewers
    #: that do not animate (APNG; Pillow's ``default_image`` save option).
    default_image: bool = False
    #: poolcli writes its animations itself, frame for frame (see animation.py).
    animation_writer: bool = False
    #: Every frame of an animation has one mode (its writer needs them alike).
    frames_share_mode: bool = False
    #: Save options poolcli uses unless ``-O`` says otherwise.
    defaults: Mapping[str, object] = field(default_factory=dict)
    #: Modes poolcli's own still-image writer handles (faster than Pillow's).
    own_writer_modes: frozenset[str] = frozenset()
    #: The only save options the own writer understands; any other goes to Pillow.
    own_writer_options: frozenset[str] = frozenset()
    #: Writing it loads NumPy (poolcli's own writers, exact GIF palettes, arrays).
    needs_numpy: bool = False
    #: Holds palette images with transparency as they are (elsewhere: RGBA).
    palette_transparency: bool = False
    #: Frames are fitted into a 256-colour palette (exactly when they fit).
    quantised: bool = False
    #: A still file is decoded on a thread while the rest of poolcli loads.
    decoded_ahead: bool = False
    #: Pillow finds its EXIF only through ``getexif()``, not in ``info``.
    exif_outside_info: bool = False
    #: Pillow applies its orientation tag itself, at load, and reports the upright size.
    oriented_on_load: bool = False
    #: Arrays (.npy/.npz), not images.
    array: bool = False
    #: Magic bytes its files start with, where poolcli sniffs them itself.
    magic: tuple[bytes, ...] = ()
    #: Read a band of rows at a time when it is larger than the memory budget
    #: (:mod:`poolcli.images.streaming`): TIFF, .npy, Zarr.
    streams_in: bool = False
    #: Written a band of rows at a time from a streamed input: TIFF, PNG, .npy, Zarr
    #: (.npz: the bands joined, as a zip member is written whole).
    streams_out: bool = False
    #: A folder, not a file (Zarr): written to a temporary folder, then renamed.
    directory: bool = False

    @property
    def extension(self) -> str:
        """The extension written for it (``.png``, ``.jpg``, ``.npy``)."""
        return self.extensions[0] if self.extensions else "." + self.name.lower()

    def own_writer_takes(self, mode: str, options: Mapping[str, object]) -> bool:
        """True when poolcli's own writer writes ``mode`` with these save options."""
        return mode in self.own_writer_modes and set(options) <= self.own_writer_options

    def holds(self, mode: str) -> bool:
        """True when the format stores ``mode`` exactly (or nothing says otherwise)."""
        return self.modes is None or mode in self.modes

    def carries(self, metadata: str) -> bool:
        return metadata in self.metadata

    @property
    def multi_frame(self) -> bool:
        return self.frames is not Frames.ONE

    @property
    def animated(self) -> bool:
        return self.frames is Frames.ANIMATION


_STILL = frozenset({"icc_profile", "exif", "xmp"})
#: TIFF's XMP tag (XMLPacket) and its type, BYTE, as GDAL, exiftool and libtiff write it.
TIFF_XMP, TIFF_XMP_TYPE = 700, 1


def xmp_bytes(value: object) -> bytes | None:
    """An XMP packet as a reader gives it (bytes, or text) as bytes; None if empty or odd."""
    value = value.encode() if isinstance(value, str) else value
    return bytes(value) if isinstance(value, (bytes, bytearray, memoryview)) and value else None


def _formats(*records: Format) -> dict[str, Format]:
    return {record.name: record for record in records}


#: Every format poolcli knows, by Pillow's name.
FORMATS: dict[str, Format] = _formats(
    Format(
        "PNG", (".png", ".apng"), core=True,
        modes=frozenset({"1", "L", "LA", "P", "RGB", "RGBA", "I;16"}),
        metadata=_STILL | {"dpi", "text"}, frames=Frames.ANIMATION, animation_writer=True,
        default_image=True, frames_share_mode=True,
        own_writer_modes=frozenset({"L", "LA", "RGB", "RGBA", "I;16"}),
        own_writer_options=frozenset({"compress_level", "icc_profile", "exif", "xmp", "dpi",
                                      "pnginfo", "compress_type"}),
        needs_numpy=True, palette_transparency=True, decoded_ahead=True, exif_outside_info=True,
        streams_out=True, magic=(b"\x89PNG\r\n\x1a\n",),
    ),
    Format(
        "JPEG", (".jpg", ".jpeg", ".jpe"), core=True, modes=frozenset({"L", "RGB", "CMYK"}),
        metadata=_STILL | {"dpi"}, defaults=MappingProxyType({"quality": 90}),
        decoded_ahead=True, exif_outside_info=True, magic=(b"\xff\xd8\xff",),
    ),
    Format(
        "TIFF", (".tif", ".tiff"), core=True,
        modes=frozenset({"1", "L", "LA", "P", "PA", "RGB", "RGBA", "CMYK", "YCbCr", "LAB",
                         "I;16", "I;16B", "I", "F"}),
        metadata=_STILL | {"dpi"}, frames=Frames.PAGES, oriented_on_load=True,
        magic=(b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"), streams_in=True,
        streams_out=True,
    ),
    Format(
        "WEBP", (".webp",), core=True, modes=frozenset({"RGB", "RGBA"}), metadata=_STILL,
        frames=Frames.ANIMATION, animation_writer=True,
        defaults=MappingProxyType({"quality": 90}), exif_outside_info=True,
    ),
    Format(
        "GIF", (".gif",), core=True, modes=frozenset({"1", "L", "P"}),
        metadata=frozenset({"comment"}), frames=Frames.ANIMATION, animation_writer=True,
        needs_numpy=True, quantised=True,
    ),
    Format(
        "MPO", (".mpo",), core=True, modes=frozenset({"L", "RGB", "CMYK"}),
        metadata=_STILL | {"dpi"}, frames=Frames.PAGES,
        defaults=MappingProxyType({"quality": 90}), exif_outside_info=True,
    ),
    Format("BMP", (".bmp",), core=True, modes=frozenset({"1", "L", "P", "RGB"}),
           metadata=frozenset({"dpi"})),
    # PPM writes I as 16-bit samples: I is not held (its values would be clipped)
    Format("PPM", (".ppm", ".pgm", ".pbm", ".pnm"), core=True,
           modes=frozenset({"1", "L", "RGB", "I;16", "F"})),
    Format("TGA", (".tga",), core=True, modes=frozenset({"1", "L", "LA", "P", "RGB", "RGBA"})),
    Format("ICO", (".ico",), core=True, modes=frozenset({"RGB", "RGBA"})),
    Format("AVIF", modes=frozenset({"RGB", "RGBA"}), metadata=_STILL, frames=Frames.ANIMATION,
           frames_share_mode=True),
    Format("PCX", modes=frozenset({"1", "L", "P", "RGB"}), metadata=frozenset({"dpi"})),
    Format("QOI", modes=frozenset({"RGB", "RGBA"})),
    Format("SGI", modes=frozenset({"L", "RGB", "RGBA"})),
    Format("PDF", modes=frozenset({"1", "L", "RGB", "CMYK"}), frames=Frames.PAGES),
    Format("IM", modes=frozenset({"1", "L", "P", "RGB", "RGBA", "CMYK", "YCbCr", "LAB", "I",
                                  "F", "I;16", "I;16B"})),
    Format("NPY", (".npy",), core=True, frames=Frames.PAGES, needs_numpy=True, array=True,
           magic=(b"\x93NUMPY",), streams_in=True, streams_out=True),
    Format("NPZ", (".npz",), core=True, frames=Frames.PAGES, needs_numpy=True, array=True,
           magic=(b"PK\x03\x04",), streams_out=True),  # bands joined: a zip member is whole
    # Zarr v2 or v3 arrays and OME-Zarr images (level 0 read; written chunked)
    Format("ZARR", (".zarr",), aliases=("ome.zarr",), core=True, frames=Frames.PAGES,
           needs_numpy=True, array=True, streams_in=True, streams_out=True, directory=True),
)  # fmt: skip

_CORE_NAMES = {
    key: record
    for record in FORMATS.values()
    if record.core
    for key in (
        record.name.lower(),
        *(ext.lstrip(".") for ext in record.extensions),
        *record.aliases,
    )
}
#: Extensions of the formats every Pillow build reads (and the arrays), known at once.
CORE_EXTENSIONS = frozenset(
    ext for record in FORMATS.values() if record.core for ext in record.extensions
)


def format_named(name: str) -> Format | None:
    """The format a ``--format`` value or a file extension (``jpg``, ``.TIF``) names.

    Core formats answer at once; any other name is looked up in Pillow's registry
    (loading its plugins) and gets its table record, or a plain one for a format
    the table does not list. None when nothing by that name exists.
    """
    key = name.lower().lstrip(".")
    record = _CORE_NAMES.get(key)
    if record is not None:
        return record
    pillow = _pillow_names().get(key)
    return None if pillow is None else record_of(pillow)


def record_of(name: str) -> Format:
    """The record of the format Pillow calls ``name`` (a plain one if not listed)."""
    record = FORMATS.get(name)
    if record is not None:
        return record
    extension = next((e for e, f in _pillow_extensions().items() if f == name), None)
    return Format(name, (extension,) if extension else ())


def writable(record: Format) -> bool:
    """True when poolcli can write ``record``'s format (a core one, or Pillow can)."""
    if record.core:
        return True
    from PIL import Image

    Image.init()
    return record.name in Image.SAVE


def writable_named(name: str) -> Format | None:
    """:func:`format_named`, when poolcli can write that format; else None."""
    record = format_named(name)
    return record if record is not None and writable(record) else None


def sniff(head: bytes, names: tuple[str, ...]) -> Format | None:
    """Which of the formats ``names`` the first bytes ``head`` of a file start like."""
    for name in names:
        record = FORMATS[name]
        if head.startswith(record.magic):
            return record
    return None


def readable_extensions() -> frozenset[str]:
    """Lower-case extensions of files taken from folders: what Pillow reads, and arrays."""
    from PIL import Image

    Image.init()
    opened = {
        ext for ext, fmt in Image.registered_extensions().items()
        if fmt in Image.OPEN or (fmt in FORMATS and FORMATS[fmt].core)
    }  # fmt: skip
    return frozenset(opened | CORE_EXTENSIONS)


def _pillow_extensions() -> dict[str, str]:
    from PIL import Image

    Image.init()
    return Image.registered_extensions()


def _pillow_names() -> dict[str, str]:
    from PIL import Image

    names = {ext.lstrip(".").lower(): fmt for ext, fmt in _pillow_extensions().items()}
    names.update({fmt.lower(): fmt for fmt in Image.SAVE})
    return names


def is_deep_png(head: bytes) -> bool:
    """Whether the first 26 bytes of a PNG say 16-bit colour (RGB, RGBA, grey with
    alpha): samples Pillow reads at 8 bits only. Grey 16-bit is Pillow's ``I;16``."""
    png = head.startswith(FORMATS["PNG"].magic) and head[12:16] == b"IHDR"
    return png and len(head) >= 26 and head[24] == 16 and head[25] in (2, 4, 6)
