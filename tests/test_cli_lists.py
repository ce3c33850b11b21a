"""--files-from lists: a NUL-separated list without -0 is bad usage naming -0."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
from PIL import Image


def test_a_nul_separated_list_without_dash_zero_is_a_usage_error_naming_it(tmp_path):
    for name in ("a.png", "b.png"):
        Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / name)
    (tmp_path / "list").write_bytes(b"a.png\0b.png\0")
    command = [sys.executable, "-m", "poolcli", "pool", "--files-from", "list", "-o", "out"]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 2
    assert "pass -0" in done.stderr
    assert "internal error" not in done.stderr
    assert not (tmp_path / "out").exists()
    done = subprocess.run([*command, "-0"], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.png", "b.png"]
