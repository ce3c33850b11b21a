"""How fast can nodata be in NumPy? The leanest NumPy sum of 2x2 windows with nodata
left out, against poolcli's plain and nodata paths and (if numba is installed) a
compiled loop: the evidence behind the rasters issue's open speed target.

The raster is benchmarks/nodata.py's int16 DEM (4000x4000, a fifth of it nodata
-9999 in blobs). "leanest NumPy" is the fewest passes a band can take in NumPy:
the mask (one compare), the nodata count of each window (one byte add of the
mask's rows seen as 16-bit pairs, one table lookup giving each window's
correction), the plain window sums (pair sums, then rows), one subtraction and
one check that no valid sum landed on nodata. It is checked against poolcli's
result before timing. numba is not a dependency of poolcli; install it by hand
to see the compiled column (``pip install numba``).

    python benchmarks/nodata_floor.py --repeat 9
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from nodata import rasters

from poolcli import pool

#: Input rows per band (an even number), about poolcli's band size for this raster.
ROWS = 80


def leanest_numpy(x: np.ndarray, nodata: int) -> np.ndarray:
    """2x2 sums of the valid pixels of int16 ``x`` (nodata for windows of nodata only)."""
    correction = np.zeros(0x0203, np.int32)  # by each window's two column counts (bytes)
    for left in range(3):
        for right in range(3):
            count = left + right
            correction[left + 256 * right] = count * nodata if count < 4 else 3 * nodata
    out = np.empty((x.shape[0] // 2, x.shape[1] // 2), np.int64)
    mask = np.empty((ROWS, x.shape[1]), bool)
    for start in range(0, x.shape[0] - ROWS + 1, ROWS):
        band = x[start : start + ROWS]
        np.equal(band, nodata, out=mask)
        words = mask.view(np.uint16)
        counts = words[0::2] + words[1::2]
        pairs = band.view(np.int32)
        sums = pairs >> 16
        low = pairs << 16
        low >>= 16
        sums += low
        totals = sums[0::2] + sums[1::2]
        totals -= np.take(correction, counts)
        landed = totals == nodata
        if landed.any():
            landed &= counts != 0x0202
            totals[landed] = nodata + 1
        out[start // 2 : (start + ROWS) // 2] = totals
    return out


def compiled() -> object | None:
    """The same windows in a numba loop, or None without numba."""
    try:
        import numba
    except ImportError:
        return None

    @numba.njit(cache=False)
    def sums(x, nodata):  # pragma: no cover - compiled
        out = np.empty((x.shape[0] // 2, x.shape[1] // 2), np.int64)
        for i in range(out.shape[0]):
            for j in range(out.shape[1]):
                total, count = 0, 0
                for v in (x[2 * i, 2 * j], x[2 * i, 2 * j + 1], x[2 * i + 1, 2 * j],
                          x[2 * i + 1, 2 * j + 1]):  # fmt: skip
                    if v != nodata:
                        total += v
                        count += 1
                out[i, j] = nodata if count == 0 else (nodata + 1 if total == nodata else total)
        return out

    return sums


def best(function, repeat: int) -> float:
    function()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return min(times) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    dem, nodata = rasters(4000)["i16"]
    expected = pool(dem, 2, mode="sum", nodata=nodata, threads=1)
    assert np.array_equal(leanest_numpy(dem, nodata), expected)
    cases = {
        "poolcli plain sum": lambda: pool(dem, 2, mode="sum", threads=1),
        "poolcli sum, nodata": lambda: pool(dem, 2, mode="sum", nodata=nodata, threads=1),
        "leanest NumPy, nodata": lambda: leanest_numpy(dem, nodata),
    }
    kernel = compiled()
    if kernel is not None:
        assert np.array_equal(kernel(dem, np.int16(nodata)), expected)
        cases["numba loop, nodata"] = lambda: kernel(dem, np.int16(nodata))
    times = {name: best(run, args.repeat) for name, run in cases.items()}
    plain = times["poolcli plain sum"]
    print(f"4000x4000 int16, 2x2 sum, one thread, best of {args.repeat}")
    print("| path | ms | / plain |")
    print("|---|---:|---:|")
    for name, ms in times.items():
        print(f"| {name} | {ms:.1f} | {ms / plain:.2f} |")


if __name__ == "__main__":
    main()
