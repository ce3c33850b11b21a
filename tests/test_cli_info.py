"""``poolcli info``: headers, as lines or JSON, with the size pooling would give."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner

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
        "  metadata: exif, dpi\n"
    )


def test_frames_that_differ_are_listed_in_runs():
    lines = run(CORPUS / "chi.gif").stdout.splitlines()
    assert lines[-2:] == ["  frame 0: P 320x240", "  frames 1-30: RGBA 320x240"]
    assert "  frames: 31" in lines


def test_pool_options_add_the_output_size():
    result = run(CORPUS / "flower.jpg", "-k", "3x2", "--repeat", "2")
    assert result.stdout.splitlines()[-1] == "  pooled size: 53x90"  # 480/3/3, 360/2/2


def test_json_object_per_file():
    result = run(CORPUS / "basn0g16.png", CORPUS / "icc_profile.png", "--json", "--size", "x8")
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert first == {
        "input": str(CORPUS / "basn0g16.png"), "status": "ok", "error": None, "format": "PNG",
        "mode": "I;16", "size": [32, 32], "frames": 1, "dtype": "uint16", "metadata": [],
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


def test_kernel_larger_than_the_image_is_reported():
    result = run(CORPUS / "7x13.png", "-k", "8")
    assert result.exit_code == 1
    assert "--kernel 8 is larger than the image width (7 pixels)" in result.stderr


def test_decompression_bomb_is_refused_from_its_header():
    result = run(CORPUS / "decompression_bomb.gif")
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
