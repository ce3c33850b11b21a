"""Zero-copy pixel access must give exactly what np.asarray gives."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image
from processes import peak_rss

from poolcli.images.engine_route.pixels import image_from, view
from poolcli.images.reading.limits import use_block_allocator

MODES = ["L", "P", "I", "F", "I;16", "I;16B", "RGB", "RGBA", "CMYK", "LA", "1", "YCbCr"]


def sample(mode: str) -> Image.Image:
    rng = np.random.default_rng(len(mode))
    raw = rng.integers(0, 256, 7 * 5 * 4 * 4, dtype=np.uint8).tobytes()
    return Image.frombytes(mode, (7, 5), raw[: len(Image.new(mode, (7, 5)).tobytes())])


@pytest.mark.parametrize("mode", MODES)
def test_view_equals_asarray_in_every_mode(mode):
    use_block_allocator()
    image = sample(mode)
    shared = view(image)
    np.testing.assert_array_equal(shared, np.asarray(image))
    assert shared.dtype.newbyteorder("=") == np.asarray(image).dtype.newbyteorder("=")


def test_rgb_can_come_padded_and_shares_memory():
    use_block_allocator()
    image = sample("RGB")
    padded = view(image, padded=True)
    assert padded.shape == (5, 7, 4)
    assert not padded.flags.writeable
    np.testing.assert_array_equal(padded[..., :3], np.asarray(image))
    again = view(image, padded=True)
    assert np.shares_memory(padded, again)  # both map Pillow's own buffer


def test_shared_pixels_outlive_the_image():
    use_block_allocator()
    image = sample("RGBA")
    expected = np.asarray(image).copy()
    shared = view(image)
    del image
    np.testing.assert_array_equal(shared, expected)


@pytest.mark.parametrize("mode", MODES)
def test_image_from_round_trips(mode):
    image = sample(mode)
    array = np.asarray(image)
    rebuilt = image_from(array, mode)
    assert rebuilt.mode == mode
    np.testing.assert_array_equal(np.asarray(rebuilt), array)


def test_image_from_drops_the_padding_channel():
    rgbx = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    image = image_from(rgbx, "RGB")
    np.testing.assert_array_equal(np.asarray(image), rgbx[..., :3])


def test_linear_light_and_alpha_weighting_stay_within_twice_the_plain_memory(tmp_path):
    """The float64 of linear light and the 32-bit products of alpha weighting are
    made a band of rows at a time: a 4000x3000 image (36 MB of RGB, 48 of RGBA)
    would otherwise take 300-900 MB."""
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 255, (3000, 4000, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(tmp_path / "photo.png", compress_level=0)
    rgba = np.dstack([rgb, rng.integers(0, 255, (3000, 4000), dtype=np.uint8)])
    Image.fromarray(rgba).save(tmp_path / "clear.png", compress_level=0)
    del rgb, rgba
    plain = peak_rss(tmp_path / "photo.png", "-o", tmp_path / "a.png", "-m", "max")
    linear = peak_rss(tmp_path / "photo.png", "-o", tmp_path / "b.png", "--linear")
    weighted = peak_rss(tmp_path / "clear.png", "-o", tmp_path / "c.png")
    assert linear <= 2 * plain, (linear, plain)
    assert weighted <= 2 * plain * 4 // 3, (weighted, plain)  # a third more pixels


@pytest.mark.parametrize(
    ("mode", "expected"),
    [("max", [0, 0, 0, 255]), ("min", [0, 0, 0, 0]), ("median", [0, 0, 0, 0]),
     ("mode", [0, 0, 0, 255])],
)  # fmt: skip
def test_invisible_pixels_give_no_colour_to_selecting_modes(mode, expected):
    """One opaque black pixel and three transparent yellow ones: no yellow comes out."""
    import poolcli

    pixels = np.array([[[0, 0, 0, 255], [255, 255, 0, 0]], [[255, 255, 0, 0]] * 2], np.uint8)
    result = poolcli.pool_image(Image.fromarray(pixels, "RGBA"), 2, mode=mode)
    assert np.asarray(result).tolist() == [[expected]]
    # --alpha independent keeps every channel on its own, as before
    independent = poolcli.pool_image(Image.fromarray(pixels, "RGBA"), 2, mode=mode,
                                     alpha="independent")  # fmt: skip
    assert np.asarray(independent)[0, 0, 1] == (0 if mode == "min" else 255)


@pytest.mark.parametrize("mode", ["max", "min", "median", "mode"])
@pytest.mark.parametrize("image_mode", ["RGBA", "LA"])
def test_selecting_modes_take_colour_from_visible_pixels_only(mode, image_mode):
    from image_reference import visible_select

    import poolcli

    rng = np.random.default_rng(11)
    channels = 4 if image_mode == "RGBA" else 2
    pixels = rng.integers(0, 4, (9, 11, channels)).astype(np.uint8) * 60  # ties, repeats
    pixels[..., -1] = rng.choice([0, 0, 128, 255], (9, 11))
    result = poolcli.pool_image(Image.fromarray(pixels, image_mode), 2, mode=mode,
                                ceil_mode=True)  # fmt: skip
    np.testing.assert_array_equal(np.asarray(result), visible_select(pixels, mode))


def _palette_image(indices: np.ndarray, transparency: int | bytes) -> Image.Image:
    image = Image.fromarray(indices.astype(np.uint8), "P")
    image.putpalette([value for i in range(256) for value in (i, 255 - i, i // 2)])
    image.info["transparency"] = transparency
    return image


@pytest.mark.parametrize(("transparency", "hidden"), [(0, 0), (bytes([255, 0, 128, 0]), 3)])
def test_mode_leaves_transparent_palette_indices_out_as_rgba_does(transparency, hidden):
    """A P image with transparency votes as its RGBA conversion: an invisible pixel
    wins only a window with no visible pixel (index 0, or tRNS entries of alpha 0)."""
    import poolcli

    rng = np.random.default_rng(5)
    indices = rng.choice([0, 0, 0, 1, 2, 3, 4], (9, 11))
    image = _palette_image(indices, transparency)
    result = poolcli.pool_image(image, 2, mode="mode", ceil_mode=True)
    assert result.mode == "P"
    assert result.getpalette() == image.getpalette()
    rgba = poolcli.pool_image(image.convert("RGBA"), 2, mode="mode", ceil_mode=True)
    result.info["transparency"] = transparency
    np.testing.assert_array_equal(np.asarray(result.convert("RGBA"))[..., 3] > 0,
                                  np.asarray(rgba)[..., 3] > 0)  # fmt: skip
    visible = np.asarray(result.convert("RGBA"))[..., 3] > 0
    np.testing.assert_array_equal(np.asarray(result)[visible], np.asarray(rgba)[visible][:, 0])
    # three transparent pixels and one visible: the visible one wins
    window = _palette_image(np.array([[hidden, hidden], [hidden, 2]]), transparency)
    assert np.asarray(poolcli.pool_image(window, 2, mode="mode")).tolist() == [[2]]
    # alpha="independent" votes every index, as RGBA's channels then do
    independent = poolcli.pool_image(window, 2, mode="mode", alpha="independent")
    assert np.asarray(independent).tolist() == [[hidden]]


def test_mode_keeps_an_animated_gifs_sprite_the_same_in_every_frame(tmp_path):
    """Pillow decodes a GIF's first frame as P with a transparent index and later
    ones as RGBA: mode must keep the same rectangle visible in both."""
    from poolcli import PoolSettings
    from poolcli.images import ReadOptions, WriteOptions, convert

    frames = []
    for i in range(3):
        pixels = np.zeros((40, 40, 4), np.uint8)
        pixels[5 + i * 5 : 20 + i * 5, 5:30] = [255, 0, 0, 255]
        frames.append(Image.fromarray(pixels))
    source, out = tmp_path / "sprite.gif", io.BytesIO()
    frames[0].save(source, save_all=True, append_images=frames[1:], duration=50, disposal=2)
    with Image.open(source) as check:
        assert check.mode == "P"
    convert(source, out, PoolSettings.make(2, mode="mode"), WriteOptions("GIF", {}, None),
            ReadOptions())  # fmt: skip
    out.seek(0)
    with Image.open(out) as result:
        visible = []
        for index in range(result.n_frames):
            result.seek(index)
            visible.append(int((np.asarray(result.convert("RGBA"))[..., 3] > 0).sum()))
    assert visible == [13 * 8, 13 * 8, 13 * 8]  # 25x15 pixels: 13x8 windows see red


def test_mode_votes_whole_visible_pa_pixels():
    import poolcli

    pixels = np.array([[[7, 0], [7, 0]], [[7, 0], [3, 255]]], np.uint8)
    image = Image.frombytes("PA", (2, 2), pixels.tobytes())
    image.putpalette(list(range(256)) * 3)
    assert np.asarray(poolcli.pool_image(image, 2, mode="mode")).tolist() == [[[3, 255]]]
