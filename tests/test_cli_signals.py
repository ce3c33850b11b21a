"""Ctrl-C and SIGTERM on a real ``poolcli pool -j 2`` batch: exit 130, nothing partial
left behind, no worker left running, and ``--skip-existing`` finishes the job with
outputs byte-identical to an uninterrupted run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from processes import orphans_after

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and /proc")

# Slow enough per file (a stride-1 median) that the batch is still running when the
# first result arrives and the signal is sent.
POOL = ["-m", "median", "-k", "5", "-s", "1"]
FILES = 48


def poolcli(*args: str, cwd: Path, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "poolcli", "pool", *args], cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)  # fmt: skip


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """Inputs, and the outputs of an uninterrupted run to compare with."""
    root = tmp_path_factory.mktemp("signals")
    rng = np.random.default_rng(7)
    for index in range(FILES):
        pixels = rng.integers(0, 256, (256, 256, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(root / "in" / f"{index:02d}.png" if (root / "in").exists()
                                     else _mkdir(root / "in") / f"{index:02d}.png")  # fmt: skip
    reference = poolcli("-r", "in", "-o", "reference", "-j", "2", "-q", *POOL, cwd=root)
    _, errors = reference.communicate(timeout=300)
    assert reference.returncode == 0, errors
    return root


def _mkdir(path: Path) -> Path:
    path.mkdir()
    return path


def wait_until_gone(session: int) -> list[int]:
    return orphans_after(session, 5.0)  # the fork server leaves when the main process has gone


def outputs(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in directory.iterdir()} if directory.exists() else {}


@pytest.mark.parametrize(
    ("sig", "whole_group", "jobs"),
    [(signal.SIGINT, True, "2"), (signal.SIGTERM, False, "2"), (signal.SIGINT, False, "1")],
    ids=["ctrl-c-to-the-group", "sigterm-to-poolcli", "ctrl-c-in-process"],
)
def test_interrupt_then_resume(batch, sig, whole_group, jobs):
    out = f"out-{sig.name}-{jobs}"
    process = poolcli(
        "-r", "in", "-o", out, "-j", jobs, "--json", *POOL, cwd=batch, start_new_session=True
    )
    first = process.stdout.readline()  # one file done: the batch is under way
    assert b'"status": "ok"' in first
    if whole_group:
        os.killpg(process.pid, sig)  # what a terminal's Ctrl-C does
    else:
        os.kill(process.pid, sig)
    rest, errors = process.communicate(timeout=60)
    # 128 + the signal: 130 for Ctrl-C, 143 for SIGTERM, as shells and supervisors expect
    assert process.returncode == 128 + sig, errors
    assert b"poolcli: interrupted;" in errors
    assert b"Traceback" not in errors
    assert wait_until_gone(process.pid) == []

    reference = outputs(batch / "reference")
    written = outputs(batch / out)
    assert not [
        name for name in os.listdir(batch / out) if name.startswith(".")
    ]  # no temporary files
    assert 1 <= len(written) < FILES
    for name, data in written.items():
        assert data == reference[name]  # every output there is whole

    resumed = poolcli("-r", "in", "-o", out, "-j", "2", "--skip-existing", *POOL, cwd=batch)
    _, errors = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, errors
    assert (
        f"poolcli: {FILES - len(written)} ok, {len(written)} skipped, 0 failed".encode() in errors
    )
    assert outputs(batch / out) == reference
