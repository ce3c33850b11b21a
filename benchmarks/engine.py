"""Time poolcli's engine against other libraries on nine pooling cases.

Usage::

    python benchmarks/engine.py [--repeat N] [--cases a,b,...] [--threads N]

For every case the script first checks poolcli against the loop reference
(``tests/reference.py``) on a small crop, then runs every installed peer once,
compares its result with poolcli's (``exact``, ``close`` for floats within 1e-5
relative, or ``not exact`` with how far off), and then times all implementations
``--repeat`` times, interleaved (one call of each in turn, the order rotating every
round), so that machine noise hits them alike. It prints the median time of each
(ms) and the ratio poolcli / peer (below 1: poolcli is faster).

Peers that are not installed are skipped with a note; see benchmarks/README.md for
how to install them. Timings always include converting from and to a NumPy array
in poolcli's layout (HWC or CHW), since that is what a caller of poolcli holds.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from reference import reference_pool  # noqa: E402

import poolcli  # noqa: E402
from poolcli.pooling import available_cores  # noqa: E402

Impl = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Case:
    """One benchmark: an input and the ``poolcli.pool`` options to apply to it."""

    letter: str
    title: str
    make: Callable[[np.random.Generator], np.ndarray]
    options: dict = field(default_factory=dict)

    @property
    def kernel(self) -> int:
        return self.options["kernel"]

    @property
    def stride(self) -> int:
        return self.options.get("stride", self.kernel)

    @property
    def padding(self) -> int:
        return self.options.get("padding", 0)

    @property
    def mode(self) -> str:
        return self.options["mode"]

    @property
    def chw(self) -> bool:
        return self.options.get("axes", (0, 1)) == (1, 2)


def _u8(rng):
    return rng.integers(0, 256, (4096, 4096, 3), dtype=np.uint8)


def _f32(rng):
    return rng.standard_normal((4096, 4096, 3), dtype=np.float32)


CASES = {
    case.letter: case
    for case in (
        Case("a", "uint8 HWC max 2x2", _u8, {"kernel": 2, "mode": "max"}),
        Case("b", "uint8 HWC avg 2x2", _u8, {"kernel": 2, "mode": "avg"}),
        Case("c", "float32 HWC max 2x2", _f32, {"kernel": 2, "mode": "max"}),
        Case("d", "float32 HWC avg 2x2", _f32, {"kernel": 2, "mode": "avg"}),
        Case(
            "e",
            "uint8 HWC max 3x3 s2 p1",
            _u8,
            {"kernel": 3, "stride": 2, "padding": 1, "mode": "max"},
        ),
        Case(
            "f",
            "float32 HWC avg 3x3 s1 p1",
            _f32,
            {"kernel": 3, "stride": 1, "padding": 1, "mode": "avg"},
        ),
        Case("g", "uint8 HWC max 8x8", _u8, {"kernel": 8, "mode": "max"}),
        Case(
            "h",
            "float32 CHW 64x256x256 max 2x2",
            lambda rng: rng.standard_normal((64, 256, 256), dtype=np.float32),
            {"kernel": 2, "mode": "max", "axes": (1, 2)},
        ),
        Case(
            "i",
            "uint16 HW avg 2x2",
            lambda rng: rng.integers(0, 65536, (4096, 4096), dtype=np.uint16),
            {"kernel": 2, "mode": "avg"},
        ),
    )
}


def _round_half_up(values: np.ndarray, dtype) -> np.ndarray:
    """Float means of integers -> poolcli's rounding (half up), for peers that give floats."""
    return np.floor(values + 0.5).astype(dtype)


# --- peers: each returns {case letter: implementation} for the cases it can do ----------


def torch_peer(threads: int) -> dict[str, Impl]:
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(threads)

    def to_nchw(x, case):
        t = torch.from_numpy(x)
        # HWC -> a channels-last NCHW view (no copy), the layout torch pools HWC in
        return t[None] if case.chw else t.permute(2, 0, 1)[None]

    def to_numpy(y, case):
        y = y[0] if case.chw else y[0].permute(1, 2, 0)
        return y.contiguous().numpy()

    def make(case: Case) -> Impl:
        k, s, p = case.kernel, case.stride, case.padding

        def run(x):
            if x.ndim == 2:  # case i: HW
                t = torch.from_numpy(x.astype(np.float32))[None, None]
                y = F.avg_pool2d(t, k, s, p)
                return _round_half_up(y[0, 0].numpy(), x.dtype)
            t = to_nchw(x, case)
            if case.mode == "max":
                return to_numpy(F.max_pool2d(t, k, s, p), case)
            if x.dtype == np.uint8:  # torch has no integer avg_pool2d
                y = F.avg_pool2d(t.float(), k, s, p)
                return _round_half_up(to_numpy(y, case), np.uint8)
            return to_numpy(F.avg_pool2d(t, k, s, p), case)

        return run

    return {letter: make(case) for letter, case in CASES.items()}


def skimage_peer() -> dict[str, Impl]:
    from skimage.measure import block_reduce

    def make(case: Case) -> Impl:
        k = case.kernel
        block = {2: (k, k), 3: (k, k, 1)}

        def run(x):
            size = (1, k, k) if case.chw else block[x.ndim]
            if case.mode == "max":
                return block_reduce(x, size, np.max)
            means = block_reduce(x, size, np.mean)
            return means.astype(x.dtype) if x.dtype.kind == "f" else _round_half_up(means, x.dtype)

        return run

    # no stride or padding in block_reduce: cases e (3x3 s2 p1) and f (3x3 s1 p1) are out
    return {c.letter: make(c) for c in CASES.values() if c.stride == c.kernel and not c.padding}


def pillow_peer() -> dict[str, Impl]:
    from PIL import Image

    def b(x):
        return np.asarray(Image.fromarray(x).reduce(2))

    def d(x):
        # Pillow has no 3-channel float mode: one 'F' image per channel
        planes = [
            np.asarray(Image.fromarray(np.ascontiguousarray(x[..., c])).reduce(2)) for c in range(3)
        ]
        return np.stack(planes, axis=-1)

    def i(x):
        # 'I;16' images cannot reduce(); 32-bit 'I' can
        image = Image.fromarray(x.astype(np.int32))
        return np.asarray(image.reduce(2)).astype(np.uint16)

    return {"b": b, "d": d, "i": i}


def pyvips_peer() -> dict[str, Impl]:
    import pyvips

    formats = {
        np.dtype(np.uint8): "uchar",
        np.dtype(np.uint16): "ushort",
        np.dtype(np.float32): "float",
    }

    def to_vips(x, tall=False):
        if tall:  # CHW as one tall 1-band image: windows at even rows never span two maps
            x = x.reshape(-1, x.shape[-1])
        bands = x.shape[2] if x.ndim == 3 else 1
        return pyvips.Image.new_from_memory(x.data, x.shape[1], x.shape[0], bands, formats[x.dtype])

    def to_numpy(image, dtype, shape):
        return np.frombuffer(image.write_to_memory(), dtype).reshape(shape)

    def make(case: Case) -> Impl:
        k, s = case.kernel, case.stride

        def run(x):
            image = to_vips(x, tall=case.chw)
            if case.mode == "avg" and k == s:
                result = image.shrink(k, k)  # box mean, integers rounded half up
            elif case.mode == "avg":  # f: zero padding, then a 3x3 box mean
                mask = pyvips.Image.new_from_list([[1.0] * k] * k, scale=k * k)
                padded = image.embed(1, 1, image.width + 2, image.height + 2, extend="black")
                result = padded.conv(mask, precision="float").crop(1, 1, image.width, image.height)
            else:
                # rank filter (max of the k x k neighbourhood) then subsample; the
                # window at (i, j) starts at (i - k//2, j - k//2), so for even k read
                # it k//2 further on (the right/bottom margin repeats edge pixels)
                w, h, m = image.width, image.height, k // 2 if k % 2 == 0 else 0
                if m:
                    image = image.embed(0, 0, w + m, h + m, extend="copy")
                ranked = image.rank(k, k, k * k - 1)
                result = (ranked.crop(m, m, w, h) if m else ranked).subsample(s, s)
            shape = poolcli.output_shape(
                x.shape, k, stride=s, padding=case.padding, axes=case.options.get("axes", (0, 1))
            )
            return to_numpy(result, x.dtype, shape)

        return run

    return {letter: make(case) for letter, case in CASES.items()}


def opencv_peer() -> dict[str, Impl]:
    import cv2

    def make(case: Case) -> Impl:
        k, s = case.kernel, case.stride

        def run(x):
            if case.mode == "avg" and k == s:
                h, w = x.shape[:2]
                return cv2.resize(x, (w // k, h // k), interpolation=cv2.INTER_AREA)
            if case.mode == "avg":  # f: zero padding counts (count_include_pad)
                return cv2.boxFilter(x, -1, (k, k), normalize=True, borderType=cv2.BORDER_CONSTANT)
            tall = x.reshape(-1, x.shape[-1]) if case.chw else x
            # dilate = max over the kernel; anchor (0, 0) for stride == kernel windows,
            # centred for the padded case e; then keep every s-th row and column
            anchor = (0, 0) if case.padding == 0 else (-1, -1)
            dilated = cv2.dilate(tall, np.ones((k, k), np.uint8), anchor=anchor)
            shape = poolcli.output_shape(
                x.shape, k, stride=s, padding=case.padding, axes=case.options.get("axes", (0, 1))
            )
            return np.ascontiguousarray(dilated[::s, ::s]).reshape(shape)

        return run

    return {letter: make(case) for letter, case in CASES.items()}


def numpy_peer() -> dict[str, Impl]:
    def make(case: Case) -> Impl:
        k = case.kernel

        def run(x):
            if case.chw:
                c, h, w = x.shape
                blocks, axes = x.reshape(c, h // k, k, w // k, k), (2, 4)
            else:
                h, w = x.shape[:2]
                blocks, axes = x.reshape(h // k, k, w // k, k, *x.shape[2:]), (1, 3)
            if case.mode == "max":
                return blocks.max(axis=axes)
            means = blocks.mean(axis=axes)
            return means.astype(x.dtype) if x.dtype.kind == "f" else _round_half_up(means, x.dtype)

        return run

    return {c.letter: make(c) for c in CASES.values() if c.stride == c.kernel and not c.padding}


# --- checks ------------------------------------------------------------------------


def check_against_reference(case: Case, x: np.ndarray) -> None:
    """poolcli on a small crop must equal the loop reference (floats: within 1e-6)."""
    crop = x[:4, :37, :41] if case.chw else x[:37, :41]
    expected = reference_pool(crop, **case.options)
    actual = poolcli.pool(crop, **case.options)
    if x.dtype.kind == "f":
        np.testing.assert_allclose(actual, expected, rtol=1e-6, atol=1e-6)
    else:
        np.testing.assert_array_equal(actual, expected)


def compare(peer: np.ndarray, ours: np.ndarray) -> str:
    """How a peer's result relates to poolcli's: exact, close (floats) or not exact."""
    if peer.shape != ours.shape:
        return f"shape {peer.shape} != {ours.shape}"
    if np.array_equal(peer, ours, equal_nan=True):
        return "exact" if peer.dtype == ours.dtype else f"exact as {peer.dtype}"
    diff = np.abs(peer.astype(np.float64) - ours.astype(np.float64))
    if ours.dtype.kind == "f":
        # float32 peers round their sums differently (poolcli sums in float64)
        scale = max(1.0, float(np.max(np.abs(ours))))
        if np.allclose(peer, ours, rtol=1e-5, atol=1e-6 * scale):
            return f"close (max diff {float(diff.max()):.1e})"
    share = np.count_nonzero(diff) / diff.size
    return f"not exact ({share:.1%} differ, max {float(diff.max()):.3g})"


# --- timing ------------------------------------------------------------------------


def time_interleaved(impls: dict[str, Impl], x: np.ndarray, repeat: int) -> dict[str, float]:
    """Median ms of each implementation, calls interleaved, order rotating per round."""
    names = list(impls)
    times: dict[str, list[float]] = {name: [] for name in names}
    for r in range(repeat):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            start = time.perf_counter()
            impls[name](x)
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) * 1e3 for name, values in times.items()}


def load_peers(threads: int) -> tuple[dict[str, dict[str, Impl]], list[str]]:
    loaders = {
        "torch": lambda: torch_peer(threads),
        "skimage": skimage_peer,
        "pillow": pillow_peer,
        "pyvips": pyvips_peer,
        "opencv": opencv_peer,
        "numpy": numpy_peer,
    }
    peers, notes = {}, []
    for name, loader in loaders.items():
        try:
            peers[name] = loader()
        except (ImportError, OSError) as error:  # pyvips raises OSError without libvips
            notes.append(f"{name}: skipped ({type(error).__name__}: {error})")
    return peers, notes


def versions() -> str:
    found = [f"python {platform.python_version()}", f"numpy {np.__version__}"]
    for module in ("torch", "skimage", "PIL", "pyvips", "cv2"):
        try:
            found.append(f"{module} {__import__(module).__version__}")
        except (ImportError, OSError, AttributeError):
            pass
    try:
        import pyvips

        found.append("libvips " + ".".join(str(pyvips.version(i)) for i in range(3)))
    except (ImportError, OSError):
        pass
    return ", ".join(found)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--repeat", type=int, default=5, help="timed runs per implementation (default 5)"
    )
    parser.add_argument(
        "--cases", default=",".join(CASES), help="comma-separated case letters (default: all)"
    )
    parser.add_argument(
        "--threads", type=int, default=None,
        help="threads for poolcli and torch (default: all cores); OpenCV, libvips: their own",
    )  # fmt: skip
    args = parser.parse_args(argv)
    letters = [c.strip() for c in args.cases.split(",") if c.strip()]
    unknown = [c for c in letters if c not in CASES]
    if unknown:
        parser.error(f"unknown case(s) {unknown}; choose from {','.join(CASES)}")
    cores = available_cores()
    peers, notes = load_peers(args.threads or cores)
    threads = args.threads or "default"
    print(f"# {versions()}; {cores} cores; poolcli threads={threads}; repeat={args.repeat}")
    for note in notes:
        print(f"# {note}")
    rng = np.random.default_rng(2026)
    rows = []
    for letter in letters:
        case = CASES[letter]
        x = case.make(rng)
        check_against_reference(case, x)
        impls: dict[str, Impl] = {
            "poolcli": lambda a, o=case.options: poolcli.pool(a, **o, threads=args.threads)
        }
        impls.update({name: peer[letter] for name, peer in peers.items() if letter in peer})
        ours = impls["poolcli"](x)
        checks = {name: compare(impl(x), ours) for name, impl in impls.items() if name != "poolcli"}
        medians = time_interleaved(impls, x, args.repeat)
        rows.append((case, medians, checks))
        print(f"\n({letter}) {case.title}: poolcli matches the loop reference on a crop")
        for name, ms in medians.items():
            ratio = (
                "" if name == "poolcli" else f"  poolcli/{name} = {medians['poolcli'] / ms:6.3f}"
            )
            check = checks.get(name, "")
            print(f"  {name:8s} {ms:9.2f} ms{ratio}  {check}", flush=True)
    print_summary(rows, list(peers))
    return 0


def print_summary(rows, peers: list[str]) -> None:
    names = ["poolcli", *peers]
    print("\nmedians (ms); in brackets poolcli/peer (below 1: poolcli faster); * = peer not exact")
    print("case " + "".join(f"{name:>18s}" for name in names))
    for case, medians, checks in rows:
        cells = []
        for name in names:
            if name not in medians:
                cells.append(f"{'-':>18s}")
                continue
            ms = medians[name]
            if name == "poolcli":
                cells.append(f"{ms:18.1f}")
                continue
            star = "*" if checks[name].startswith("not") else " "
            cells.append(f"{ms:8.1f}{star}[{medians['poolcli'] / ms:6.3f}] ")
        print(f"{case.letter:4s} " + "".join(cells))
    print(
        "exact: equal to poolcli's result; "
        "close: floats within 1e-5 relative (1e-6 of the largest value absolute)"
    )


if __name__ == "__main__":
    sys.exit(main())
