"""Time the whole ``poolcli`` command against vips, ImageMagick and plain Pillow.

Usage::

    python benchmarks/cli.py [--repeat N] [--cases whole,png,memory,batch,startup]

Cases (each run side by side in this process, implementations interleaved, medians
of ``--repeat`` runs of every command as a fresh process):

- ``whole``: a 4096x4096 JPEG to JPEG quality 90, 2x2 mean: ``poolcli pool`` against
  ``vips shrink`` and a minimal Pillow open/reduce(2)/save script.
- ``png``: the same to PNG, with the output sizes (vips writes unfiltered PNGs).
- ``memory``: peak resident memory pooling a 6000x4000 JPEG by 2, against the
  minimal Pillow script (``os.wait4`` reports each child's own peak).
- ``batch``: 200 JPEGs of 1024x768, 2x2 mean, JPEG out: ``poolcli pool -j 2``
  against a ``multiprocessing.Pool(2)`` Pillow script and ``mogrify -scale 50%``.
- ``startup``: ``poolcli --version`` and ``--help`` against ``python -c "import click"``.

Inputs are made once in a temporary folder from the sample photographs (tiled, so
they carry real photographic detail), and poolcli's PNG output is checked to equal
Pillow's ``reduce(2)`` byte for byte before anything is timed. Missing tools are
skipped with a note (see benchmarks/README.md for how to install them).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_images"
PYTHON = sys.executable
POOLCLI = [PYTHON, "-m", "poolcli"]

PILLOW_ONE = """
import sys
from PIL import Image
with Image.open(sys.argv[1]) as image:
    image.reduce(2).save(sys.argv[2], quality=90)
"""

PILLOW_MANY = """
import sys
from multiprocessing import Pool
from pathlib import Path
from PIL import Image

def shrink(names):
    source, target = names
    with Image.open(source) as image:
        image.reduce(2).save(target, quality=90)

if __name__ == "__main__":
    source, target = Path(sys.argv[1]), Path(sys.argv[2])
    jobs = [(p, target / p.name) for p in sorted(source.glob("*.jpg"))]
    with Pool(2) as pool:
        pool.map(shrink, jobs, chunksize=4)
"""


def mosaic(width: int, height: int, seed: int) -> Image.Image:
    """A photo-like image: sample photos tiled at their own scale, randomly flipped."""
    rng = np.random.default_rng(seed)
    photos = []
    for name in ("astronaut.png", "chelsea.png", "coffee.png", "camera.png"):
        with Image.open(SAMPLES / name) as image:
            photos.append(np.asarray(image.convert("RGB")))
    canvas = np.zeros((height, width, 3), np.uint8)
    y = 0
    while y < height:
        x, row_height = 0, 0
        while x < width:
            tile = photos[rng.integers(len(photos))]
            if rng.integers(2):
                tile = tile[:, ::-1]
            h, w = min(tile.shape[0], height - y), min(tile.shape[1], width - x)
            canvas[y : y + h, x : x + w] = tile[:h, :w]
            x += w
            row_height = max(row_height, h)
        y += row_height
    return Image.fromarray(canvas)


TIME = shutil.which("time") or "/usr/bin/time"


def run(command: list[str]) -> tuple[float, int]:
    """Run ``command`` once: (seconds, peak resident KB of that process).

    The peak comes from GNU time, which starts the command from its own small
    process: a child of this (large) script would inherit its peak at fork.
    """
    measured = [TIME, "-f", "%M", *command] if os.path.exists(TIME) else command
    start = time.perf_counter()
    done = subprocess.run(measured, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    seconds = time.perf_counter() - start
    lines = done.stderr.decode(errors="replace").strip().splitlines()
    if done.returncode != 0:
        message = f"{' '.join(command)} failed ({done.returncode}): {' / '.join(lines[-3:])}"
        raise RuntimeError(message)
    peak = int(lines[-1]) if measured is not command and lines and lines[-1].isdigit() else 0
    return seconds, peak


def compare(
    commands: dict[str, list[str]], repeat: int, before=None
) -> dict[str, tuple[float, int]]:
    """Median seconds and peak KB of each command, interleaved round by round."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    peaks: dict[str, list[int]] = {name: [] for name in commands}
    names = list(commands)
    for round_ in range(repeat):
        for name in names[round_ % len(names) :] + names[: round_ % len(names)]:
            if before:
                before()
            seconds, peak = run(commands[name])
            times[name].append(seconds)
            peaks[name].append(peak)
    return {name: (statistics.median(times[name]), max(peaks[name])) for name in commands}


def table(title: str, results: dict[str, tuple[float, int]], *, reference: str, extra=None) -> None:
    print(f"\n{title}")
    notes, rule = (" notes |", " --- |") if extra else ("", "")
    head = f"| {'implementation':<44} | {'median ms':>9} | {'poolcli / it':>12} | {'peak MB':>7} |"
    print(head + notes)
    print(f"| {'-' * 44} | {'-' * 9}: | {'-' * 12}: | {'-' * 7}: |{rule}")
    base = results[reference][0]
    for name, (seconds, peak) in results.items():
        ratio = "" if name == reference else f"{base / seconds:.2f}"
        note = f" {extra.get(name, '')} |" if extra else ""
        print(f"| {name:<44} | {seconds * 1e3:>9.0f} | {ratio:>12} | {peak / 1024:>7.0f} |{note}")


def check_exact(big: Path, work: Path) -> None:
    out = work / "check.png"
    subprocess.run(pool_command(big, out), check=True)
    with Image.open(big) as image, Image.open(out) as pooled:
        expected = np.asarray(image.reduce(2))
        if not np.array_equal(np.asarray(pooled), expected):
            message = "poolcli's PNG differs from Pillow's reduce(2): not timing a wrong result"
            raise SystemExit(message)
    print(
        "checked: poolcli's 2x2 mean of the 4096x4096 JPEG equals Pillow's reduce(2) byte for byte"
    )


def pool_command(source: Path, target: Path, *options: str) -> list[str]:
    """``poolcli pool SOURCE -o TARGET`` (replacing it, quietly) with ``options``."""
    return [*POOLCLI, "pool", str(source), "-o", str(target), "--overwrite", "-q", *options]


def case_whole(big: Path, work: Path, repeat: int) -> None:
    commands = {
        "poolcli pool (JPEG q90)": pool_command(big, work / "p.jpg"),
        "minimal Pillow open/reduce(2)/save": [
            PYTHON,
            "-c",
            PILLOW_ONE,
            str(big),
            str(work / "m.jpg"),
        ],
        "python -c 'import numpy, PIL.Image, click'": [
            PYTHON,
            "-c",
            "import numpy, PIL.Image, click",
        ],
    }
    if shutil.which("vips"):
        commands["vips shrink (Q=90)"] = [
            "vips",
            "shrink",
            str(big),
            f"{work / 'v.jpg'}[Q=90]",
            "2",
            "2",
        ]
    else:
        print("note: vips not found (apt-get install libvips-tools): skipped")
    table(
        "4096x4096 JPEG -> JPEG q90, 2x2 mean",
        compare(commands, repeat),
        reference="poolcli pool (JPEG q90)",
    )


def case_png(big: Path, work: Path, repeat: int) -> None:
    commands = {"poolcli pool (PNG)": pool_command(big, work / "p.png")}
    if shutil.which("vips"):
        commands["vips shrink (PNG)"] = ["vips", "shrink", str(big), str(work / "v.png"), "2", "2"]
    results = compare(commands, repeat)
    sizes = {
        "poolcli pool (PNG)": f"{(work / 'p.png').stat().st_size / 1e6:.1f} MB file",
        "vips shrink (PNG)": f"{(work / 'v.png').stat().st_size / 1e6:.1f} MB file"
        if (work / "v.png").exists()
        else "",
    }
    table("4096x4096 JPEG -> PNG, 2x2 mean", results, reference="poolcli pool (PNG)", extra=sizes)


def case_memory(work: Path, repeat: int) -> None:
    large = work / "6000x4000.jpg"
    if not large.exists():
        mosaic(6000, 4000, seed=2).save(large, quality=92)
    commands = {
        "poolcli pool 6000x4000 JPEG": pool_command(large, work / "l.jpg"),
        "minimal Pillow open/reduce(2)/save": [
            PYTHON,
            "-c",
            PILLOW_ONE,
            str(large),
            str(work / "lm.jpg"),
        ],
    }
    results = compare(commands, repeat)
    ratio = (
        results["poolcli pool 6000x4000 JPEG"][1] / results["minimal Pillow open/reduce(2)/save"][1]
    )
    table(
        "6000x4000 JPEG -> JPEG, 2x2 mean: peak memory",
        results,
        reference="poolcli pool 6000x4000 JPEG",
    )
    print(f"peak resident memory, poolcli / Pillow script: {ratio:.2f}")


def case_batch(work: Path, repeat: int) -> None:
    folder = work / "batch"
    if not folder.exists():
        folder.mkdir()
        source = mosaic(4096, 3072, seed=3)
        for i in range(200):
            x, y = (i * 311) % (4096 - 1024), (i * 173) % (3072 - 768)
            source.crop((x, y, x + 1024, y + 768)).save(folder / f"photo_{i:03d}.jpg", quality=90)
    outputs = {name: work / name for name in ("b_poolcli", "b_pillow", "b_mogrify")}

    def fresh() -> None:
        for path in outputs.values():
            shutil.rmtree(path, ignore_errors=True)
            path.mkdir()
        shutil.copytree(folder, outputs["b_mogrify"], dirs_exist_ok=True)

    commands = {
        "poolcli pool -j 2": [
            *POOLCLI,
            "pool",
            str(folder),
            "-r",
            "-o",
            str(outputs["b_poolcli"]),
            "-j",
            "2",
            "-q",
        ],
        "multiprocessing.Pool(2) Pillow reduce(2)": [
            PYTHON,
            "-c",
            PILLOW_MANY,
            str(folder),
            str(outputs["b_pillow"]),
        ],
    }
    if shutil.which("mogrify"):
        commands["mogrify -scale 50% (in place on copies)"] = [
            "sh", "-c", f"cd {outputs['b_mogrify']} && mogrify -quality 90 -scale 50% *.jpg",
        ]  # fmt: skip
    else:
        print("note: mogrify not found (apt-get install imagemagick): skipped")
    results = compare(commands, repeat, before=fresh)
    title = "200 JPEGs of 1024x768 -> JPEG, 2x2 mean, 2 processes"
    table(title, results, reference="poolcli pool -j 2")


def case_startup(repeat: int) -> None:
    commands = {
        "poolcli --version": [*POOLCLI, "--version"],
        "poolcli --help": [*POOLCLI, "--help"],
        "python -c 'import click'": [PYTHON, "-c", "import click"],
    }
    if shutil.which("poolcli"):
        commands["poolcli --version (console script)"] = ["poolcli", "--version"]
    table("start-up", compare(commands, repeat * 3), reference="poolcli --version")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7, help="runs of each command (median)")
    parser.add_argument("--cases", default="whole,png,memory,batch,startup")
    parser.add_argument("--keep", type=Path, help="make inputs here and keep them")
    args = parser.parse_args()
    cases = set(args.cases.split(","))
    with tempfile.TemporaryDirectory() as temporary:
        work = args.keep or Path(temporary)
        work.mkdir(parents=True, exist_ok=True)
        big = work / "4096x4096.jpg"
        if not big.exists():
            mosaic(4096, 4096, seed=1).save(big, quality=92)
        print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, inputs in {work}")
        # An installed package has its bytecode compiled by pip; an editable checkout
        # under PYTHONDONTWRITEBYTECODE would recompile poolcli on every run.
        subprocess.run([PYTHON, "-m", "compileall", "-q", str(ROOT / "poolcli")], check=True)
        check_exact(big, work)
        if "whole" in cases:
            case_whole(big, work, args.repeat)
        if "png" in cases:
            case_png(big, work, args.repeat)
        if "memory" in cases:
            case_memory(work, args.repeat)
        if "batch" in cases:
            case_batch(work, max(3, args.repeat // 2))
        if "startup" in cases:
            case_startup(args.repeat)


if __name__ == "__main__":
    main()
