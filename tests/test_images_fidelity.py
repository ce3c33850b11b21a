"""Golden checks of what the image layer keeps: metadata, bit depth, alpha, animation."""

from __future__ import annotations

import io
import struct

import numpy as np
import pytest
from image_reference import CORPUS, upright
from PIL import Image, ImageOps, ImageSequence, PngImagePlugin
from reference import reference_pool

from poolcli import PoolSettings
from poolcli.errors import InputError, OutputError, ParameterError
from poolcli.images import ReadOptions, WriteOptions, convert, pool_image


def pooled(source, fmt="PNG", *, read=None, save_options=None, dtype=None, **settings):
    settings.setdefault("kernel", 2)
    kernel = settings.pop("kernel")
    buffer = io.BytesIO()
    report = convert(
        source,
        buffer,
        PoolSettings.make(kernel, **settings),
        WriteOptions(fmt, save_options or {}, dtype),
        read or ReadOptions(),
    )
    buffer.seek(0)
    return report, buffer


def png_bytes(image: Image.Image, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG", **options)
    return buffer.getvalue()


# --- metadata ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("icc_profile.png", "PNG"),
        ("pil_sample_rgb.jpg", "JPEG"),
        ("pil_sample_rgb.jpg", "WEBP"),
        ("progressive_cat.jpg", "TIFF"),
    ],  # fmt: skip
)
def test_icc_profile_bytes_are_identical_after_pooling(name, fmt):
    with Image.open(CORPUS / name) as original:
        icc = original.info["icc_profile"]
    _, buffer = pooled(CORPUS / name, fmt, ceil_mode=True)
    with Image.open(buffer) as result:
        assert result.info["icc_profile"] == icc


@pytest.mark.parametrize("orientation", range(2, 9))
def test_exif_rotated_jpeg_comes_out_upright_with_orientation_1(orientation):
    path = CORPUS / f"hopper_orientation_{orientation}.jpg"
    turned = upright(path)
    _, buffer = pooled(path, "PNG", mode="max")
    with Image.open(buffer) as result:
        assert result.getexif()[0x0112] == 1
        expected = reference_pool(np.asarray(turned)[:40, :40], 2, mode="max")
        np.testing.assert_array_equal(np.asarray(result)[:20, :20], expected)
    _, jpeg = pooled(path, "JPEG")
    with Image.open(jpeg) as result:
        assert result.getexif()[0x0112] == 1
        assert result.size == (64, 64)


def test_a_rectangle_turns_before_pooling():
    _, buffer = pooled(CORPUS / "orientation_rectangle.jpg", "PNG", ceil_mode=True)
    with Image.open(buffer) as result:
        assert result.size == (1, 1)
    report, _ = pooled(CORPUS / "orientation_rectangle.jpg", "PNG", kernel=1)
    assert report.in_size == (1, 2)  # 2x1 stored, orientation 6/8: 1 wide, 2 tall


def test_a_tiff_orientation_is_applied_once():
    # Pillow rotates this TIFF at load and drops the tag: rotating again would be wrong
    report, buffer = pooled(CORPUS / "g4_orientation_6.tif", "PNG", mode="max")
    assert report.in_size == (590, 88)
    assert report.out_size == (295, 44)


def test_exif_pixel_dimensions_follow_the_new_size():
    image = Image.new("RGB", (40, 30), "teal")
    exif = Image.Exif()
    exif[0x0112] = 1
    exif.get_ifd(0x8769).update({0xA002: 40, 0xA003: 30})
    _, buffer = pooled(png_bytes(image, exif=exif.tobytes()), "PNG")
    with Image.open(buffer) as result:
        sub = result.getexif().get_ifd(0x8769)
        assert (sub[0xA002], sub[0xA003]) == (20, 15)


def test_dpi_is_divided_by_the_stride():
    _, buffer = pooled(CORPUS / "flower.jpg", "PNG", kernel=3, stride=2)
    with Image.open(buffer) as result:
        assert result.info["dpi"] == pytest.approx((36, 36), abs=0.01)
    _, buffer = pooled(CORPUS / "flower.jpg", "TIFF", kernel=2, repeat=2)
    with Image.open(buffer) as result:
        assert result.info["dpi"] == pytest.approx((18, 18), abs=0.01)


def test_png_text_chunks_are_kept():
    info = PngImagePlugin.PngInfo()
    info.add_text("Title", "Pooled")
    info.add_text("Author", "poolcli tests")
    _, buffer = pooled(png_bytes(Image.new("L", (8, 8), 7), pnginfo=info), "PNG")
    with Image.open(buffer) as result:
        assert result.text == {"Title": "Pooled", "Author": "poolcli tests"}


# --- bit depths and modes ------------------------------------------------------


def test_16_bit_png_stays_16_bit_with_exact_means():
    path = CORPUS / "basn0g16.png"
    with Image.open(path) as original:
        source = np.asarray(original)
    _, buffer = pooled(path, "PNG", mode="avg")
    with Image.open(buffer) as result:
        assert result.mode == "I;16"
        np.testing.assert_array_equal(np.asarray(result), reference_pool(source, 2, mode="avg"))


def test_16_bit_big_endian_deflate_tiff_keeps_its_compression_and_values():
    path = CORPUS / "16bit.MM.deflate.tif"
    with Image.open(path) as original:
        source = np.asarray(original).astype(np.uint16)
    _, buffer = pooled(path, "TIFF", mode="avg")
    with Image.open(buffer) as result:
        # libtiff, which writes the deflate, writes native byte order: same values
        assert result.mode == "I;16"
        assert result.info["compression"] == "tiff_adobe_deflate"
        np.testing.assert_array_equal(np.asarray(result), reference_pool(source, 2, mode="avg"))


def test_16_bit_big_endian_raw_tiff_keeps_its_byte_order():
    values = (np.arange(64).reshape(8, 8) * 1000).astype(">u2")
    image = Image.frombytes("I;16B", (8, 8), values.tobytes())
    source = io.BytesIO()
    image.save(source, "TIFF")
    _, buffer = pooled(source.getvalue(), "TIFF", mode="avg")
    with Image.open(buffer) as result:
        assert result.mode == "I;16B"
        expected = reference_pool(values.astype(np.uint16), 2, mode="avg")
        np.testing.assert_array_equal(np.asarray(result), expected)


def test_16_bit_to_jpeg_scales_instead_of_clipping():
    image = Image.frombytes("I;16", (2, 2), np.full((2, 2), 65535, np.uint16).tobytes())
    report, buffer = pooled(png_bytes(image), "JPEG", kernel=1)
    with Image.open(buffer) as result:
        assert result.mode == "L"
        assert np.asarray(result).min() >= 250  # white stays white (Pillow's convert clips)
    assert report.notes == ("JPEG cannot hold mode I;16: written as L (16 bits scaled to 8)",)


def test_float_tiff_keeps_float_values():
    path = CORPUS / "10ct_32bit_128.tiff"
    with Image.open(path) as original:
        source = np.asarray(original)
    _, buffer = pooled(path, "TIFF", mode="avg")
    with Image.open(buffer) as result:
        assert result.mode == "F"
        np.testing.assert_allclose(
            np.asarray(result), reference_pool(source, 2, mode="avg"), rtol=1e-6
        )


def test_bilevel_max_stays_bilevel_and_avg_turns_grey():
    path = CORPUS / "basn0g01.png"
    with Image.open(path) as original:
        bits = np.asarray(original)
    _, buffer = pooled(path, "PNG", mode="max")
    with Image.open(buffer) as result:
        assert result.mode == "1"
        np.testing.assert_array_equal(np.asarray(result), reference_pool(bits, 2, mode="max"))
    _, buffer = pooled(path, "PNG", mode="avg")
    with Image.open(buffer) as result:
        assert result.mode == "L"
        grey = reference_pool(bits.astype(np.uint8) * 255, 2, mode="avg")
        np.testing.assert_array_equal(np.asarray(result), grey)


def test_palette_mode_pools_indices_and_keeps_the_palette():
    path = CORPUS / "basn3p08.png"
    with Image.open(path) as original:
        palette = original.getpalette()
        indices = np.asarray(original)
    _, buffer = pooled(path, "PNG", mode="mode")
    with Image.open(buffer) as result:
        assert result.mode == "P"
        assert result.getpalette() == palette
        np.testing.assert_array_equal(np.asarray(result), reference_pool(indices, 2, mode="mode"))


def test_premultiplied_la_becomes_la():
    report, buffer = pooled(CORPUS / "minisblack-2c-8b-alpha.tiff", "PNG", mode="avg")
    with Image.open(buffer) as result:
        assert result.mode == "LA"
    assert report.out_size == (32, 32)


# --- alpha ----------------------------------------------------------------------


def test_transparent_coloured_pixels_do_not_bleed():
    rgba = np.array(
        [[[255, 0, 0, 255], [0, 255, 0, 0]], [[0, 255, 0, 0], [0, 0, 255, 0]]], np.uint8
    )
    result = pool_image(Image.fromarray(rgba), 2)
    assert np.asarray(result).tolist() == [[[255, 0, 0, 64]]]  # red, a quarter opaque
    independent = pool_image(Image.fromarray(rgba), 2, alpha="independent")
    assert np.asarray(independent).tolist() == [[[64, 128, 64, 64]]]  # the bleed


def test_alpha_weighting_is_exact_where_pillow_rounds():
    rng = np.random.default_rng(7)
    rgba = rng.integers(0, 256, (64, 64, 4), dtype=np.uint8)
    ours = np.asarray(pool_image(Image.fromarray(rgba), 2)).astype(int)
    theirs = np.asarray(Image.fromarray(rgba).reduce(2)).astype(int)
    blocks = rgba.reshape(32, 2, 32, 2, 4).astype(np.int64)
    alpha = blocks[..., 3].sum(axis=(1, 3))
    colour = (blocks[..., :3] * blocks[..., 3:]).sum(axis=(1, 3))
    exact = np.where(
        alpha[..., None] > 0,
        (2 * colour + alpha[..., None]) // (2 * np.maximum(alpha, 1)[..., None]),
        0,
    )
    np.testing.assert_array_equal(ours[..., :3], exact)
    np.testing.assert_array_equal(ours[..., 3], theirs[..., 3])  # alpha: Pillow's plain mean
    # Pillow rounds through 8-bit premultiplied values: close, but not exact
    visible = ours[..., 3] > 0
    assert 0 < np.abs(ours[..., :3] - theirs[..., :3])[visible].max() <= 16


def test_linear_light_checkerboard_gives_188_not_128():
    board = (np.indices((4, 4)).sum(axis=0) % 2 * 255).astype(np.uint8)
    assert np.asarray(pool_image(Image.fromarray(board), 2)).tolist() == [[128, 128], [128, 128]]
    linear = pool_image(Image.fromarray(board), 2, linear=True)
    assert np.asarray(linear).tolist() == [[188, 188], [188, 188]]
    rgb = np.repeat(board[..., None], 3, axis=2)
    assert np.asarray(pool_image(Image.fromarray(rgb), 2, linear=True))[0, 0].tolist() == [188] * 3


def test_linear_keeps_uniform_windows_exact():
    codes = np.repeat(np.arange(256, dtype=np.uint8), 4).reshape(32, 32)
    same = np.repeat(np.repeat(codes[::2, ::2], 2, axis=0), 2, axis=1)
    result = np.asarray(pool_image(Image.fromarray(same), 2, linear=True))
    np.testing.assert_array_equal(result, codes[::2, ::2])


# --- animation and frames ---------------------------------------------------------


def _frames_and_durations(buffer):
    with Image.open(buffer) as image:
        frames, durations = [], []
        for frame in ImageSequence.Iterator(image):
            frames.append(np.asarray(frame.convert("RGBA")).copy())
            durations.append(frame.info.get("duration"))
        return frames, durations, image.info.get("loop")


@pytest.mark.parametrize(
    ("fmt", "options"), [("GIF", {}), ("PNG", {}), ("WEBP", {"lossless": True})]
)
def test_animated_gif_keeps_frame_count_durations_and_pixels(fmt, options):
    path = CORPUS / "chi.gif"
    _, buffer = pooled(path, fmt, save_options=options, mode="mode", ceil_mode=True)
    frames, durations, loop = _frames_and_durations(buffer)
    assert len(frames) == 31  # 9 identical trailing frames are not merged away
    assert durations == [100] * 31
    assert loop == 0
    _, reference = pooled(path, "TIFF", mode="mode", ceil_mode=True)
    with Image.open(reference) as tiff:
        expected = [np.asarray(f.convert("RGBA")) for f in ImageSequence.Iterator(tiff)]
    for got, want in zip(frames, expected, strict=True):
        np.testing.assert_array_equal(got, want)


def _apng_chunks(data: bytes) -> tuple[int, list[int], bool]:
    """acTL's frame count, each fcTL's delay in ms, and whether an IDAT comes before
    the first fcTL (a default image outside the animation)."""
    count, delays, default_image, i = None, [], False, 8
    while i < len(data):
        (length,) = struct.unpack(">I", data[i : i + 4])
        kind, body = data[i + 4 : i + 8], data[i + 8 : i + 8 + length]
        if kind == b"acTL":
            count = struct.unpack(">I", body[:4])[0]
        elif kind == b"fcTL":
            numerator, denominator = struct.unpack(">HH", body[20:24])
            delays.append(1000 * numerator // (denominator or 100))
        elif kind == b"IDAT" and not delays:
            default_image = True
        i += 12 + length
    assert count is not None, "no acTL: not an APNG"
    return count, delays, default_image


def test_apng_keeps_its_delays_and_its_default_image_outside_the_animation():
    source = (CORPUS / "apng_delay.png").read_bytes()
    assert _apng_chunks(source) == (4, [500, 1000, 500, 1000], True)
    _, buffer = pooled(CORPUS / "apng_delay.png", "PNG")
    assert _apng_chunks(buffer.getvalue()) == (4, [500, 1000, 500, 1000], True)
    _, durations, _ = _frames_and_durations(buffer)
    assert durations == [None, 500, 1000, 500, 1000]  # Pillow: the default image, then 4
    with Image.open(buffer) as result:
        assert result.info["default_image"] is True


@pytest.mark.parametrize(("fmt", "options"), [("GIF", {}), ("WEBP", {"lossless": True})])
def test_an_apngs_default_image_is_no_frame_of_other_animations(fmt, options):
    report, buffer = pooled(CORPUS / "apng_delay.png", fmt, save_options=options)
    frames, durations, _ = _frames_and_durations(buffer)
    assert report.frames == len(frames) == 4
    assert "default image is not part of its animation" in " ".join(report.notes)
    assert durations == [500, 1000, 500, 1000]
    _, png = pooled(CORPUS / "apng_delay.png", "PNG")
    expected, _, _ = _frames_and_durations(png)
    for got, want in zip(frames, expected[1:], strict=True):
        np.testing.assert_array_equal(got, want)


def test_multi_frame_into_a_one_frame_format_names_frame_and_formats():
    with pytest.raises(
        OutputError,
        match=r"31 frames and JPEG holds one: pick one with frame=N, "
        r"or write a format that keeps every frame \(png, tif, webp, gif, mpo\)$",
    ):
        pooled(CORPUS / "chi.gif", "JPEG")
    report, buffer = pooled(CORPUS / "chi.gif", "JPEG", read=ReadOptions(frame=3))
    assert report.frames == 1
    with pytest.raises(InputError, match="frame=40 is out of range: the image has 31 frame"):
        pooled(CORPUS / "chi.gif", "PNG", read=ReadOptions(frame=40))


def test_frames_of_different_sizes_need_tiff():
    with pytest.raises(OutputError, match="frames differ in size .* write TIFF"):
        pooled(CORPUS / "multipage.tiff", "GIF", ceil_mode=True)
    report, buffer = pooled(CORPUS / "multipage.tiff", "TIFF", ceil_mode=True)
    with Image.open(buffer) as result:
        assert [f.size for f in ImageSequence.Iterator(result)] == [(5, 5), (5, 5), (10, 10)]


# --- sizes ----------------------------------------------------------------------


def test_kernel_larger_than_the_image_suggests_ceil_mode():
    with pytest.raises(
        InputError,
        match=r"kernel 3 is larger than the image width \(2 pixels\); "
        r"use a smaller kernel, or ceil_mode to keep a partial window$",
    ):
        pooled(png_bytes(Image.new("L", (2, 5))), "PNG", kernel=3)


def test_size_keeps_aspect_when_one_side_is_missing():
    report, _ = pooled(CORPUS / "chelsea.png", "PNG", size=(150, None))
    assert report.out_size == (150, 100)
    report, _ = pooled(CORPUS / "chelsea.png", "PNG", size=(None, 30))
    assert report.out_size == (45, 30)
    with pytest.raises(InputError, match="larger than the 451x300 input"):
        pooled(CORPUS / "chelsea.png", "PNG", size=(500, None))


def test_repeat_pools_again_and_again():
    report, buffer = pooled(CORPUS / "astronaut.png", "PNG", repeat=3)
    assert report.out_size == (64, 64)
    with pytest.raises(
        InputError,
        match="pass 2 of repeat 2 has a 1x1 image left, too small: kernel 2 is larger than "
        r"the image height \(1 pixel\)",
    ):
        pooled(png_bytes(Image.new("L", (2, 2))), "PNG", repeat=2)


def test_impossible_settings_are_refused_before_reading():
    settings = PoolSettings.make(1_000_000_000)
    with pytest.raises(
        ParameterError, match="needs an image height of at least 1,000,000,000 pixels"
    ):
        settings.check(max_pixels=89_478_485)
    with pytest.raises(ParameterError, match="asks for 10,000,000,000 pixels"):
        PoolSettings.make(2, size=(100_000, 100_000)).check(max_pixels=89_478_485)
    with pytest.raises(ParameterError, match="repeat 40 needs an image height of at least"):
        PoolSettings.make(2, repeat=40).check(max_pixels=89_478_485)
    PoolSettings.make(2, repeat=20).check(max_pixels=None)  # no limit: fine


# --- the library call --------------------------------------------------------------


def test_pool_image_returns_a_new_image_and_leaves_the_input():
    image = Image.open(CORPUS / "camera.png")
    before = np.asarray(image).copy()
    result = pool_image(image, 2)
    assert result is not image
    assert result.size == (256, 256)
    assert result.mode == "L"
    np.testing.assert_array_equal(np.asarray(image), before)
    np.testing.assert_array_equal(np.asarray(result), np.asarray(image.reduce(2)))
    image.close()


def test_pool_image_mode_on_a_label_map_keeps_only_existing_colours():
    rng = np.random.default_rng(3)
    colours = np.array([[255, 0, 0], [0, 255, 0], [0, 0, 255]], np.uint8)
    labels = colours[rng.integers(0, 3, (30, 30))]
    result = np.asarray(pool_image(Image.fromarray(labels), 3, mode="mode"))
    assert {tuple(p) for p in result.reshape(-1, 3)} <= {tuple(c) for c in colours}


def test_exif_transpose_reference_is_what_pillow_does():
    # guard for the reference helper itself
    with Image.open(CORPUS / "hopper_orientation_6.jpg") as image:
        assert ImageOps.exif_transpose(image).size == (128, 128)
