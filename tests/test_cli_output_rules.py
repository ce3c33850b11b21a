"""Where outputs go: one rule, contradictions refused (exit 2), a file named twice
pooled once, and a batch into its own folder resumable."""

from __future__ import annotations

import pytest
from PIL import Image
from processes import poolcli


@pytest.fixture
def photos(tmp_path):
    (tmp_path / "d").mkdir()
    for name in ("a.jpg", "B.JPG"):
        Image.new("RGB", (20, 10), "teal").save(tmp_path / "d" / name)
    return tmp_path


def tree(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def test_several_inputs_into_a_file_name_are_refused(photos):
    done = poolcli("pool", "d/a.jpg", "d/B.JPG", "-o", "two.jpg", cwd=photos)
    assert done.returncode == 2
    assert "-o two.jpg is named like a JPEG file, but 2 input(s) need a folder" in done.stderr
    assert not (photos / "two.jpg").exists()
    done = poolcli("pool", "d/a.jpg", "d/B.JPG", "-o", "two.jpg/", cwd=photos)  # insists
    assert done.returncode == 0, done.stderr
    assert tree(photos / "two.jpg") == ["B.JPG", "a.jpg"]


def test_a_list_of_one_file_goes_into_a_folder_as_the_help_says(photos):
    (photos / "list").write_text("d/a.jpg\n")
    done = poolcli("pool", "--files-from", "list", "-o", "out", cwd=photos)
    assert done.returncode == 0, done.stderr
    assert tree(photos / "out") == ["d", "d/a.jpg"]


def test_an_extension_and_a_format_that_disagree_are_refused(photos):
    done = poolcli("pool", "d/a.jpg", "-o", "conflict.png", "--format", "jpg", cwd=photos)
    assert done.returncode == 2
    assert "-o conflict.png names PNG by its .png, but --format asks for JPEG" in done.stderr
    assert not (photos / "conflict.png").exists()
    done = poolcli("pool", "d/a.jpg", "-o", "agree.png", "--format", "png", cwd=photos)
    assert done.returncode == 0, done.stderr
    with Image.open(photos / "agree.png") as image:
        assert image.format == "PNG"


@pytest.mark.parametrize(
    "inputs", [["d/a.jpg", "./d/a.jpg"], ["-r", "d", "d/a.jpg"], ["d/a.jpg", "d/../d/a.jpg"]]
)
def test_a_file_named_twice_is_pooled_once(photos, inputs):
    done = poolcli("pool", *inputs, "-o", "out", "--json", cwd=photos)
    assert done.returncode == 0, done.stderr
    assert "rename one" not in done.stderr
    outputs = [line for line in done.stdout.splitlines() if '"a.jpg' in line or "/a.jpg" in line]
    assert len(outputs) == 1
    assert "out/a.jpg" in tree(photos) or "out/d/a.jpg" in tree(photos)


def test_a_batch_into_its_own_folder_resumes(photos):
    first = poolcli("pool", "-r", "d", "-o", "d", "--format", "png", cwd=photos)
    assert first.returncode == 0, first.stderr
    assert tree(photos / "d") == ["B.JPG", "B.png", "a.jpg", "a.png"]
    again = poolcli("pool", "-r", "d", "-o", "d", "--format", "png", "--skip-existing",
                    "--json", cwd=photos)  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert again.stdout.count('"skipped"') == 2  # the two inputs; the PNGs are outputs
    assert "would both be written" not in again.stderr
    # a PNG named on the command line is still an input
    named = poolcli("pool", "d/a.png", "-o", "x.png", cwd=photos)
    assert named.returncode == 0, named.stderr
