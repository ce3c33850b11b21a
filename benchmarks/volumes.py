"""Time poolcli's 3-D pooling against PyTorch (mean, max) and tinybrain (label mode).

Usage::

    python benchmarks/volumes.py [--repeat N] [--threads N]

Cases, each 2x2x2 windows at stride 2:

- ``avg``: a 256^3 float32 volume, ``pool(mode="avg")`` vs ``torch.nn.functional.avg_pool3d``;
- ``max``: the same volume, ``pool(mode="max")`` vs ``max_pool3d``;
- ``mode``: 512^3 uint32 label volumes, ``pool(mode="mode")`` vs
  ``tinybrain.downsample_segmentation(labels, (2, 2, 2))``, on three volumes: blocks
  of 16^3 voxels aligned with the windows (every window one label), the same blocks
  shifted by one voxel (a third of the windows straddle two to eight labels), and uniform
  random labels 0-3 (almost every window mixed: the worst case).

Before timing, every case checks poolcli: against the peer (``exact`` or ``close``,
within 1e-6 relative), and for ``mode`` that each result occurs in its window and that
a 12^3 crop equals the loop reference (``tests/reference_nd.py``), and says how
often tinybrain agrees (it breaks ties its own way). Timings are
interleaved (one call of each in turn, the order rotating every round) so that noise
on a shared machine hits both alike; the table shows the median of each (ms) and the
ratio poolcli / peer (below 1: poolcli is faster). Both run on ``--threads`` threads
(default 2: ``torch.set_num_threads``); tinybrain runs on one (it has no threads).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from reference_nd import reference_pool_nd  # noqa: E402

import poolcli  # noqa: E402

AXES = (0, 1, 2)


def label_volumes(rng: np.random.Generator) -> dict[str, np.ndarray]:
    seeds = rng.integers(0, 1000, (32, 32, 32), dtype=np.uint32)
    blocks = np.repeat(np.repeat(np.repeat(seeds, 16, 0), 16, 1), 16, 2)
    return {
        "aligned blocks": blocks,
        "shifted blocks": np.roll(blocks, 1, axis=(0, 1, 2)),
        "random 0-3": rng.integers(0, 4, (512, 512, 512), dtype=np.uint32),
    }


def occurs_in_window(labels: np.ndarray, result: np.ndarray) -> bool:
    """True when every output value is one of its 2x2x2 window's labels."""
    found = np.zeros(result.shape, bool)
    for a in (0, 1):
        for b in (0, 1):
            for c in (0, 1):
                found |= labels[a::2, b::2, c::2] == result
    return bool(found.all())


def timed(impls: dict[str, Callable[[], object]], repeat: int) -> dict[str, float]:
    times: dict[str, list[float]] = {name: [] for name in impls}
    names = list(impls)
    for round_ in range(repeat):
        for name in names[round_ % len(names) :] + names[: round_ % len(names)]:
            start = time.perf_counter()
            impls[name]()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) * 1000 for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    rows = []

    import torch

    torch.set_num_threads(args.threads)
    volume = rng.random((256, 256, 256), dtype=np.float32)
    tensor = torch.from_numpy(volume)[None, None]
    functional = torch.nn.functional
    for mode, peer in (("avg", functional.avg_pool3d), ("max", functional.max_pool3d)):

        def ours(mode: str = mode) -> np.ndarray:
            return poolcli.pool(volume, 2, axes=AXES, mode=mode, threads=args.threads)

        def theirs(peer: Callable = peer) -> np.ndarray:
            return peer(tensor, 2)[0, 0].numpy()

        a, b = ours(), theirs()
        check = "exact" if np.array_equal(a, b) else "close"
        if check == "close" and not np.allclose(a, b, rtol=1e-6, atol=0):
            check = "NOT CLOSE"
        ms = timed({"poolcli": ours, "peer": theirs}, args.repeat)
        rows.append((f"{mode} 256^3 float32", "torch", check, ms["poolcli"], ms["peer"]))

    import tinybrain

    for name, labels in label_volumes(rng).items():
        # tinybrain reads arrays in Fortran order (x fastest): its own layout, made
        # before timing, so that it pools the same windows without a copy
        fortran = np.asfortranarray(labels)

        def ours_mode(labels: np.ndarray = labels) -> np.ndarray:
            return poolcli.pool(labels, 2, axes=AXES, mode="mode", threads=args.threads)

        def tiny(fortran: np.ndarray = fortran) -> np.ndarray:
            return tinybrain.downsample_segmentation(fortran, (2, 2, 2))[0]

        result = ours_mode()
        crop = labels[100:112, 200:212, 300:312]
        checks = [
            "occurs" if occurs_in_window(labels, result) else "NOT IN WINDOW",
            "= reference"
            if np.array_equal(
                result[50:56, 100:106, 150:156], reference_pool_nd(crop, 2, mode="mode")
            )
            else "NOT REFERENCE",
            f"{np.mean(result == tiny()):.1%} = tinybrain",  # ties differ
        ]
        ms = timed({"poolcli": ours_mode, "peer": tiny}, args.repeat)
        del fortran
        rows.append((f"mode 512^3 uint32, {name}", "tinybrain", ", ".join(checks),
                     ms["poolcli"], ms["peer"]))  # fmt: skip

    print(f"3-D pooling, 2x2x2 windows; {args.threads} threads; median of {args.repeat} rounds\n")
    print("| case | peer | check | poolcli ms | peer ms | poolcli / peer |")
    print("|---|---|---|---:|---:|---:|")
    for case, peer, check, ours_ms, peer_ms in rows:
        ratio = ours_ms / peer_ms
        print(f"| {case} | {peer} | {check} | {ours_ms:.1f} | {peer_ms:.1f} | {ratio:.2f} |")


if __name__ == "__main__":
    main()
