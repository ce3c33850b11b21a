"""The mode table: one record per Pillow mode, with every fact poolcli needs of it.

Pooling, pixel views, array conversions, writers and ``poolcli info`` all ask this
table; a mode it does not list is converted to RGB(A) before pooling, with a note.
Adding a mode means adding one :class:`Mode` record to :data:`MODES`.

NumPy-free: dtypes are NumPy names (``"uint16"``) and byte layouts typestrs
(``"<u2"``), so that policy decisions load nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Mode:
    """What poolcli knows of one Pillow mode."""

    name: str
    #: NumPy dtype of one channel value (``np.asarray(image).dtype``).
    dtype: str
    channels: int
    #: Bits per channel value as files store them (1 for mode ``1``).
    bits: int = 8
    #: The last channel is alpha.
    alpha: bool = False
    #: Channel values are sRGB-encoded light, so ``linear`` applies.
    srgb: bool = False
    #: Pooled in this mode as it is (others convert first: see ``pooled_as``).
    poolable: bool = True
    #: The mode a frame is converted to before pooling (premultiplied alpha to
    #: straight alpha, a byte-order variant to the plain one, a palette to colours).
    pooled_as: str | None = None
    #: The mode averaging modes pool it as (``1`` -> ``L``: grey levels come out).
    averaged_as: str | None = None
    #: Pixels are palette indices: ``mode`` pooling votes on them and keeps the palette.
    palette: bool = False
    #: Pillow's ``Image.reduce`` gives the engine's 2-wide means byte for byte
    #: (checked by tests). Not LAB (its a and b reduce differently), nor alpha modes.
    pillow_reduce_exact: bool = False
    #: NumPy typestr of a pixel in Pillow's memory, for one-value-per-pixel modes
    #: that :func:`~poolcli.images.engine_route.pixels.view` maps without a copy.
    buffer: str | None = None
    #: Pillow holds four bytes a pixel (RGB's fourth is padding), mapped without a copy.
    four_bytes: bool = False
    #: An array of this dtype and channel count is written as an image of this mode.
    from_array: bool = False
    #: What it becomes where a format cannot hold it: lossless choices first.
    fallbacks: tuple[str, ...] = ("RGBA", "RGB", "L")
    #: Modes it converts to without losing anything.
    lossless: frozenset[str] = field(default_factory=frozenset)
    #: Channels are a raster's bands (``4-band;uint16``), not a colour: each is pooled
    #: on its own, ``mode`` too (colour images vote with whole pixels).
    bands: bool = False


def _modes(*records: Mode) -> dict[str, Mode]:
    return {record.name: record for record in records}


#: Every Pillow mode poolcli knows, by name.
MODES: dict[str, Mode] = _modes(
    Mode("1", "bool", 1, bits=1, averaged_as="L", from_array=True,
         fallbacks=("L", "RGB", "RGBA"), lossless=frozenset({"L", "RGB", "RGBA"})),
    Mode("L", "uint8", 1, srgb=True, pillow_reduce_exact=True, buffer="|u1", from_array=True,
         fallbacks=("RGB", "RGBA", "I;16", "P"), lossless=frozenset({"RGB", "RGBA", "I;16"})),
    Mode("LA", "uint8", 2, alpha=True, srgb=True, from_array=True,
         fallbacks=("RGBA", "L", "RGB"), lossless=frozenset({"RGBA"})),
    Mode("La", "uint8", 2, alpha=True, poolable=False, pooled_as="LA"),
    Mode("P", "uint8", 1, poolable=False, pooled_as="RGB", palette=True, buffer="|u1",
         fallbacks=("RGB", "RGBA", "L"), lossless=frozenset({"RGB", "RGBA"})),
    Mode("PA", "uint8", 2, alpha=True, poolable=False, pooled_as="RGBA", palette=True,
         fallbacks=("RGBA", "P", "RGB", "L"), lossless=frozenset({"RGBA"})),
    Mode("RGB", "uint8", 3, srgb=True, pillow_reduce_exact=True, four_bytes=True,
         from_array=True, fallbacks=("RGBA", "P", "L"), lossless=frozenset({"RGBA"})),
    Mode("RGBA", "uint8", 4, alpha=True, srgb=True, four_bytes=True, from_array=True,
         fallbacks=("RGB", "P", "LA", "L")),
    Mode("RGBa", "uint8", 4, alpha=True, poolable=False, pooled_as="RGBA"),
    Mode("CMYK", "uint8", 4, pillow_reduce_exact=True, four_bytes=True,
         fallbacks=("RGB", "RGBA", "L")),
    Mode("YCbCr", "uint8", 3, pillow_reduce_exact=True, fallbacks=("RGB", "RGBA", "L")),
    Mode("LAB", "uint8", 3, fallbacks=("RGB", "RGBA", "L")),
    Mode("I;16", "uint16", 1, bits=16, srgb=True, buffer="<u2", from_array=True,
         fallbacks=("I", "I;16B", "L", "RGB"), lossless=frozenset({"I", "I;16B"})),
    Mode("I;16B", "uint16", 1, bits=16, srgb=True, buffer=">u2",
         fallbacks=("I;16", "I", "L", "RGB"), lossless=frozenset({"I;16", "I"})),
    Mode("I;16L", "uint16", 1, bits=16, poolable=False, pooled_as="I;16", buffer="<u2"),
    Mode("I;16N", "uint16", 1, bits=16, poolable=False, pooled_as="I;16"),
    Mode("I", "int32", 1, bits=32, buffer="=i4", from_array=True,
         fallbacks=("I;16", "F", "L", "RGB")),
    Mode("F", "float32", 1, bits=32, buffer="=f4", from_array=True,
         fallbacks=("I", "I;16", "L", "RGB")),
)  # fmt: skip


def mode_of(name: str) -> Mode | None:
    """The record of Pillow mode ``name``, or None for a mode poolcli does not know."""
    return MODES.get(name)


def image_mode(dtype: str, channels: int) -> Mode | None:
    """The mode an array of ``dtype`` with ``channels`` channels is written as, if any."""
    for record in MODES.values():
        if record.from_array and (record.dtype, record.channels) == (dtype, channels):
            return record
    return None


def array_mode(dtype: str, channels: int, *, alpha: bool | None = None) -> Mode | None:
    """The record of (H, W[, C]) pixels of ``dtype``: a Pillow mode's where one holds
    them (:func:`image_mode`), else a record of the same facts for deep pixels Pillow
    has no mode for (16-bit RGB, signed 16-bit grey...), named like ``RGB;uint16``.
    Two or four channels end in alpha unless ``alpha`` is False: then (a TIFF whose
    extra samples are not alpha, as a 4-band satellite image's) they are bands, each
    pooled on its own, named like ``4-band;uint16``. None for more than four channels."""
    bits = int("".join(c for c in dtype if c.isdigit()) or 8)
    if alpha is False and channels > 1:
        if channels > 4:
            return None
        return Mode(f"{channels}-band;{dtype}", dtype, channels, bits=bits, fallbacks=(),
                    bands=True)  # fmt: skip
    record = image_mode(dtype, channels)
    if record is not None or not 1 <= channels <= 4:
        return record
    base = ("L", "LA", "RGB", "RGBA")[channels - 1]
    return Mode(f"{base};{dtype}", dtype, channels, bits=bits, alpha=channels in (2, 4),
                srgb=dtype in ("uint8", "uint16"), fallbacks=())  # fmt: skip


def has_alpha(name: str) -> bool:
    """True for a mode with an alpha channel (``LA``, ``RGBA``, ``PA``...)."""
    record = MODES.get(name)
    return record is not None and record.alpha


def sample_dtype(mode: str) -> str:
    """The NumPy dtype a pixel channel of Pillow mode ``mode`` holds (``RGB;uint16``:
    the dtype named after the semicolon, for pixels Pillow has no mode for)."""
    record = mode_of(mode)
    if record is None and ";" in mode:
        return mode.split(";", 1)[1]
    return "uint8" if record is None else record.dtype
