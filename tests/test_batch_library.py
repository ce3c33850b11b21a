"""A batch from Python: :func:`poolcli.run_batch` does what ``poolcli pool`` does, without click."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from poolcli import BatchRequest, PoolSettings, run_batch
from poolcli.batch import Existing, Status
from poolcli.errors import FailureKind, ParameterError


def photos(root: Path, count: int, size=(14, 10)) -> None:
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(5)
    for index in range(count):
        pixels = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
        Image.fromarray(pixels).save(root / f"{index}.png")


def request(tmp_path: Path, **changes) -> BatchRequest:
    values = dict(
        inputs=[str(tmp_path / "in")],
        recursive=True,
        output=str(tmp_path / "out"),
        settings=PoolSettings.make(2, mode="max"),
        workers=1,
    )
    return BatchRequest(**{**values, **changes})


def run(batch_request: BatchRequest) -> list:
    with run_batch(batch_request) as batch:
        return list(batch)


@pytest.mark.parametrize("workers", [1, 2])
def test_a_batch_pools_every_file_in_input_order(tmp_path, workers):
    photos(tmp_path / "in", 5)
    arrived = []
    with run_batch(request(tmp_path, workers=workers), arrived=arrived.append) as batch:
        outcomes = list(batch)
    assert [o.relative for o in outcomes] == [f"{i}.png" for i in range(5)]
    assert [o.result.status for o in outcomes] == [Status.OK] * 5
    assert sorted(r.index for r in arrived) == list(range(5))  # every result, as it came
    assert batch.tally.done == 5
    assert batch.tally.failed == 0
    for outcome in outcomes:
        with Image.open(outcome.source) as source, Image.open(outcome.target) as pooled:
            expected = np.asarray(source).reshape(5, 2, 7, 2, 3).max(axis=(1, 3))
            np.testing.assert_array_equal(np.asarray(pooled), expected)


def test_paths_may_be_pathlib_paths_and_take_the_same_route_as_strings(tmp_path):
    photos(tmp_path / "in", 2)
    (tmp_path / "list.txt").write_text(str(tmp_path / "in" / "1.png") + "\n")
    as_paths = request(tmp_path, inputs=[tmp_path / "in" / "0.png"], recursive=False,
                       files_from=tmp_path / "list.txt", output=tmp_path / "out")  # fmt: skip
    assert as_paths.inputs == (str(tmp_path / "in" / "0.png"),)
    assert (as_paths.output, as_paths.files_from) == (
        str(tmp_path / "out"),
        str(tmp_path / "list.txt"),
    )
    outcomes = run(as_paths)
    assert [o.result.status for o in outcomes] == [Status.OK] * 2
    # a TIFF that Pillow misreads goes to tifffile from a Path as from a str
    corpus = Path(__file__).parent / "corpus" / "minisblack-2c-8b-alpha.tiff"
    single = request(tmp_path, inputs=[corpus], recursive=False, output=tmp_path / "a.png")
    assert [o.result.status for o in run(single)] == [Status.OK]
    with Image.open(tmp_path / "a.png") as pooled:
        assert np.asarray(pooled)[..., 1].max() > 0  # its real alpha, not Pillow's zeros


def test_a_batch_runs_without_click(tmp_path):
    photos(tmp_path / "in", 2)
    probe = (
        "import sys\n"
        "from poolcli import BatchRequest, run_batch\n"
        f"request = BatchRequest([{str(tmp_path / 'in')!r}], recursive=True, "
        f"output={str(tmp_path / 'out')!r}, workers=2)\n"
        "with run_batch(request) as batch:\n"
        "    print(*(str(outcome.result.status) for outcome in batch))\n"
        "print('click' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.stdout.split() == ["ok", "ok", "False"], done.stderr


def test_failures_carry_their_kind(tmp_path):
    photos(tmp_path / "in", 3)
    (tmp_path / "in" / "1.png").write_bytes(b"not a picture")
    (tmp_path / "out").mkdir()
    Image.new("RGB", (4, 4)).save(tmp_path / "out" / "2.png")  # exists already
    outcomes = run(request(tmp_path))
    kinds = [o.result.failure.kind if o.result.failure else None for o in outcomes]
    assert kinds == [None, FailureKind.INPUT, FailureKind.EXISTS]
    assert outcomes[2].result.error == (
        f"{tmp_path / 'out' / '2.png'} exists; pass existing='overwrite' to replace it "
        "or existing='skip' to keep it"
    )
    skipped = run(request(tmp_path, existing="skip"))
    assert [o.result.status for o in skipped] == [Status.SKIPPED, Status.ERROR, Status.SKIPPED]
    limited = run(request(tmp_path, existing=Existing.OVERWRITE, read=_read(max_pixels=100)))
    assert limited[0].result.failure.kind is FailureKind.LIMIT


def _read(**options):
    from poolcli.images import ReadOptions

    return ReadOptions(**options)


def test_a_bug_is_a_failure_of_its_own_kind_with_its_traceback(tmp_path, monkeypatch):
    import poolcli.batch.jobs as jobs

    photos(tmp_path / "in", 2)

    def broken(*args, **kwargs):
        message = "a poolcli bug"
        raise RuntimeError(message)

    monkeypatch.setattr(jobs, "convert", broken)
    outcomes = run(request(tmp_path))
    assert {o.result.failure.kind for o in outcomes} == {FailureKind.BUG}
    assert all("RuntimeError: a poolcli bug" in o.result.traceback for o in outcomes)


def test_fail_fast_stops_at_the_first_failure(tmp_path):
    photos(tmp_path / "in", 4)
    (tmp_path / "in" / "1.png").write_bytes(b"broken")
    with run_batch(request(tmp_path, fail_fast=True)) as batch:
        outcomes = list(batch)
    assert [o.result.status for o in outcomes] == [Status.OK, Status.ERROR]
    assert batch.stopped_early
    assert "2 not done" in batch.summary()


def test_a_dry_run_plans_from_headers_and_writes_nothing(tmp_path):
    photos(tmp_path / "in", 2, size=(15, 9))
    outcomes = run(request(tmp_path, dry_run=True, settings=PoolSettings.make(2, ceil_mode=True)))
    assert [(o.result.status, o.result.out_size) for o in outcomes] == [
        (Status.PLANNED, (8, 5)),
        (Status.PLANNED, (8, 5)),
    ]
    assert not (tmp_path / "out").exists()


def test_requests_that_cannot_work_are_refused_before_anything_runs(tmp_path):
    photos(tmp_path / "in", 1)
    with pytest.raises(ParameterError, match="^no inputs: name files"):
        BatchRequest([])
    with pytest.raises(ParameterError, match="executor='dask' needs scheduler=ADDRESS"):
        BatchRequest(["a.png"], executor="dask")
    with pytest.raises(ParameterError, match="^workers sets local worker processes"):
        BatchRequest(["a.png"], executor="dask", scheduler="tcp://x:8786", workers=2)
    with pytest.raises(ParameterError, match="kernel 1000000000 with repeat 1 needs an image"):
        BatchRequest(["a.png"], settings=PoolSettings.make(10**9))
    (tmp_path / "other").mkdir()
    shutil.copy(tmp_path / "in" / "0.png", tmp_path / "other" / "0.png")
    twins = [str(tmp_path / "in" / "0.png"), str(tmp_path / "other" / "0.png")]
    with pytest.raises(ParameterError, match="would both be written to"):
        run_batch(BatchRequest(twins, output=str(tmp_path / "o")))
    with pytest.raises(ParameterError, match=r"^output='-' \(stdout\) takes one input, got 2"):
        run_batch(request(tmp_path, inputs=["a.png", "b.png"], recursive=False, output="-"))
