"""Nodata: ``pool(..., nodata=...)`` against the plain path on the same array.

Makes rasters with holes in blobs (about 20% of the pixels, in regions tens of
pixels across, as clouds and voids in a DEM are): a float32 field with NaN holes,
an int16 DEM with nodata -9999, a uint8 land-cover map with nodata 0 and a uint8
RGB label map whose holes are black pixels (nodata 0 in all three channels).
Each case pools the array plainly and with ``nodata``, interleaved, best of
``--repeat`` in one process, and prints both times and their ratio (nodata /
plain; the issue asks for at most 1.5).

Before timing, every case checks exactness: the array with its holes filled by a
valid value (so that nothing is nodata) pooled with ``nodata`` equals the plain
result byte for byte.

    python benchmarks/nodata.py                      # every case, best of 7
    python benchmarks/nodata.py --cases f32-avg,i16-max --repeat 15 --threads 1
"""

from __future__ import annotations

import argparse
import functools
import time

import numpy as np

from poolcli import pool


def holes(shape: tuple[int, int], share: float, seed: int) -> np.ndarray:
    """A boolean mask of blobs covering about ``share`` of ``shape``: a sum of random
    plane waves thresholded at a quantile."""
    rng = np.random.default_rng(seed)
    rows = np.arange(shape[0], dtype=np.float32)[:, None]
    cols = np.arange(shape[1], dtype=np.float32)[None, :]
    field = np.zeros(shape, np.float32)
    for _ in range(6):
        fy, fx = rng.uniform(0.005, 0.05, 2) * rng.choice([-1, 1], 2)
        phase = rng.uniform(0, 2 * np.pi, 2)
        field += np.sin(rows * fy + phase[0]) * np.sin(cols * fx + phase[1])
    sample = field[:: max(1, shape[0] // 256), :: max(1, shape[1] // 256)]
    return field > np.quantile(sample, 1 - share)


def rasters(side: int) -> dict[str, tuple[np.ndarray, object]]:
    """The test rasters and their nodata values."""
    rng = np.random.default_rng(1)
    shape = (side, side)
    gaps = holes(shape, 0.2, 2)
    field = rng.standard_normal(shape, dtype=np.float32) * 10 + 100
    field[gaps] = np.nan
    dem = (
        1000 + 500 * np.sin(np.arange(side)[:, None] / 300.0) * np.cos(np.arange(side) / 200.0)
    ).astype(np.int16) + rng.integers(-20, 20, shape, dtype=np.int16)
    dem[gaps] = -9999
    classes = rng.integers(1, 12, (side // 16 + 1, side // 16 + 1), dtype=np.uint8)
    cover = np.kron(classes, np.ones((16, 16), np.uint8))[:side, :side]
    cover = np.where(rng.random(shape) < 0.2, rng.integers(1, 12, shape, dtype=np.uint8), cover)
    cover[holes(shape, 0.2, 3)] = 0
    palette = rng.integers(1, 256, (12, 3), dtype=np.uint8)
    labels = palette[cover]
    labels[cover == 0] = 0  # black where the cover has no data
    return {
        "f32": (field, float("nan")),
        "i16": (dem, -9999),
        "u8": (cover, 0),
        "rgb": (labels, 0),
    }


#: case -> (raster, pool options)
CASES = {
    "f32-avg": ("f32", {"kernel": 2, "mode": "avg"}),
    "f32-max": ("f32", {"kernel": 2, "mode": "max"}),
    "f32-min": ("f32", {"kernel": 2, "mode": "min"}),
    "f32-sum": ("f32", {"kernel": 2, "mode": "sum"}),
    "f32-median": ("f32", {"kernel": 2, "mode": "median"}),
    "f32-mode": ("f32", {"kernel": 2, "mode": "mode"}),
    "f32-avg-k3s2p1": ("f32", {"kernel": 3, "stride": 2, "padding": 1, "mode": "avg"}),
    "f32-max-k3s2p1": ("f32", {"kernel": 3, "stride": 2, "padding": 1, "mode": "max"}),
    "i16-avg": ("i16", {"kernel": 2, "mode": "avg"}),
    "i16-max": ("i16", {"kernel": 2, "mode": "max"}),
    "i16-min": ("i16", {"kernel": 2, "mode": "min"}),
    "i16-sum": ("i16", {"kernel": 2, "mode": "sum"}),
    "i16-median": ("i16", {"kernel": 2, "mode": "median"}),
    "i16-mode": ("i16", {"kernel": 2, "mode": "mode"}),
    "i16-avg-k3s2p1": ("i16", {"kernel": 3, "stride": 2, "padding": 1, "mode": "avg"}),
    "i16-max-k3s2p1": ("i16", {"kernel": 3, "stride": 2, "padding": 1, "mode": "max"}),
    "i16-sum-k4": ("i16", {"kernel": 4, "mode": "sum"}),
    "u8-mode-k4": ("u8", {"kernel": 4, "mode": "mode"}),
    "rgb-mode": ("rgb", {"kernel": 2, "mode": "mode", "channel_axis": 2}),
}


def filled(x: np.ndarray, nodata: object) -> np.ndarray:
    """``x`` with every nodata pixel (whole pixel, for RGB) replaced by a valid value."""
    if isinstance(nodata, float) and np.isnan(nodata):
        return np.where(np.isnan(x), np.float32(7.5), x)
    missing = x == nodata
    if x.ndim == 3:
        missing = missing.all(axis=2, keepdims=True)
    return np.where(missing, np.array(nodata + 5, x.dtype), x)


def best(call, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", default=",".join(CASES), help="comma-separated case names")
    parser.add_argument("--side", type=int, default=4000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    data = rasters(args.side)
    print(f"{args.side}x{args.side}, threads={args.threads or 'all cores'}, best of {args.repeat}")
    print("| case | holes | plain ms | nodata ms | ratio | exact |")
    print("|---|---:|---:|---:|---:|---|")
    for name in args.cases.split(","):
        raster, options = CASES[name]
        x, nodata = data[raster]
        options = dict(options, threads=args.threads)
        whole = filled(x, nodata)
        exact = np.array_equal(
            pool(whole, **options, nodata=nodata), pool(whole, **options), equal_nan=True
        )
        missing = np.isnan(x) if x.dtype.kind == "f" else x == nodata
        plain_times, nodata_times = [], []
        plain_call = functools.partial(pool, x, **options)
        nodata_call = functools.partial(pool, x, **options, nodata=nodata)
        for _ in range(args.repeat):  # interleaved: noise hits both alike
            plain_times.append(best(plain_call, 1))
            nodata_times.append(best(nodata_call, 1))
        plain, with_nodata = min(plain_times), min(nodata_times)
        print(
            f"| {name} | {missing.mean():.0%} | {plain * 1e3:.1f} | {with_nodata * 1e3:.1f} "
            f"| {with_nodata / plain:.2f} | {'yes' if exact else 'NO'} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
