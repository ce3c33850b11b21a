"""Time ``poolcli pool`` on the local executor against a Dask LocalCluster.

Usage::

    python benchmarks/scaling.py [--files 200] [--repeat 3]

Makes ``--files`` JPEGs of 640x480 in a temporary folder (crops of the sample
photographs, so they carry real detail), starts a ``distributed.LocalCluster`` on
127.0.0.1 with two worker processes of one thread (and a second one whose workers
run without Dask's ``MALLOC_TRIM_THRESHOLD_=65536``), then times each command as a
fresh process (the median and best of ``--repeat`` runs, ``--overwrite`` so every run writes
every file; runs interleaved), for two workloads: the default 2x2 mean (JPEG decode and encode
dominate) and a 3x3 median at stride 1 (the engine dominates). The cluster's own
start-up is timed apart: a long-lived cluster pays it once. Prints a Markdown table
(as in docs/scaling.md). Needs ``pip install -e '.[dask]'``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = sorted((ROOT / "sample_images").glob("*.png"))
POOLCLI = [sys.executable, "-m", "poolcli", "pool"]
WORKLOADS = {"avg 2x2": [], "median 3x3, stride 1": ["-m", "median", "-k", "3", "-s", "1"]}


def make_inputs(folder: Path, count: int) -> None:
    rng = np.random.default_rng(0)
    photos = [Image.open(path).convert("RGB") for path in SAMPLES]
    for index in range(count):
        photo = photos[index % len(photos)]
        scale = max(640 / photo.width, 480 / photo.height) * rng.uniform(1.05, 1.5)
        big = photo.resize((round(photo.width * scale), round(photo.height * scale)))
        left = int(rng.integers(0, big.width - 640 + 1))
        top = int(rng.integers(0, big.height - 480 + 1))
        big.crop((left, top, left + 640, top + 480)).save(folder / f"{index:04d}.jpg", quality=90)


def timed(command: list[str], cwd: Path, environ: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, stdout=subprocess.DEVNULL, env=environ)
    return time.perf_counter() - started


def _untrimmed_cluster():
    """A LocalCluster whose workers keep glibc's own malloc tuning: Dask sets
    MALLOC_TRIM_THRESHOLD_=65536 for its workers, which also turns off glibc's dynamic
    mmap threshold, so every large array is mmap'ed and faulted in afresh."""
    import dask
    from distributed import LocalCluster

    os.environ.pop("MALLOC_TRIM_THRESHOLD_", None)  # the first cluster set it here
    with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}):
        return LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
            dashboard_address=None,
        )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    options = parser.parse_args()
    load = os.getloadavg()[0]  # other work on the machine skews every number
    from distributed import LocalCluster

    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp)
        (folder / "in").mkdir()
        make_inputs(folder / "in", options.files)
        environ = dict(os.environ)  # LocalCluster sets MALLOC_TRIM_THRESHOLD_ here too
        started = time.perf_counter()
        cluster = LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
            dashboard_address=None,
        )  # fmt: skip
        startup = time.perf_counter() - started
        untrimmed = _untrimmed_cluster()
        dask = ["--executor", "dask", "--scheduler"]
        runs = {
            "local, -j 1": ["-j", "1"],
            "local, -j 2": ["-j", "2"],
            "dask, LocalCluster 2 workers x 1 thread": [*dask, cluster.scheduler_address],
            "dask, the same without MALLOC_TRIM_THRESHOLD_": [*dask, untrimmed.scheduler_address],
        }
        times: dict[tuple[str, str], list[float]] = {}
        try:
            for _ in range(options.repeat):  # interleaved, so a busy moment hits all alike
                for workload, pool in WORKLOADS.items():
                    for name, executor in runs.items():
                        command = [*POOLCLI, "-r", "in", "-o", "out", "-q", "--overwrite", *pool]
                        seconds = timed([*command, *executor], folder, environ)
                        times.setdefault((workload, name), []).append(seconds)
        finally:
            cluster.close()
            untrimmed.close()
    print(f"{options.files} JPEGs 640x480, {os.cpu_count()} cores, {options.repeat} runs each")
    print(f"LocalCluster start-up (2 worker processes): {startup:.1f} s, not included below")
    print(f"load average before: {load:.2f}, after: {os.getloadavg()[0]:.2f}\n")
    print("| workload | executor | median (s) | best (s) | files/s (best) |")
    print("|---|---|---:|---:|---:|")
    for (workload, name), runs_ in times.items():
        best = min(runs_)
        rate = options.files / best
        print(f"| {workload} | {name} | {statistics.median(runs_):.2f} | {best:.2f} | {rate:.0f} |")


if __name__ == "__main__":
    main()
