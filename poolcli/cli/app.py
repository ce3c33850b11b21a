"""poolcli's command line: ``poolcli pool`` and ``poolcli info``.

Parsing and printing only: options become typed arguments (:mod:`.arguments`), then
a :class:`~poolcli.batch.BatchRequest`; :func:`poolcli.batch.run_batch` does the
work; this module prints what it reports and exits with an
:class:`~poolcli.errors.ExitStatus`. NumPy and Pillow are imported inside the
commands, so ``--help`` and ``--version`` answer at once.

stdout carries data only (image bytes, ``--json`` lines, ``info`` and
``--dry-run`` output); everything else goes to stderr, one line per message, each
starting with ``poolcli:``. A file's problem reads ``poolcli: FILE: message``.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import TYPE_CHECKING, Any

import click

from ..errors import ExitStatus
from ..spec.arrays import DEFAULT_LAYOUT, VOLUME_DEFAULT
from ..version import __version__
from . import options
from .completion import PATHS
from .console import Console, binary, data, discard_stdout, said
from .guards import clean_errors as _clean_errors
from .guards import interruptible as _interruptible
from .pyramid import pyramid
from .spelling import flag

if TYPE_CHECKING:
    from ..batch.run import Batch
    from ..images.reading.ahead import DecodeAhead
    from ..spec.settings import PoolSettings
    from .arguments import InfoArguments, PoolArguments

#: Set when a run used this machine only: its worker processes (if any) are joined
#: when it ends, and a fork server ends with this process's pipes, so the process
#: may end without Python's teardown (see :func:`poolcli.launch.main`).
quick_exit = False

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}

JSON_KEYS_HELP = """\b
With --json, each file gives one line on stdout:
  {"input": ..., "output": ..., "status": "ok" | "error" | "skipped",
   "error": null | "message", "in_size": [w, h], "out_size": [w, h],
   "frames": n, "seconds": s, "streamed": true | false}
(--dry-run: status "planned"; "streamed": pooled in bands of rows; a volume's
sizes are [w, h, d]. A name that is not UTF-8 also gives "input_bytes"/
"output_bytes": its bytes, base64.)"""


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
@click.argument("inputs", nargs=-1, metavar="[INPUT]...", type=PATHS)
@click.option(
    "-o", "--output", metavar="OUT", default=None, type=PATHS,
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
def pool(ctx: click.Context, **params: Any) -> None:
    """Pool each INPUT into a smaller image (or array) of the same kind.

    INPUT is a file, a directory (with -r), or - for stdin. Outputs go to -o: a
    file for one named input (its extension and --format must agree), a directory
    that mirrors the inputs for several inputs, -r or --files-from (a new one named
    like a file, two.jpg, is refused: two.jpg/ insists), or - for stdout (needs
    --format; never a terminal). Without -o, outputs go to ./pooled/ mirroring the
    inputs, so an input is never overwritten and a second run names the same
    files; stdin goes to stdout. A file named twice is pooled once. Existing
    outputs are refused unless --overwrite or --skip-existing; an output that
    would be its input is never written (in a folder, that input alone fails).

    Sizes are WIDTH x HEIGHT, as in --size and ImageMagick geometry: -k 3x2 is a
    window 3 pixels wide and 2 tall; -k 2 is 2x2. WxHxD pools volumes: a multi-page
    TIFF (pages are depth, written back as pages) or arrays in layouts dhw, dhwc,
    cdhw, ncdhw; signals are layouts w, wc, cw, ncw with -k N. A volume larger than
    half of --memory (a dhw/dhwc .npy or Zarr, a TIFF Z stack) is pooled in slabs of
    depth slices when written as .npy, Zarr or TIFF; signals are pooled whole.

    In directories, files are found by extension (what Pillow reads, plus .npy and
    .npz), hidden ones skipped and the output directory never read back; a file
    named on the command line is always tried. --files-from keeps each listed
    relative path under -o DIR; a named file keeps its name. The output has the
    input's format and name unless --format (or -o FILE's extension) says otherwise.

    A bad file is reported and the batch goes on. Exit status: 0 all done, 1 some
    input failed, 2 bad usage, 130 interrupted by Ctrl-C, 143 by SIGTERM (no partial
    outputs are left).

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
      poolcli pool stack.tif -k 2x2x2 -m mode -o labels_half.tif
      cat in.png | poolcli pool - -o - --format png > out.png
      find . -name '*.tif' -print0 | poolcli pool --files-from - -0 -o out -j 4
      poolcli pool -r photos -o thumbs --skip-existing --json > log.jsonl
      poolcli pool -r photos -o thumbs --shard "$SLURM_ARRAY_TASK_ID/8"
      poolcli pool -r /shared/photos -o /shared/thumbs --executor dask --scheduler tcp://head:8786
    """
    from .arguments import PoolArguments  # the batch library loads with it: not for --help

    with _clean_errors(params["show_traceback"]), _interruptible():
        arguments = PoolArguments(_given(ctx), **params)
        status = _pool(arguments, ahead=ctx.obj)
    ctx.exit(status)


@cli.command()
@click.argument("inputs", nargs=-1, metavar="INPUT...", required=True, type=PATHS)
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
def info(ctx: click.Context, **params: Any) -> None:
    """Describe each INPUT from its headers: format, mode, size, frames, dtype and
    the metadata present. With pool options (-k, --size, ...), also the size the
    output would have. Pixels are not decoded.

    Output goes to stdout: lines for people, or with --json one object per file
    (keys input, status, error, format, mode, size, frames, dtype, metadata,
    metadata_values, planes, and out_size when pool options are given; pooling
    when pooling would refuse the file, and why; skipped_arrays for .npz arrays
    that cannot be pooled). A file is described even when pooling would refuse
    it (too small for the kernel, over --max-pixels). Exit status 1 if an input
    could not be read or could not be pooled as asked.

    \b
    Example:
      poolcli info photo.jpg
      poolcli info -r scans --json
      poolcli info big.tif -k 4 --repeat 2
    """
    from .arguments import InfoArguments

    with _clean_errors(params["show_traceback"]), _interruptible():
        arguments = InfoArguments(_given(ctx), **params)
        status = _info(arguments, pooling=not arguments.given.isdisjoint(_POOL_OPTIONS))
    ctx.exit(status)


cli.add_command(pyramid)

_POOL_OPTIONS = ("mode", "kernel", "stride", "padding", "dilation", "ceil_mode", "exclude_pad",
                 "divisor", "p", "size", "repeat", "alpha", "linear")  # fmt: skip


def _given(ctx: click.Context) -> frozenset[str]:
    """The options typed on the command line, not left at their defaults."""
    typed = click.core.ParameterSource.COMMANDLINE
    return frozenset(name for name in ctx.params if ctx.get_parameter_source(name) is typed)


def main(ahead: DecodeAhead | None = None) -> None:
    """The ``poolcli`` console script; ``ahead`` may hold its one input being decoded."""
    # poolcli never calls BLAS; without OpenBLAS's thread pool (started when NumPy
    # loads) this process stays single-threaded, so workers can be forked safely
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    try:
        cli(prog_name="poolcli", obj=ahead)
    except BrokenPipeError:
        # the reader of stdout went away (| head): stop quietly, as cat does
        discard_stdout()
        sys.exit(ExitStatus.INPUT_FAILED)


# --- pool ---------------------------------------------------------------------------


def _pool(arguments: PoolArguments, *, ahead: DecodeAhead | None) -> ExitStatus:
    """Run the batch the options ask for, printing as it goes."""
    from ..batch.cluster import ClusterError
    from ..batch.run import run_batch

    console = Console(quiet=arguments.quiet, verbose=arguments.verbose)
    request = arguments.request()
    if request.on_cluster and not arguments.show_traceback:
        quiet_cluster_logs()
    try:
        batch = run_batch(request, stdin=binary("stdin"), stdout=binary("stdout"), ahead=ahead)
    except ClusterError as error:
        console.error(f"error: {said(error.message)}")  # one line: not a mistyped command
        return ExitStatus.USAGE
    with batch:
        if batch.writes_stdout and arguments.as_json:
            _usage("--json writes to stdout, so the image cannot: use -o FILE")
        if batch.whole == 0:
            console.note(
                "no inputs found (directories give image, .npy and .npz files; see --include)"
            )
            return ExitStatus.OK
        if request.shard is not None:
            if arguments.verbose:
                console.line(f"shard {request.shard}: {batch.total} of {batch.whole} input(s)")
            if batch.total == 0:
                console.note(f"shard {request.shard} has none of the {batch.whole} input(s)")
                return ExitStatus.OK
        _verbose_settings(console, request.settings, batch)
        status = _report(batch, arguments, console)
    global quick_exit
    quick_exit = not request.on_cluster and not request.dry_run  # its workers are joined
    return status


def quiet_cluster_logs() -> None:
    """Silence Dask's and tornado's loggers: poolcli reports problems in one line.

    Dask logs its own view of them, and tornado (its event loop) prints a
    callback's traceback when Ctrl-C stops it mid-call. ``distributed`` sets these
    loggers' levels when it is first imported, so it is imported before they are
    set, every one it configured included (when it is installed at all; without it
    the run reports that in one line).
    """
    try:
        import distributed  # noqa: F401 - its import configures the loggers
    except ImportError:
        pass
    known = list(logging.root.manager.loggerDict)  # distributed gives some their own level
    for name in ("distributed", "tornado", *known):
        if name.partition(".")[0] in ("distributed", "tornado"):
            logging.getLogger(name).setLevel(logging.CRITICAL + 1)


def _report(batch: Batch, arguments: PoolArguments, console: Console) -> ExitStatus:
    """Print every outcome in input order; the summary; the exit status."""
    from ..batch.report import file_line, json_line, note_line

    dry_run = arguments.dry_run
    with console.progress(batch.total, enabled=not dry_run) as advance:
        batch.arrived = advance
        try:
            for outcome in batch:
                source, target, result = outcome.source, outcome.target, outcome.result
                if arguments.as_json:
                    data(json_line(source, target, result, flag))
                if result.failed:
                    console.error(file_line(source, target, result, flag))
                    if result.traceback and arguments.show_traceback:
                        console.raw(result.traceback)
                elif dry_run and not arguments.as_json:
                    data(file_line(source, target, result, flag))
                elif arguments.verbose:
                    console.line(file_line(source, target, result, flag))
                for note in result.notes:
                    console.note(note_line(source, note, flag))
        except KeyboardInterrupt as interrupt:
            console.line(f"interrupted; {batch.summary()}", always=True)
            return ExitStatus.of_interrupt(interrupt)
    if batch.stopped_early:
        console.line("stopped at the first failure (--fail-fast)")
    tally = batch.tally
    if batch.total > 1 or dry_run or tally.done != batch.total:
        console.summary(batch.summary(), tally.failed)
    return ExitStatus.INPUT_FAILED if tally.failed else ExitStatus.OK


def _verbose_settings(console: Console, settings: PoolSettings, batch: Batch) -> None:
    if not console.verbose:
        return
    if settings.size is not None:
        width, height = settings.size
        geometry = f"--size {'' if width is None else width}x{'' if height is None else height}"
    else:
        d = settings.depth
        sides = (
            ("kernel", settings.kernel, None if d is None else d.kernel),
            ("stride", settings.effective_stride, None if d is None else d.effective_stride),
            ("padding", settings.padding, None if d is None else d.padding),
            ("dilation", settings.dilation, None if d is None else d.dilation),
        )
        geometry = ", ".join(f"{name} {_wxh(pair, along)}" for name, pair, along in sides)
        geometry += f", repeat {settings.repeat}"
    where = ""
    if batch.workers is not None:  # None: a Dask cluster, described below
        where = f"; {min(batch.workers, max(1, len(batch.plan.jobs)))} worker(s)"
    console.line(f"{batch.total} input(s); mode {settings.mode}, {geometry}{where}")
    if batch.reads_arrays and batch.request.read.layout is None:
        defaults = DEFAULT_LAYOUT if settings.depth is None else VOLUME_DEFAULT
        layouts = ", ".join(f"{layout} ({dims} dims)" for dims, layout in defaults.items())
        console.line(f"arrays without --layout are read as {layouts}")
    if batch.client is not None:
        threads = batch.client.nthreads()
        console.line(
            f"running on the Dask cluster at {batch.request.scheduler}: {len(threads)} "
            f"worker(s), {sum(threads.values())} thread(s), one engine thread per task"
        )


# --- info ---------------------------------------------------------------------------


def _info(arguments: InfoArguments, *, pooling: bool) -> ExitStatus:
    import json

    from ..batch.discovery import Rules, discover
    from ..batch.info import human_lines, inspect
    from ..batch.report import shown
    from ..images.requests import ReadOptions

    console = Console()
    settings = arguments.settings()
    settings.check(arguments.max_pixels)
    read = ReadOptions(max_pixels=arguments.max_pixels, layout=arguments.layout)
    rules = Rules(
        arguments.recursive, arguments.include, arguments.exclude, arguments.follow_symlinks
    )
    failed = False
    stdin = binary("stdin")
    for item in discover(arguments.inputs, rules):
        if item.problem is not None:
            facts = {"input": item.path, "status": "error", "error": said(item.problem)}
        else:
            chosen = settings if pooling else None
            facts = inspect(item.path, read, chosen, stdin=stdin, spelling=flag)
        refused = facts["status"] != "ok" or facts.get("pooling") is not None
        failed |= refused
        if arguments.as_json:
            data(json.dumps(facts, ensure_ascii=True))
        elif facts["status"] != "ok":
            console.error(human_lines(facts)[0])
        else:
            data("\n".join(human_lines(facts)))
            if refused:  # described above; why pooling would refuse it, on stderr too
                console.error(f"{shown(facts['input'])}: {facts['pooling']}")
    return ExitStatus.INPUT_FAILED if failed else ExitStatus.OK


# --- errors, signals ----------------------------------------------------------------


def _usage(message: str) -> None:
    """Bad usage: click prints the message under the usage line and exits with 2."""
    raise click.UsageError(message)


def _wxh(pair: tuple[int, int], depth: int | None = None) -> str:
    height, width = pair
    return f"{width}x{height}" if depth is None else f"{width}x{height}x{depth}"
