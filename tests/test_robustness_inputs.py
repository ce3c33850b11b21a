"""Hostile inputs through the command line: non-images among images, names."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from PIL import Image

CORPUS = Path(__file__).parent / "corpus"
MANIFEST = json.loads((CORPUS / "manifest.json").read_text())


def poolcli(*args: str, cwd: Path, input: bytes | None = None, timeout: float = 120):
    """A real ``poolcli`` process (``python -m poolcli``), its output captured."""
    return subprocess.run(
        [sys.executable, "-m", "poolcli", *args],
        cwd=cwd, input=input, capture_output=True, timeout=timeout, check=False,
    )  # fmt: skip


def records(done: subprocess.CompletedProcess) -> dict[str, dict]:
    return {r["input"]: r for r in map(json.loads, done.stdout.decode().splitlines())}


# --- non-image files in a directory batch ----------------------------------------------


def test_a_directory_batch_takes_every_image_and_skips_the_rest(tmp_path):
    """The documented rule: in a directory, a file is taken by its extension (what
    Pillow reads, plus .npy/.npz); other files and hidden ones are skipped silently.
    A file named on the command line is always tried, and reported if it fails."""
    folder = tmp_path / "in"
    shutil.copytree(CORPUS, folder)  # every corpus file, README.md and manifest.json too
    (folder / "notes.txt").write_text("not an image")
    (folder / "Makefile").write_text("all:\n")
    (folder / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    done = poolcli("pool", "-r", "in", "-o", "out", "--json", "-q", "--ceil-mode",
                   cwd=tmp_path)  # fmt: skip
    found = records(done)
    images = sorted(f"in/{entry['file']}" for entry in MANIFEST)
    assert sorted(found) == images  # the .mpo (read by Pillow's JPEG plugin) included
    failed = sorted(name for name, r in found.items() if r["status"] == "error")
    expected = sorted(f"in/{e['file']}" for e in MANIFEST if e["expect"] == "error")
    assert failed == expected
    assert done.returncode == 1
    assert done.stderr.decode().count("\n") == len(failed)  # -q: one line per failed file

    named = poolcli("pool", "in/notes.txt", "-o", "notes.png", cwd=tmp_path)
    assert named.returncode == 1
    assert named.stderr.decode() == (
        "poolcli: in/notes.txt: not an image Pillow can read, nor a .npy/.npz array\n"
    )
    assert not (tmp_path / "notes.png").exists()


# --- multi-frame inputs into multi-frame TIFF -------------------------------------------


def test_every_frame_reaches_a_tiff_written_atomically(tmp_path):
    """Pillow's multi-page TIFF writer reads back what it wrote, so the atomic
    writer's temporary file must be open for reading too."""
    done = poolcli("pool", str(CORPUS / "multipage.tiff"), str(CORPUS / "chi.gif"),
                   "-o", "out", "--format", "tif", "--json", cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert [r["frames"] for r in records(done).values()] == [3, 31]
    for name, frames in [("multipage.tiff", 3), ("chi.tif", 31)]:
        with Image.open(tmp_path / "out" / name) as image:
            assert (image.format, image.n_frames) == ("TIFF", frames)
            image.seek(frames - 1)
            image.load()
