"""Where the image layer lets Pillow's reduce pool a frame, it must be the engine's result."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from processes import poolcli_imports

from poolcli import PoolSettings, pool
from poolcli.images.engine_route.pixels import image_from
from poolcli.images.modes import MODES
from poolcli.images.policy import _pillow_reduce, pool_frame, reducible_by_pillow

#: The modes the mode table trusts Pillow's reduce with: each is proved here.
CHANNELS = {mode.name: mode.channels for mode in MODES.values() if mode.pillow_reduce_exact}


@settings(max_examples=300, deadline=None)
@given(
    mode=st.sampled_from(sorted(CHANNELS)),
    width=st.integers(1, 40),
    height=st.integers(1, 40),
    kernel=st.sampled_from([(2, 2), (1, 2), (2, 1)]),
    ceil_mode=st.booleans(),
    repeat=st.integers(1, 3),
    extremes=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_pillow_reduce_is_the_engine_byte_for_byte(
    mode, width, height, kernel, ceil_mode, repeat, extremes, seed
):
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, (height, width, CHANNELS[mode]), dtype=np.uint8)
    if extremes:  # 0 and 255 only: every window sum lands on a rounding tie
        pixels = (pixels // 128 * 255).astype(np.uint8)
    image = image_from(pixels, mode)
    options = PoolSettings.make(kernel, mode="avg", ceil_mode=ceil_mode, repeat=repeat)
    try:
        options.output_size(width, height)
    except ValueError:
        return  # too small: refused before any pooling either way
    assert reducible_by_pillow(options)
    reduced = _pillow_reduce(image, options)
    expected = np.asarray(image)
    for _ in range(repeat):
        expected = pool(expected, kernel, mode="avg", ceil_mode=ceil_mode)
    np.testing.assert_array_equal(np.asarray(reduced), expected)
    assert reduced.mode == mode
    assert reduced.info == {}


@pytest.mark.parametrize(
    ("mode", "options"),
    [
        ("LAB", {}),  # Pillow reduces a and b differently
        ("RGBA", {}),  # Pillow rounds through premultiplied values
        ("LA", {}),
        ("I;16", {}),
        ("RGB", {"linear": True}),
        ("RGB", {"kernel": 3}),
        ("RGB", {"kernel": 2, "stride": 1}),
        ("RGB", {"kernel": 2, "padding": 1}),
        ("RGB", {"kernel": 2, "mode": "max"}),
        ("RGB", {"kernel": 2, "divisor": 3}),
        ("RGB", {"kernel": 2, "size": (3, 3)}),
    ],
)
def test_everything_else_goes_to_the_engine(mode, options):
    options = {"kernel": 2, "mode": "avg", **options}
    frame = pool_frame(Image.new(mode, (8, 8)), PoolSettings.make(**options), [])
    assert frame.ready is None
    assert frame.array is not None


def test_pool_frame_takes_the_short_way_for_a_photo():
    rng = np.random.default_rng(5)
    image = image_from(rng.integers(0, 256, (31, 17, 3), dtype=np.uint8), "RGB")
    frame = pool_frame(image, PoolSettings.make(2, ceil_mode=True), [])
    assert frame.ready is not None
    expected = pool(np.asarray(image), 2, mode="avg", ceil_mode=True)
    np.testing.assert_array_equal(np.asarray(frame.image()), expected)


def _imported_by(tmp_path, *args: str) -> set[str]:
    """Top-level packages a ``poolcli`` run imported, in the main process or a worker."""
    _, imported = poolcli_imports(*args, cwd=tmp_path)
    return {name.split(".")[0] for name in imported}


@pytest.fixture
def photos(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    rng = np.random.default_rng(9)
    for i, mode in enumerate(["RGB", "L", "CMYK", "RGB"]):
        pixels = rng.integers(0, 256, (37, 50, len(mode) if mode != "L" else 1), dtype=np.uint8)
        image_from(pixels if mode != "L" else pixels[..., 0], mode).save(folder / f"{i}.jpg")
    return folder


def test_a_batch_of_photo_means_into_jpeg_never_loads_numpy(tmp_path, photos):
    imported = _imported_by(tmp_path, "pool", "-r", "-j", "2", str(photos), "-o", "out")
    assert "PIL" in imported
    assert "numpy" not in imported
    for path in sorted((tmp_path / "out").iterdir()):
        with Image.open(path) as written, Image.open(photos / path.name) as original:
            assert written.size == (25, 18)
            assert written.mode == original.mode


@pytest.mark.parametrize(
    "options",
    [["--mode", "max"], ["--kernel", "3"], ["--format", "png"], ["--format", "npy"]],
)
def test_the_engine_and_numpys_own_writers_do_load_it(tmp_path, photos, options):
    imported = _imported_by(tmp_path, "pool", "-r", "-j", "2", str(photos), "-o", "out", *options)
    assert "numpy" in imported


@pytest.mark.parametrize(
    ("settings", "formats", "loads"),
    [
        ("PoolSettings.make(2)", {"JPEG", "TIFF", "WEBP"}, False),
        ("PoolSettings.make((1, 2), repeat=2)", {"JPEG"}, False),
        ("PoolSettings.make(2, mode='max')", {"JPEG"}, True),
        ("PoolSettings.make(2, linear=True)", {"JPEG"}, True),
        ("PoolSettings.make(2)", {"JPEG", "PNG"}, True),
        ("PoolSettings.make(2)", {"NPY"}, True),
    ],
)
def test_load_ahead_imports_numpy_before_workers_fork_only_when_it_will_be_needed(
    settings, formats, loads
):
    probe = (
        "import sys\n"
        "from poolcli import PoolSettings\n"
        "from poolcli.images.conversion import load_ahead\n"
        f"load_ahead({settings}, {formats!r})\n"
        "print('numpy' in sys.modules, 'poolcli.images.engine_route.route' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.split() == [str(loads), str(loads)]
