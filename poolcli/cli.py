"""poolcli's command line: ``poolcli pool`` and ``poolcli info``.

Click only: parse and check options (:mod:`poolcli.options`), call the batch layer,
print what it reports, exit with an :class:`ExitStatus`. NumPy and Pillow are
imported inside the commands, so ``--help`` and ``--version`` answer at once.

stdout carries data only (image bytes, ``--json`` lines, ``info`` and
``--dry-run`` output); everything else goes to stderr, one line per message, each
starting with ``poolcli:``. A file's problem reads ``poolcli: FILE: message``.
"""

from __future__ import annotations

import itertools
import logging
import os
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from enum import IntEnum
from typing import Any, NoReturn

import click

from . import __version__, options
from .choices import DEFAULT_LAYOUT
from .errors import PoolcliError

#: Set when a run used this machine only: its worker processes (if any) are joined
#: when it ends, and a fork server ends with this process's pipes, so the process
#: may end without Python's teardown (see :func:`poolcli.launch.main`).
quick_exit = False


class ExitStatus(IntEnum):
    """How ``poolcli`` exits."""

    OK = 0
    #: One or more inputs failed (the others were done); also an internal error.
    INPUT_FAILED = 1
    #: Bad usage: options, or a plan that cannot work. Nothing was read or written.
    USAGE = 2
    #: Ctrl-C or SIGTERM; no partial output was left.
    INTERRUPTED = 130


CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}

JSON_KEYS_HELP = """\b
With --json, each file gives one line on stdout:
  {"input": ..., "output": ..., "status": "ok" | "error" | "skipped",
   "error": null | "message", "in_size": [w, h], "out_size": [w, h],
   "frames": n, "seconds": s}
(--dry-run: status "planned".)"""


@click.group(context_settings=CONTEXT)
@click.version_option(
    __version__, "-V", "--version", prog_name="poolcli", message="%(prog)s %(version)s"
)
def cli() -> None:
    """Downsample images and feature maps by pooling (max, min, avg, sum, lp, rms,
    median, mode), exactly as PyTorch's pooling layers do.

    Run 'poolcli COMMAND --help' for a command's options.

    \b
    Example:
      poolcli pool photo.jpg -o small.jpg
      poolcli pool -r photos -o thumbs -k 4
      poolcli info scan.tif

    \b
    Shell completion (bash; zsh and fish likewise with zsh_source, fish_source):
      eval "$(_POOLCLI_COMPLETE=bash_source poolcli)"
    """


@cli.command(epilog=options.modes_epilog() + "\n\n" + JSON_KEYS_HELP)
@click.argument("inputs", nargs=-1, metavar="[INPUT]...")
@click.option(
    "-o", "--output", metavar="OUT", default=None,
    help="A file (one input), a directory (mirrors the inputs), or - for stdout"
    "  [default: ./pooled/]",
)  # fmt: skip
@options.pool_options
@options.read_options
@options.write_options
@options.input_options
@options.run_options
@options.scale_options
@options.report_options
@click.pass_context
def pool(ctx: click.Context, inputs: tuple[str, ...], output: str | None, **params: Any) -> None:
    """Pool each INPUT into a smaller image (or array) of the same kind.

    INPUT is a file, a directory (with -r), or - for stdin. Outputs go to -o: a
    file for one input, a directory that mirrors the input tree, or - for stdout
    (needs --format; never a terminal). Without -o, outputs go to ./pooled/
    mirroring the inputs, so an input is never overwritten and a second run names
    the same files; stdin goes to stdout. Existing outputs are refused unless
    --overwrite or --skip-existing.

    Sizes are WIDTH x HEIGHT, as in --size and ImageMagick geometry: -k 3x2 is a
    window 3 pixels wide and 2 tall; -k 2 is 2x2.

    In directories, files are found by extension (what Pillow reads, plus .npy and
    .npz), hidden ones skipped and the output directory never read back; a file
    named on the command line is always tried. --files-from keeps each listed
    relative path under -o DIR; a named file keeps its name. The output has the
    input's format and name unless --format (or -o FILE's extension) says otherwise.

    A bad file is reported and the batch goes on. Exit status: 0 all done, 1 some
    input failed, 2 bad usage, 130 interrupted (no partial outputs are left).

    Beyond one machine: --shard I/N pools share I (0-based) of N, split by a
    stable hash of each input's path under its root (a named file: its name), so
    N runs with the same inputs (a Slurm array, N machines) cover every input
    exactly once. --executor dask runs the files on a Dask cluster's workers
    (--scheduler ADDRESS), which must see the inputs and -o at the same paths;
    an unreachable scheduler exits 2. --dry-run never contacts the scheduler.

    \b
    Example:
      poolcli pool photo.jpg -o small.jpg
      poolcli pool -r photos -o thumbs -k 4 --include '*.jpg'
      poolcli pool mask.png -m mode -k 3x2 -o mask_small.png
      poolcli pool scan.tif --size 1024x -o preview.png
      cat in.png | poolcli pool - -o - --format png > out.png
      find . -name '*.tif' -print0 | poolcli pool --files-from - -0 -o out -j 4
      poolcli pool -r photos -o thumbs --skip-existing --json > log.jsonl
      poolcli pool -r photos -o thumbs --shard "$SLURM_ARRAY_TASK_ID/8"
      poolcli pool -r /shared/photos -o /shared/thumbs --executor dask --scheduler tcp://head:8786
    """
    scheduler_named = (
        ctx.get_parameter_source("scheduler") is click.core.ParameterSource.COMMANDLINE
    )
    with _clean_errors(params["show_traceback"]), _interruptible():
        status = _pool(inputs, output, params, scheduler_named=scheduler_named)
    ctx.exit(status)


@cli.command()
@click.argument("inputs", nargs=-1, metavar="INPUT...", required=True)
@options.recursive
@options.include
@options.exclude
@options.follow_symlinks
@options.pool_options
@options.layout
@options.max_pixels
@options.json_lines
@options.traceback
@click.pass_context
def info(
    ctx: click.Context, inputs: tuple[str, ...], as_json: bool, show_traceback: bool, **params: Any
) -> None:
    """Describe each INPUT from its headers: format, mode, size, frames, dtype and
    the metadata present. With pool options (-k, --size, ...), also the size the
    output would have. Pixels are not decoded.

    Output goes to stdout: lines for people, or with --json one object per file
    (keys input, status, error, format, mode, size, frames, dtype, metadata,
    planes, and out_size when pool options are given). Exit status 1 if an input
    could not be read.

    \b
    Example:
      poolcli info photo.jpg
      poolcli info -r scans --json
      poolcli info big.tif -k 4 --repeat 2
    """
    with _clean_errors(show_traceback), _interruptible():
        status = _info(ctx, inputs, as_json, params)
    ctx.exit(status)


def main() -> None:
    """The ``poolcli`` console script."""
    # poolcli never calls BLAS; without OpenBLAS's thread pool (started when NumPy
    # loads) this process stays single-threaded, so workers can be forked safely
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    try:
        cli(prog_name="poolcli")
    except BrokenPipeError:
        # the reader of stdout went away (| head): stop quietly, as cat does
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(ExitStatus.INPUT_FAILED)


# --- pool ---------------------------------------------------------------------------


def _pool(
    inputs: tuple[str, ...],
    output: str | None,
    params: dict[str, Any],
    *,
    scheduler_named: bool = False,
) -> ExitStatus:
    console = Console(quiet=params["quiet"], verbose=params["verbose"])
    _check_combinations(inputs, params)
    on_dask = _check_executor(inputs, output, params, scheduler_named)
    if len(inputs) == 1 and not on_dask and not params["dry_run"] and not params["files_from"]:
        from .images import ahead  # Pillow only: the file decodes while the rest loads

        ahead.start(inputs[0], params["max_pixels"])
    from .batch.workers import available_cores

    workers = params["jobs"] or available_cores()
    with ExitStack() as stack:
        client = None
        if on_dask:
            from .batch import cluster

            if not params["show_traceback"]:
                # Dask logs its own view of problems poolcli reports in one line
                logging.getLogger("distributed").setLevel(logging.CRITICAL + 1)
            try:
                cluster.require()
                if not params["dry_run"]:
                    client = stack.enter_context(
                        cluster.connect(params["scheduler"], timeout=params["scheduler_timeout"])
                    )
            except cluster.ClusterError as error:
                console.error(f"error: {error}")  # one line: not a mistyped command
                return ExitStatus.USAGE
        return _run_pool(inputs, output, params, console, workers, client)


def _run_pool(
    inputs: tuple[str, ...],
    output: str | None,
    params: dict[str, Any],
    console: Console,
    workers: int,
    client: Any,
) -> ExitStatus:
    """Plan, shard, run (here or on ``client``'s Dask cluster) and report."""
    from .batch.workers import warm_up

    if (
        client is None
        and params["executor"] == options.Executor.LOCAL
        and workers > 1
        and not params["dry_run"]
        and (len(inputs) > 1 or params["recursive"] or params["files_from"])
    ):
        warm_up()  # if workers need a fork server, it loads while this process plans
    from . import batch

    settings, read = _settings(params)
    listed = []
    if params["files_from"] is not None:
        listed = batch.read_list(_read_list_file(params["files_from"]), null=params["null"])
    rules = batch.Rules(
        params["recursive"], params["include"], params["exclude"], params["follow_symlinks"]
    )
    try:
        plan = batch.plan(
            inputs, rules, listed=listed, output=output, requested_format=params["format_name"]
        )
    except batch.PlanError as error:
        _usage(str(error))
    to_stdout = any(job.target == batch.STDOUT for job in plan.jobs)
    if to_stdout and params["as_json"]:
        _usage("--json writes to stdout, so the image cannot: use -o FILE")
    if to_stdout and not params["dry_run"] and _binary("stdout").isatty():
        _usage("refusing to write image bytes to a terminal; redirect stdout or use -o FILE")
    if plan.total == 0:
        console.note("no inputs found (directories give image, .npy and .npz files; see --include)")
        return ExitStatus.OK
    if params["shard"] is not None:
        from .batch.sharding import select

        whole = plan.total
        plan = select(plan, params["shard"])
        if params["verbose"]:
            console.line(f"shard {params['shard']}: {plan.total} of {whole} input(s)")
        if plan.total == 0:
            console.note(f"shard {params['shard']} has none of the {whole} input(s)")
            return ExitStatus.OK
    existing = batch.Existing.REFUSE
    if params["overwrite"] or params["skip_existing"]:
        existing = batch.Existing.OVERWRITE if params["overwrite"] else batch.Existing.SKIP
    run_id = f"{os.getpid()}-{os.urandom(4).hex()}"
    work = batch.Work(
        settings, read, dict(params["save_options"]), params["dtype"], existing, run_id
    )
    console.verbose_settings(settings, None if client is not None else workers, plan)
    stdin, stdout = _binary("stdin"), _binary("stdout")
    if params["dry_run"]:
        results: Iterable[batch.Result] = (
            batch.preview_job(job, work, stdin=stdin) for job in plan.jobs
        )
    elif client is not None:
        from .batch.cluster import run_on_cluster

        console.verbose_cluster(params["scheduler"], client)
        results = run_on_cluster(plan.jobs, work, client=client)
    else:
        results = batch.run_jobs(plan.jobs, work, workers=workers, stdin=stdin, stdout=stdout)
        global quick_exit
        quick_exit = True  # a local pool joins its workers before it returns
    return _report(plan, results, params, console)


def _report(plan, results: Iterable[Any], params: dict[str, Any], console: Console) -> ExitStatus:
    """Print every result in input order; the summary; the exit status."""
    from .batch import report

    started = time.perf_counter()
    tally = report.Tally()
    dry_run, as_json = params["dry_run"], params["as_json"]
    # the problems found while planning first, then the results as they finish
    arrived: Iterable[Any] = itertools.chain(plan.problems, results)
    stop = report.FirstFailure()
    if params["fail_fast"]:
        arrived = stop.watch(arrived)  # stops taking results (and workers) as one fails
    with console.progress(plan.total, enabled=not dry_run) as advance:
        try:
            for result in report.ordered(advance(arrived)):
                tally.add(result)
                source, target = plan.sources[result.index], plan.targets.get(result.index)
                if as_json:
                    _data(report.json_line(source, target, result))
                if result.failed:
                    console.error(report.file_line(source, target, result))
                    if result.traceback and params["show_traceback"]:
                        console.raw(result.traceback)
                elif dry_run and not as_json:
                    _data(report.file_line(source, target, result))
                elif params["verbose"]:
                    console.line(report.file_line(source, target, result))
                for note in result.notes:
                    console.note(f"{report.shown(source)}: {note}")
        except KeyboardInterrupt:
            console.line(
                f"interrupted; {tally.summary(plan.total, time.perf_counter() - started)}",
                always=True,
            )
            return ExitStatus.INTERRUPTED
        finally:
            close = getattr(results, "close", None)
            if close is not None:
                close()  # stops the workers if we stopped early
    if stop.seen:
        console.line("stopped at the first failure (--fail-fast)")
    if plan.total > 1 or dry_run or tally.done != plan.total:
        console.summary(
            tally.summary(plan.total, time.perf_counter() - started, dry_run=dry_run), tally.failed
        )
    return ExitStatus.INPUT_FAILED if tally.failed else ExitStatus.OK


def _check_combinations(inputs: tuple[str, ...], params: dict[str, Any]) -> None:
    if params["overwrite"] and params["skip_existing"]:
        _usage("--overwrite and --skip-existing exclude each other: pick one")
    if params["null"] and params["files_from"] is None:
        _usage("-0 describes a --files-from list; give --files-from FILE too")
    if not inputs and params["files_from"] is None:
        _usage("no INPUT: name files, directories (with -r), - for stdin, or --files-from FILE")
    if params["files_from"] == "-" and "-" in inputs:
        _usage("stdin cannot be both an input (-) and the --files-from list")
    if params["verbose"] and params["quiet"]:
        _usage("-v and -q exclude each other")


def _check_executor(
    inputs: tuple[str, ...], output: str | None, params: dict[str, Any], scheduler_named: bool
) -> bool:
    """True to run on a Dask cluster; bad combinations of the executor options are usage
    errors. DASK_SCHEDULER_ADDRESS alone never moves a run off this machine."""
    if params["executor"] != options.Executor.DASK:
        if scheduler_named:
            _usage("--scheduler is for --executor dask: add --executor dask, or drop --scheduler")
        return False
    if not params["scheduler"]:
        _usage(
            "--executor dask needs --scheduler ADDRESS (or DASK_SCHEDULER_ADDRESS), "
            "e.g. tcp://scheduler-host:8786"
        )
    if params["jobs"] is not None:
        _usage(
            "-j sets local worker processes; with --executor dask the cluster's workers run "
            "the jobs (size them with 'dask worker --nworkers N --nthreads 1')"
        )
    if "-" in inputs or output == "-":
        _usage(
            "--executor dask runs the jobs on other machines, which cannot read this "
            "stdin or write this stdout: name files, or use --executor local"
        )
    return True


def _usage(message: str) -> NoReturn:
    """Bad usage: click prints the message under the usage line and exits with 2."""
    raise click.UsageError(message)


def _read_list_file(name: str) -> bytes:
    if name == "-":
        return _binary("stdin").read()
    try:
        with open(name, "rb") as stream:
            return stream.read()
    except OSError as error:
        message = f"cannot read {name}: {(error.strerror or str(error)).lower()}"
        raise click.BadParameter(message, param_hint="--files-from") from None


def _settings(params: dict[str, Any]):
    """PoolSettings and ReadOptions from the options, checked before any file is read."""
    from .errors import ParameterError
    from .images import PoolSettings, ReadOptions

    try:
        settings = PoolSettings.make(**options.pool_parameters(params))
        settings.check(params["max_pixels"])
    except ParameterError as error:
        raise click.UsageError(str(error)) from None
    read = ReadOptions(
        max_pixels=params["max_pixels"], frame=params.get("frame"), layout=params["layout"]
    )
    return settings, read


# --- info ---------------------------------------------------------------------------


def _info(
    ctx: click.Context, inputs: tuple[str, ...], as_json: bool, params: dict[str, Any]
) -> ExitStatus:
    from . import batch
    from .batch.info import human_lines, inspect

    console = Console(quiet=False, verbose=False)
    settings, read = _settings({**params, "frame": None})
    pooling = any(
        ctx.get_parameter_source(name) is click.core.ParameterSource.COMMANDLINE
        for name in options.POOL_PARAMETERS
    )
    rules = batch.Rules(
        params["recursive"], params["include"], params["exclude"], params["follow_symlinks"]
    )
    failed = False
    stdin = _binary("stdin")
    for item in batch.discover(inputs, rules):
        if item.problem is not None:
            facts = {"input": item.path, "status": "error", "error": item.problem}
        else:
            facts = inspect(item.path, read, settings if pooling else None, stdin=stdin)
        failed |= facts["status"] != "ok"
        if as_json:
            _data(_json(facts))
        elif facts["status"] != "ok":
            console.error(human_lines(facts)[0])
        else:
            _data("\n".join(human_lines(facts)))
    return ExitStatus.INPUT_FAILED if failed else ExitStatus.OK


def _json(facts: dict[str, Any]) -> str:
    import json

    return json.dumps(facts, ensure_ascii=True)


# --- errors, signals, output --------------------------------------------------------


@contextmanager
def _clean_errors(show_traceback: bool) -> Iterator[None]:
    """A PoolcliError becomes one line and its exit status; a bug, one line asking
    for a report (the traceback with --traceback)."""
    try:
        yield
    except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
        raise
    except PoolcliError as error:
        if error.exit_code == ExitStatus.USAGE:
            raise click.UsageError(str(error)) from None
        Console(quiet=False, verbose=False).error(f"error: {error}")
        raise click.exceptions.Exit(error.exit_code) from None
    except KeyboardInterrupt:
        Console(quiet=False, verbose=False).line("interrupted", always=True)
        raise click.exceptions.Exit(ExitStatus.INTERRUPTED) from None
    except BrokenPipeError:
        raise
    except Exception as error:
        if show_traceback:
            raise
        message = (
            f"internal error: {type(error).__name__}: {error} "
            "(a poolcli bug: please report it; --traceback shows where)"
        )
        Console(quiet=False, verbose=False).error(message)
        raise click.exceptions.Exit(ExitStatus.INPUT_FAILED) from None


@contextmanager
def _interruptible() -> Iterator[None]:
    """SIGTERM interrupts like Ctrl-C while the block runs."""
    from .batch import sigterm_as_interrupt

    with sigterm_as_interrupt():
        yield


class Console:
    """Messages on stderr: 'poolcli: ...' lines, colour unless NO_COLOR, the progress bar."""

    def __init__(self, *, quiet: bool, verbose: bool) -> None:
        self.quiet = quiet
        self.verbose = verbose
        self.stream = sys.stderr
        # click strips colour when stderr is not a terminal; NO_COLOR turns it off everywhere
        self.color: bool | None = False if os.environ.get("NO_COLOR") else None
        self._bar_active = False

    def line(self, text: str, *, always: bool = False) -> None:
        if self.quiet and not always:
            return
        self._clear_bar()
        click.echo(f"poolcli: {text}", file=self.stream, color=self.color)

    def error(self, text: str) -> None:
        self._clear_bar()
        click.echo("poolcli: " + click.style(text, fg="red"), file=self.stream, color=self.color)

    def note(self, text: str) -> None:
        if not self.quiet:
            self._clear_bar()
            click.echo(
                "poolcli: " + click.style(text, fg="yellow"), file=self.stream, color=self.color
            )

    def raw(self, text: str) -> None:
        self._clear_bar()
        click.echo(text.rstrip("\n"), file=self.stream)

    def summary(self, text: str, failed: int) -> None:
        if not self.quiet:
            self._clear_bar()
            styled = click.style(text, fg="red" if failed else "green")
            click.echo(f"poolcli: {styled}", file=self.stream, color=self.color)

    def verbose_settings(self, settings, workers: int | None, plan) -> None:
        if not self.verbose:
            return
        if settings.size is not None:
            geometry = f"--size {_pair_text(settings.size)}"
        else:
            geometry = (
                f"kernel {_wxh(settings.kernel)}, stride {_wxh(settings.effective_stride)}, "
                f"padding {_wxh(settings.padding)}, dilation {_wxh(settings.dilation)}, "
                f"repeat {settings.repeat}"
            )
        where = ""
        if workers is not None:  # None: a Dask cluster, described by verbose_cluster
            where = f"; {min(workers, max(1, len(plan.jobs)))} worker(s)"
        self.line(f"{plan.total} input(s); mode {settings.mode}, {geometry}{where}")
        layouts = ", ".join(f"{layout} ({dims} dims)" for dims, layout in DEFAULT_LAYOUT.items())
        self.line(f"arrays without --layout are read as {layouts}")

    def verbose_cluster(self, address: str, client: Any) -> None:
        if self.verbose:
            threads = client.nthreads()
            self.line(
                f"running on the Dask cluster at {address}: {len(threads)} worker(s), "
                f"{sum(threads.values())} thread(s), one engine thread per task"
            )

    @contextmanager
    def progress(self, total: int, *, enabled: bool):
        """A function wrapping the results iterator so that each one advances the bar.

        The bar shows only when stderr is a terminal, and not with -q or -v.
        """
        show = (
            enabled
            and not self.quiet
            and not self.verbose
            and total > 1
            and _is_terminal(self.stream)
        )
        if not show:
            yield lambda results: results
            return
        started = time.perf_counter()
        with click.progressbar(
            length=total,
            file=self.stream,
            show_pos=True,
            show_eta=True,
            item_show_func=lambda text: text,
        ) as bar:
            self._bar_active = True

            def advance(results: Iterable[Any]) -> Iterator[Any]:
                for count, result in enumerate(results, 1):
                    rate = count / max(time.perf_counter() - started, 1e-9)
                    bar.update(1, f"{rate:.1f} files/s")
                    yield result

            try:
                yield advance
            finally:
                self._bar_active = False

    def _clear_bar(self) -> None:
        if self._bar_active:
            self.stream.write("\r\033[K")


def _data(text: str) -> None:
    """A line of data on stdout. When stdout cannot take it (a full disk), the run
    ends in one line; a closed pipe still ends it quietly (see main)."""
    try:
        click.echo(text)
    except BrokenPipeError:
        raise
    except OSError as error:
        from .batch.writing import reason
        from .errors import OutputError

        _discard_stdout()  # what is left in its buffer cannot be written either
        message = f"cannot write to stdout: {reason(error)}"
        raise OutputError(message) from None


def _discard_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass  # not a real file (a test runner's stream): nothing flushes it at exit


def _binary(name: str):
    """The binary stream under sys.stdin or sys.stdout (CliRunner swaps those)."""
    return getattr(sys, name).buffer


def _is_terminal(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _wxh(pair: tuple[int, int]) -> str:
    height, width = pair
    return f"{width}x{height}"


def _pair_text(size: tuple[int | None, int | None]) -> str:
    width, height = size
    return f"{'' if width is None else width}x{'' if height is None else height}"
