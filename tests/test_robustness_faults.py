"""Faults around a real ``poolcli pool`` batch: a full disk, permissions, folders and
files vanishing mid-batch, stdout on a full disk, two processes on one folder,
symlink loops. Each costs the files it touches one line, never an input, never a
partial output, never the rest of the batch."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from poolcli.cli import cli

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="mounts, /proc, /dev/full")

POOLCLI = [sys.executable, "-m", "poolcli"]


def poolcli(*args: str, cwd: Path, timeout: float = 120, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([*POOLCLI, *args], cwd=cwd, capture_output=True, timeout=timeout,
                          check=False, **kwargs)  # fmt: skip


def records(stdout: bytes) -> dict[str, dict]:
    return {r["input"]: r for r in map(json.loads, stdout.decode().splitlines())}


def noise(path: Path, seed: int, size: int = 96) -> None:
    """An incompressible photo: its PNG output is about as big as its pixels."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8)).save(path)


def digests(root: Path) -> dict[str, str]:
    """Every file under ``root`` (hidden ones too) and the SHA-256 of its bytes."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def temporary_files(root: Path) -> list[str]:
    return sorted(str(p) for p in root.rglob("*") if p.name.startswith("."))


# --- a full disk -------------------------------------------------------------------------

FULL_DISK = """
set -e
mount -t tmpfs -o size={size} poolcli-full "$1"
cp -r in "$1/in"
set +e
{poolcli} pool -r "$1/in" -o "$1/out" --json -j 2 -k 1 > log.jsonl 2> errors.txt
echo $? > status
set -e
cp -r "$1/in" after-in
mkdir after-out && cp -r "$1/out/." after-out/ 2>/dev/null || true
ls -A "$1/out" > listing || true
"""


def unshared_mounts() -> list[str] | None:
    """A command prefix giving a private mount namespace where tmpfs can be mounted
    (root: unshare -m; others: a user namespace, unshare -rm), or None."""
    if not shutil.which("unshare"):
        return None
    for prefix in (["unshare", "-m"], ["unshare", "-rm"]):
        probe = subprocess.run(
            [*prefix, "sh", "-c", 'd=$(mktemp -d) && mount -t tmpfs -o size=64k t "$d"'],
            capture_output=True, check=False,
        )  # fmt: skip
        if probe.returncode == 0:
            return prefix
    return None


def test_a_full_disk_fails_the_files_that_do_not_fit_and_nothing_else(tmp_path):
    """Inputs and outputs on a real 640 kB tmpfs (in a private mount namespace, so
    nothing outlives the test): the outputs that fit are whole, the others fail in
    one line each and leave nothing behind, the inputs are untouched."""
    prefix = unshared_mounts()
    if prefix is None:
        pytest.skip(
            "cannot mount a tmpfs here (needs unshare and CAP_SYS_ADMIN or user "
            "namespaces); test_a_disk_filling_mid_write_... injects ENOSPC instead"
        )
    for index in range(16):
        noise(tmp_path / "in" / f"{index:02d}.png", index)  # ~28 kB each, ~28 kB out
    reference = poolcli("pool", "-r", "in", "-o", "reference", "-k", "1", cwd=tmp_path)
    assert reference.returncode == 0
    (tmp_path / "mnt").mkdir()
    script = FULL_DISK.format(size="640k", poolcli=" ".join(POOLCLI))
    done = subprocess.run([*prefix, "sh", "-c", script, "sh", str(tmp_path / "mnt")],
                          cwd=tmp_path, capture_output=True, timeout=120, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert not os.path.ismount(tmp_path / "mnt")  # it lived in the namespace only

    assert digests(tmp_path / "after-in") == digests(tmp_path / "in")
    found = records((tmp_path / "log.jsonl").read_bytes())
    assert len(found) == 16
    failed = {name: r for name, r in found.items() if r["status"] == "error"}
    written = {name: r for name, r in found.items() if r["status"] == "ok"}
    assert failed
    assert written
    assert (tmp_path / "status").read_text() == "1\n"
    mount = str(tmp_path / "mnt")
    for record in failed.values():
        assert record["error"] == f"cannot write {record['output']}: no space left on device"
    lines = (tmp_path / "errors.txt").read_text().splitlines()
    assert lines[:-1] == [f"poolcli: {n}: {failed[n]['error']}" for n in sorted(failed)]
    assert lines[-1].startswith(f"poolcli: {len(written)} ok, 0 skipped, {len(failed)} failed")
    # whole outputs for the files that fit, nothing else: no temporary file
    out = {
        f"{mount}/out/{name}": digest for name, digest in digests(tmp_path / "after-out").items()
    }
    assert sorted(out) == sorted(r["output"] for r in written.values())
    assert (tmp_path / "listing").read_text().split() == sorted(Path(n).name for n in out)
    assert out == {
        f"{mount}/out/{name}": digest
        for name, digest in digests(tmp_path / "reference").items()
        if f"{mount}/in/{name}" in written
    }


class FillingUp:
    """A stream that refuses its 2,000th byte with ENOSPC, as a disk filling up would."""

    def __init__(self, stream) -> None:
        self._stream = stream

    def write(self, data) -> int:
        if self._stream.tell() + len(data) > 2000:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return self._stream.write(data)

    def __getattr__(self, name: str):
        return getattr(self._stream, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self._stream.close()


@pytest.mark.parametrize("fmt", ["png", "npy"])
def test_a_disk_filling_mid_write_fails_that_file_cleanly(tmp_path, monkeypatch, fmt):
    """In process: the temporary file of the second output fills the disk at 2,000
    bytes while the encoder writes it. That file fails in one line naming its output;
    the next file is written whole."""
    import poolcli.batch.writing as writing

    for index in range(3):
        noise(tmp_path / "in" / f"{index}.png", index)
    before = digests(tmp_path / "in")

    def opening(path, mode="r", *args, **kwargs):
        stream = open(path, mode, *args, **kwargs)
        return FillingUp(stream) if os.path.basename(path).startswith(f".1.{fmt}.") else stream

    monkeypatch.setattr(writing, "open", opening, raising=False)
    result = CliRunner().invoke(
        cli, ["pool", "-r", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "-j", "1",
              "-k", "1", "--json", "--format", fmt],
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    found = records(result.stdout_bytes)
    target = tmp_path / "out" / f"1.{fmt}"
    assert found[str(tmp_path / "in" / "1.png")]["error"] == (
        f"cannot write {target}: no space left on device"
    )
    assert result.stderr.splitlines()[0] == (
        f"poolcli: {tmp_path / 'in' / '1.png'}: cannot write {target}: no space left on device"
    )
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [f"0.{fmt}", f"2.{fmt}"]
    assert digests(tmp_path / "in") == before


# --- stdout on a full disk ----------------------------------------------------------------


def session_processes(session: int) -> list[int]:
    """Processes still alive in ``session`` (a command started as a session leader)."""
    alive = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) == session and fields[0] != "Z":
                alive.append(int(entry))
    return alive


@pytest.mark.parametrize(
    "args",
    [
        ["pool", "-r", "in", "-o", "out", "--json", "-j", "2"],
        ["pool", "-r", "in", "-o", "out", "--dry-run"],
        ["info", "-r", "in"],
        ["info", "-r", "in", "--json"],
    ],
    ids=["json", "dry-run", "info", "info-json"],
)
def test_stdout_on_a_full_disk_ends_the_run_in_one_line(tmp_path, args):
    """What goes to stdout (--json lines, the plan, info) cannot be written: the run
    stops with one line and exit 1, the workers are gone and no temporary file stays.
    The outputs written before it stopped are whole."""
    for index in range(12):
        noise(tmp_path / "in" / f"{index:02d}.png", index)
    reference = poolcli("pool", "-r", "in", "-o", "reference", cwd=tmp_path)
    assert reference.returncode == 0
    with open("/dev/full", "wb") as full:
        process = subprocess.Popen([*POOLCLI, *args], cwd=tmp_path, stdout=full,
                                   stderr=subprocess.PIPE, start_new_session=True)  # fmt: skip
        _, errors = process.communicate(timeout=120)
    assert errors.decode() == "poolcli: error: cannot write to stdout: no space left on device\n"
    assert process.returncode == 1
    assert session_processes(process.pid) == []
    assert temporary_files(tmp_path) == []
    written = digests(tmp_path / "out") if (tmp_path / "out").exists() else {}
    reference_digests = digests(tmp_path / "reference")
    assert {name: reference_digests[name] for name in written} == written


def test_image_bytes_to_a_full_stdout_fail_that_file(tmp_path):
    noise(tmp_path / "a.png", 1)
    with open("/dev/full", "wb") as full:
        done = subprocess.run([*POOLCLI, "pool", "a.png", "-o", "-", "--format", "png"],
                              cwd=tmp_path, stdout=full, stderr=subprocess.PIPE, timeout=60,
                              check=False)  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.decode() == "poolcli: a.png: no space left on device\n"
