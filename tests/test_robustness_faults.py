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
import tempfile
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image
from processes import session_processes

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
    assert done.stderr.decode() == (
        "poolcli: a.png: cannot write to stdout: no space left on device; "
        "the output is incomplete\n"
    )


# --- permissions ----------------------------------------------------------------------------

NOBODY = 65534


def _drop_to_nobody() -> None:
    os.setgroups([])
    os.setgid(NOBODY)
    os.setuid(NOBODY)


def _as_nobody() -> tuple[list[str], dict] | None:
    """How to run this Python as ``nobody``: a command prefix and Popen keywords.

    Tried in turn, each checked by importing poolcli as nobody: ``setpriv``, then
    ``preexec_fn`` switching users in the child (it needs every directory on the way
    to the interpreter open to others, which a per-user Python install is not).
    """
    candidates: list[tuple[list[str], dict]] = []
    if shutil.which("setpriv"):
        candidates.append(
            (["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"], {})
        )
    candidates.append(([], {"preexec_fn": _drop_to_nobody}))
    for prefix, keywords in candidates:
        try:
            probe = subprocess.run(
                [*prefix, sys.executable, "-c", "import os, poolcli; print(os.geteuid())"],
                cwd="/", capture_output=True, timeout=60, check=False, **keywords,
            )  # fmt: skip
        except OSError:
            continue
        if probe.stdout.strip() == str(NOBODY).encode():
            return prefix, keywords
    return None


@pytest.fixture
def world():
    """A folder any user can enter (pytest's are private to their owner), and how to
    run poolcli without root's power to read and write everything: as ``nobody`` when
    the tests run as root, as the current user otherwise."""
    if os.geteuid() == 0:
        how = _as_nobody()
        if how is None:
            pytest.skip("running as root, and no way to run this Python as nobody")
    else:
        how = ([], {})
    prefix, keywords = how
    root = Path(tempfile.mkdtemp(prefix="poolcli-permissions-"))
    root.chmod(0o777)

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*prefix, *POOLCLI, *args], cwd=root, capture_output=True,
                              timeout=120, check=False, **keywords)  # fmt: skip

    try:
        yield root, run
    finally:
        for path in root.rglob("*"):
            if path.is_dir() and not path.is_symlink():
                path.chmod(0o755)
        shutil.rmtree(root)


def test_unreadable_inputs_and_unwritable_outputs_fail_only_their_files(world):
    root, run = world
    for name in ["a.png", "b.png", "locked.png", "closed/c.png", "ro/d.png", "ro/e.png"]:
        noise(root / "in" / name, len(name))
    (root / "in" / "locked.png").chmod(0o000)
    (root / "in" / "closed").chmod(0o000)
    (root / "out" / "ro").mkdir(parents=True)
    (root / "out" / "ro").chmod(0o555)  # its files cannot be created
    (root / "out").chmod(0o777)
    before = digests(root / "in" / "ro")

    done = run("pool", "-r", "in", "-o", "out", "--json", "-j", "2")
    assert done.returncode == 1
    found = records(done.stdout)
    assert {name: (r["status"], r["error"]) for name, r in found.items()} == {
        "in/a.png": ("ok", None),
        "in/b.png": ("ok", None),
        "in/locked.png": ("error", "cannot open: permission denied"),
        "in/closed": ("error", "cannot read the directory: permission denied"),
        "in/ro/d.png": ("error", "cannot write out/ro/d.png: permission denied"),
        "in/ro/e.png": ("error", "cannot write out/ro/e.png: permission denied"),
    }
    assert done.stderr.decode().count("\n") == 5  # four lines and the summary
    assert sorted(str(p.relative_to(root / "out")) for p in (root / "out").rglob("*")) == [
        "a.png", "b.png", "ro",
    ]  # fmt: skip
    assert digests(root / "in" / "ro") == before

    # an output folder that cannot be created at all: one error, before any work
    (root / "sealed").mkdir()
    (root / "sealed").chmod(0o555)
    done = run("pool", "in/a.png", "in/b.png", "-o", "sealed/out", "--json")
    assert done.returncode == 1
    assert done.stdout == b""
    assert done.stderr.decode() == (
        "poolcli: error: cannot write under sealed/out: permission denied (in sealed)\n"
    )
    assert list((root / "sealed").iterdir()) == []


# --- folders and files vanishing mid-batch ---------------------------------------------------

# A stride-1 median: slow enough per file that the batch is still running when the
# first result comes back and the test strikes.
SLOW = ["-m", "median", "-k", "7", "-s", "1"]
FILES = 40


@pytest.fixture(scope="module")
def slow_batch(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("vanishing")
    for index in range(FILES):
        noise(root / "in" / f"{index:02d}.png", index, size=128)
    done = poolcli("pool", "-r", "in", "-o", "reference", *SLOW, cwd=root)
    assert done.returncode == 0, done.stderr
    return root


def strike_after_the_first_result(root: Path, out: str, strike) -> tuple[int, dict, bytes]:
    """Run the slow batch into ``out``; call ``strike()`` when the first result is in."""
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(
            [*POOLCLI, "pool", "-r", "in", "-o", out, "--json", "-j", "2", *SLOW],
            cwd=root, stdout=subprocess.PIPE, stderr=errors,
        )  # fmt: skip
        first = process.stdout.readline()
        strike()
        # stdout holds a few kilobytes at most: waiting cannot block on a full pipe,
        # and the lines already in the reader's buffer are kept (communicate() would
        # read the pipe past them)
        process.wait(timeout=120)
        rest = process.stdout.read()
        process.stdout.close()
        errors.seek(0)
        return process.returncode, records(first + rest), errors.read()


def test_output_folder_deleted_mid_batch_is_made_again(slow_batch):
    out = slow_batch / "out-deleted"

    def delete() -> None:
        for _ in range(100):  # a worker may add or rename a file while the tree is removed
            try:
                shutil.rmtree(out)
            except OSError:  # FileNotFoundError too: a file gone, not the folder
                if not out.exists():
                    return
                continue
            return

    status, found, errors = strike_after_the_first_result(slow_batch, "out-deleted", delete)
    assert not out.exists() or len(list(out.iterdir())) < FILES
    assert len(found) == FILES
    failed = {n: r["error"] for n, r in found.items() if r["status"] == "error"}
    # a file caught being published as its folder vanished fails in one line
    for name, error in failed.items():
        assert error == f"cannot write {found[name]['output']}: no such file or directory"
    assert status == (1 if failed else 0)
    assert errors.decode().count("\n") == len(failed) + 1
    # the later files were all written, whole, into the folder made again
    reference = digests(slow_batch / "reference")
    written = digests(out)
    later = {f"{index:02d}.png" for index in range(10, FILES)}
    assert later <= set(written)
    assert {name: reference[name] for name in written} == written
    assert temporary_files(out) == []


def test_input_deleted_after_discovery_fails_alone(slow_batch):
    victim = slow_batch / "in" / f"{FILES - 1:02d}.png"
    kept = victim.read_bytes()
    try:
        status, found, errors = strike_after_the_first_result(
            slow_batch, "out-vanished", victim.unlink
        )
    finally:
        victim.write_bytes(kept)
    assert status == 1
    assert {n: r["error"] for n, r in found.items() if r["status"] == "error"} == {
        f"in/{victim.name}": "cannot open: no such file or directory"
    }
    assert errors.decode().splitlines()[0] == (
        f"poolcli: in/{victim.name}: cannot open: no such file or directory"
    )
    reference = digests(slow_batch / "reference")
    del reference[victim.name]
    assert digests(slow_batch / "out-vanished") == reference


# --- two processes writing one folder ----------------------------------------------------------


@pytest.mark.parametrize("policy", ["--overwrite", "--skip-existing", "refuse"])
def test_processes_racing_on_one_folder_never_tear_a_file(tmp_path, policy):
    """Three processes pool the same 30 files into one folder at once, each with
    another mode, so each writes different bytes: every final file is exactly one
    process's whole output, and the statuses say which."""
    for index in range(30):
        noise(tmp_path / "in" / f"{index:02d}.png", index, size=160)
    modes = ["max", "min", "avg"]
    references = {}
    for mode in modes:
        done = poolcli("pool", "-r", "in", "-o", f"ref-{mode}", "-m", mode, cwd=tmp_path)
        assert done.returncode == 0
        references[mode] = digests(tmp_path / f"ref-{mode}")
    flags = [] if policy == "refuse" else [policy]
    processes = {
        mode: subprocess.Popen(
            [*POOLCLI, "pool", "-r", "in", "-o", "out", "-m", mode, "--json", "-j", "2", *flags],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )  # fmt: skip
        for mode in modes
    }
    found = {mode: records(p.communicate(timeout=120)[0]) for mode, p in processes.items()}
    final = digests(tmp_path / "out")
    assert sorted(final) == [f"{index:02d}.png" for index in range(30)]  # no temporary file
    for name, digest in final.items():
        owners = [mode for mode in modes if references[mode][name] == digest]
        assert len(owners) == 1, f"{name} is no process's whole output"
        statuses = {mode: found[mode][f"in/{name}"]["status"] for mode in modes}
        if policy == "--overwrite":
            assert set(statuses.values()) == {"ok"}  # each replaced it whole; one was last
        else:
            assert statuses[owners[0]] == "ok"
            kept = "skipped" if policy == "--skip-existing" else "error"
            assert sorted(statuses.values()) == sorted(["ok", kept, kept])


# --- symlinks --------------------------------------------------------------------------------


def test_symlink_loops_end_with_or_without_following_them(tmp_path):
    """A tree with a folder linked to its parent, to itself, to the root, two folders
    linked to each other, a file linked in a circle and a dangling link: the walk
    ends (the process has a time limit), and each real file is pooled once."""
    for name in ["a.png", "sub/b.png", "sub/deeper/c.png", "other/d.png"]:
        noise(tmp_path / "in" / name, len(name), size=8)
    (tmp_path / "in" / "sub" / "up").symlink_to("..")
    (tmp_path / "in" / "sub" / "deeper" / "self").symlink_to(".")
    (tmp_path / "in" / "sub" / "deeper" / "root").symlink_to(tmp_path / "in")
    (tmp_path / "in" / "sub" / "to-other").symlink_to("../other")
    (tmp_path / "in" / "other" / "to-sub").symlink_to("../sub")
    (tmp_path / "in" / "x.png").symlink_to("y.png")
    (tmp_path / "in" / "y.png").symlink_to("x.png")
    (tmp_path / "in" / "gone.png").symlink_to("nowhere.png")
    (tmp_path / "in" / "alias.png").symlink_to("a.png")  # a file link is a file

    plain = poolcli("pool", "-r", "in", "-o", "plain", "--json", cwd=tmp_path, timeout=60)
    followed = poolcli("pool", "-r", "in", "-o", "followed", "--json", "--follow-symlinks",
                       cwd=tmp_path, timeout=60)  # fmt: skip
    expected = {
        "plain": ["a.png", "alias.png", "other/d.png", "sub/b.png", "sub/deeper/c.png"],
        # each real folder walked once, under the first name met (other/ comes first)
        "followed": ["a.png", "alias.png", "other/d.png", "other/to-sub/b.png",
                     "other/to-sub/deeper/c.png"],
    }  # fmt: skip
    for done, out in [(plain, "plain"), (followed, "followed")]:
        assert done.returncode == 0, done.stderr
        assert sorted(records(done.stdout)) == [f"in/{name}" for name in expected[out]]
        assert {r["status"] for r in records(done.stdout).values()} == {"ok"}
        written = (tmp_path / out).rglob("*.png")
        assert sorted(str(p.relative_to(tmp_path / out)) for p in written) == expected[out]
