"""The examples run, and the README shows what they print."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent


def test_digits_knn_prints_the_readme_table_with_the_seed_baseline():
    done = subprocess.run([sys.executable, str(ROOT / "examples" / "digits_knn.py")],
                          capture_output=True, text=True, check=True)  # fmt: skip
    table = done.stdout.strip()
    assert "| none | 8x8 | 64 | 0.975 |" in table  # the seed experiment's own split
    assert table in (ROOT / "README.md").read_text(encoding="utf-8")
