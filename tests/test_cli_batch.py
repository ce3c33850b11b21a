"""``poolcli pool`` on many files: trees, lists, workers, JSON lines, failures, plans."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from poolcli.cli import cli

CORPUS = Path(__file__).parent / "corpus"


def run(*args, input: bytes | None = None):
    return CliRunner().invoke(cli, ["pool", *map(str, args)], input=input, catch_exceptions=False)


def photo(path: Path, seed: int, size=(12, 10)) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)).save(path)


def tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def contents(root: Path) -> dict[str, bytes]:
    return {name: (root / name).read_bytes() for name in tree(root)}


@pytest.fixture
def photos(tmp_path) -> Path:
    root = tmp_path / "photos"
    photo(root / "a.png", 1)
    photo(root / "b.jpg", 2)
    photo(root / "trip" / "c.png", 3)
    photo(root / "trip" / "day 2" / "d.webp", 4)
    (root / "README.txt").write_text("not an image")
    photo(root / ".thumbs" / "e.png", 5)
    return root


def test_output_directory_mirrors_the_tree(tmp_path, photos):
    result = run("-r", photos, "-o", tmp_path / "out", "-j", "1")
    assert result.exit_code == 0, result.stderr
    assert tree(tmp_path / "out") == ["a.png", "b.jpg", "trip/c.png", "trip/day 2/d.webp"]
    with Image.open(tmp_path / "out" / "trip" / "day 2" / "d.webp") as image:
        assert (image.format, image.size) == ("WEBP", (6, 5))
    assert (
        result.stderr == "poolcli: 4 ok, 0 skipped, 0 failed in " + result.stderr.split(" in ")[1]
    )


def test_include_and_exclude(tmp_path, photos):
    result = run("-r", photos, "-o", tmp_path / "out", "--include", "*.png", "--exclude", "trip")
    assert result.exit_code == 0, result.stderr
    assert tree(tmp_path / "out") == ["a.png"]


def test_jobs_one_and_two_write_identical_bytes(tmp_path, photos):
    for index in range(6):
        photo(photos / "more" / f"{index}.png", 10 + index, size=(40, 30))
    one = run("-r", photos, "-o", tmp_path / "one", "-j", "1", "-m", "median", "-k", "3")
    two = run("-r", photos, "-o", tmp_path / "two", "-j", "2", "-m", "median", "-k", "3")
    assert one.exit_code == two.exit_code == 0
    assert len(tree(tmp_path / "one")) == 10
    assert contents(tmp_path / "one") == contents(tmp_path / "two")


def test_json_lines_match_the_files_written(tmp_path, photos):
    shutil.copy(CORPUS / "truncated_jpeg.jpg", photos / "broken.jpg")
    (tmp_path / "out").mkdir()
    photo(tmp_path / "out" / "b.jpg", 99)  # already there
    result = run("-r", photos, "-o", tmp_path / "out", "--json", "-j", "2", "--skip-existing")
    assert result.exit_code == 1
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["input"] for r in records] == [
        str(photos / n) for n in ("a.png", "b.jpg", "broken.jpg", "trip/c.png", "trip/day 2/d.webp")
    ]  # input order, whatever finishes first
    for record in records:
        assert set(record) == {
            "input",
            "output",
            "status",
            "error",
            "in_size",
            "out_size",
            "frames",
            "seconds",
            "streamed",
        }
        assert isinstance(record["seconds"], float)
        assert record["streamed"] is False  # small photos are pooled whole
    by_name = {Path(r["input"]).name: r for r in records}
    assert by_name["a.png"]["status"] == "ok"
    assert by_name["a.png"]["error"] is None
    assert by_name["a.png"]["output"] == str(tmp_path / "out" / "a.png")
    assert (
        by_name["a.png"]["in_size"],
        by_name["a.png"]["out_size"],
        by_name["a.png"]["frames"],
    ) == ([12, 10], [6, 5], 1)
    assert by_name["b.jpg"]["status"] == "skipped"
    assert by_name["broken.jpg"]["status"] == "error"
    assert by_name["broken.jpg"]["error"].startswith("cannot decode: image file is truncated")
    assert by_name["broken.jpg"]["in_size"] is None
    written = {r["output"] for r in records if r["status"] == "ok"}
    assert written == {
        str(tmp_path / "out" / n) for n in ("a.png", "trip/c.png", "trip/day 2/d.webp")
    }
    for record in records:
        if record["status"] == "ok":
            with Image.open(record["output"]) as image:
                assert list(image.size) == record["out_size"]
    assert not (tmp_path / "out" / "broken.jpg").exists()
    assert "poolcli: 3 ok, 1 skipped, 1 failed in" in result.stderr


def test_a_corrupt_file_among_good_ones(tmp_path, photos):
    shutil.copy(CORPUS / "truncated_image.png", photos / "a_broken.png")
    result = run("-r", photos, "-o", tmp_path / "out", "-j", "2")
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"poolcli: {photos / 'a_broken.png'}: cannot decode:")
    assert lines[1].startswith("poolcli: 4 ok, 0 skipped, 1 failed in ")
    assert len(tree(tmp_path / "out")) == 4


def test_fail_fast_stops_at_the_first_failure(tmp_path, photos):
    shutil.copy(CORPUS / "empty.png", photos / "0empty.png")
    result = run("-r", photos, "-o", tmp_path / "out", "-j", "1", "--fail-fast")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"poolcli: {photos / '0empty.png'}: file is empty",
        "poolcli: stopped at the first failure (--fail-fast)",
        result.stderr.splitlines()[2],
    ]
    assert result.stderr.splitlines()[2].startswith(
        "poolcli: 0 ok, 0 skipped, 1 failed, 4 not done in "
    )
    assert not (tmp_path / "out").exists() or tree(tmp_path / "out") == []


def test_fail_fast_with_workers_leaves_only_whole_outputs(tmp_path, photos):
    shutil.copy(CORPUS / "empty.png", photos / "0empty.png")
    result = run("-r", photos, "-o", tmp_path / "out", "-j", "2", "--fail-fast")
    assert result.exit_code == 1
    for name in tree(tmp_path / "out") if (tmp_path / "out").exists() else []:
        assert not name.endswith(".poolcli-tmp")
        with Image.open(tmp_path / "out" / name) as image:
            image.load()


def test_files_from_nul_list_with_spaces_and_newlines(tmp_path):
    names = ["with space.png", "new\nline.png", "-dash.png", "été.png"]
    for seed, name in enumerate(names):
        photo(tmp_path / "in" / name, seed)
    listing = b"".join(str(Path("in") / n).encode() + b"\0" for n in names)
    done = subprocess.run(
        [sys.executable, "-m", "poolcli", "pool", "--files-from", "-", "-0", "-o", "out"]
        + ["--json", "-j", "2"],
        input=listing, cwd=tmp_path, capture_output=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert sorted(tree(tmp_path / "out")) == sorted(f"in/{n}" for n in names)
    records = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert [r["input"] for r in records] == [f"in/{n}" for n in names]
    assert [r["output"] for r in records] == [f"out/in/{n}" for n in names]


def test_files_from_file_and_arguments_together(tmp_path):
    photo(tmp_path / "a.png", 1)
    photo(tmp_path / "b.png", 2)
    (tmp_path / "list.txt").write_text(f"{tmp_path / 'b.png'}\n")
    result = run(tmp_path / "a.png", "--files-from", tmp_path / "list.txt", "-o", tmp_path / "out")
    assert result.exit_code == 0, result.stderr
    assert tree(tmp_path / "out") == ["a.png", "b.png"]


def test_stdin_list_and_stdin_input_conflict(tmp_path):
    result = run("-", "--files-from", "-", input=b"")
    assert result.exit_code == 2
    assert "stdin cannot be both an input (-) and the --files-from list" in result.stderr


def test_two_inputs_to_one_output_is_usage(tmp_path):
    photo(tmp_path / "x" / "a.png", 1)
    photo(tmp_path / "y" / "a.png", 2)
    result = run(tmp_path / "x" / "a.png", tmp_path / "y" / "a.png", "-o", tmp_path / "out")
    assert result.exit_code == 2
    assert (f"{tmp_path / 'x' / 'a.png'} and {tmp_path / 'y' / 'a.png'} would both be written to "
            f"{tmp_path / 'out' / 'a.png'}") in result.stderr  # fmt: skip
    assert not (tmp_path / "out").exists()


def test_format_collision_is_usage(tmp_path):
    photo(tmp_path / "a.png", 1)
    photo(tmp_path / "a.jpg", 2)
    result = run("-r", tmp_path, "-o", tmp_path / "out", "--format", "png")
    assert result.exit_code == 2
    assert "would both be written to" in result.stderr


def test_output_inside_the_input_tree_is_not_read_back(tmp_path, photos):
    assert run("-r", photos, "-o", photos / "small").exit_code == 0
    again = run("-r", photos, "-o", photos / "small", "--skip-existing", "--json")
    assert again.exit_code == 0
    assert all("/small/" not in json.loads(line)["input"] for line in again.stdout.splitlines())
    assert len(again.stdout.splitlines()) == 4


def test_default_output_is_stable_and_never_an_input(tmp_path, photos):
    command = [sys.executable, "-m", "poolcli", "pool", "-r", "."]
    first = subprocess.run(command, cwd=photos, capture_output=True, check=False)
    assert first.returncode == 0, first.stderr
    assert tree(photos / "pooled") == ["a.png", "b.jpg", "trip/c.png", "trip/day 2/d.webp"]
    second = subprocess.run(
        [*command, "--skip-existing"], cwd=photos, capture_output=True, check=False
    )
    assert second.returncode == 0
    assert second.stderr.decode().startswith("poolcli: 0 ok, 4 skipped, 0 failed in ")
    assert tree(photos / "pooled") == ["a.png", "b.jpg", "trip/c.png", "trip/day 2/d.webp"]


def test_mirror_into_the_input_folder_with_another_format(tmp_path):
    photo(tmp_path / "a.png", 1)
    result = run("-r", tmp_path, "-o", tmp_path, "--format", "jpg")
    assert result.exit_code == 0, result.stderr
    assert tree(tmp_path) == ["a.jpg", "a.png"]
    before = (tmp_path / "a.png").read_bytes()
    result = run("-r", tmp_path, "-o", tmp_path, "--overwrite")
    assert result.exit_code == 1  # a.png -> a.png: the input itself, refused alone
    assert (
        f"poolcli: {tmp_path / 'a.png'}: the output {tmp_path / 'a.png'} is the input "
        f"{tmp_path / 'a.png'} itself" in result.stderr
    )
    assert (tmp_path / "a.png").read_bytes() == before


def test_batch_into_its_own_folder_pools_all_but_the_inputs_it_would_overwrite(tmp_path):
    photo(tmp_path / "a.png", 1)
    photo(tmp_path / "b.jpg", 2, size=(9, 7))
    before = (tmp_path / "a.png").read_bytes()
    result = run("-r", tmp_path, "-o", tmp_path, "--format", "png", "--json")
    assert result.exit_code == 1  # a.png alone failed; b.jpg was pooled
    lines = {line["input"]: line for line in map(json.loads, result.stdout.splitlines())}
    refused = lines[str(tmp_path / "a.png")]
    assert refused["status"] == "error"
    assert refused["error"].startswith(f"the output {tmp_path / 'a.png'} is the input ")
    assert lines[str(tmp_path / "b.jpg")]["status"] == "ok"
    assert tree(tmp_path) == ["a.png", "b.jpg", "b.png"]
    assert (tmp_path / "a.png").read_bytes() == before
    with Image.open(tmp_path / "b.png") as pooled:
        assert pooled.size == (4, 3)
    result = run("-r", tmp_path, "-o", tmp_path, "--format", "png", "--skip-existing")
    assert result.exit_code == 0, result.stderr  # resumed: a.png's output exists (it is a.png)
    assert result.stderr.startswith("poolcli: 0 ok, 2 skipped, 0 failed in ")
    assert (tmp_path / "a.png").read_bytes() == before


def test_dry_run_plans_without_writing(tmp_path, photos):
    (tmp_path / "out").mkdir()
    photo(tmp_path / "out" / "a.png", 9)
    result = run("-r", photos, "-o", tmp_path / "out", "--dry-run", "-k", "3")
    assert result.exit_code == 1  # a.png exists and would be refused
    assert result.stdout.splitlines() == [
        f"{photos / 'b.jpg'} -> {tmp_path / 'out' / 'b.jpg'}: 12x10 -> 4x3",
        f"{photos / 'trip' / 'c.png'} -> {tmp_path / 'out' / 'trip' / 'c.png'}: 12x10 -> 4x3",
        f"{photos / 'trip' / 'day 2' / 'd.webp'} -> "
        f"{tmp_path / 'out' / 'trip' / 'day 2' / 'd.webp'}: 12x10 -> 4x3",
    ]
    assert result.stderr.splitlines()[0] == (
        f"poolcli: {photos / 'a.png'}: {tmp_path / 'out' / 'a.png'} exists; "
        "pass --overwrite to replace it or --skip-existing to keep it"
    )
    assert tree(tmp_path / "out") == ["a.png"]
    planned = run("-r", photos, "-o", tmp_path / "out", "--dry-run", "--json", "--skip-existing")
    assert [json.loads(line)["status"] for line in planned.stdout.splitlines()] == [
        "skipped", "planned", "planned", "planned",
    ]  # fmt: skip


def test_no_inputs_found(tmp_path):
    (tmp_path / "notes.txt").write_text("x")
    result = run("-r", tmp_path, "-o", tmp_path / "out")
    assert result.exit_code == 0
    assert result.stderr.startswith("poolcli: no inputs found")


def test_quiet_batch_prints_errors_only(tmp_path, photos):
    shutil.copy(CORPUS / "empty.png", photos / "empty.png")
    result = run("-r", photos, "-o", tmp_path / "out", "-q")
    assert result.exit_code == 1
    assert result.stderr == f"poolcli: {photos / 'empty.png'}: file is empty\n"


def test_newline_in_a_name_stays_on_one_line(tmp_path):
    (tmp_path / "bad\nname.png").write_bytes(b"")
    result = run(tmp_path / "bad\nname.png", "-o", tmp_path / "out.png")
    assert result.stderr == f"poolcli: {tmp_path}/bad\\nname.png: file is empty\n"


def test_progress_bar_only_on_a_terminal(tmp_path, photos):
    import os
    import pty

    leader, follower = pty.openpty()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "poolcli", "pool", "-r", str(photos), "-o", str(tmp_path / "o")],
            stderr=follower, stdout=subprocess.PIPE, check=False,
            env={**os.environ, "NO_COLOR": "1"},
        )  # fmt: skip
        os.close(follower)
        shown = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the terminal has no writer left
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(leader)
    assert done.returncode == 0
    assert done.stdout == b""
    text = shown.decode()
    assert "4/4" in text
    assert "files/s" in text
    assert "\npoolcli: 4 ok, 0 skipped, 0 failed in " in text  # NO_COLOR: no colour codes
    quiet = run("-r", photos, "-o", tmp_path / "out2")  # not a terminal: no bar
    assert quiet.stderr.startswith("poolcli: 4 ok")


def test_two_processes_writing_one_directory_never_overwrite_each_other(tmp_path):
    for index in range(30):
        photo(tmp_path / "in" / f"{index:02d}.png", index, size=(64, 48))
    command = [
        sys.executable,
        "-m",
        "poolcli",
        "pool",
        "-r",
        "in",
        "-o",
        "out",
        "--json",
        "-j",
        "2",
    ]
    first, second = (
        subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(2)
    )
    records = []
    for process in (first, second):
        out, _ = process.communicate(timeout=120)
        records.append({json.loads(line)["input"]: json.loads(line) for line in out.splitlines()})
    names = [f"in/{index:02d}.png" for index in range(30)]
    for name in names:
        statuses = sorted(records[i][name]["status"] for i in (0, 1))
        assert statuses == ["error", "ok"]  # exactly one process wrote each file
        loser = next(records[i][name] for i in (0, 1) if records[i][name]["status"] == "error")
        assert loser["error"].endswith(
            "exists; pass --overwrite to replace it or --skip-existing to keep it"
        )
    assert tree(tmp_path / "out") == [f"{index:02d}.png" for index in range(30)]
    reference = run("-r", tmp_path / "in", "-o", tmp_path / "reference", "-j", "1")
    assert reference.exit_code == 0
    assert contents(tmp_path / "out") == contents(tmp_path / "reference")


def test_json_carries_the_bytes_of_a_name_that_is_not_utf8(tmp_path):
    import base64
    import os

    raw = b"caf\xe9.png"  # Latin-1: not UTF-8
    (tmp_path / "in").mkdir()
    Image.new("L", (4, 4), 9).save(os.path.join(os.fsencode(tmp_path / "in"), raw), "PNG")
    done = subprocess.run([sys.executable, "-m", "poolcli", "pool", "-r", "in", "-o", "out",
                           "--json"], cwd=tmp_path, capture_output=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    assert base64.b64decode(record["input_bytes"]) == b"in/" + raw
    assert base64.b64decode(record["output_bytes"]) == b"out/" + raw
    assert os.path.exists(os.path.join(os.fsencode(tmp_path), b"out/" + raw))
    Image.new("L", (4, 4), 9).save(tmp_path / "caf\u00e9.png")  # UTF-8: no bytes needed
    plain = subprocess.run([sys.executable, "-m", "poolcli", "pool", "caf\u00e9.png", "-o",
                            "o.png", "--json"], cwd=tmp_path, capture_output=True)  # fmt: skip
    assert json.loads(plain.stdout)["input"] == "caf\u00e9.png"
    assert b"_bytes" not in plain.stdout
