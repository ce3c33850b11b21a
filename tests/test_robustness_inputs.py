"""Hostile inputs through the command line: non-images among images, names."""

from __future__ import annotations

import io
import json
import os
import shutil
import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from numpy.lib import format as npy_format
from PIL import Image

CORPUS = Path(__file__).parent / "corpus"
MANIFEST = json.loads((CORPUS / "manifest.json").read_text())


def poolcli(*args: str, cwd: Path, input: bytes | None = None, timeout: float = 120):
    """A real ``poolcli`` process (``python -m poolcli``), its output captured."""
    return subprocess.run(
        [sys.executable, "-m", "poolcli", *args],
        cwd=cwd, input=input, capture_output=True, timeout=timeout, check=False,
    )  # fmt: skip


def records(done: subprocess.CompletedProcess) -> dict[str, dict]:
    return {r["input"]: r for r in map(json.loads, done.stdout.decode().splitlines())}


# --- non-image files in a directory batch ----------------------------------------------


def test_a_directory_batch_takes_every_image_and_skips_the_rest(tmp_path):
    """The documented rule: in a directory, a file is taken by its extension (what
    Pillow reads, plus .npy/.npz); other files and hidden ones are skipped silently.
    A file named on the command line is always tried, and reported if it fails."""
    folder = tmp_path / "in"
    shutil.copytree(CORPUS, folder)  # every corpus file, README.md and manifest.json too
    (folder / "notes.txt").write_text("not an image")
    (folder / "Makefile").write_text("all:\n")
    (folder / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    done = poolcli("pool", "-r", "in", "-o", "out", "--json", "-q", "--ceil-mode",
                   cwd=tmp_path)  # fmt: skip
    found = records(done)
    images = sorted(f"in/{entry['file']}" for entry in MANIFEST)
    assert sorted(found) == images  # the .mpo (read by Pillow's JPEG plugin) included
    failed = sorted(name for name, r in found.items() if r["status"] == "error")
    expected = sorted(f"in/{e['file']}" for e in MANIFEST if e["expect"] == "error")
    assert failed == expected
    assert done.returncode == 1
    assert done.stderr.decode().count("\n") == len(failed)  # -q: one line per failed file

    named = poolcli("pool", "in/notes.txt", "-o", "notes.png", cwd=tmp_path)
    assert named.returncode == 1
    assert named.stderr.decode() == (
        "poolcli: in/notes.txt: not an image Pillow can read, nor a .npy/.npz array\n"
    )
    assert not (tmp_path / "notes.png").exists()


# --- multi-frame inputs into multi-frame TIFF -------------------------------------------


def test_every_frame_reaches_a_tiff_written_atomically(tmp_path):
    """Pillow's multi-page TIFF writer reads back what it wrote, so the atomic
    writer's temporary file must be open for reading too."""
    done = poolcli("pool", str(CORPUS / "multipage.tiff"), str(CORPUS / "chi.gif"),
                   "-o", "out", "--format", "tif", "--json", cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert [r["frames"] for r in records(done).values()] == [3, 31]
    for name, frames in [("multipage.tiff", 3), ("chi.tif", 31)]:
        with Image.open(tmp_path / "out" / name) as image:
            assert (image.format, image.n_frames) == ("TIFF", frames)
            image.seek(frames - 1)
            image.load()


# --- decompression bombs and huge headers -----------------------------------------------

MEASURED = """
import resource, subprocess, sys
done = subprocess.run(sys.argv[1:], capture_output=True)
sys.stdout.buffer.write(done.stdout)
sys.stderr.buffer.write(done.stderr)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)
sys.exit(done.returncode)
"""
#: Peak memory allowed while refusing a bomb. Starting poolcli (Python, NumPy, Pillow)
#: takes about 40 MB here; decoding an image at the default limit would take 89+ MB.
REFUSAL_KB = 100_000


def measured(*args: str, cwd: Path) -> tuple[subprocess.CompletedProcess, int]:
    """Run ``poolcli ARGS`` in a fresh parent that reports its peak RSS (kB)."""
    command = [sys.executable, "-c", MEASURED, sys.executable, "-m", "poolcli", *args]
    done = subprocess.run(command, cwd=cwd, capture_output=True, timeout=120, check=False)
    *lines, peak = done.stderr.decode().splitlines()
    done.stderr = "\n".join(lines).encode() + (b"\n" if lines else b"")
    return done, int(peak)


def gif_frame(width: int, height: int) -> bytes:
    """The corpus bomb (a 32x32 screen, one frame) with its frame's extent changed.

    Its graphic control block asks to restore the background after the frame, so
    Pillow allocates a buffer the frame's size as soon as the file is opened.
    """
    data = bytearray((CORPUS / "decompression_bomb.gif").read_bytes())
    at = data.index(b"\x2c")  # image descriptor: left, top, width, height (little-endian)
    data[at + 1 : at + 9] = struct.pack("<HHHH", 0, 0, width, height)
    return bytes(data)


def png_header(width: int, height: int) -> bytes:
    """A PNG whose header (with a valid checksum) claims ``width`` x ``height``."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    body = struct.pack(">I", len(ihdr)) + chunk + struct.pack(">I", zlib.crc32(chunk))
    idat = zlib.compress(b"\0" * 64)
    idat_chunk = b"IDAT" + idat
    return (b"\x89PNG\r\n\x1a\n" + body + struct.pack(">I", len(idat)) + idat_chunk
            + struct.pack(">I", zlib.crc32(idat_chunk)))  # fmt: skip


def npy_header(shape: tuple[int, ...], dtype: str = "|u1", data: bytes = b"") -> bytes:
    stream = io.BytesIO()
    npy_format.write_array_header_1_0(
        stream, {"descr": dtype, "fortran_order": False, "shape": shape}
    )
    return stream.getvalue() + data


def npz_of(name: str, array_bytes: bytes) -> bytes:
    stream = io.BytesIO()
    with zipfile.ZipFile(stream, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, array_bytes)
    return stream.getvalue()


def npy_zeros(shape: tuple[int, ...]) -> bytes:
    stream = io.BytesIO()
    np.save(stream, np.zeros(shape, np.uint8))
    return stream.getvalue()


BOMBS = {
    "corpus.gif": lambda: (CORPUS / "decompression_bomb.gif").read_bytes(),
    # 44 bytes that make Pillow fill 900 MB when opened without its own limit
    "frame_30000x30000.gif": lambda: gif_frame(30000, 30000),
    "frame_65535x65535.gif": lambda: gif_frame(65535, 65535),
    "header_65535x65535.png": lambda: png_header(65535, 65535),
    "header_100000x100000.npy": lambda: npy_header((100_000, 100_000)),
    "zipped_20000x20000.npz": lambda: npz_of("a.npy", npy_zeros((20_000, 20_000))),
}


@pytest.mark.parametrize("name", BOMBS)
def test_bombs_are_refused_from_the_header_naming_the_option_in_bounded_memory(tmp_path, name):
    (tmp_path / name).write_bytes(BOMBS[name]())
    done, peak = measured("pool", name, "-o", "out.png", cwd=tmp_path)
    assert done.returncode == 1
    (line,) = done.stderr.decode().splitlines()
    assert line.startswith(f"poolcli: {name}: ")
    assert ", over the limit of 89,478,485" in line
    assert line.endswith("; raise it with --max-pixels N or lift it with --max-pixels none")
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]
    assert peak < REFUSAL_KB, f"{peak:,} kB to refuse {name}"


@pytest.mark.parametrize("command", [["info", "--json"], ["pool", "--dry-run", "--json"]])
def test_header_only_commands_refuse_bombs_in_bounded_memory(tmp_path, command):
    for name, make in BOMBS.items():
        (tmp_path / name).write_bytes(make())
    done, peak = measured(*command, *BOMBS, cwd=tmp_path)
    assert done.returncode == 1
    found = records(done)
    assert sorted(found) == sorted(BOMBS)
    for name, record in found.items():
        # info describes a PNG from its header anyway (frames not counted) and says
        # why pooling would refuse it; other formats Pillow would have to decode
        described = command[0] == "info" and name.endswith(".png")
        assert record["status"] == ("ok" if described else "error"), name
        said = record["pooling"] if described else record["error"]
        assert " over the limit of 89,478,485" in said, name
        assert said.endswith("lift it with --max-pixels none"), name
        if described:
            assert record["size"] == [65535, 65535]
            assert record["frames"] is None
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(BOMBS)
    assert peak < REFUSAL_KB, f"{peak:,} kB to refuse {len(BOMBS)} bombs"


@pytest.fixture(scope="module")
def large_tiff(tmp_path_factory) -> Path:
    """182 million pixels, over Pillow's own refusal threshold (2 x 89,478,485)."""
    path = tmp_path_factory.mktemp("large") / "large.tif"
    Image.new("L", (13_500, 13_500), 7).save(path, compression="tiff_adobe_deflate")
    return path


@pytest.mark.parametrize("limit", ["none", "200000000"])
def test_a_raised_limit_reaches_every_pillow_check(tmp_path, large_tiff, limit):
    done = poolcli("pool", str(large_tiff), "-o", "out.png", "-k", "500", "--max-pixels", limit,
                   "--json", cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    (record,) = records(done).values()
    assert (record["in_size"], record["out_size"]) == ([13_500, 13_500], [27, 27])
    with Image.open(tmp_path / "out.png") as image:
        assert image.getextrema() == (7, 7)
    # pooled whole (a budget it fits in), the photo-sized limit applies
    refused = poolcli("pool", str(large_tiff), "-o", "out2.png", "--memory", "1G", cwd=tmp_path)
    assert refused.returncode == 1
    assert "image is 182,250,000 pixels, over the limit of 89,478,485" in refused.stderr.decode()
    # streamed in bounded memory, it needs no raised limit: its data is really there
    streamed = poolcli("pool", str(large_tiff), "-o", "out3.png", "-k", "500", "--json",
                       cwd=tmp_path)  # fmt: skip
    assert streamed.returncode == 0, streamed.stderr
    assert next(iter(records(streamed).values()))["streamed"] is True


def test_threads_with_different_limits_share_pillows_global_safely():
    """The library may decode in threads, each with its own limit; Pillow's limit is
    one global, set for each while it decodes and restored after."""
    from concurrent.futures import ThreadPoolExecutor

    from poolcli import PoolSettings
    from poolcli.errors import LimitError
    from poolcli.images import ReadOptions, WriteOptions, convert

    bomb = BOMBS["frame_30000x30000.gif"]()
    photo = (CORPUS / "astronaut.png").read_bytes()
    before = Image.MAX_IMAGE_PIXELS

    def pool(case: int) -> str:
        if case % 2:
            try:
                convert(bomb, io.BytesIO(), PoolSettings.make(2), WriteOptions("PNG"))
            except LimitError as error:
                return str(error).split(",")[0]
            return "pooled a bomb"
        report = convert(photo, io.BytesIO(), PoolSettings.make(2), WriteOptions("PNG"),
                         ReadOptions(max_pixels=None))  # fmt: skip
        return f"{report.out_size}"

    with ThreadPoolExecutor(4) as threads:
        results = list(threads.map(pool, range(16)))
    assert results == ["(256, 256)", "image is 900"] * 8
    assert Image.MAX_IMAGE_PIXELS == before


# --- feature maps: pickles, objects, lying headers ----------------------------------------

LYING = {
    # within the pixel limit per plane, but 64 GiB of channels in a 192-byte file
    "channels.npy": lambda: npy_header((1 << 34, 2, 2), data=bytes(64)),
    "float64.npy": lambda: npy_header((1 << 28, 4, 4), "<f8", data=bytes(64)),
    "member.npz": lambda: npz_of("a.npy", npy_header((1 << 34, 2, 2), data=bytes(64))),
    "one_byte_short.npy": lambda: npy_zeros((2, 3, 4))[:-1],
}


@pytest.mark.parametrize("command", [["pool", "-o", "out"], ["info"], ["pool", "--dry-run"]])
def test_a_header_promising_more_data_than_the_file_holds_is_refused_before_reading(
    tmp_path, command
):
    for name, make in LYING.items():
        (tmp_path / name).write_bytes(make())
    (tmp_path / "good.npy").write_bytes(npy_zeros((2, 4, 4)))
    done, peak = measured(*command, *LYING, "good.npy", "--json", cwd=tmp_path)
    assert done.returncode == 1
    found = records(done)
    assert found["channels.npy"]["error"] == (
        "the .npy file is truncated: its header (shape 17179869184x2x2, uint8) needs "
        "68,719,476,736 bytes of data and it holds 64"
    )
    assert found["float64.npy"]["error"] == (
        "the .npy file is truncated: its header (shape 268435456x4x4, float64) needs "
        "34,359,738,368 bytes of data and it holds 64"
    )
    assert found["member.npz"]["error"] == (
        "array 'a' is truncated: its header (shape 17179869184x2x2, uint8) needs "
        "68,719,476,736 bytes of data and it holds 64"
    )
    assert found["one_byte_short.npy"]["error"] == (
        "the .npy file is truncated: its header (shape 2x3x4, uint8) needs "
        "24 bytes of data and it holds 23"
    )
    assert found["good.npy"]["status"] in ("ok", "planned")
    assert peak < REFUSAL_KB


def zipped_channels(path: Path, shape: tuple[int, int, int]) -> None:
    """A .npz of zeros, written in chunks: megabytes on disk, ``prod(shape)`` bytes open."""
    header = io.BytesIO()
    npy_format.write_array_header_1_0(
        header, {"descr": "|u1", "fortran_order": False, "shape": shape}
    )
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        with archive.open("a.npy", "w", force_zip64=True) as member:
            member.write(header.getvalue())
            left, chunk = int(np.prod(shape)), bytes(1 << 20)
            while left:
                member.write(chunk[: min(left, len(chunk))])
                left -= min(left, len(chunk))


def test_running_out_of_memory_fails_that_file_only(tmp_path):
    """The pixel limit counts one plane: a .npz can still unzip into more channels than
    memory holds. Under an 800 MB address-space limit, 700 MB of channels fail that
    file in one line (not as a poolcli bug), and the batch goes on."""
    import resource

    zipped_channels(tmp_path / "channels.npz", (70_000, 100, 100))
    shutil.copy(CORPUS / "astronaut.png", tmp_path / "photo.png")

    def limited() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (800 << 20, 800 << 20))

    done = subprocess.run(
        [sys.executable, "-m", "poolcli", "pool", "channels.npz", "photo.png", "-o", "out",
         "-j", "1", "--json"],
        cwd=tmp_path, capture_output=True, timeout=120, check=False, preexec_fn=limited,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    found = records(done)
    assert found["channels.npz"]["error"] == (
        "ran out of memory on this file; lower -j or --max-pixels"
    )
    assert found["photo.png"]["status"] == "ok"
    assert done.stderr.decode().splitlines()[0] == (
        "poolcli: channels.npz: ran out of memory on this file; lower -j or --max-pixels"
    )
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["photo.png"]


class Trap:
    """Unpickling this creates the file ``path``: proof that a file was unpickled."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self):
        return (open, (str(self.path), "w"))


def test_pickles_and_object_arrays_are_refused_never_unpickled(tmp_path):
    import pickle

    trap = tmp_path / "unpickled"
    objects = np.array([Trap(trap), None], dtype=object)
    np.save(tmp_path / "objects.npy", objects, allow_pickle=True)
    np.savez(tmp_path / "objects.npz", a=objects, b=np.zeros((4, 4)))
    (tmp_path / "dumped.npy").write_bytes(pickle.dumps(np.array([Trap(trap)])))  # ndarray.dump
    (tmp_path / "pickle.npz").write_bytes(pickle.dumps({"a": Trap(trap)}, protocol=5))
    for command in (["pool", "-o", "out"], ["info"], ["pool", "--dry-run"]):
        done = poolcli(*command, "objects.npy", "objects.npz", "dumped.npy", "pickle.npz",
                       "--json", cwd=tmp_path)  # fmt: skip
        assert done.returncode == 1
        errors = {name: record["error"] for name, record in records(done).items()}
        never = "poolcli never unpickles (allow_pickle=False)"
        assert errors == {
            "objects.npy": f"the .npy file holds Python objects (dtype object); {never}: "
            "save it with a numeric dtype",
            "objects.npz": f"array 'a' holds Python objects (dtype object); {never}: "
            "save it with a numeric dtype",
            "dumped.npy": "a Python pickle, not an image nor a .npy/.npz array; "
            f"{never}: save arrays with numpy.save",
            "pickle.npz": "a Python pickle, not an image nor a .npy/.npz array; "
            f"{never}: save arrays with numpy.save",
        }
    assert not trap.exists()
    assert [p for p in (tmp_path / "out").rglob("*") if not p.is_dir()] == []


# --- absurd parameters: usage errors before any work ------------------------------------

ABSURD = {
    "kernel 10^9": (["-k", "1000000000"], "--kernel 1000000000 with --repeat 1 "
                    "needs an image height of at least 1,000,000,000 pixels"),
    "size 100000x100000": (["--size", "100000x100000"], "--size 100000x100000 asks for "
                           "10,000,000,000 pixels, more than --max-pixels 89,478,485"),
    "stride 0": (["-s", "0"], "'0': each side must be at least 1"),
    "padding over half": (["-k", "4", "-p", "3"], "padding must be between 0 and half the "
                          "kernel (kernel 4 allows at most 2), got 3"),
    "repeat past 1x1": (["--repeat", "30"], "--kernel 2 with --repeat 30 needs an image "
                        "height of at least "),
    "dilation 10^9": (["--dilation", "1000000000"], "needs an image height of at least "
                      "1,000,000,001 pixels"),
}  # fmt: skip


@pytest.mark.parametrize("case", ABSURD)
@pytest.mark.parametrize("command", ["pool", "info"])
def test_absurd_parameters_exit_2_before_any_input_is_read(tmp_path, case, command):
    """The inputs are a missing file and a folder of images: neither is touched (no
    'cannot open' line, no output folder), because the parameters are refused first."""
    args, message = ABSURD[case]
    shutil.copytree(CORPUS, tmp_path / "photos")
    extra = ["-o", "out", "-j", "2"] if command == "pool" else []
    done = poolcli(command, "missing.png", "-r", "photos", *extra, *args, cwd=tmp_path)
    assert done.returncode == 2
    stderr = done.stderr.decode()
    assert stderr.startswith(f"Usage: poolcli {command} [OPTIONS] ")
    assert message in stderr
    assert stderr.splitlines()[-1].startswith("Error: ")
    assert "missing.png" not in stderr
    assert "Traceback" not in stderr
    assert done.stdout == b""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["photos"]


# --- names ------------------------------------------------------------------------------

NAMES = [
    "plain.png",
    "with spaces  .png",
    "-leading-dash.png",
    "--looks-like-an-option.png",
    "new\nline.png",
    "tab\tand\rreturn.png",
    "ünïcödé/日本語の画像.png",
    "emoji 🙂.png",
    "é" * 125 + ".png",  # 254 bytes: the longest name most file systems take
    os.fsdecode(b"latin1-\xe9t\xe9.png"),  # not UTF-8: kept as the bytes it is
]


def named_tree(root: Path) -> None:
    for index, name in enumerate(NAMES):
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.new("L", (4, 2), 10 * index).save(path, format="PNG")
    (root / "broken\nname.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")


def test_any_name_through_a_tree_a_nul_list_and_the_command_line(tmp_path):
    named_tree(tmp_path / "in")
    expected = {*NAMES, "broken\nname.png"}

    walked = poolcli("pool", "-r", "in", "-o", "walked", "--json", cwd=tmp_path)
    listing = b"".join(os.fsencode(f"in/{name}") + b"\0" for name in sorted(expected))
    listed = poolcli("pool", "--files-from", "-", "-0", "-o", "listed", "--json",
                     cwd=tmp_path, input=listing)  # fmt: skip
    for done, out in [(walked, "walked"), (listed, "listed/in")]:
        assert done.returncode == 1
        found = records(done)
        assert sorted(found) == sorted(f"in/{name}" for name in expected)
        assert {name for name, r in found.items() if r["status"] == "error"} == {
            "in/broken\nname.png"
        }
        written = {str(p.relative_to(tmp_path / out)) for p in (tmp_path / out).rglob("*.png")}
        assert written == set(NAMES)
        for index, name in enumerate(NAMES):
            with Image.open(tmp_path / out / name) as image:
                assert (image.size, image.getpixel((0, 0))) == ((2, 1), 10 * index)
        # one line per problem, whatever the name holds
        assert done.stderr.decode().splitlines()[0] == (
            "poolcli: in/broken\\nname.png: not an image Pillow can read, nor a .npy/.npz array"
        )
        assert len(done.stderr.decode().splitlines()) == 2

    for name in NAMES:  # one by one on the command line; "--" ends the options
        done = poolcli("pool", "-o", "single.png", "--overwrite", "--", f"in/{name}",
                       cwd=tmp_path)  # fmt: skip
        assert done.returncode == 0, (name, done.stderr)
        with Image.open(tmp_path / "single.png") as image:
            assert image.getpixel((0, 0)) == 10 * NAMES.index(name)


def deep_tree(root: Path, levels: int, leaf: bytes) -> list[str]:
    """Folders of 200-byte names, ``levels`` deep, with ``leaf.png`` at the bottom.

    Built with ``dir_fd`` so that no single path passed to the kernel is too long
    (no os.chdir in tests). Returns the folder names.
    """
    names = [f"{index:03d}" + "d" * 197 for index in range(levels)]
    root.mkdir(parents=True, exist_ok=True)
    fd = os.open(root, os.O_RDONLY)
    try:
        for name in names:
            os.mkdir(name, dir_fd=fd)
            deeper = os.open(name, os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = deeper
        out = os.open("leaf.png", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
        os.write(out, leaf)
        os.close(out)
    finally:
        os.close(fd)
    return names


def png_bytes(value: int) -> bytes:
    stream = io.BytesIO()
    Image.new("L", (4, 4), value).save(stream, format="PNG")
    return stream.getvalue()


def test_paths_up_to_path_max_work_and_deeper_ones_are_reported(tmp_path):
    """18 levels of 200-byte names make a 3,631-byte path: pooled and mirrored. 21
    levels pass Linux's PATH_MAX (4,096 bytes with the final NUL): the first folder out
    of reach is reported in one line, and the rest of the batch is done."""
    shallow = deep_tree(tmp_path / "in" / "a", 18, png_bytes(1))
    deep = deep_tree(tmp_path / "in" / "b", 21, png_bytes(2))
    (tmp_path / "in" / "top.png").write_bytes(png_bytes(3))
    done = poolcli("pool", "-r", "in", "-o", "o", "--json", "-j", "2", cwd=tmp_path)
    assert done.returncode == 1
    found = records(done)
    long_name = "a/" + "/".join(shallow) + "/leaf.png"
    assert len(f"in/{long_name}") == 3_631
    assert {name: r["status"] for name, r in found.items() if r["status"] == "ok"} == {
        f"in/{long_name}": "ok",
        "in/top.png": "ok",
    }
    with Image.open(tmp_path / "o" / long_name) as image:
        assert (image.size, image.getpixel((0, 0))) == ((2, 2), 1)
    reach = next(i for i in range(21) if len("in/b/" + "/".join(deep[: i + 1])) > 4095)
    failed = [(name, r["error"]) for name, r in found.items() if r["status"] == "error"]
    assert failed == [
        ("in/b/" + "/".join(deep[: reach + 1]), "cannot read the directory: file name too long")
    ]
    assert done.stderr.decode().count("\n") == 2  # that line and the summary


# --- inputs that are pipes -------------------------------------------------------------------


def test_pipes_and_fifos_are_read_like_stdin(tmp_path):
    """A FIFO or a process substitution, <(...), cannot seek: read whole, as stdin is."""
    shutil.copy(CORPUS / "chi.gif", tmp_path / "chi.gif")
    direct = poolcli("pool", "chi.gif", "-o", "direct.gif", cwd=tmp_path)
    assert direct.returncode == 0, direct.stderr
    substituted = subprocess.run(
        ["bash", "-c", f"{sys.executable} -m poolcli pool <(cat chi.gif) -o substituted.gif"],
        cwd=tmp_path, capture_output=True, timeout=60, check=False,
    )  # fmt: skip
    assert substituted.returncode == 0, substituted.stderr
    os.mkfifo(tmp_path / "fifo.gif")
    writer = subprocess.Popen(["sh", "-c", "cat chi.gif > fifo.gif"], cwd=tmp_path)
    fifo = poolcli("pool", "fifo.gif", "-o", "fifo-out.gif", cwd=tmp_path)
    writer.wait(timeout=60)
    assert fifo.returncode == 0, fifo.stderr
    expected = (tmp_path / "direct.gif").read_bytes()
    assert (tmp_path / "substituted.gif").read_bytes() == expected
    assert (tmp_path / "fifo-out.gif").read_bytes() == expected


def test_a_header_length_field_is_checked_before_numpy_allocates_it(tmp_path):
    """A .npy (format 2.0) whose 4-byte header length says 4 GiB: under a 1 GB
    address-space limit, refused as a broken header, not as running out of memory."""
    import resource

    header = b"{'descr': '|u1', 'fortran_order': False, 'shape': (4, 4), }          \n"
    (tmp_path / "long.npy").write_bytes(
        b"\x93NUMPY\x02\x00" + struct.pack("<I", 0xFFFFFFF0) + header + bytes(16)
    )

    def limited() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    for command in (["pool", "-o", "out"], ["info"]):
        done = subprocess.run(
            [sys.executable, "-m", "poolcli", *command, "long.npy"],
            cwd=tmp_path, capture_output=True, timeout=60, check=False, preexec_fn=limited,
        )  # fmt: skip
        assert done.returncode == 1
        assert done.stderr.decode() == (
            "poolcli: long.npy: the .npy file has a broken header: it claims "
            "4,294,967,280 bytes of header, more than the 10,000 NumPy reads\n"
        )
