"""Bigger than memory: poolcli's streamed path against pyvips, side by side.

Makes its own inputs in a temporary folder (a tiled RGB BigTIFF, the same pixels
as .npy and as Zarr, a deflate-tiled TIFF), then pools each 2x2 (mean) with
``poolcli pool`` and with pyvips ``shrink`` on the same file, and prints time and
peak anonymous memory (RssAnon, sampled over the whole process tree: file-backed
pages of the inputs do not count) for each.

    python benchmarks/streaming.py --side 32768     # the issue's 3.2 GB case
    python benchmarks/streaming.py --side 8192      # a quick run
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np
import tifffile
import zarr


def anon_kib(pid: int) -> int:
    """RssAnon of ``pid`` and its descendants, in KiB."""
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        try:
            with open(f"/proc/{current}/status") as status:
                for line in status:
                    if line.startswith("RssAnon:"):
                        total += int(line.split()[1])
            with open(f"/proc/{current}/task/{current}/children") as children:
                pending.extend(int(c) for c in children.read().split())
        except OSError:
            continue
    return total


def measured(command: list[str]) -> tuple[float, float]:
    """(seconds, peak RssAnon in MB) of running ``command``."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, anon_kib(process.pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    _, err = process.communicate()
    done.set()
    sampler.join()
    if process.returncode != 0:
        message = f"{' '.join(command)} failed: {err.decode()}"
        raise SystemExit(message)
    return time.perf_counter() - started, peak / 1024


def make_inputs(folder: str, side: int) -> dict[str, str]:
    """The inputs: written band by band, so that making them needs little memory too."""
    rng = np.random.default_rng(0)
    band = 1024
    paths = {name: os.path.join(folder, name) for name in
             ("rgb.tif", "rgb.npy", "rgb.zarr", "deflate.tif")}  # fmt: skip

    def bands():
        for y in range(0, side, band):
            rows = min(band, side - y)
            base = rng.integers(0, 255, (rows, side // 64 + 1, 3), np.uint8)
            yield np.repeat(base, 64, axis=1)[:, :side]  # compressible, not uniform

    def tiles():
        for rows in bands():
            for y in range(0, rows.shape[0], 256):
                for x in range(0, side, 256):
                    yield rows[y : y + 256, x : x + 256]

    tifffile.imwrite(paths["rgb.tif"], tiles(), shape=(side, side, 3), dtype=np.uint8,
                     tile=(256, 256), photometric="rgb", bigtiff=True)  # fmt: skip
    tifffile.imwrite(paths["deflate.tif"], tiles(), shape=(side, side, 3), dtype=np.uint8,
                     tile=(256, 256), photometric="rgb", compression="zlib",
                     bigtiff=True)  # fmt: skip
    npy = np.lib.format.open_memmap(paths["rgb.npy"], "w+", np.uint8, (side, side, 3))
    store = zarr.create_array(paths["rgb.zarr"], shape=(side, side, 3), dtype=np.uint8,
                              chunks=(256, 256, 3))  # fmt: skip
    y = 0
    for rows in bands():
        npy[y : y + rows.shape[0]] = rows
        store[y : y + rows.shape[0]] = rows
        y += rows.shape[0]
    npy.flush()
    del npy
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--side", type=int, default=32768)
    args = parser.parse_args()
    poolcli = [sys.executable, "-m", "poolcli", "pool"]
    with tempfile.TemporaryDirectory(dir=os.environ.get("TMPDIR")) as folder:
        paths = make_inputs(folder, args.side)
        out = os.path.join(folder, "out")
        cases = [
            ("tiled BigTIFF -> TIFF", paths["rgb.tif"], "out.tif", True),
            ("deflate TIFF -> TIFF", paths["deflate.tif"], "out2.tif", True),
            (".npy -> TIFF", paths["rgb.npy"], "out3.tif", False),
            ("Zarr -> Zarr", paths["rgb.zarr"], "out4.zarr", False),
            ("TIFF -> Zarr", paths["rgb.tif"], "out5.zarr", False),
        ]
        print(f"{args.side}x{args.side}x3 uint8, 2x2 mean")
        print(f"{'case':24} {'poolcli s':>10} {'MB':>7} {'vips s':>8} {'MB':>7}")
        for name, source, target, vips in cases:
            layout = ["--layout", "hwc"] if source.endswith((".npy", ".zarr")) else []
            t, m = measured([*poolcli, source, "-o", os.path.join(out, target), "-k", "2",
                             "-m", "avg", *layout])  # fmt: skip
            row = f"{name:24} {t:10.1f} {m:7.0f}"
            if vips:
                vt, vm = measured(["vips", "shrink", source, os.path.join(out, "v.tif[tile]"),
                                   "2", "2"])  # fmt: skip
                row += f" {vt:8.1f} {vm:7.0f}"
            print(row, flush=True)


if __name__ == "__main__":
    main()
