"""Same inputs and options, same bytes: across runs, worker counts, and the way in.

Every file of the corpus that pools (each format's own writer: PNG, JPEG, GIF, WebP,
TIFF, BMP, TGA, PPM, ICO, MPO, ...), pooled by real processes with ``-j 1`` (in
process, the engine's threads over bands of rows) and ``-j 2`` (worker processes,
one thread each), twice: the outputs are byte-identical.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

CORPUS = Path(__file__).parent / "corpus"
OK = [entry["file"] for entry in json.loads((CORPUS / "manifest.json").read_text())
      if entry["expect"] == "ok"]  # fmt: skip


def poolcli(*args: str, cwd: Path, input: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "poolcli", "pool", *args], cwd=cwd,
                          input=input, capture_output=True, timeout=300, check=False)  # fmt: skip


def digests(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("determinism")
    (root / "in").mkdir()
    for name in OK:  # hopper_8bit.pgm and .ppm would both become hopper_8bit.npy
        stem, suffix = name.rsplit(".", 1)
        shutil.copy(CORPUS / name, root / "in" / f"{stem}_{suffix}.{suffix}")
    rng = np.random.default_rng(5)
    np.save(root / "in" / "maps4d.npy", rng.standard_normal((2, 8, 24, 20)).astype(np.float32))
    np.savez(root / "in" / "maps.npz", a=rng.integers(0, 9, (5, 7, 3)), b=rng.random((9, 6)))
    return root


OPTIONS = {
    "avg": ["--ceil-mode"],
    "max-linear": ["-m", "max", "--ceil-mode", "--linear"],
    "median-k3-s2-pad": ["-m", "median", "-k", "3", "-s", "2", "-p", "1", "--ceil-mode"],
    "lp-to-npy": ["-m", "lp", "--p", "2", "-k", "2", "--ceil-mode", "--format", "npy"],
    "mode-k3": ["-m", "mode", "-k", "3", "-s", "2", "--ceil-mode"],
    # some inputs are smaller than 5 pixels wide: their failures repeat too
    "adaptive": ["--size", "5x", "-m", "rms"],
}


@pytest.mark.parametrize("options", OPTIONS)
def test_outputs_are_byte_identical_across_runs_and_worker_counts(inputs, options):
    runs, reports = {}, {}
    for label, jobs in [("j1", "1"), ("j2", "2"), ("j2-again", "2")]:
        out = f"out-{options}-{label}"
        done = poolcli("-r", "in", "-o", out, "-j", jobs, "--json", *OPTIONS[options],
                       cwd=inputs)  # fmt: skip
        lines = [json.loads(line) for line in done.stdout.decode().splitlines()]
        reports[label] = [(r["input"], r["status"], r["error"], r["out_size"]) for r in lines]
        assert done.returncode == (1 if any(r[1] == "error" for r in reports[label]) else 0)
        runs[label] = digests(inputs / out)
    failed = [r for r in reports["j1"] if r[1] == "error"]
    assert len(failed) <= 4, failed  # 1-pixel-high or narrow inputs, for some options
    assert len(runs["j1"]) == len(OK) + 2 - len(failed)
    assert runs["j2"] == runs["j1"]
    assert runs["j2-again"] == runs["j1"]
    assert reports["j2"] == reports["j1"]
    assert reports["j2-again"] == reports["j1"]


def test_a_pipe_gives_the_bytes_a_file_gets(inputs):
    for name in ["astronaut_png.png", "flower_jpg.jpg", "chi_gif.gif", "multipage_tiff.tiff",
                 "anim_webp.webp", "maps4d.npy"]:  # fmt: skip
        fmt = Path(name).suffix[1:]
        to_file = poolcli(f"in/{name}", "-o", f"piped-{name}", "-m", "max", cwd=inputs)
        assert to_file.returncode == 0, to_file.stderr
        piped = poolcli("-", "-o", "-", "--format", fmt, "-m", "max", cwd=inputs,
                        input=(inputs / "in" / name).read_bytes())  # fmt: skip
        assert piped.returncode == 0, piped.stderr
        assert piped.stdout == (inputs / f"piped-{name}").read_bytes(), name
