"""Which files a batch takes: directories, globs, hidden files, symlinks, lists."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from poolcli.batch.discovery import Input, Rules, discover, read_list


def touch(root: Path, *names: str) -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")


RECURSIVE = Rules(recursive=True)


def found(arguments, rules=RECURSIVE, **kwargs) -> list[tuple[str, str, str | None]]:
    return [
        (i.path, i.relative, i.problem)
        for i in discover([str(a) for a in arguments], rules, **kwargs)
    ]


def relatives(root: Path, rules=RECURSIVE) -> list[str]:
    return [relative for _, relative, problem in found([root], rules) if problem is None]


def test_directory_files_by_extension_sorted_files_before_subfolders(tmp_path):
    touch(tmp_path, "b.jpg", "a.PNG", "README.txt", "notes", "sub/c.tif", "sub/deeper/d.npy",
          "aa/e.npz", "z.webp")  # fmt: skip
    assert relatives(tmp_path) == [
        "a.PNG",
        "b.jpg",
        "z.webp",
        "aa/e.npz",
        "sub/c.tif",
        "sub/deeper/d.npy",
    ]


def test_paths_join_the_root_as_given(tmp_path):
    touch(tmp_path, "sub/a.png")
    assert found([tmp_path]) == [(str(tmp_path / "sub" / "a.png"), "sub/a.png", None)]


def test_hidden_files_and_folders_are_skipped(tmp_path):
    touch(tmp_path, ".hidden.png", ".cache/a.png", "seen.png", ".x.png.1234.poolcli-tmp")
    assert relatives(tmp_path) == ["seen.png"]


def test_include_replaces_the_extension_rule(tmp_path):
    touch(tmp_path, "a.png", "b.jpg", "c.dat", "raw/d.png", "raw/e.jpg")
    assert relatives(tmp_path, Rules(recursive=True, include=("*.jpg", "*.dat"))) == [
        "b.jpg",
        "c.dat",
        "raw/e.jpg",
    ]
    assert relatives(tmp_path, Rules(recursive=True, include=("raw/*",))) == [
        "raw/d.png",
        "raw/e.jpg",
    ]


def test_exclude_drops_files_and_prunes_folders(tmp_path):
    touch(tmp_path, "a.png", "thumb_a.png", "thumbs/b.png", "keep/c.png", "keep/skip/d.png")
    rules = Rules(recursive=True, exclude=("thumb*", "keep/skip"))
    assert relatives(tmp_path, rules) == ["a.png", "keep/c.png"]


def test_named_files_are_always_taken_whatever_the_name(tmp_path):
    touch(tmp_path, "README.txt", ".hidden")
    assert found([tmp_path / "README.txt", tmp_path / ".hidden"], Rules()) == [
        (str(tmp_path / "README.txt"), "README.txt", None),
        (str(tmp_path / ".hidden"), ".hidden", None),
    ]


def test_missing_named_file_is_left_to_the_reader(tmp_path):
    assert found([tmp_path / "nope.png"], Rules()) == [
        (str(tmp_path / "nope.png"), "nope.png", None)
    ]


def test_directory_needs_recursive(tmp_path):
    touch(tmp_path, "a.png")
    assert found([tmp_path], Rules()) == [
        (str(tmp_path), "", "is a directory; pass `recursive=true` to pool the files under it")
    ]


def test_stdin():
    assert list(discover(["-"], Rules())) == [Input("-", "-")]


def test_skip_prunes_the_output_folder_but_not_a_root(tmp_path):
    touch(tmp_path, "a.png", "out/a.png", "pooled/b.png")
    rules = Rules(recursive=True, skip=(str(tmp_path / "out"), str(tmp_path / "pooled")))
    assert relatives(tmp_path, rules) == ["a.png"]
    assert relatives(tmp_path / "out", rules) == ["a.png"]  # named as an input: searched


def test_directory_symlinks_not_followed_by_default(tmp_path):
    touch(tmp_path, "real/a.png", "top/b.png")
    (tmp_path / "top" / "link").symlink_to(tmp_path / "real", target_is_directory=True)
    (tmp_path / "top" / "file_link.png").symlink_to(tmp_path / "real" / "a.png")
    assert relatives(tmp_path / "top") == ["b.png", "file_link.png"]
    assert relatives(tmp_path / "top", Rules(recursive=True, follow_symlinks=True)) == [
        "b.png", "file_link.png", "link/a.png",
    ]  # fmt: skip


def test_symlink_loops_end(tmp_path):
    touch(tmp_path, "a/x.png", "a/b/y.png")
    (tmp_path / "a" / "b" / "up").symlink_to(tmp_path / "a", target_is_directory=True)
    (tmp_path / "a" / "self").symlink_to(".", target_is_directory=True)
    rules = Rules(recursive=True, follow_symlinks=True)
    assert relatives(tmp_path / "a", rules) == ["x.png", "b/y.png"]


def test_broken_symlinks_are_skipped_in_directories(tmp_path):
    touch(tmp_path, "a.png")
    (tmp_path / "gone.png").symlink_to(tmp_path / "missing.png")
    assert relatives(tmp_path) == ["a.png"]


def test_deep_trees_do_not_recurse(tmp_path):
    path = tmp_path
    for _ in range(60):
        path = path / "d"
    touch(path, "deep.png")
    assert relatives(tmp_path) == ["d/" * 60 + "deep.png"]


def test_unreadable_directory_is_reported(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root reads every directory")
    touch(tmp_path, "locked/a.png", "b.png")
    (tmp_path / "locked").chmod(0)
    try:
        result = found([tmp_path])
    finally:
        (tmp_path / "locked").chmod(0o755)
    assert result[0] == (str(tmp_path / "b.png"), "b.png", None)
    assert result[1][2].startswith("cannot read the directory: permission denied")


def test_unicode_spaces_and_leading_dashes(tmp_path):
    touch(tmp_path, "été 1.png", "-dash.png", "日本.jpg")
    assert relatives(tmp_path) == ["-dash.png", "été 1.png", "日本.jpg"]


# --- --files-from ------------------------------------------------------------------------


def test_read_list_lines_and_nul():
    assert read_list(b"a.png\r\nb c.png\n\n", null=False) == ["a.png", "b c.png"]
    assert read_list(b"new\nline.png\0sp ace.png\0", null=True) == ["new\nline.png", "sp ace.png"]


def test_read_list_keeps_undecodable_bytes():
    (name,) = read_list(b"caf\xe9.png\0", null=True)
    assert os.fsencode(name) == b"caf\xe9.png"


def test_listed_files_keep_their_relative_path(tmp_path):
    listed = ["./a/b.png", "c.png", "/abs/d.png", "../up/e.png"]
    assert [i.relative for i in discover(listed, Rules(), listed=True)] == [
        "a/b.png", "c.png", "d.png", "e.png",
    ]  # fmt: skip


def test_the_common_extensions_are_all_ones_pillow_reads():
    # they are taken without loading Pillow's plugins: each must be one Pillow opens
    from PIL import Image

    from poolcli.images.formats import CORE_EXTENSIONS

    Image.init()
    opened = {e for e, f in Image.registered_extensions().items() if f in Image.OPEN}
    assert CORE_EXTENSIONS - {".npy", ".npz", ".zarr", ".mpo"} <= opened
    assert Image.registered_extensions()[".mpo"] == "MPO"  # opened by JPEG's opener
    assert "JPEG" in Image.OPEN
