"""``-O KEY=VALUE`` save options, checked once against the format table.

Each core format lists the save options poolcli knows it takes, with the values
they accept (:data:`OPTIONS`). :func:`check_save_options` refuses, before any work,
a key none of the batch's output formats takes (a typo such as ``qualty``) and a
value the format would refuse (``quality=abc``), naming what would work; keys that
only some of the formats take go to those (:func:`options_for`). Formats outside
the table (Pillow plugins poolcli has no record of) take any option unchecked.

NumPy- and Pillow-free: it runs while the batch is planned.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from ...errors import OutputError, ParameterError
from ..requests import add_note


@dataclass(frozen=True)
class Option:
    """The values one save option takes: whole numbers in a range, a flag, or names."""

    kind: str  # "int", "bool" or "choice"
    low: int = 0
    high: int = 0
    choices: tuple[str, ...] = ()
    #: ``keep`` is allowed: the JPEG input's own setting (Pillow's ``quality="keep"``).
    keep: bool = False

    def check(self, value: object) -> str | None:
        """None when ``value`` is one this option takes, else what it takes."""
        if self.keep and value == "keep":
            return None
        if self.kind == "bool":
            return None if isinstance(value, bool) else "true or false"
        if self.kind == "int":
            whole = isinstance(value, int) and not isinstance(value, bool)
            if whole and self.low <= value <= self.high:  # type: ignore[operator]
                return None
            keep = " (or keep, for a JPEG input)" if self.keep else ""
            return f"a whole number from {self.low} to {self.high}{keep}"
        names = [*self.choices, *(["keep"] if self.keep else [])]
        return None if str(value) in names else "one of " + ", ".join(names)


def _int(low: int, high: int, *, keep: bool = False) -> Option:
    return Option("int", low, high, keep=keep)


_BOOL = Option("bool")
_JPEG = {
    "quality": _int(0, 100, keep=True),
    "optimize": _BOOL,
    "progressive": _BOOL,
    "subsampling": Option("choice", choices=("0", "1", "2", "4:4:4", "4:2:2", "4:2:0"), keep=True),
    "qtables": Option("choice", choices=(), keep=True),
    "keep_rgb": _BOOL,
}
#: TIFF compressions Pillow writes, as ``-O compression=`` names them.
TIFF_COMPRESSIONS = ("raw", "tiff_lzw", "tiff_adobe_deflate", "tiff_deflate", "packbits",
                     "jpeg", "group3", "group4", "zstd", "lzma", "webp")  # fmt: skip

#: TIFF compressions that hold some results only: Group 3 and 4 hold 1-bit images,
#: JPEG 8-bit grey and colour (by Pillow's mode names).
BILEVEL_COMPRESSIONS = frozenset({"group3", "group4"})
JPEG_TIFF_MODES = frozenset({"L", "LA", "RGB", "RGBA", "CMYK", "YCbCr", "LAB"})
#: What a TIFF whose asked compression cannot hold its samples is written with.
TIFF_FALLBACK = "tiff_adobe_deflate"

#: Save options per format (Pillow's names); a format not listed takes any.
OPTIONS: dict[str, dict[str, Option]] = {
    "PNG": {"optimize": _BOOL, "compress_level": _int(0, 9)},
    "JPEG": _JPEG,
    "MPO": _JPEG,
    "TIFF": {"compression": Option("choice", choices=TIFF_COMPRESSIONS), "quality": _int(0, 100)},
    "WEBP": {"quality": _int(0, 100), "lossless": _BOOL, "method": _int(0, 6), "exact": _BOOL,
             "alpha_quality": _int(0, 100), "minimize_size": _BOOL, "allow_mixed": _BOOL},
    "GIF": {"optimize": _BOOL, "interlace": _BOOL},
    "BMP": {},
    "PPM": {},
    "TGA": {"compression": Option("choice", choices=("tga_rle",))},
    "ICO": {},
    "NPY": {},
    "NPZ": {},
    "ZARR": {"zarr_format": Option("choice", choices=("2", "3"))},
}  # fmt: skip


def check_save_options(
    options: Mapping[str, object],
    formats: Collection[str],
    inputs: Collection[str] = (),
    *,
    pool_mode: str | None = None,
    bilevel: bool = True,
) -> None:
    """Refuse ``options`` that no output format in ``formats`` takes, or values the
    format would refuse; ``keep`` values when an input (their formats ``inputs``)
    is not a JPEG; a Group 3/4 TIFF compression when ``bilevel`` is False (the
    ``pool_mode`` averages: no result is 1-bit). A :class:`ParameterError` naming
    the known keys."""
    asked = options.get("compression")
    if "TIFF" in formats and asked in BILEVEL_COMPRESSIONS and not bilevel:
        message = (
            f"`save_options` compression={asked}: Group 3 and 4 hold 1-bit images only, and "
            f"`mode={pool_mode}` never gives one (a 1-bit input pooled with max, min or "
            "mode stays 1-bit); pick tiff_lzw or tiff_adobe_deflate"
        )
        raise ParameterError(message, parameter="save_options", value="compression")
    for key, value in options.items():
        takers = [f for f in sorted(formats) if f not in OPTIONS or key in OPTIONS[f]]
        if not takers:
            known = sorted({k for f in formats for k in OPTIONS.get(f, {})})
            names = "/".join(sorted(formats))
            takes = f"its options: {', '.join(known)}" if known else "it takes none"
            message = f"`save_options` {key} is not a save option of {names} ({takes})"
            raise ParameterError(message, parameter="save_options", value=key)
        for fmt in takers:
            option = OPTIONS.get(fmt, {}).get(key)
            wanted = None if option is None else option.check(value)
            if wanted is not None:
                message = f"`save_options` {key}={value}: {fmt}'s {key} takes {wanted}"
                raise ParameterError(message, parameter="save_options", value=key)
        if value == "keep" and any(fmt != "JPEG" for fmt in inputs):
            message = (
                f"`save_options` {key}=keep keeps a JPEG input's own setting, "
                "and not every input is a JPEG"
            )
            raise ParameterError(message, parameter="save_options", value=key)


def options_for(options: Mapping[str, object], fmt: str) -> dict[str, object]:
    """The options of ``options`` that ``fmt`` takes (all of them for an unlisted format)."""
    if fmt not in OPTIONS:
        return dict(options)
    return {k: v for k, v in options.items() if k in OPTIONS[fmt]}


def tiff_compression_for(
    options: Mapping[str, object], mode: str, notes: list[str]
) -> dict[str, object]:
    """``options`` of a TIFF of a ``mode`` result, its asked ``compression`` checked:
    Group 3/4 of a result that is not 1-bit is an :class:`OutputError` (before any
    byte is written); JPEG of samples it cannot hold (16-bit, float, 1-bit, palette)
    is written with :data:`TIFF_FALLBACK` instead, said in a note."""
    asked = options.get("compression")
    if asked in BILEVEL_COMPRESSIONS and mode != "1":
        message = (
            f"`save_options` compression={asked}: Group 3 and 4 hold 1-bit images only, and "
            f"this result is {mode}; pool a 1-bit input with max, min or mode, or pick "
            "tiff_lzw or tiff_adobe_deflate"
        )
        raise OutputError(message)
    if asked == "jpeg" and mode not in JPEG_TIFF_MODES:
        add_note(notes, jpeg_fallback_note(f"mode {mode}"))
        return {**options, "compression": TIFF_FALLBACK}
    return dict(options)


def jpeg_fallback_note(samples: str) -> str:
    """The note of a ``compression=jpeg`` TIFF whose ``samples`` JPEG cannot hold."""
    return (
        f"`save_options` compression=jpeg holds 8-bit grey and colour only, not {samples}: "
        f"written with {TIFF_FALLBACK} (lossless) instead"
    )
