"""Decoding ahead never changes what a run does; it only starts the decode earlier."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner
from image_reference import CORPUS
from PIL import Image

from poolcli import PoolSettings
from poolcli.cli import cli
from poolcli.images import WriteOptions, convert
from poolcli.images.reading.ahead import DecodeAhead


def decoded(path, limit=None, taken_as=None):
    """What a decode ahead of ``path`` hands out when asked for ``taken_as``."""
    ahead = DecodeAhead.start(path, limit)
    assert ahead is not None
    return ahead.take(path if taken_as is None else taken_as, limit)


def test_a_jpeg_decoded_ahead_is_the_image_pillow_decodes():
    path = str(CORPUS / "flower.jpg")
    ahead = DecodeAhead.start(path, None)
    assert ahead is not None
    image = ahead.take(path, None)
    assert image is not None
    with Image.open(path) as reference:
        np.testing.assert_array_equal(np.asarray(image), np.asarray(reference))
    assert ahead.take(path, None) is None  # handed out once


@pytest.mark.parametrize("name", ["chi.gif", "apng_delay.png", "truncated_jpeg.jpg"])
def test_animations_other_formats_and_bad_files_are_left_to_the_ordinary_path(name):
    path = str(CORPUS / name)
    ahead = DecodeAhead.start(path, None)
    assert ahead is None or ahead.take(path, None) is None


def test_a_file_changed_since_is_decoded_again(tmp_path):
    path = str(tmp_path / "photo.jpg")
    shutil.copy(CORPUS / "flower.jpg", path)
    ahead = DecodeAhead.start(path, None)
    assert ahead is not None
    ahead._thread.join()  # noqa: SLF001 - the decode has finished
    shutil.copy(CORPUS / "hopper_orientation_3.jpg", path)  # same name, other picture
    os.utime(path, ns=(1, 1))
    assert ahead.take(path, None) is None


def test_another_path_gets_nothing():
    assert decoded(str(CORPUS / "flower.jpg"), taken_as=str(CORPUS / "progressive_cat.jpg")) is None


def test_the_pixel_limit_holds_ahead_too():
    path = str(CORPUS / "flower.jpg")
    assert decoded(path, 100) is None  # 480x360 is over the limit: not decoded ahead
    ahead = DecodeAhead.start(path, None)
    assert ahead is not None
    assert ahead.take(path, 10**6) is None  # decoded under another limit: not used


def test_a_single_file_run_gives_what_convert_gives(tmp_path, monkeypatch):
    source = str(CORPUS / "hopper_orientation_6.jpg")
    expected = io.BytesIO()
    convert(source, expected, PoolSettings.make(2, mode="max"), WriteOptions("PNG"))
    taken = []
    original = DecodeAhead.take

    def take(self, path, max_pixels):
        taken.append(original(self, path, max_pixels))
        return taken[-1]

    monkeypatch.setattr(DecodeAhead, "take", take)
    target = tmp_path / "out.png"
    result = CliRunner().invoke(cli, ["pool", source, "-o", str(target), "-m", "max"])
    assert result.exit_code == 0, result.output
    assert taken  # the run asked for the image decoded ahead
    assert taken[0] is not None  # and used it
    assert target.read_bytes() == expected.getvalue()


def test_the_console_script_hands_its_decode_to_the_run(tmp_path):
    source = CORPUS / "flower.jpg"
    target = tmp_path / "out.jpg"
    probe = (
        "import sys\n"
        "from poolcli.images.reading import ahead\n"
        "handed = []\n"
        "original = ahead.DecodeAhead.take\n"
        "def take(self, path, limit):\n"
        "    handed.append(self)\n"
        "    return original(self, path, limit)\n"
        "ahead.DecodeAhead.take = take\n"
        "started = []\n"
        "start = ahead.DecodeAhead.start\n"
        "def recorded(path, limit):\n"
        "    started.append(start(path, limit))\n"
        "    return started[-1]\n"
        "ahead.DecodeAhead.start = staticmethod(recorded)\n"
        f"sys.argv = ['poolcli', 'pool', {str(source)!r}, '-o', {str(target)!r}]\n"
        "from poolcli import launch\n"
        "launch._quick_exit = lambda code: None  # print below before the process ends\n"
        "try:\n"
        "    launch.main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(len(started), handed == started)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.stdout.split() == ["1", "True"], done.stderr  # started once, by launch
    assert target.exists()


def test_a_single_bad_file_is_still_reported_in_one_line(tmp_path):
    source = str(CORPUS / "truncated_jpeg.jpg")
    result = CliRunner().invoke(cli, ["pool", source, "-o", str(tmp_path / "out.jpg")])
    assert result.exit_code == 1
    problems = [line for line in result.stderr.splitlines() if "truncated_jpeg.jpg" in line]
    assert problems == [
        f"poolcli: {source}: cannot decode: image file is truncated (8 bytes not processed)"
    ]
    assert not (tmp_path / "out.jpg").exists()
