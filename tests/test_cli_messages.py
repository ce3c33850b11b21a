"""Messages that say what is wrong: the dilated span, singular pixels, a file in the
way of an output folder, globs that ignore case as discovery does, and an output
folder that cannot be written refused once, up front."""

from __future__ import annotations

import pytest
from PIL import Image
from processes import poolcli


@pytest.fixture
def photos(tmp_path):
    (tmp_path / "d").mkdir()
    for name in ("a.jpg", "B.JPG", "c.Png"):
        Image.new("RGB", (50, 40), "teal").save(tmp_path / "d" / name)
    Image.new("L", (1, 1)).save(tmp_path / "one.png")
    return tmp_path


def test_a_dilated_window_too_large_names_its_span(photos):
    done = poolcli("pool", "d/a.jpg", "-k", "3", "--dilation", "200", "-o", "x.jpg", cwd=photos)
    assert done.returncode == 1
    assert (
        "a window of --kernel 3 with --dilation 200 spans 401 pixels, more than the image "
        "height (40 pixels); use a smaller dilation or kernel\n"
    ) in done.stderr
    assert "--ceil-mode" not in done.stderr  # it would not help


def test_one_pixel_is_singular(photos):
    done = poolcli("pool", "one.png", "-o", "x.png", cwd=photos)
    assert "(1 pixel);" in done.stderr
    assert "1 pixels" not in done.stderr


def test_a_file_in_the_way_of_the_output_folder_is_named(photos):
    done = poolcli("pool", "d/a.jpg", "-o", "d/a.jpg/x.jpg", cwd=photos)
    assert done.returncode == 1
    assert "cannot write d/a.jpg/x.jpg: d/a.jpg is a file, not a folder" in done.stderr
    done = poolcli("pool", "-r", "d", "-o", "d/a.jpg/out", cwd=photos)
    assert done.returncode == 1
    assert done.stderr == (
        "poolcli: error: cannot write under d/a.jpg/out: d/a.jpg is a file, not a folder\n"
    )


@pytest.mark.parametrize(("glob", "taken"), [("*.jpg", ["a.jpg", "B.JPG"]), ("*.PNG", ["c.Png"])])
def test_include_ignores_case_as_discovery_does(photos, glob, taken):
    done = poolcli("pool", "-r", "d", "--include", glob, "-o", "out", cwd=photos)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (photos / "out").iterdir()) == sorted(taken)


def test_exclude_ignores_case_too(photos):
    done = poolcli("pool", "-r", "d", "--exclude", "*.JPG", "-o", "out", cwd=photos)
    assert done.returncode == 0, done.stderr
    assert [p.name for p in (photos / "out").iterdir()] == ["c.Png"]


def test_an_output_folder_that_cannot_be_written_is_one_error_up_front(photos):
    done = poolcli("pool", "-r", "d", "-o", "/proc/poolcli-out", cwd=photos)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "poolcli: error: cannot write under /proc/poolcli-out: no such file or directory (in /proc)"
    ]
