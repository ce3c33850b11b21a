"""Every corpus file through the command line: pooled right, or refused in one line.

One ``poolcli pool`` batch per mode and output choice runs over the whole corpus
(in-process, ``-j 1``, with ``--json`` to map each file to its outcome):

- into TIFF, which keeps every frame and every mode;
- into each file's own format, where Pillow can write it.

Each ``expect: ok`` file must come out with its frame count, each frame
``ceil(w/2) x ceil(h/2)`` after orientation, the mode the policy gives, and for the
single-frame 8-bit files the reference's pixels. Each ``expect: error`` file must
fail with exit status 1, one line, and no output file.
"""

from __future__ import annotations

import json
from pathlib import Path

import imagecodecs
import numpy as np
import pytest
import tifffile
from click.testing import CliRunner
from image_reference import (
    CORPUS,
    EIGHT_BIT,
    MANIFEST,
    deep_pixels,
    expected_array,
    expected_deep,
    expected_mode,
    expected_tiff_mode,
    half,
    upright,
)
from PIL import Image, ImageOps, ImageSequence

from poolcli.batch.naming import default_format
from poolcli.cli import cli
from poolcli.images.formats import writable_named

MODES = ["avg", "max", "mode"]
BY_NAME = {entry["file"]: entry for entry in MANIFEST}


@pytest.fixture(scope="module")
def corpus_copy(tmp_path_factory) -> Path:
    """The corpus files (not its README and manifest), in a folder of their own."""
    folder = tmp_path_factory.mktemp("corpus")
    for entry in MANIFEST:
        (folder / entry["file"]).write_bytes((CORPUS / entry["file"]).read_bytes())
    return folder


def run_batch(corpus_copy: Path, out: Path, mode: str, *extra: str):
    """Batches over the whole corpus: the worst exit status, stderr, and each JSON line.

    Files whose names differ only in extension (hopper_8bit.pgm and .ppm) would be
    written to one name under --format, which poolcli refuses: they go in turns,
    each into a folder of its own.
    """
    turns: list[list[str]] = []
    for entry in MANIFEST:  # named files: every one is tried, whatever its name
        stem = Path(entry["file"]).stem
        turn = next((t for t in turns if all(Path(n).stem != stem for n in t)), None)
        if turn is None:
            turn = []
            turns.append(turn)
        turn.append(str(corpus_copy / entry["file"]))
    lines, status, stderr = {}, 0, ""
    for turn, names in enumerate(turns):
        result = CliRunner().invoke(
            cli,
            ["pool", *names, "-o", str(out / str(turn)), "-m", mode, "-k", "2", "--ceil-mode",
             "-j", "1", "--json", *extra],
        )  # fmt: skip
        assert result.exit_code in (0, 1), result.output
        status, stderr = max(status, result.exit_code), stderr + result.stderr
        for line in result.stdout.splitlines():
            parsed = json.loads(line)
            lines[Path(parsed["input"]).name] = parsed
    return status, stderr, lines


def upright_sizes(name: str) -> list[tuple[int, int]]:
    with Image.open(CORPUS / name) as image:
        sizes = []
        for frame in ImageSequence.Iterator(image):
            frame.load()
            sizes.append(ImageOps.exif_transpose(frame.copy()).size)
        return sizes


def check_refusals(status: int, stderr: str, lines, out: Path) -> None:
    errors = [e["file"] for e in MANIFEST if e["expect"] == "error"]
    assert status == 1
    problem_lines = [line for line in stderr.splitlines() if ": " in line]
    for name in errors:
        line = lines[name]
        assert line["status"] == "error", name
        assert line["error"]
        assert "\n" not in line["error"]
        assert not Path(line["output"]).exists(), name
        assert sum(name in text for text in problem_lines) == 1, (name, problem_lines)
    assert "Traceback" not in stderr
    assert not list(out.rglob("*.poolcli-tmp"))


@pytest.mark.parametrize("mode", MODES)
def test_the_whole_corpus_into_tiff(corpus_copy, tmp_path, mode):
    out = tmp_path / "tiff"
    status, stderr, lines = run_batch(corpus_copy, out, mode, "--format", "tiff")
    check_refusals(status, stderr, lines, out)
    for entry in MANIFEST:
        if entry["expect"] != "ok":
            continue
        name = entry["file"]
        line = lines[name]
        assert line["status"] == "ok", (name, line["error"])
        sizes = upright_sizes(name)
        deep = deep_pixels(CORPUS / name)
        if deep is not None:  # 16-bit colour: a TIFF Pillow may not read; tifffile does
            expected = expected_deep(deep, mode)
            np.testing.assert_array_equal(tifffile.imread(line["output"]), expected, name)
            continue
        with Image.open(line["output"]) as pooled:
            frames = [frame.copy() for frame in ImageSequence.Iterator(pooled)]
        assert len(frames) == entry["n_frames"] == line["frames"], name
        assert [f.size for f in frames] == [half(s) for s in sizes], name
        assert line["out_size"] == list(half(sizes[0]))
        if entry["n_frames"] != 1:
            continue
        source = upright(CORPUS / name)
        assert frames[0].mode == expected_tiff_mode(source, mode), name
        palette_alpha = expected_mode(source, mode) == "P" and "transparency" in source.info
        if entry["pillow_mode"] in EIGHT_BIT and not palette_alpha:
            expected = expected_array(source, mode)
            rows, cols = expected.shape[:2]
            np.testing.assert_array_equal(
                np.asarray(frames[0])[:rows, :cols], expected, err_msg=name
            )


@pytest.mark.parametrize("mode", MODES)
def test_the_whole_corpus_into_its_own_formats(corpus_copy, tmp_path, mode):
    out = tmp_path / "own"
    status, stderr, lines = run_batch(corpus_copy, out, mode)
    check_refusals(status, stderr, lines, out)
    for entry in MANIFEST:
        name = entry["file"]
        if entry["expect"] != "ok":
            continue
        line = lines[name]
        fmt = default_format(name)
        sizes = upright_sizes(name)
        one_size = len(set(sizes)) == 1
        if writable_named(fmt) is None or (fmt in ("PNG", "GIF", "WEBP") and not one_size):
            # no writer, or an animation format asked to hold frames of several sizes
            assert line["status"] == "error", name
            continue
        assert line["status"] == "ok", (name, line["error"])
        deep = deep_pixels(CORPUS / name)
        if deep is not None:  # a 16-bit colour PNG stays one: read its 16 bits back
            written = imagecodecs.png_decode(Path(line["output"]).read_bytes())
            np.testing.assert_array_equal(written, expected_deep(deep, mode), name)
        with Image.open(line["output"]) as pooled:
            frames = [frame.copy() for frame in ImageSequence.Iterator(pooled)]
        assert len(frames) == entry["n_frames"], name
        assert [f.size for f in frames] == [half(s) for s in sizes], name
