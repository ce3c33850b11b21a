"""Hostile inputs through the command line."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from PIL import Image

CORPUS = Path(__file__).parent / "corpus"


def poolcli(*args: str, cwd: Path, input: bytes | None = None, timeout: float = 120):
    """A real ``poolcli`` process (``python -m poolcli``), its output captured."""
    return subprocess.run(
        [sys.executable, "-m", "poolcli", *args],
        cwd=cwd, input=input, capture_output=True, timeout=timeout, check=False,
    )  # fmt: skip


def records(done: subprocess.CompletedProcess) -> dict[str, dict]:
    return {r["input"]: r for r in map(json.loads, done.stdout.decode().splitlines())}


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
