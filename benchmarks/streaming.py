"""Bigger than memory: poolcli's streamed path against pyvips, side by side.

Makes its own inputs in a temporary folder (a tiled RGB BigTIFF, the same pixels
as .npy and as Zarr, a deflate-tiled TIFF), then pools each 2x2 (mean) with
``poolcli pool`` and with pyvips ``shrink`` on the same file, and prints time and
peak anonymous memory (RssAnon, sampled over the whole process tree: file-backed
pages of the inputs do not count) for each.

    python benchmarks/streaming.py --side 32768     # the issue's 3.2 GB case
    python benchmarks/streaming.py --side 8192      # a quick run
    python benchmarks/streaming.py --exact          # odd sizes, byte for byte

``--exact`` instead pools odd-sized inputs streamed (tiny bands) and checks them
byte for byte against ``poolcli.pool`` on the whole array: a 10007x7001 LZW-striped
16-bit TIFF with ``-k 3 -s 2 -p 1`` (max, and avg with ``--ceil-mode``), a 5x3
median, and a 4x4 mode of a 12000x9000 uint32 label map.
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


ALL_INPUTS = ("rgb.tif", "rgb.npy", "rgb.zarr", "deflate.tif")


def make_inputs(folder: str, side: int, only: tuple[str, ...] = ALL_INPUTS) -> dict[str, str]:
    """The inputs (``only`` these): written band by band, so that making them needs
    little memory too."""
    rng = np.random.default_rng(0)
    band = 1024
    paths = {name: os.path.join(folder, name) for name in only}

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
    if only == ("rgb.tif",):
        return paths
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


def exact(folder: str) -> None:
    """Streamed results equal ``poolcli.pool`` on the whole array, byte for byte."""
    import poolcli as library

    rng = np.random.default_rng(1)
    scan = rng.integers(0, 65535, (7001, 10007), np.uint16)
    tifffile.imwrite(os.path.join(folder, "scan.tif"), scan, compression="lzw", rowsperstrip=16)
    labels = rng.integers(0, 6, (9000 // 8, 12000 // 8), np.uint32).repeat(8, 0).repeat(8, 1)
    labels[rng.random(labels.shape) < 0.05] = 7
    np.save(os.path.join(folder, "labels.npy"), labels)
    cases = [
        ("scan.tif", ["-m", "max", "-k", "3", "-s", "2", "-p", "1"],
         lambda: library.pool(scan, 3, stride=2, padding=1, mode="max")),
        ("scan.tif", ["-m", "avg", "-k", "3", "-s", "2", "-p", "1", "--ceil-mode"],
         lambda: library.pool(scan, 3, stride=2, padding=1, mode="avg", ceil_mode=True)),
        ("scan.tif", ["-m", "median", "-k", "5x3"],
         lambda: library.pool(scan, (3, 5), mode="median")),
        ("labels.npy", ["-m", "mode", "-k", "4"], lambda: library.pool(labels, 4, mode="mode")),
    ]  # fmt: skip
    print(f"{'input':12} {'options':40} {'streamed':>9} {'equal':>6}")
    for name, options, whole in cases:
        target = os.path.join(folder, "out.npy")
        command = [sys.executable, "-m", "poolcli", "pool", os.path.join(folder, name), "-o",
                   target, "--overwrite", "--memory", "8M", "--json", *options]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        streamed = '"streamed": true' in done.stdout
        same = np.array_equal(np.load(target), whole())
        print(f"{name:12} {' '.join(options):40} {streamed!s:>9} {same!s:>6}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--side", type=int, default=32768)
    parser.add_argument("--exact", action="store_true", help="check odd sizes byte for byte")
    args = parser.parse_args()
    if args.exact:
        with tempfile.TemporaryDirectory(dir=os.environ.get("TMPDIR")) as folder:
            exact(folder)
        return
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
            ("deflate TIFF, whole", paths["deflate.tif"], "out6.tif", False),
        ]
        print(f"{args.side}x{args.side}x3 uint8, 2x2 mean")
        print(f"{'case':24} {'poolcli s':>10} {'MB':>7} {'vips s':>8} {'MB':>7}")
        for name, source, target, vips in cases:
            layout = ["--layout", "hwc"] if source.endswith((".npy", ".zarr")) else []
            if "whole" in name:  # the in-memory path, as before streaming
                layout = ["--memory", "64G", "--max-pixels", "none"]
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
