"""``poolcli pool --executor dask`` on a real ``distributed.LocalCluster`` (127.0.0.1, two
worker processes of one thread): the same bytes, lines and exit codes as local runs;
workers killed mid-batch lose and corrupt nothing; clear one-line errors.

The cluster runs in a helper process (so this one starts no threads: local-executor
tests fork their workers), shared by the module, and stops when its stdin closes or
after :data:`LIFETIME` seconds. Its workers preload :data:`SABOTAGE`, which kills a
worker on purpose for files with certain names.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytestmark = [
    pytest.mark.skipif(
        importlib.util.find_spec("distributed") is None,
        reason="needs Dask's distributed: pip install -e '.[test]' (or poolcli[dask])",
    ),
    pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals"),
]

#: Seconds after which the helper stops its cluster whatever happens.
LIFETIME = 240

CLUSTER = """
import json, os, sys
import dask
from distributed import Client, LocalCluster

if __name__ == "__main__":
    # a task on two dying workers is retried; a third is KilledWorker (keeps that test short)
    dask.config.set({"distributed.scheduler.allowed-failures": 2})
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None, preload=[sys.argv[1]]) as cluster, \\
            Client(cluster, set_as_default=False) as client:
        print(json.dumps({"address": cluster.scheduler_address}), flush=True)
        for command in sys.stdin:  # "pids": the worker processes now; EOF: stop
            client.wait_for_workers(2, timeout=30)
            print(json.dumps(sorted(client.run(os.getpid).values())), flush=True)
"""

SABOTAGE = """
# Kills this worker (SIGKILL, as the OOM killer would) on files named for it: once
# per file while writing, once per file just after publishing, or every time.
import os, signal
import poolcli.batch.jobs as jobs

MARKERS = os.environ["POOLCLI_TEST_MARKERS"]
# Dask may run a preload more than once in a process: wrap the originals only
real_convert = jobs.__dict__.setdefault("real_convert", jobs.convert)
real_write = jobs.__dict__.setdefault("real_write", jobs.write_atomically)

def die_once(path):
    marker = os.path.join(MARKERS, os.path.basename(path))
    if not os.path.exists(marker):
        open(marker, "w").close()
        os.kill(os.getpid(), signal.SIGKILL)

def convert(source, *args, **kwargs):
    name = os.path.basename(str(source))
    if name.startswith("die-while-writing"):
        die_once(source)  # the temporary file is open: the retry must clear it
    if name.startswith("die-always"):
        os.kill(os.getpid(), signal.SIGKILL)
    return real_convert(source, *args, **kwargs)

def write_atomically(target, write, **kwargs):
    published = real_write(target, write, **kwargs)
    if os.path.basename(target).startswith("die-after-publishing"):
        die_once(target)  # the output exists, but the result never left
    return published

jobs.convert, jobs.write_atomically = convert, write_atomically
"""


class Cluster:
    def __init__(self, process: subprocess.Popen, address: str) -> None:
        self.process = process
        self.address = address

    def worker_pids(self) -> list[int]:
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.process.stdin.write("pids\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())


@pytest.fixture(scope="module")
def cluster(tmp_path_factory) -> Cluster:
    home = tmp_path_factory.mktemp("cluster")
    (home / "cluster.py").write_text(CLUSTER)
    (home / "sabotage.py").write_text(SABOTAGE)
    (home / "markers").mkdir()
    env = {**os.environ, "POOLCLI_TEST_MARKERS": str(home / "markers")}
    process = subprocess.Popen(
        ["timeout", str(LIFETIME), sys.executable, "cluster.py", str(home / "sabotage.py")],
        cwd=home,  # not the batches' directory: paths must reach workers absolute
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        text=True, env=env,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first, "the LocalCluster did not start"
        yield Cluster(process, json.loads(first)["address"])
    finally:
        assert process.stdin is not None
        process.stdin.close()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()


def poolcli(*args, cwd: Path, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "poolcli", "pool", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=120, **kwargs)  # fmt: skip


def start(*args, cwd: Path) -> subprocess.Popen:
    """poolcli in the background; timeout(1) passes signals on and ends a hung run."""
    command = ["timeout", "120", sys.executable, "-m", "poolcli", "pool", *map(str, args)]
    return subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)  # fmt: skip


def photo(path: Path, seed: int, size=(40, 30)) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)).save(path)


def files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def hidden(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob(".*"))


def lines(stdout: str) -> list[dict]:
    records = [json.loads(line) for line in stdout.splitlines()]
    for record in records:
        record.pop("seconds")
    return records


def without_timing(stderr: str) -> str:
    return stderr.rsplit(" in ", 1)[0]


# --- same results as the local executor ---------------------------------------------------------


def test_a_directory_pools_to_the_same_bytes_lines_and_status_as_local(tmp_path, cluster):
    work = tmp_path / "batch"
    for index in range(14):
        photo(work / "in" / f"{index:02d}.png", index)
    photo(work / "in" / "jpegs" / "a.jpg", 20, size=(64, 48))
    photo(work / "in" / "webp" / "b.webp", 21)
    (work / "in" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    args = ["-r", "in", "--json", "-m", "median", "-k", "3"]  # relative paths on purpose
    local = poolcli(*args, "-o", "local", "-j", "2", cwd=work)
    dask = poolcli(*args, "-o", "dask", "--executor", "dask", "--scheduler", cluster.address,
                   cwd=work)  # fmt: skip
    assert local.returncode == dask.returncode == 1  # the broken file
    assert len(files(work / "dask")) == 16
    assert files(work / "dask") == files(work / "local")
    assert lines(dask.stdout) == [
        {**record, "output": record["output"] and record["output"].replace("local", "dask", 1)}
        for record in lines(local.stdout)
    ]
    assert without_timing(dask.stderr) == without_timing(local.stderr).replace("local/", "dask/")
    assert dask.stderr.splitlines()[-1].startswith("poolcli: 16 ok, 0 skipped, 1 failed in ")
    assert hidden(work) == []

    # outputs that exist are refused, skipped or replaced as locally
    again = poolcli(*args, "-o", "dask", "--executor", "dask", "--scheduler", cluster.address,
                    "--skip-existing", cwd=work)  # fmt: skip
    assert again.returncode == 1, again.stderr
    assert [record["status"] for record in lines(again.stdout)] == [
        "error" if record["status"] == "error" else "skipped" for record in lines(local.stdout)
    ]
    refused = poolcli("in/00.png", "-o", "dask/00.png", "--executor", "dask",
                      "--scheduler", cluster.address, cwd=work)  # fmt: skip
    assert refused.returncode == 1
    assert refused.stderr == (
        "poolcli: in/00.png: dask/00.png exists; "
        "pass --overwrite to replace it or --skip-existing to keep it\n"
    )


def test_shards_on_the_cluster_add_up_to_the_whole_batch(tmp_path, cluster):
    for index in range(10):
        photo(tmp_path / "in" / f"{index}.png", index)
    whole = poolcli("-r", "in", "-o", "whole", "-j", "1", "-q", cwd=tmp_path)
    assert whole.returncode == 0, whole.stderr
    scheduler_file = tmp_path / "scheduler.json"  # as 'dask scheduler --scheduler-file' writes
    scheduler_file.write_text(json.dumps({"address": cluster.address}))
    for index in range(2):
        part = poolcli("-r", "in", "-o", "parts", "--shard", f"{index}/2", "--executor", "dask",
                       "--scheduler", scheduler_file, cwd=tmp_path)  # fmt: skip
        assert part.returncode == 0, part.stderr
    assert files(tmp_path / "parts") == files(tmp_path / "whole")


# --- workers that die -----------------------------------------------------------------------------


def test_workers_killed_while_writing_and_after_publishing_lose_nothing(tmp_path, cluster):
    names = [f"{i:02d}.png" for i in range(10)]
    names += ["die-while-writing.png", "die-after-publishing.png"]
    for seed, name in enumerate(names):
        photo(tmp_path / "in" / name, seed)
        photo(tmp_path / "reference-in" / name, seed)
    reference = poolcli("-r", "reference-in", "-o", "reference", "-j", "1", cwd=tmp_path)
    assert reference.returncode == 0, reference.stderr
    done = poolcli("-r", "in", "-o", "out", "--json", "--executor", "dask",
                   "--scheduler", cluster.address, cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert [(r["input"], r["status"]) for r in lines(done.stdout)] == [
        (f"in/{name}", "ok") for name in sorted(names)
    ]
    assert files(tmp_path / "out") == files(tmp_path / "reference")
    assert hidden(tmp_path / "out") == []  # no claim, no temporary file of the dead attempts
    retried = "its first Dask worker died; it ran again on another"
    for name in ("die-while-writing.png", "die-after-publishing.png"):
        assert f"poolcli: in/{name}: {retried}\n" in done.stderr
    published = next(r for r in lines(done.stdout) if "publishing" in r["input"])
    assert (published["in_size"], published["out_size"]) == ([40, 30], [20, 15])


def test_a_file_that_keeps_killing_workers_fails_alone(tmp_path, cluster):
    for index in range(5):
        photo(tmp_path / "in" / f"{index}.png", index)
    photo(tmp_path / "in" / "die-always.png", 9)
    done = poolcli("-r", "in", "-o", "out", "--executor", "dask",
                   "--scheduler", cluster.address, cwd=tmp_path)  # fmt: skip
    assert done.returncode == 1
    assert (
        "poolcli: in/die-always.png: the Dask workers running this file kept dying "
        "(KilledWorker); if memory ran out, give the workers more or lower --max-pixels\n"
    ) in done.stderr
    assert done.stderr.splitlines()[-1].startswith("poolcli: 5 ok, 0 skipped, 1 failed in ")
    assert sorted(files(tmp_path / "out")) == [f"{index}.png" for index in range(5)]
    assert hidden(tmp_path / "out") == []


def test_a_worker_killed_from_outside_mid_batch_loses_and_corrupts_nothing(tmp_path, cluster):
    count = 24
    for index in range(count):
        photo(tmp_path / "in" / f"{index:02d}.png", index, size=(256, 256))
    slow = ["-m", "median", "-k", "5", "-s", "1"]  # a few tenths of a second per file
    reference = poolcli("-r", "in", "-o", "reference", "-j", "2", *slow, cwd=tmp_path)
    assert reference.returncode == 0, reference.stderr
    with start("-r", "in", "-o", "out", "--json", "--executor", "dask",
               "--scheduler", cluster.address, *slow, cwd=tmp_path) as process:  # fmt: skip
        assert process.stdout is not None
        assert process.stderr is not None
        first = process.stdout.readline()
        assert '"status": "ok"' in first
        os.kill(cluster.worker_pids()[0], signal.SIGKILL)  # busy: tasks are queued for both
        rest = process.stdout.read()  # not communicate(): readline() may have read ahead
        errors = process.stderr.read()
    assert process.returncode == 0, errors
    records = lines(first + rest)
    assert [r["input"] for r in records] == [f"in/{index:02d}.png" for index in range(count)]
    assert {r["status"] for r in records} == {"ok"}
    assert files(tmp_path / "out") == files(tmp_path / "reference")
    assert hidden(tmp_path / "out") == []
    assert len(cluster.worker_pids()) == 2  # the nanny restarted it, for the next tests


def test_ctrl_c_cancels_the_rest_and_leaves_nothing_partial(tmp_path, cluster):
    count = 24
    for index in range(count):
        photo(tmp_path / "in" / f"{index:02d}.png", index, size=(256, 256))
    slow = ["-m", "median", "-k", "5", "-s", "1"]
    with start("-r", "in", "-o", "out", "--json", "--executor", "dask",
               "--scheduler", cluster.address, *slow, cwd=tmp_path) as process:  # fmt: skip
        assert process.stdout is not None
        assert '"status": "ok"' in process.stdout.readline()
        process.send_signal(signal.SIGINT)
        _, errors = process.communicate(timeout=60)
    assert process.returncode == 130, errors
    assert "poolcli: interrupted; " in errors
    assert "Traceback" not in errors
    # tasks already running finish their file through the atomic writer, then stop
    for _ in range(100):
        if not hidden(tmp_path / "out"):
            break
        time.sleep(0.1)
    assert hidden(tmp_path / "out") == []
    written = len(files(tmp_path / "out"))
    assert 1 <= written < count
    resumed = poolcli("-r", "in", "-o", "out", "--skip-existing", "--executor", "dask",
                      "--scheduler", cluster.address, *slow, cwd=tmp_path)  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    assert f"poolcli: {count - written} ok, {written} skipped, 0 failed" in resumed.stderr
    reference = poolcli("-r", "in", "-o", "reference", "-j", "2", *slow, cwd=tmp_path)
    assert reference.returncode == 0, reference.stderr
    assert files(tmp_path / "out") == files(tmp_path / "reference")


def test_fail_fast_cancels_the_rest_and_leaves_nothing_behind(tmp_path, cluster):
    for index in range(30):
        photo(tmp_path / "in" / f"{index:02d}.png", index)
    (tmp_path / "in" / "03.png").write_bytes(b"not an image")
    done = poolcli("-r", "in", "-o", "out", "--fail-fast", "--executor", "dask",
                   "--scheduler", cluster.address, cwd=tmp_path)  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.splitlines()[:2] == [
        "poolcli: in/03.png: not an image Pillow can read, nor a .npy/.npz array",
        "poolcli: stopped at the first failure (--fail-fast)",
    ]
    assert " not done in " in done.stderr.splitlines()[2]
    # The stop waits up to 2 s for tasks already running, then sweeps; on a loaded
    # machine a task can outlast that, and then its own atomic writer cleans up when
    # it ends. Either way nothing hidden may remain once the workers are idle.
    leftovers = hidden(tmp_path / "out")
    for _ in range(100):
        if not leftovers:
            break
        time.sleep(0.1)
        leftovers = hidden(tmp_path / "out")
    assert leftovers == []
    for path in (tmp_path / "out").iterdir():  # any output there is whole
        with Image.open(path) as image:
            image.load()


# --- errors -------------------------------------------------------------------------------------


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_unreachable_scheduler_is_one_line_and_exit_2(tmp_path):
    photo(tmp_path / "in" / "a.png", 1)
    address = f"tcp://127.0.0.1:{closed_port()}"
    done = poolcli("-r", "in", "-o", "out", "--executor", "dask", "--scheduler", address,
                   "--scheduler-timeout", "0.5", cwd=tmp_path)  # fmt: skip
    assert done.returncode == 2
    assert done.stderr == (
        f"poolcli: error: cannot reach the Dask scheduler at {address} (timed out after 0.5 s); "
        "start one with 'dask scheduler' or check --scheduler\n"
    )
    assert not (tmp_path / "out").exists()


def test_a_scheduler_file_that_never_appears_is_one_line_and_exit_2(tmp_path):
    photo(tmp_path / "in" / "a.png", 1)
    done = poolcli("-r", "in", "--executor", "dask", "--scheduler", "sched.json",
                   "--scheduler-timeout", "0.3", cwd=tmp_path)  # fmt: skip
    assert done.returncode == 2
    assert done.stderr == (
        "poolcli: error: no Dask scheduler file at sched.json after 0.3 s; "
        "start one with 'dask scheduler --scheduler-file sched.json' or check --scheduler\n"
    )


def test_a_malformed_address_is_one_line_and_exit_2(tmp_path):
    photo(tmp_path / "in" / "a.png", 1)
    done = poolcli("-r", "in", "--executor", "dask", "--scheduler", "tcp://127.0.0.1",
                   cwd=tmp_path)  # fmt: skip
    assert done.returncode == 2
    assert done.stderr == (
        "poolcli: error: --scheduler 'tcp://127.0.0.1' is not a Dask scheduler address "
        "(missing port number in address '127.0.0.1'); "
        "give tcp://HOST:PORT (8786 by default) or a scheduler file\n"
    )


def test_without_the_extra_the_error_names_the_install_command(tmp_path):
    photo(tmp_path / "in" / "a.png", 1)
    probe = (
        "import sys, runpy\n"
        "sys.modules['distributed'] = None  # as if poolcli[dask] were not installed\n"
        "sys.argv = ['poolcli', 'pool', '-r', 'in', '--executor', 'dask',\n"
        "            '--scheduler', 'tcp://127.0.0.1:8786']\n"
        "runpy.run_module('poolcli', run_name='__main__')\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True,
                          text=True, timeout=60)  # fmt: skip
    assert done.returncode == 2
    assert done.stderr == (
        "poolcli: error: --executor dask needs Dask's distributed scheduler: "
        "pip install 'poolcli[dask]'\n"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scheduler", "tcp://127.0.0.1:8786"],
         "--scheduler is for --executor dask: add --executor dask, or drop --scheduler"),
        (["--executor", "dask"],
         "--executor dask needs --scheduler ADDRESS (or DASK_SCHEDULER_ADDRESS), "
         "e.g. tcp://scheduler-host:8786"),
        (["--executor", "dask", "--scheduler", "h:1", "-j", "2"],
         "-j sets local worker processes; with --executor dask the cluster's workers run the "
         "jobs (size them with 'dask worker --nworkers N --nthreads 1')"),
        (["--executor", "dask", "--scheduler", "h:1", "-o", "-", "--format", "png"],
         "--executor dask runs the jobs on other machines, which cannot read this stdin or "
         "write this stdout: name files, or use --executor local"),
    ],
)  # fmt: skip
def test_executor_usage_errors(tmp_path, monkeypatch, args, message):
    from click.testing import CliRunner

    from poolcli.cli import cli

    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
    photo(tmp_path / "a.png", 1)
    result = CliRunner().invoke(cli, ["pool", str(tmp_path / "a.png"), *args])
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == f"Error: {message}"


def test_the_environment_names_the_scheduler_but_never_moves_a_run(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from poolcli.cli import cli

    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", f"tcp://127.0.0.1:{closed_port()}")
    photo(tmp_path / "a.png", 1)
    result = CliRunner().invoke(
        cli, ["pool", str(tmp_path / "a.png"), "-o", str(tmp_path / "b.png")]
    )
    assert result.exit_code == 0, result.stderr  # local: the variable is only for --executor dask
    assert (tmp_path / "b.png").exists()


def test_a_dry_run_never_contacts_the_scheduler(tmp_path):
    photo(tmp_path / "in" / "a.png", 1)
    done = poolcli("-r", "in", "-n", "--executor", "dask",
                   "--scheduler", f"tcp://127.0.0.1:{closed_port()}", cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("in/a.png -> pooled/a.png: 40x30 -> 20x15")


def test_help_shows_the_scale_options_with_examples():
    from click.testing import CliRunner

    from poolcli.cli import cli

    text = CliRunner().invoke(cli, ["pool", "--help"]).stdout
    for needle in (
        "--shard I/N",
        "--executor [local|dask]",
        "--scheduler ADDRESS",
        "DASK_SCHEDULER_ADDRESS",
        'poolcli pool -r photos -o thumbs --shard "$SLURM_ARRAY_TASK_ID/8"',
        "--executor dask --scheduler tcp://head:8786",
    ):
        assert needle in text


def test_one_huge_input_is_split_into_zarr_bands_on_the_workers(cluster, tmp_path):
    """A streamed TIFF into Zarr: bands of whole chunk rows pooled by the workers, the
    store equal to a local run's, chunk for chunk."""
    import tifffile
    import zarr

    rng = np.random.default_rng(4)
    x = rng.integers(0, 65535, (1500, 700), dtype=np.uint16)
    tifffile.imwrite(tmp_path / "big.tif", x, tile=(64, 64), compression="zlib")
    args = ("-k", "3", "-s", "2", "-p", "1", "-m", "avg", "--ceil-mode", "--memory", "64K")
    on_cluster = poolcli(tmp_path / "big.tif", "-o", tmp_path / "cluster.zarr", *args,
                         "--executor", "dask", "--scheduler", cluster.address, "-v",
                         cwd=tmp_path)  # fmt: skip
    assert on_cluster.returncode == 0, on_cluster.stderr
    assert "bands on the cluster" in on_cluster.stderr
    local = poolcli(tmp_path / "big.tif", "-o", tmp_path / "local.zarr", *args, cwd=tmp_path)
    assert local.returncode == 0, local.stderr
    a, b = (
        zarr.open(tmp_path / "cluster.zarr", mode="r"),
        zarr.open(tmp_path / "local.zarr", mode="r"),
    )
    assert np.array_equal(a[...], b[...])
    assert a.chunks == b.chunks
    assert files(tmp_path / "cluster.zarr") == files(tmp_path / "local.zarr")
    assert hidden(tmp_path) == []


def test_the_event_loops_callback_tracebacks_stay_silent_after_distributed_loads():
    # distributed sets tornado's and its own log levels when first imported, so
    # quieting them before that import let a Ctrl-C print tornado's traceback of
    # distributed's cancel callback (a NameError inside distributed.utils.sync)
    probe = (
        "import logging, sys\n"
        "from poolcli.cli.app import quiet_cluster_logs\n"
        "quiet_cluster_logs()\n"
        "import distributed\n"
        "try:\n"
        "    raise NameError('future')\n"
        "except NameError:\n"
        "    logging.getLogger('tornado.application').exception('Exception in callback')\n"
        "logging.getLogger('distributed.client').error('lost the scheduler')\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
