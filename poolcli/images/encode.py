"""Writing images: output format, the nearest mode a format holds, frames, options.

Pillow silently converts some modes on save (16-bit to 8-bit by clipping, RGBA to
RGB for BMP, anything to a 256-colour palette for GIF). poolcli decides instead,
with a note on stderr whenever a conversion loses something (the conversions are
in :mod:`poolcli.images.fitting`). A frame the format holds as it is, written by
Pillow, needs no NumPy: this module and the writers it picks load it only when used.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import BinaryIO

from PIL import Image

from ..errors import OutputError
from .metadata import ANIMATED, MULTI_FRAME

#: Formats whose animations poolcli assembles itself, frame for frame.
ANIMATED_WRITERS = {"GIF", "PNG", "WEBP"}

#: Modes each format stores exactly (reads back with the same values).
FORMAT_MODES = {
    "PNG": {"1", "L", "LA", "P", "RGB", "RGBA", "I;16"},
    "TIFF": {
        "1",
        "L",
        "LA",
        "P",
        "PA",
        "RGB",
        "RGBA",
        "CMYK",
        "YCbCr",
        "LAB",
        "I;16",
        "I;16B",
        "I",
        "F",
    },
    "JPEG": {"L", "RGB", "CMYK"},
    "MPO": {"L", "RGB", "CMYK"},
    "WEBP": {"RGB", "RGBA"},
    "AVIF": {"RGB", "RGBA"},
    "GIF": {"1", "L", "P"},
    "BMP": {"1", "L", "P", "RGB"},
    "PPM": {"1", "L", "RGB", "I;16", "I", "F"},
    "TGA": {"1", "L", "LA", "P", "RGB", "RGBA"},
    "ICO": {"RGB", "RGBA"},
    "PCX": {"1", "L", "P", "RGB"},
    "QOI": {"RGB", "RGBA"},
    "SGI": {"L", "RGB", "RGBA"},
    "PDF": {"1", "L", "RGB", "CMYK"},
    "IM": {"1", "L", "P", "RGB", "RGBA", "CMYK", "YCbCr", "LAB", "I", "F", "I;16", "I;16B"},
}

#: Defaults that differ from Pillow's, chosen for pooled photos (``-O`` overrides).
DEFAULT_OPTIONS: dict[str, dict[str, object]] = {
    "JPEG": {"quality": 90},
    "MPO": {"quality": 90},
    "WEBP": {"quality": 90},
}

# What a mode becomes where it is not held: lossless choices first, then lossy ones.
_FALLBACKS = {
    "1": ["L", "RGB", "RGBA"],
    "L": ["RGB", "RGBA", "I;16", "P"],
    "LA": ["RGBA", "L", "RGB"],
    "P": ["RGB", "RGBA", "L"],
    "PA": ["RGBA", "P", "RGB", "L"],
    "RGB": ["RGBA", "P", "L"],
    "RGBA": ["RGB", "P", "LA", "L"],
    "CMYK": ["RGB", "RGBA", "L"],
    "YCbCr": ["RGB", "RGBA", "L"],
    "LAB": ["RGB", "RGBA", "L"],
    "I;16": ["I", "I;16B", "L", "RGB"],
    "I;16B": ["I;16", "I", "L", "RGB"],
    "I": ["I;16", "F", "L", "RGB"],
    "F": ["I", "I;16", "L", "RGB"],
}


# The usual names, known without loading every Pillow plugin (Image.init() costs
# tens of milliseconds at start-up); anything else is looked up in Pillow itself.
_COMMON_NAMES = {
    "png": "PNG", "apng": "PNG", "jpg": "JPEG", "jpeg": "JPEG", "jpe": "JPEG",
    "tif": "TIFF", "tiff": "TIFF", "webp": "WEBP", "gif": "GIF", "bmp": "BMP",
    "ppm": "PPM", "pgm": "PPM", "pbm": "PPM", "pnm": "PPM", "tga": "TGA", "ico": "ICO",
    "npy": "NPY", "npz": "NPZ",
}  # fmt: skip
_COMMON_WRITERS = {"PNG", "JPEG", "TIFF", "WEBP", "GIF", "BMP", "PPM", "TGA", "ICO", "NPY", "NPZ"}


def format_names() -> dict[str, str]:
    """Lower-case names and extensions (``png``, ``jpg``, ``tif``...) -> Pillow format."""
    Image.init()
    names = {ext.lstrip(".").lower(): fmt for ext, fmt in Image.registered_extensions().items()}
    names.update({fmt.lower(): fmt for fmt in Image.SAVE})
    names.update(_COMMON_NAMES)
    return names


def format_for(name: str) -> str | None:
    """The format a ``--format`` value or a file extension names, or None."""
    key = name.lower().lstrip(".")
    return _COMMON_NAMES.get(key) or format_names().get(key)


def writable_format(name: str) -> str | None:
    """The format a ``--format`` value or extension names, if poolcli can write it."""
    fmt = format_for(name)
    return fmt if fmt is not None and writable(fmt) else None


def writable(format: str) -> bool:
    if format in _COMMON_WRITERS:
        return True
    Image.init()
    return format in Image.SAVE


def extension(format: str) -> str:
    """The usual file extension of ``format`` (``.png``, ``.jpg``, ``.npy``...)."""
    preferred = {"JPEG": ".jpg", "TIFF": ".tif", "NPY": ".npy", "NPZ": ".npz", "PPM": ".ppm"}
    if format in preferred:
        return preferred[format]
    Image.init()
    for ext, fmt in Image.registered_extensions().items():
        if fmt == format:
            return ext
    return "." + format.lower()


def save(
    frames: list[Image.Image],
    target: BinaryIO,
    format: str,
    *,
    metadata_options: Mapping[str, object],
    user_options: Mapping[str, object],
    notes: list[str],
) -> None:
    """Write ``frames`` to ``target`` as ``format``; conversions are noted, not hidden."""
    if len(frames) > 1 and format not in MULTI_FRAME:
        keepers = "GIF, PNG (APNG), WebP or TIFF"
        message = (
            f"the input has {len(frames)} frames and {format} holds one: pick one with "
            f"--frame N, or write {keepers}"
        )
        raise OutputError(message)
    if len(frames) > 1 and format in ANIMATED and len({f.size for f in frames}) > 1:
        sizes = ", ".join(sorted({f"{w}x{h}" for w, h in (f.size for f in frames)}))
        message = (
            f"the frames differ in size ({sizes}) and {format} animations have one size; "
            "write TIFF, or pick one with --frame N"
        )
        raise OutputError(message)
    frames = [nearest_mode(frame, format, notes) for frame in frames]
    if len(frames) > 1 and format in ANIMATED and format not in ("GIF", "WEBP"):
        # GIF and WebP frames are encoded one by one; APNG frames share one mode
        frames = _common_mode(frames)
    options = {**defaults(format), **metadata_options, **user_options}
    first, rest = frames[0], frames[1:]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # encoders warn about metadata they skip
            if rest and format in ANIMATED_WRITERS:
                from . import animation  # poolcli's own writers (with NumPy) load when used

                animation.save(frames, target, format, options)
            elif rest:
                first.save(target, format=format, save_all=True, append_images=rest, **options)
            elif format == "PNG":
                _save_png(first, target, options)
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


def _save_png(image: Image.Image, target: BinaryIO, options: Mapping[str, object]) -> None:
    """poolcli's parallel PNG writer where it applies (see :mod:`poolcli.images.png`)."""
    from . import png

    if png.can_write(image, options):
        png.save(image, target, options)
    else:
        image.save(target, format="PNG", **options)


def defaults(format: str) -> dict[str, object]:
    """poolcli's save options for ``format`` before the user's ``-O`` ones."""
    return dict(DEFAULT_OPTIONS.get(format, {}))


def nearest_mode(image: Image.Image, format: str, notes: list[str]) -> Image.Image:
    """``image`` in the nearest mode ``format`` holds (itself when it holds it)."""
    held = FORMAT_MODES.get(format)
    palette_alpha = image.mode in ("P", "PA") and "transparency" in image.info
    to_gif = format == "GIF" and (image.mode not in FORMAT_MODES["GIF"] or palette_alpha)
    if not to_gif and palette_alpha and format != "PNG" and held is not None and "RGBA" in held:
        # only PNG stores a palette's transparency; elsewhere RGBA keeps it exactly
        return image.convert("RGBA")
    if not to_gif and (held is None or image.mode in held):
        return image
    from . import fitting  # NumPy loads here: these conversions look at the pixels

    if to_gif:
        converted, losses = fitting.for_gif(image)
        for loss in losses:
            _note(notes, loss)
        return converted
    assert held is not None
    for target in _FALLBACKS.get(image.mode, ["RGBA", "RGB", "L"]):
        if target in held:
            converted = fitting.convert(image, target)
            loss = fitting.loss(image, target)
            _note(notes, f"{format} cannot hold mode {image.mode}: written as {target}{loss}")
            return converted
    message = f"{format} cannot hold mode {image.mode} nor any mode near it; write PNG or TIFF"
    raise OutputError(message)


def _common_mode(frames: list[Image.Image]) -> list[Image.Image]:
    """Animated formats want one mode: the richest one present (P and RGB -> RGBA)."""
    modes = {f.mode for f in frames}
    if len(modes) == 1:
        return frames
    target = "RGBA" if any(m in ("RGBA", "LA", "PA") or "transparency" in f.info
                           for f in frames for m in [f.mode]) else "RGB"  # fmt: skip
    return [f if f.mode == target else f.convert(target) for f in frames]


def _note(notes: list[str], text: str) -> None:
    if text not in notes:
        notes.append(text)
