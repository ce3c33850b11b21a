"""The progress bar fits the terminal: in a narrow pane every redraw stays on one
line (a redraw that wraps fills the screen), in a wide one it shows rate and ETA."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios

import pytest
from PIL import Image


def run_in_terminal(args, cwd, columns):
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    process = subprocess.Popen([sys.executable, "-m", "poolcli", *args], cwd=cwd,
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=follower)  # fmt: skip
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    process.wait(timeout=60)
    os.close(leader)
    return b"".join(chunks).decode("utf-8", "replace")


@pytest.mark.parametrize("columns", [30, 40, 60, 100])
def test_every_redraw_fits_the_terminal(tmp_path, columns):
    (tmp_path / "in").mkdir()
    for index in range(40):
        Image.new("RGB", (64, 48), (index, 0, 0)).save(tmp_path / "in" / f"{index}.png")
    text = run_in_terminal(["pool", "-r", "in", "-o", "out", "-j", "1"], tmp_path, columns)
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text)
    redraws = [part for line in plain.split("\n") for part in line.split("\r") if "[" in part]
    assert redraws, plain  # the bar was drawn
    assert max(len(part) for part in redraws) <= columns, redraws
    if columns >= 100:
        assert any("files/s" in part for part in redraws)
