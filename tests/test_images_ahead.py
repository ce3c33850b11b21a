"""Decoding ahead never changes what a run does; it only starts the decode earlier."""

from __future__ import annotations

import io
import os
import shutil

import numpy as np
import pytest
from click.testing import CliRunner
from image_reference import CORPUS
from PIL import Image

from poolcli.cli import cli
from poolcli.images import PoolSettings, WriteOptions, ahead, convert


@pytest.fixture(autouse=True)
def _nothing_pending():
    ahead.take(None)  # drop anything an earlier test left
    yield
    ahead.take(None)


def test_a_jpeg_decoded_ahead_is_the_image_pillow_decodes():
    path = str(CORPUS / "flower.jpg")
    ahead.start(path, None)
    image = ahead.take(path)
    assert image is not None
    with Image.open(path) as reference:
        np.testing.assert_array_equal(np.asarray(image), np.asarray(reference))
    assert ahead.take(path) is None  # handed out once


@pytest.mark.parametrize("name", ["chi.gif", "apng_delay.png", "truncated_jpeg.jpg"])
def test_animations_other_formats_and_bad_files_are_left_to_the_ordinary_path(name):
    path = str(CORPUS / name)
    ahead.start(path, None)
    assert ahead.take(path) is None


def test_a_file_changed_since_is_decoded_again(tmp_path):
    path = str(tmp_path / "photo.jpg")
    shutil.copy(CORPUS / "flower.jpg", path)
    ahead.start(path, None)
    ahead._pending.thread.join()  # noqa: SLF001 - the decode has finished
    shutil.copy(CORPUS / "hopper_orientation_3.jpg", path)  # same name, other picture
    os.utime(path, ns=(1, 1))
    assert ahead.take(path) is None


def test_another_path_gets_nothing():
    ahead.start(str(CORPUS / "flower.jpg"), None)
    assert ahead.take(str(CORPUS / "progressive_cat.jpg")) is None


def test_the_pixel_limit_holds_ahead_too():
    path = str(CORPUS / "flower.jpg")
    ahead.start(path, 100)  # 480x360 is over the limit: not decoded ahead
    assert ahead.take(path) is None


def test_a_single_file_run_gives_what_convert_gives(tmp_path, monkeypatch):
    source = str(CORPUS / "hopper_orientation_6.jpg")
    expected = io.BytesIO()
    convert(source, expected, PoolSettings.make(2, mode="max"), WriteOptions("PNG"))
    taken = []
    original = ahead.take
    monkeypatch.setattr(ahead, "take", lambda path: taken.append(original(path)) or taken[-1])
    target = tmp_path / "out.png"
    result = CliRunner().invoke(cli, ["pool", source, "-o", str(target), "-m", "max"])
    assert result.exit_code == 0, result.output
    assert taken  # the run asked for the image decoded ahead
    assert taken[0] is not None  # and used it
    assert target.read_bytes() == expected.getvalue()


def test_a_single_bad_file_is_still_reported_in_one_line(tmp_path):
    source = str(CORPUS / "truncated_jpeg.jpg")
    result = CliRunner().invoke(cli, ["pool", source, "-o", str(tmp_path / "out.jpg")])
    assert result.exit_code == 1
    problems = [line for line in result.stderr.splitlines() if "truncated_jpeg.jpg" in line]
    assert problems == [
        f"poolcli: {source}: cannot decode: image file is truncated (8 bytes not processed)"
    ]
    assert not (tmp_path / "out.jpg").exists()
