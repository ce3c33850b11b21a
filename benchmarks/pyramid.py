"""Pyramids: ``poolcli pyramid`` against pyvips and the label tools, side by side.

Makes a tiled RGB BigTIFF (as ``streaming.py`` does) and writes its pyramid as
OME-Zarr, TIFF and Deep Zoom with poolcli, and as TIFF (``vips tiffsave --pyramid``)
and Deep Zoom (``vips dzsave``) with libvips, on the same file; prints time and peak
anonymous memory (RssAnon over the process tree) of each. Both TIFFs are 256x256
tiles, uncompressed like the input; both Deep Zooms JPEG quality 75, 254 + 1.

``--labels`` instead makes a 12000x9000 uint32 label map and times its mode
pyramid (down to one 256 tile: 6 levels) with poolcli against tinybrain's
``downsample_segmentation`` (COUNTLESS, 2x2 mode level from level) and ome-zarr-py's
``write_labels`` (its default: nearest, a subsample), in one process each, and says
how many pixels of each level differ from one-shot mode pooling of level 0 and
whether any label appears that the input does not have.

    python benchmarks/pyramid.py --side 32768    # the issue's 3.2 GB case
    python benchmarks/pyramid.py --side 8192     # a quick run
    python benchmarks/pyramid.py --labels
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from streaming import make_inputs, measured  # noqa: E402 - the benchmarks' folder


def images(side: int) -> None:
    poolcli = [sys.executable, "-m", "poolcli", "pyramid"]
    with tempfile.TemporaryDirectory(dir=os.environ.get("TMPDIR")) as folder:
        source = make_inputs(folder, side, only=("rgb.tif",))["rgb.tif"]
        out = os.path.join(folder, "out")
        os.mkdir(out)
        cases = [
            ("OME-Zarr", [*poolcli, source, "-o", f"{out}/a.ome.zarr"], None),
            ("TIFF", [*poolcli, source, "-o", f"{out}/a.tif"],
             ["vips", "tiffsave", source, f"{out}/v.tif", "--tile", "--pyramid", "--bigtiff",
              "--tile-width", "256", "--tile-height", "256"]),
            ("Deep Zoom", [*poolcli, source, "-o", f"{out}/a.dzi", "-O", "quality=75"],
             ["vips", "dzsave", source, f"{out}/v", "--suffix", ".jpeg[Q=75]"]),
        ]  # fmt: skip
        print(f"{side}x{side}x3 uint8 tiled BigTIFF, pyramid (2x2 means)")
        print(f"{'container':10} {'poolcli s':>10} {'MB':>7} {'vips s':>8} {'MB':>7}")
        for name, ours, theirs in cases:
            t, m = measured(ours)
            row = f"{name:10} {t:10.1f} {m:7.0f}"
            if theirs is not None:
                vt, vm = measured(theirs)
                row += f" {vt:8.1f} {vm:7.0f}"
            print(row, flush=True)


def labels() -> None:
    import subprocess

    import tinybrain
    import zarr

    import poolcli as library

    rng = np.random.default_rng(2)
    values = rng.choice(2**32 - 1, 40, replace=False).astype(np.uint32)
    base = values[rng.integers(0, 40, (9000 // 16, 12000 // 16))]
    label_map = base.repeat(16, 0).repeat(16, 1)
    label_map[rng.random(label_map.shape) < 0.1] = values[0]  # noise: ties and strays
    levels = 6
    truth = [label_map] + [library.pool(label_map, 2**k, mode="mode", ceil_mode=True)
                           for k in range(1, levels)]  # fmt: skip
    known = set(values.tolist())

    def verdict(pyramid: list[np.ndarray]) -> str:
        parts = [] if len(pyramid) >= levels else [f"{len(pyramid)} levels"]
        for k in range(1, min(levels, len(pyramid))):
            got = pyramid[k]
            if got.shape != truth[k].shape:
                parts.append(f"{k}: {got.shape} not {truth[k].shape}")
                continue
            parts.append(f"{k}: {np.mean(got != truth[k]):.1%}")
        new = any(set(np.unique(p).tolist()) - known for p in pyramid)
        return "differ " + ", ".join(parts) + ("; NEW LABELS" if new else "")

    with tempfile.TemporaryDirectory(dir=os.environ.get("TMPDIR")) as folder:
        path = os.path.join(folder, "labels.npy")
        np.save(path, label_map)
        print("12000x9000 uint32 label map, 6-level mode pyramid")
        print(f"{'tool':28} {'s':>7}  result")
        target = os.path.join(folder, "p.ome.zarr")
        command = [sys.executable, "-m", "poolcli", "pyramid", path, "-m", "mode", "-o", target]
        started = time.perf_counter()
        subprocess.run(command, check=True)
        seconds = time.perf_counter() - started
        group = zarr.open_group(target, mode="r")
        print(f"{'poolcli pyramid -m mode':28} {seconds:7.1f}  "
              f"{verdict([group[str(k)][:] for k in range(levels)])}", flush=True)  # fmt: skip
        started = time.perf_counter()
        mips = tinybrain.downsample_segmentation(label_map[..., None], (2, 2, 1),
                                                 num_mips=levels - 1)  # fmt: skip
        seconds = time.perf_counter() - started
        pyramid = [label_map] + [m[..., 0] for m in mips]
        print(f"{'tinybrain (in memory)':28} {seconds:7.1f}  {verdict(pyramid)}", flush=True)
        try:
            from ome_zarr.writer import write_labels

            image = zarr.open_group(os.path.join(folder, "i.ome.zarr"), mode="w")
            started = time.perf_counter()
            write_labels(label_map, image, name="cells", axes="yx",
                         scale_factors=[2**k for k in range(1, levels)])  # fmt: skip
            seconds = time.perf_counter() - started
            written = zarr.open_group(os.path.join(folder, "i.ome.zarr", "labels", "cells"))
            datasets = written.attrs["ome"]["multiscales"][0]["datasets"]
            pyramid = [written[d["path"]][:] for d in datasets]
            print(f"{'ome-zarr-py write_labels':28} {seconds:7.1f}  {verdict(pyramid)}")
        except Exception as error:  # noqa: BLE001 - a peer that does not run is said, not fatal
            print(f"{'ome-zarr-py write_labels':28} {'-':>7}  failed: {error}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--side", type=int, default=32768)
    parser.add_argument("--labels", action="store_true", help="the label-map case")
    args = parser.parse_args()
    labels() if args.labels else images(args.side)


if __name__ == "__main__":
    main()
