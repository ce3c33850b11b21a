"""The format and mode tables say what Pillow does: each claim checked against Pillow.

Every other module trusts these records, so a wrong one would be a bug everywhere at
once; here each fact a record states is tried on Pillow itself.
"""

from __future__ import annotations

import io
import re
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from poolcli.images.engine_route.pixels import image_from, view
from poolcli.images.formats import (
    CORE_EXTENSIONS,
    FORMATS,
    Format,
    format_named,
    record_of,
    writable,
)
from poolcli.images.modes import MODES, Mode, image_mode, mode_of
from poolcli.images.reading.limits import use_block_allocator
from poolcli.images.writing.fitting import convert, loss

README = Path(__file__).resolve().parent.parent / "README.md"
CORE_IMAGES = [f for f in FORMATS.values() if f.core and not f.array]
#: Modes Pillow can make a blank image of (the others only come from files).
NEW_MODES = [m for m in MODES.values() if m.name not in ("I;16N",)]
#: Formats whose writers lose pixel values by design (their modes survive, values not).
LOSSY = {"JPEG", "WEBP", "MPO"}


def random_image(mode: str, size=(7, 5), seed=1) -> Image.Image:
    """Random pixels over the mode's whole range; palettes of distinct random colours."""
    record = MODES[mode]
    rng = np.random.default_rng(seed)
    shape = (size[1], size[0]) + ((record.channels,) if record.channels > 1 else ())
    if record.dtype == "bool":
        return image_from(rng.integers(0, 2, shape).astype(bool), mode)
    if record.dtype.startswith("float"):
        return image_from(rng.normal(0, 100, shape).astype(record.dtype), mode)
    info = np.iinfo(record.dtype)
    values = rng.integers(max(info.min, -(2**20)), min(info.max, 2**20) + 1, shape)
    image = image_from(values.astype(record.dtype), mode)
    if record.palette:
        colours = rng.permutation(2**24)[:256]
        palette = np.stack([colours >> 16, (colours >> 8) & 255, colours & 255], axis=1)
        image.putpalette(palette.astype(np.uint8).tobytes())
    return image


def distinct(image: Image.Image) -> int:
    """How many different pixel values ``image`` holds."""
    return _count(image)


# --- the mode table ------------------------------------------------------------------


@pytest.mark.parametrize("record", NEW_MODES, ids=lambda m: m.name)
def test_a_mode_has_the_dtype_and_channels_its_record_says(record: Mode):
    array = np.asarray(Image.new(record.name, (3, 2)))
    assert array.dtype.newbyteorder("=") == np.dtype(record.dtype)
    assert (array.shape[2] if array.ndim == 3 else 1) == record.channels
    assert len(Image.new(record.name, (1, 1)).getbands()) == record.channels
    if record.alpha:
        assert Image.new(record.name, (1, 1)).getbands()[-1] in ("A", "a")


@pytest.mark.parametrize("record", [m for m in NEW_MODES if m.buffer or m.four_bytes])
def test_pixels_are_mapped_where_the_record_says_they_can_be(record: Mode):
    use_block_allocator()
    image = random_image(record.name, (9, 4))
    mapped = view(image, padded=True)
    channels = 4 if record.four_bytes else 1
    assert mapped.shape[:2] == (4, 9)
    assert (mapped.shape[2] if mapped.ndim == 3 else 1) == channels
    expected = np.asarray(image)
    actual = mapped if record.buffer else mapped[..., : record.channels]
    np.testing.assert_array_equal(actual.reshape(expected.shape), expected)
    assert not mapped.flags.owndata  # shared with Pillow, not copied


def _flat(image: Image.Image) -> np.ndarray:
    pixels = np.asarray(image).astype(np.float64)
    return pixels.reshape(pixels.shape[0] * pixels.shape[1], -1)


def _count(image: Image.Image) -> int:
    return len(np.unique(_flat(image), axis=0))


def test_every_mode_named_in_a_record_is_in_the_table():
    for record in MODES.values():
        named = [record.pooled_as, record.averaged_as, *record.fallbacks, *record.lossless]
        assert {n for n in named if n} <= set(MODES), record.name
        assert record.pooled_as is None or MODES[record.pooled_as].poolable
        assert record.averaged_as is None or MODES[record.averaged_as].poolable


@pytest.mark.parametrize("record", [m for m in NEW_MODES if m.lossless], ids=lambda m: m.name)
def test_a_lossless_conversion_is_noted_as_losing_nothing_and_loses_nothing(record: Mode):
    image = random_image(record.name, (40, 30))
    for target in record.lossless:
        assert loss(image, target) == "", (record.name, target)
        converted = convert(image, target)
        assert converted.mode == target
        # distinct sources stay distinct: the conversion is one to one
        pairs = np.concatenate([_flat(image), _flat(converted)], axis=1)
        assert len(np.unique(pairs, axis=0)) == distinct(image) == _count(converted), target


def test_arrays_become_the_modes_the_table_names():
    assert image_mode("uint8", 3).name == "RGB"
    assert image_mode("uint16", 1).name == "I;16"
    assert image_mode("float32", 1).name == "F"
    assert image_mode("uint8", 5) is None
    assert image_mode("int64", 1) is None
    keys = [(m.dtype, m.channels) for m in MODES.values() if m.from_array]
    assert len(keys) == len(set(keys))  # one mode per (dtype, channels)
    assert mode_of("HSV") is None


# --- the format table ----------------------------------------------------------------


@pytest.mark.parametrize("record", CORE_IMAGES, ids=lambda f: f.name)
def test_a_core_format_is_read_and_written_by_every_pillow(record: Format):
    Image.init()
    assert record.name in Image.SAVE
    registered = Image.registered_extensions()
    for extension in record.extensions:
        assert registered.get(extension) == record.name, extension
    assert writable(record)


@pytest.mark.parametrize("record", CORE_IMAGES, ids=lambda f: f.name)
def test_a_format_keeps_the_modes_it_claims_to_hold(record: Format):
    """Written by Pillow and read back, every value of a held mode is kept (the mode
    may come back under another name holding the same values: GIF's L is a P)."""
    assert record.modes is not None
    assert record.modes <= set(MODES)
    for mode in sorted(record.modes):
        image = random_image(mode, (16, 16))
        buffer = io.BytesIO()
        image.save(buffer, format=record.name)
        buffer.seek(0)
        with Image.open(buffer) as back:
            if record.name in LOSSY:
                assert back.mode == mode, (record.name, mode)
            elif MODES[mode].palette:  # the colours are kept, maybe under other indices
                colours = back.convert("RGBA"), image.convert("RGBA")
                assert np.array_equal(*map(np.asarray, colours)), (record.name, mode)
            else:
                kept = back.convert(mode) if back.mode != mode else back
                assert np.array_equal(np.asarray(kept), np.asarray(image)), (record.name, mode)


@pytest.mark.parametrize("record", CORE_IMAGES, ids=lambda f: f.name)
def test_a_format_carries_the_metadata_it_claims(record: Format):
    mode = next(m for m in ("RGB", "L", "P") if record.holds(m))
    options = {
        "icc_profile": b"fake profile, kept as bytes",
        "dpi": (300, 300),
        "comment": b"poolcli",
    }
    claimed = {key: value for key, value in options.items() if record.carries(key)}
    buffer = io.BytesIO()
    random_image(mode, (8, 8)).save(buffer, format=record.name, **claimed)
    buffer.seek(0)
    with Image.open(buffer) as back:
        for key, value in claimed.items():
            read = back.info.get(key)
            if key == "dpi":
                assert read is not None
                assert tuple(round(float(v)) for v in read) == value, record.name
            else:
                assert read == value, (record.name, key)


def test_format_names_and_extensions_find_their_record():
    assert format_named("jpg") is FORMATS["JPEG"]
    assert format_named(".TIF") is FORMATS["TIFF"]
    assert format_named("apng") is FORMATS["PNG"]
    assert format_named("npz") is FORMATS["NPZ"]
    assert format_named("pcx") is FORMATS["PCX"]  # through Pillow's registry
    assert format_named("nonsense") is None
    assert record_of("XBM").name == "XBM"  # not listed: a plain record
    assert record_of("XBM").extension == ".xbm"
    assert CORE_EXTENSIONS >= {".jpg", ".png", ".tif", ".webp", ".gif", ".npy", ".npz"}


def test_core_formats_answer_without_loading_pillow_plugins():
    probe = (
        "import sys\n"
        "from poolcli.images.formats import format_named, writable\n"
        "assert writable(format_named('jpg')) and format_named('webp').animated\n"
        "print(sorted(m for m in sys.modules if m.endswith('ImagePlugin')))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.stdout.strip() == "[]", done.stderr


def test_the_readme_lists_what_a_record_holds():
    """The development section tells how to add a format or a mode: every field is there."""
    text = README.read_text(encoding="utf-8")
    section = re.search(r"^## Development\s*$(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert section is not None
    for record in (Format, Mode):
        for field in fields(record):
            assert f"`{field.name}`" in section.group(1), (record.__name__, field.name)
