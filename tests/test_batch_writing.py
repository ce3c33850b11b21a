"""Atomic writes: whole outputs or none, race-free refusal, no temporary files left."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from poolcli.batch.writing import sweep, temp_path, write_atomically
from poolcli.errors import InputError, OutputError, OutputExists


def names(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def writes(data: bytes):
    def write(stream):
        stream.write(data)
        return len(data)

    return write


def test_writes_and_returns_what_the_writer_returns(tmp_path):
    target = tmp_path / "sub" / "deeper" / "out.png"
    assert write_atomically(str(target), writes(b"pixels"), replace=False, run_id="r1") == 6
    assert target.read_bytes() == b"pixels"
    assert names(target.parent) == ["out.png"]


def test_refuses_an_existing_target_and_leaves_it(tmp_path):
    target = tmp_path / "out.png"
    target.write_bytes(b"old")
    with pytest.raises(OutputExists, match=f"^{target} exists$"):
        write_atomically(str(target), writes(b"new"), replace=False, run_id="r1")
    assert target.read_bytes() == b"old"
    assert names(tmp_path) == ["out.png"]


def test_a_target_appearing_during_the_write_is_not_overwritten(tmp_path):
    """Another process creates the file between our check and our publish: link() refuses."""
    target = tmp_path / "out.png"

    def racing(stream):
        stream.write(b"ours")
        target.write_bytes(b"theirs")

    with pytest.raises(OutputExists):
        write_atomically(str(target), racing, replace=False, run_id="r1")
    assert target.read_bytes() == b"theirs"
    assert names(tmp_path) == ["out.png"]


def test_replace_overwrites(tmp_path):
    target = tmp_path / "out.png"
    target.write_bytes(b"old")
    write_atomically(str(target), writes(b"new"), replace=True, run_id="r1")
    assert target.read_bytes() == b"new"
    assert names(tmp_path) == ["out.png"]


@pytest.mark.parametrize(
    "error", [InputError("cannot decode: broken"), KeyboardInterrupt(), SystemExit(143)]
)
def test_a_failing_writer_leaves_nothing(tmp_path, error):
    def failing(stream):
        stream.write(b"half an ima")
        raise error

    with pytest.raises(type(error)):
        write_atomically(str(tmp_path / "out.png"), failing, replace=False, run_id="r1")
    assert names(tmp_path) == []


def test_disk_full_is_an_output_error_and_leaves_nothing(tmp_path):
    def full(stream):
        stream.write(b"some")
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(
        OutputError, match=f"^cannot write {tmp_path / 'out.png'}: no space left on device$"
    ):
        write_atomically(str(tmp_path / "out.png"), full, replace=False, run_id="r1")
    assert names(tmp_path) == []


def test_a_directory_in_the_way(tmp_path):
    (tmp_path / "blocker").write_bytes(b"")
    with pytest.raises(OutputError, match="^cannot write .*blocker/out.png: "):
        write_atomically(
            str(tmp_path / "blocker" / "out.png"), writes(b"x"), replace=False, run_id="r1"
        )


def test_unwritable_directory(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root writes everywhere")
    (tmp_path / "locked").mkdir(mode=0o500)
    with pytest.raises(OutputError, match="permission denied"):
        write_atomically(
            str(tmp_path / "locked" / "out.png"), writes(b"x"), replace=False, run_id="r1"
        )


def test_without_hard_links_the_name_is_still_claimed_exclusively(tmp_path, monkeypatch):
    def no_links(source, target):
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    target = tmp_path / "out.png"
    write_atomically(str(target), writes(b"new"), replace=False, run_id="r1")
    assert target.read_bytes() == b"new"
    with pytest.raises(OutputExists):
        write_atomically(str(target), writes(b"newer"), replace=False, run_id="r1")
    assert target.read_bytes() == b"new"
    assert names(tmp_path) == ["out.png"]


def test_temporary_names_are_hidden_short_and_per_run(tmp_path):
    long_name = "é" * 120 + ".png"  # 244 bytes: a temporary name must not pass 255
    temp = temp_path(str(tmp_path / long_name), "123-abcd")
    name = os.path.basename(temp)
    assert name.startswith(".")
    assert name.endswith(".123-abcd.poolcli-tmp")
    assert len(os.fsencode(name)) <= 255
    write_atomically(str(tmp_path / long_name), writes(b"x"), replace=False, run_id="123-abcd")
    assert names(tmp_path) == [long_name]


def test_sweep_removes_only_this_runs_temporary_files(tmp_path):
    target = str(tmp_path / "out.png")
    Path(temp_path(target, "mine")).write_bytes(b"")
    Path(temp_path(target, "theirs")).write_bytes(b"")
    sweep([target, str(tmp_path / "never.png")], "mine")
    assert names(tmp_path) == [os.path.basename(temp_path(target, "theirs"))]


def test_multi_page_tiff_can_be_written_through_the_atomic_writer(tmp_path):
    # Pillow's TIFF writer reads back the pages it wrote: a write-only stream fails
    from PIL import Image

    target = str(tmp_path / "pages.tif")
    pages = [Image.new("L", (4, 4), shade) for shade in (0, 128, 255)]
    write_atomically(
        target,
        lambda stream: pages[0].save(stream, "TIFF", save_all=True, append_images=pages[1:]),
        replace=False,
        run_id="test",
    )
    with Image.open(target) as written:
        assert written.n_frames == 3
