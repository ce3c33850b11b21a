"""``poolcli info``: headers, as lines or JSON, with the size pooling would give."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
from click.testing import CliRunner
from PIL import Image

from poolcli.cli import cli

CORPUS = Path(__file__).parent / "corpus"


def run(*args, input: bytes | None = None):
    return CliRunner().invoke(cli, ["info", *map(str, args)], input=input, catch_exceptions=False)


def test_lines_for_people():
    result = run(CORPUS / "flower.jpg")
    assert result.exit_code == 0
    assert result.stdout == (
        f"{CORPUS / 'flower.jpg'}:\n"
        "  format: JPEG\n  mode: RGB\n  size: 480x360\n  frames: 1\n  dtype: uint8\n"
        "  metadata: exif (orientation 1, make Canon, model Canon PowerShot S40, "
        "date 2003:12:14 12:01:44), dpi 72x72\n"
    )


def test_frames_that_differ_are_listed_in_runs():
    lines = run(CORPUS / "chi.gif").stdout.splitlines()
    assert lines[-2:] == ["  frame 0: P 320x240", "  frames 1-30: RGBA 320x240"]
    assert "  frames: 31" in lines


def test_an_apngs_default_image_is_said_apart_from_its_animation_frames():
    lines = run(CORPUS / "apng_delay.png").stdout.splitlines()
    assert "  frames: 5 (a default image, not animated, then 4 animation frames)" in lines
    assert "  metadata: animation (loop forever; frames of 500, 1000, 500, 1000 ms)" in lines
    facts = json.loads(run(CORPUS / "apng_delay.png", "--json").stdout)
    assert facts["frames"] == len(facts["planes"]) == 5
    assert facts["metadata_values"] == {
        "loop": 0, "durations": [500, 1000, 500, 1000], "default_image": True,
    }  # fmt: skip


def test_an_animated_webp_lists_its_frame_durations():
    facts = json.loads(run(CORPUS / "anim.webp", "--json").stdout)
    assert facts["frames"] == 6
    assert facts["metadata_values"] == {"loop": 0, "durations": [100] * 6}
    lines = run(CORPUS / "anim.webp").stdout.splitlines()
    assert (
        "  metadata: animation (loop forever; frames of 100, 100, 100, 100, 100, 100 ms)" in lines
    )


def test_pool_options_add_the_output_size():
    result = run(CORPUS / "flower.jpg", "-k", "3x2", "--repeat", "2")
    assert result.stdout.splitlines()[-1] == "  pooled size: 53x90"  # 480/3/3, 360/2/2


def test_json_object_per_file():
    result = run(CORPUS / "basn0g16.png", CORPUS / "icc_profile.png", "--json", "--size", "x8")
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert first == {
        "input": str(CORPUS / "basn0g16.png"), "status": "ok", "error": None, "format": "PNG",
        "mode": "I;16", "size": [32, 32], "frames": 1, "dtype": "uint16", "metadata": [],
        "metadata_values": {},
        "planes": [{"name": "0", "mode": "I;16", "size": [32, 32]}], "out_size": [8, 8],
    }  # fmt: skip
    assert second["metadata"] == ["icc_profile"]
    assert second["mode"] == "RGBA"


def test_bad_file_exit_1_and_the_rest_described(tmp_path):
    shutil.copy(CORPUS / "empty.png", tmp_path / "empty.png")
    result = run(tmp_path / "empty.png", CORPUS / "7x13.png")
    assert result.exit_code == 1
    assert result.stderr == f"poolcli: {tmp_path / 'empty.png'}: file is empty\n"
    assert result.stdout.startswith(f"{CORPUS / '7x13.png'}:\n  format: PNG\n")
    as_json = run(tmp_path / "empty.png", "--json")
    assert json.loads(as_json.stdout) == {
        "input": str(tmp_path / "empty.png"),
        "status": "error",
        "error": "file is empty",
    }


def test_kernel_larger_than_the_image_is_reported_after_the_description():
    result = run(CORPUS / "7x13.png", "-k", "8")
    assert result.exit_code == 1
    assert "--kernel 8 is larger than the image width (7 pixels)" in result.stderr
    assert "  size: 7x13\n" in result.stdout
    assert "  pooling: --kernel 8 is larger than the image width (7 pixels)" in result.stdout


def test_decompression_bomb_is_refused_from_its_header():
    result = run(CORPUS / "decompression_bomb.gif")  # a GIF: Pillow would decode to count
    assert result.exit_code == 1
    assert "over the limit of 89,478,485" in result.stderr
    assert run(CORPUS / "decompression_bomb.gif", "--max-pixels", "none").exit_code == 0


def test_stdin_and_directories(tmp_path):
    result = run("-", input=(CORPUS / "basn2c08.png").read_bytes())
    assert result.stdout.startswith("-:\n  format: PNG\n  mode: RGB\n  size: 32x32\n")
    shutil.copy(CORPUS / "7x13.png", tmp_path / "a.png")
    (tmp_path / "notes.txt").write_text("x")
    result = run("-r", tmp_path, "--json")
    assert [json.loads(line)["input"] for line in result.stdout.splitlines()] == [
        str(tmp_path / "a.png")
    ]


def test_info_describes_what_pooling_would_refuse_and_shows_values(tmp_path):
    from PIL import ImageCms

    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x0110] = "Pixel 8"
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    Image.new("RGB", (40, 30)).save(tmp_path / "photo.jpg", exif=exif, dpi=(300, 300),
                                    icc_profile=profile)  # fmt: skip
    result = run(tmp_path / "photo.jpg")
    assert result.exit_code == 0
    assert ("  metadata: icc_profile (sRGB built-in), exif (orientation 6, model Pixel 8), "
            "dpi 300x300\n") in result.stdout  # fmt: skip
    # a 1-bit PNG over the pixel limit: its header is described, pooling's refusal said
    Image.new("1", (200, 100)).save(tmp_path / "scan.png")
    result = run(tmp_path / "scan.png", "--max-pixels", "1000", "--json")
    facts = json.loads(result.stdout)
    assert result.exit_code == 1
    assert facts["status"] == "ok"
    assert facts["size"] == [200, 100]
    assert "20,000 pixels, over the limit of 1,000" in facts["pooling"]
    # an .npz with a 6-D array: the others are described, the 6-D one named
    np.savez(tmp_path / "maps.npz", features=np.zeros((3, 8, 8)), bias=np.zeros((1,) * 5 + (5,)))
    facts = json.loads(run(tmp_path / "maps.npz", "--json").stdout)
    assert facts["status"] == "ok"
    assert [plane["name"] for plane in facts["planes"]] == ["features"]
    assert facts["skipped_arrays"] == [
        "array 'bias' has 6 dims (shape 1x1x1x1x1x5); poolcli pools 1- to 5-dim arrays "
        "(layouts: images hw, hwc, chw, nchw, nhwc; volumes dhw, dhwc, cdhw, ncdhw; "
        "signals w, wc, cw, ncw)"
    ]
    # an animation: its loop and durations
    frames = [Image.new("L", (8, 8), shade) for shade in (0, 120, 240)]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:],
                   duration=[100, 200, 300], loop=0)  # fmt: skip
    result = run(tmp_path / "anim.gif")
    assert "  metadata: animation (loop forever; frames of 100, 200, 300 ms)" in result.stdout
