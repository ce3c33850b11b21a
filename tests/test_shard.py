"""``--shard I/N``: a stable partition of the planned inputs, the same on every machine."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from poolcli.batch import Rules
from poolcli.batch.jobs import Job, Result
from poolcli.batch.planning import Plan, plan
from poolcli.batch.sharding import Shard, select, shard_of
from poolcli.cli import cli
from poolcli.cli.options import ShardType
from poolcli.errors import FailureKind, ParameterError


def run(*args, input: bytes | None = None):
    return CliRunner().invoke(cli, ["pool", *map(str, args)], input=input, catch_exceptions=False)


def photo(path: Path, seed: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 256, (10, 12, 3), dtype=np.uint8)).save(path)


def files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


@pytest.fixture
def photos(tmp_path) -> Path:
    """30 photos in a small tree, with a name that is not UTF-8 and one with a space."""
    root = tmp_path / "photos"
    for index in range(24):
        photo(root / f"{index:02d}.png", index)
    photo(root / "trip" / "day 2" / "a.png", 40)
    photo(root / "trip" / "b.png", 41)
    photo(root / "trip" / "café.png", 42)
    photo(root / "z" / "c.png", 43)
    photo(root / "z" / "d.png", 44)
    photo(Path(os.fsdecode(bytes(root) + b"/z/bad\xffname.png")), 45)
    return root


# --- the hash ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "shards"),
    [
        ("a.png", [0, 0, 2, 0, 1, 672]),
        ("2024/a.jpg", [0, 1, 0, 3, 2, 439]),
        ("trip/day 2/d.webp", [0, 1, 0, 1, 0, 5]),
        ("café.png", [0, 0, 2, 0, 5, 504]),
        (os.fsdecode(b"bad\xffname.png"), [0, 1, 1, 1, 6, 977]),
        ("-", [0, 1, 1, 1, 6, 249]),
    ],
)
def test_shard_of_is_fixed_for_ever(key, shards):
    """Golden values: a change here would move files between shards of running arrays."""
    assert [shard_of(key, n) for n in (1, 2, 3, 4, 7, 1000)] == shards


@given(st.text(), st.integers(1, 10_000))
def test_shard_of_is_sha256_of_the_utf8_bytes(key, count):
    data = key.encode("utf-8", "surrogateescape")
    expected = int(hashlib.sha256(data).hexdigest()[:16], 16) % count
    assert shard_of(key, count) == expected


def test_shard_of_is_the_same_in_another_interpreter():
    """Not Python's salted hash(): a fresh process (new PYTHONHASHSEED) agrees."""
    keys = ["a.png", "trip/day 2/d.webp", "café.png"]
    code = f"from poolcli.batch.sharding import shard_of; print([shard_of(k, 7) for k in {keys!r}])"
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONHASHSEED": "12345"},
    )
    assert done.stdout.strip() == str([shard_of(key, 7) for key in keys])


# --- the partition ------------------------------------------------------------------------------


def plan_of(keys: list[str], problems: frozenset[int] = frozenset()) -> Plan:
    """A plan with one input per key (a problem at the given indices, else a job)."""
    jobs = [Job(i, f"in/{k}", f"out/{k}", "PNG") for i, k in enumerate(keys) if i not in problems]
    return Plan(
        jobs=jobs,
        problems=[Result.failing(i, FailureKind.INPUT, "bad") for i in sorted(problems)],
        sources=[f"in/{key}" for key in keys],
        targets={job.index: job.target for job in jobs},
        keys=list(keys),
    )


keys_strategy = st.lists(st.text(min_size=1, max_size=12), unique=True, max_size=60)


@given(keys_strategy, st.integers(1, 9), st.data())
def test_shards_partition_the_plan(keys, count, data):
    problems = data.draw(st.frozensets(st.integers(0, max(0, len(keys) - 1))))
    plan = plan_of(keys, problems & set(range(len(keys))))
    parts = [select(plan, Shard(index, count)) for index in range(count)]
    shared = [source for part in parts for source in part.sources]
    assert sorted(shared) == sorted(plan.sources)  # every input once: union, no overlap
    for part in parts:
        # renumbered 0..n-1 in plan order, every index a job or a problem, targets kept
        assert part.sources == [s for s in plan.sources if s in set(part.sources)]
        indices = sorted([job.index for job in part.jobs] + [p.index for p in part.problems])
        assert indices == list(range(part.total))
        for job in part.jobs:
            assert part.sources[job.index] == job.source
            assert part.targets[job.index] == job.target
        for problem in part.problems:
            assert part.sources[problem.index] in {plan.sources[p] for p in problems}


@given(keys_strategy, st.integers(1, 9), st.randoms(use_true_random=False))
def test_a_shard_does_not_depend_on_input_order_or_the_other_inputs(keys, count, random):
    shuffled = list(keys)
    random.shuffle(shuffled)
    fewer = shuffled[: len(shuffled) // 2]
    for index in range(count):
        shard = Shard(index, count)
        mine = set(select(plan_of(keys), shard).keys)
        assert set(select(plan_of(shuffled), shard).keys) == mine
        assert set(select(plan_of(fewer), shard).keys) == mine & set(fewer)


def test_one_shard_is_everything():
    plan = plan_of(["a", "b", "c"], frozenset({1}))
    assert select(plan, Shard(0, 1)) == plan


@pytest.mark.parametrize(
    ("index", "count", "message"),
    [
        (3, 3, "shard index 3 is out of range: with 3 shards it is 0 to 2 (0-based)"),
        (-1, 4, "shard index -1 is out of range: with 4 shards it is 0 to 3 (0-based)"),
        (0, 0, "shard count 0 must be at least 1"),
    ],
)
def test_shard_rejects(index, count, message):
    with pytest.raises(ParameterError, match=f"^{message.replace('(', '.').replace(')', '.')}$"):
        Shard(index, count)


@pytest.mark.parametrize(
    ("text", "shard"), [("0/1", Shard(0, 1)), ("3/8", Shard(3, 8)), (" 2 / 3 ", Shard(2, 3))]
)
def test_shard_type_parses(text, shard):
    assert ShardType().convert(text, None, None) == shard


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("3/3", "'3/3': shard index 3 is out of range: with 3 shards it is 0 to 2 (0-based)"),
        ("1/0", "'1/0': shard count 0 must be at least 1"),
        ("1", "'1' is not I/N (e.g. 0/4, the first of 4 shards)"),
        ("-1/4", "'-1/4' is not I/N (e.g. 0/4, the first of 4 shards)"),
        ("a/b", "'a/b' is not I/N (e.g. 0/4, the first of 4 shards)"),
    ],
)
def test_shard_type_rejects(text, message):
    import click

    with pytest.raises(click.BadParameter) as caught:
        ShardType().convert(text, None, None)
    assert caught.value.message == message


# --- the command line ---------------------------------------------------------------------------


def test_out_of_range_shard_is_a_usage_error(tmp_path, photos):
    result = run("-r", photos, "-o", tmp_path / "out", "--shard", "3/3")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == (
        "Error: Invalid value for '--shard': '3/3': shard index 3 is out of range: "
        "with 3 shards it is 0 to 2 (0-based)"
    )
    assert not (tmp_path / "out").exists()


def dry_run_outputs(*args) -> list[str]:
    result = run("-n", "--json", *args)
    assert result.exit_code == 0, result.stderr
    return [line["output"] for line in json_lines(result.stdout)]


def relative_outputs(out: Path, *args) -> list[str]:
    return [os.path.relpath(path, out) for path in dry_run_outputs(*args, "-o", out)]


def test_dry_run_shards_partition_the_batch_whatever_the_root_is_called(tmp_path, photos):
    out = tmp_path / "out"
    whole = relative_outputs(out, "-r", photos)
    assert len(whole) == 30
    copy = tmp_path / "elsewhere" / "mounted"
    shutil.copytree(photos, copy)
    (tmp_path / "link").symlink_to(photos)
    spellings = [photos, copy, tmp_path / "link", f"{tmp_path}/elsewhere/../photos/"]
    parts = []
    for index in range(3):
        shares = {
            tuple(relative_outputs(out, "-r", root, "--shard", f"{index}/3")) for root in spellings
        }
        assert len(shares) == 1  # the same share however the root is reached or called
        (share,) = shares
        assert 0 < len(share) < 30
        parts.append(share)
    assert sorted(name for part in parts for name in part) == sorted(whole)


def test_shards_are_stable_across_runs_and_input_order(tmp_path, photos):
    out = tmp_path / "out"
    a, b = photos / "trip", photos / "z"
    first = relative_outputs(out, "-r", a, b, "--shard", "1/2")
    again = relative_outputs(out, "-r", a, b, "--shard", "1/2")
    swapped = relative_outputs(out, "-r", b, a, "--shard", "1/2")
    assert first == again
    assert sorted(first) == sorted(swapped)


def test_named_files_shard_by_name_and_listed_files_by_relative_path(tmp_path, photos):
    named = [photos / f"{index:02d}.png" for index in range(24)]
    mine = dry_run_outputs(*named, "-o", tmp_path / "out", "--shard", "2/5")
    expected = [f"{i:02d}.png" for i in range(24) if shard_of(f"{i:02d}.png", 5) == 2]
    assert [os.path.basename(path) for path in mine] == expected
    listed = "\n".join(["z/c.png", "z/d.png", "trip/b.png", "./trip/day 2/a.png"]).encode()
    result = run(
        "-n", "--json", "--files-from", "-", "-o", tmp_path / "out", "--shard", "0/2",
        input=listed,
    )  # fmt: skip
    keys = ["z/c.png", "z/d.png", "trip/b.png", "trip/day 2/a.png"]
    assert [line["input"] for line in json_lines(result.stdout)] == [
        name for name in listed.decode().splitlines() if shard_of(os.path.normpath(name), 2) == 0
    ]
    assert {shard_of(key, 2) for key in keys} == {0, 1}  # both shards have some


def test_sharded_runs_together_write_what_one_run_writes(tmp_path, photos):
    whole = run("-r", photos, "-o", tmp_path / "whole", "-j", "1", "-m", "max")
    assert whole.exit_code == 0, whole.stderr
    counts = []
    for index in range(3):
        part = run(
            "-r", photos, "-o", tmp_path / "shared", "-j", "1", "-m", "max",
            "--shard", f"{index}/3", "--json",
        )  # fmt: skip
        assert part.exit_code == 0, part.stderr
        lines = json_lines(part.stdout)
        assert {line["status"] for line in lines} == {"ok"}
        counts.append(len(lines))
        # the summary covers the shard's share only
        assert part.stderr.startswith(f"poolcli: {len(lines)} ok, 0 skipped, 0 failed in ")
    assert sum(counts) == 30
    assert files(tmp_path / "shared") == files(tmp_path / "whole")


def test_problems_are_reported_by_one_shard_only(tmp_path, photos):
    reports = []
    for index in range(4):
        result = run(photos / "trip", photos / "z" / "c.png", "-o", tmp_path / "out",
                     "-n", "--json", "--shard", f"{index}/4")  # fmt: skip
        reports.append((result.exit_code, json_lines(result.stdout)))
    problems = [
        (code, lines) for code, lines in reports if any(x["status"] == "error" for x in lines)
    ]
    assert len(problems) == 1
    code, lines = problems[0]
    assert code == 1
    assert [x["error"] for x in lines if x["status"] == "error"] == [
        "is a directory; pass -r to pool the files under it"
    ]
    assert sum(len(lines) for _, lines in reports) == 2


def test_an_empty_shard_says_so_and_writes_nothing(tmp_path, photos):
    source = photos / "00.png"
    other = next(i for i in range(4) if shard_of("00.png", 4) != i)
    result = run(source, "-o", tmp_path / "out", "--shard", f"{other}/4")
    assert result.exit_code == 0
    assert result.stderr == f"poolcli: shard {other}/4 has none of the 1 input(s)\n"
    assert not (tmp_path / "out").exists()


def test_verbose_names_the_share(tmp_path, photos):
    result = run("-r", photos, "-o", tmp_path / "out", "-v", "-j", "1", "--shard", "0/3")
    share = len(select(plan([str(photos)], Rules(recursive=True)), Shard(0, 3)).jobs)
    assert result.exit_code == 0, result.stderr
    assert f"poolcli: shard 0/3: {share} of 30 input(s)\n" in result.stderr
