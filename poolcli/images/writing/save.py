"""Writing images: the nearest mode a format holds, frames, options, the writer.

Pillow silently converts some modes on save (16-bit to 8-bit by clipping, RGBA to
RGB for BMP, anything to a 256-colour palette for GIF). poolcli decides instead,
from the format's and the mode's records, with a note whenever a conversion loses
something (the conversions are in :mod:`.fitting`). A frame the format holds as it
is, written by Pillow, needs no NumPy: poolcli's own writers (and the conversions
that look at pixels) load it only when used.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import BinaryIO

import PIL
from PIL import Image

from ...errors import OutputError
from ..formats import FORMATS, TIFF_XMP, TIFF_XMP_TYPE, Format, record_of
from ..modes import Mode, has_alpha, mode_of
from ..requests import add_note
from .options import tiff_compression_for

_UNKNOWN_MODE = Mode("?", "uint8", 1)
#: Pillow 11.3 on writes each appended TIFF page with its own ``encoderinfo`` over the
#: first page's options; before, every page took the first page's (or, in 11.2, none).
_PAGES_APART = tuple(int(part) for part in PIL.__version__.split(".")[:2]) >= (11, 3)


def _keeping_frames() -> str:
    """The image formats that keep every frame, as ``--format`` names them: 'png, tif, ...'."""
    return ", ".join(
        record.extension.lstrip(".")
        for record in FORMATS.values()
        if record.core and record.multi_frame and not record.array
    )


def save(
    frames: list[Image.Image],
    target: BinaryIO,
    format: str,
    *,
    metadata_options: Mapping[str, object],
    user_options: Mapping[str, object],
    notes: list[str],
    page_compressions: Sequence[str] | None = None,
) -> None:
    """Write ``frames`` to ``target`` as ``format``; conversions are noted, not hidden.

    ``page_compressions``: a TIFF's compression page by page (the input pages' own),
    where no ``compression`` is asked for and Pillow writes pages apart (11.3 on);
    else every page takes ``metadata_options``' one."""
    record = record_of(format)
    if len(frames) > 1 and not record.multi_frame:
        message = (
            f"the input has {len(frames)} frames and {format} holds one: pick one with "
            f"`frame=N`, or write a format that keeps every frame ({_keeping_frames()})"
        )
        raise OutputError(message)
    if len(frames) > 1 and record.animated and len({f.size for f in frames}) > 1:
        sizes = ", ".join(sorted({f"{w}x{h}" for w, h in (f.size for f in frames)}))
        message = (
            f"the frames differ in size ({sizes}) and {format} animations have one size; "
            "write TIFF, or pick one with `frame=N`"
        )
        raise OutputError(message)
    frames = [nearest_mode(frame, record, notes) for frame in frames]
    if len(frames) > 1 and record.frames_share_mode:
        frames = _common_mode(frames)
    if record.name == "TIFF" and "compression" in user_options:
        for mode in sorted({frame.mode for frame in frames}):
            user_options = tiff_compression_for(user_options, mode, notes)
    options = {**record.defaults, **metadata_options, **user_options}
    _drop_foreign_profile(options, frames[0].mode, notes)
    if record.name == "TIFF":
        _xmp_as_tag(options)
    first, rest = frames[0], frames[1:]
    by_page = page_compressions is not None and (not rest or _PAGES_APART)
    if record.name == "TIFF" and by_page and "compression" not in user_options:
        assert page_compressions is not None
        options["compression"] = page_compressions[0]
        for page, compression in zip(rest, page_compressions[1:], strict=True):
            page.encoderinfo = {"compression": compression}  # over the first page's options
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # encoders warn about metadata they skip
            if rest and record.animation_writer:
                from . import animation  # poolcli's own writers (with NumPy) load when used

                animation.save(frames, target, format, options)
            elif rest:
                first.save(target, format=format, save_all=True, append_images=rest, **options)
            elif record.own_writer_takes(first.mode, options):
                from . import png  # poolcli's parallel PNG writer (see png.py)

                png.save(first, target, options)
            else:
                first.save(target, format=format, **options)
    except OutputError:
        raise
    except MemoryError:
        message = f"ran out of memory encoding {format}"
        raise OutputError(message) from None
    except Exception as error:  # noqa: BLE001 - an encoder refusing is an output error
        if isinstance(error, OSError) and error.errno is not None:
            raise  # the target's own (a full disk, an I/O error): its writer names the file
        text = str(error).splitlines()[0] if str(error) else type(error).__name__
        message = f"cannot write {format}: {text}"
        raise OutputError(message) from None


def without_default_image(
    frames: list[Image.Image], format: str, notes: list[str]
) -> list[Image.Image]:
    """The frames of an APNG whose ``frames[0]`` is its default image (not an animation
    frame) as ``format`` keeps them: all of them where it holds a default image (APNG)
    or has pages without timing (TIFF); the animation only in another animation
    format, where the still would play as a frame (said in a note)."""
    record = record_of(format)
    if len(frames) < 2 or record.default_image or not record.animated:
        return frames
    add_note(notes, f"the APNG's default image is not part of its animation, and {record.name} "
             "has no place for one: left out")  # fmt: skip
    return frames[1:]


def _xmp_as_tag(options: dict[str, object]) -> None:
    """Pillow's TIFF writer ignores ``xmp=``: the XMP goes into its tag instead."""
    xmp = options.pop("xmp", None)
    if not xmp:
        return
    from PIL import TiffImagePlugin

    tags = TiffImagePlugin.ImageFileDirectory_v2()
    given = options.get("tiffinfo")
    if isinstance(given, TiffImagePlugin.ImageFileDirectory_v2):
        for code, value in given.items():
            tags[code] = value
            tags.tagtype[code] = given.tagtype[code]
    tags[TIFF_XMP] = xmp
    tags.tagtype[TIFF_XMP] = TIFF_XMP_TYPE
    options["tiffinfo"] = tags


#: The ICC colour space (header bytes 16-20) of the pixels of each mode family.
_SPACES = {"RGB": b"RGB ", "RGBA": b"RGB ", "P": b"RGB ", "PA": b"RGB ", "CMYK": b"CMYK",
           "LAB": b"Lab ", "YCbCr": b"YCbr", "L": b"GRAY", "LA": b"GRAY", "1": b"GRAY",
           "I;16": b"GRAY", "I;16B": b"GRAY", "I": b"GRAY", "F": b"GRAY"}  # fmt: skip
_SPACE_NAMES = {b"RGB ": "RGB", b"CMYK": "CMYK", b"Lab ": "Lab", b"GRAY": "grey",
                b"YCbr": "YCbCr"}  # fmt: skip


def _drop_foreign_profile(options: dict[str, object], mode: str, notes: list[str]) -> None:
    """Drop an ICC profile whose colour space is not that of the pixels written (a
    CMYK or Lab input written as RGB, say): colour-managed viewers would misread
    them through it. Said in a note."""
    profile = options.get("icc_profile")
    if not isinstance(profile, bytes) or len(profile) < 20 or mode not in _SPACES:
        return
    space, written = profile[16:20], _SPACES[mode]
    if space == written or (written == b"GRAY" and space == b"RGB "):
        return  # grey pixels under an RGB profile are read as neutral RGB: harmless
    del options["icc_profile"]
    said = _SPACE_NAMES.get(space, space.decode("latin-1").strip())
    add_note(notes, f"the ICC profile describes {said} colour, not the {mode} pixels "
             "written: dropped, so viewers do not misread them")  # fmt: skip


def nearest_mode(image: Image.Image, record: Format, notes: list[str]) -> Image.Image:
    """``image`` in the nearest mode ``record``'s format holds (itself when it holds it)."""
    mode = mode_of(image.mode) or _UNKNOWN_MODE
    palette_alpha = mode.palette and "transparency" in image.info
    quantise = record.quantised and (not record.holds(image.mode) or palette_alpha)
    if (
        not quantise
        and palette_alpha
        and not record.palette_transparency
        and record.modes is not None
        and "RGBA" in record.modes
    ):
        # only some formats store a palette's transparency; elsewhere RGBA keeps it exactly
        return image.convert("RGBA")
    if not quantise and record.holds(image.mode):
        return image
    from . import fitting  # NumPy loads here: these conversions look at the pixels

    if quantise:
        converted, losses = fitting.for_gif(image)
        for loss in losses:
            add_note(notes, loss)
        return converted
    for target in mode.fallbacks:
        if record.holds(target):
            converted = fitting.convert(image, target)
            loss = fitting.loss(image, target)
            note = f"{record.name} cannot hold mode {image.mode}: written as {target}{loss}"
            add_note(notes, note)
            return converted
    message = f"{record.name} cannot hold mode {image.mode} nor any mode near it; write PNG or TIFF"
    raise OutputError(message)


def _common_mode(frames: list[Image.Image]) -> list[Image.Image]:
    """Animated formats want one mode: the richest one present (P and RGB -> RGBA)."""
    modes = {f.mode for f in frames}
    if len(modes) == 1:
        return frames
    transparent = any(has_alpha(f.mode) or "transparency" in f.info for f in frames)
    target = "RGBA" if transparent else "RGB"
    return [f if f.mode == target else f.convert(target) for f in frames]
