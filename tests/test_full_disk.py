"""A full disk, for real: a tiny tmpfs, every writable format, real `poolcli` processes.

An output must be whole or absent: a write that ran out of space fails in one line,
exit status 1, and leaves nothing behind (no output, no temporary file).
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from poolcli.images.formats import FORMATS

WRITABLE = [f.extension.lstrip(".") for f in FORMATS.values() if f.core and f.name != "NPZ"]


@pytest.fixture
def full(tmp_path):
    """A 16 KB tmpfs (mounted for the test; skipped where mounting is not allowed)."""
    folder = tmp_path / "full"
    folder.mkdir()
    mount = ["mount", "-t", "tmpfs", "-o", "size=16k", "tmpfs", str(folder)]
    if os.geteuid() != 0 or subprocess.run(mount, capture_output=True).returncode != 0:
        pytest.skip("mounting a tmpfs needs root here")
    yield folder
    subprocess.run(["umount", str(folder)], check=False)


@pytest.mark.parametrize("extension", [*WRITABLE, "npz"])
@pytest.mark.parametrize("given", ["jpg", "png"])
def test_a_full_disk_fails_every_format_in_one_line_leaving_nothing(
    tmp_path, full, extension, given
):
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 256, (600, 600, 3), np.uint8)  # too much for 16 KB in any format
    source = tmp_path / f"noise.{given}"
    Image.fromarray(noise).save(source)
    target = full / f"out.{extension}"
    done = subprocess.run(
        [sys.executable, "-m", "poolcli", "pool", str(source), "-o", str(target)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert "no space left" in line.lower()
    assert os.listdir(full) == []
