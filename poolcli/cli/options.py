"""The options poolcli's commands share, and the parameter types that parse them.

Each option is a module-level decorator (as in rasterio's ``rio``); the groups
apply several at once. Values are parsed and checked here, at the edge, so the
layers below receive ints, pairs and enums, never strings.

Parameter types: :class:`WindowType` (``2`` or ``3x2``, WIDTH x HEIGHT, returned as
the (h, w) pair the engine takes), :class:`SizeType` (``WxH``, ``Wx``, ``xH``),
:class:`KeyValueType` (``-O quality=85``), :class:`MaxPixelsType` (a count or
``none``).

Pool options (:data:`pool_options`): ``-m/--mode``, ``-k/--kernel``,
``-s/--stride``, ``-p/--padding``, ``--dilation``, ``--ceil-mode``,
``--exclude-pad``, ``--divisor``, ``--p``, ``--size``, ``--repeat``, ``--alpha``,
``--linear``, ``--nodata``, ``--min-valid`` (:mod:`.raster_options`).

Read options (:data:`read_options`): ``--frame``, ``--layout``, ``--max-pixels``.
Write options (:data:`write_options`): ``--format``, ``-O KEY=VALUE``, ``--dtype``,
``--overwrite``, ``--skip-existing``, ``--dry-run``.
Input options (:data:`input_options`): ``-r/--recursive``, ``--include``,
``--exclude``, ``--follow-symlinks``, ``--files-from``, ``-0/--null``.

Run options (:data:`run_options`): ``-j/--jobs``, ``--fail-fast``; and the
reporting ones each command takes: ``--json``, ``-q``, ``-v``, ``--traceback``.

Scale options (:data:`scale_options`): ``--shard I/N`` (:class:`ShardType`),
``--executor local|dask``, ``--scheduler ADDRESS`` (also
``DASK_SCHEDULER_ADDRESS``), ``--scheduler-timeout SECONDS``.

Choices come from the library's enums and tables. Only NumPy-free modules are
imported here, so ``--help`` stays fast.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import click

from ..batch.choices import CONNECT_SECONDS, Executor
from ..batch.sharding import Shard
from ..errors import ParameterError
from ..spec.arrays import ALL_LAYOUTS, DTYPE_NAMES
from ..spec.limits import DEFAULT_MAX_PIXELS
from ..spec.modes import AlphaPolicy, PoolMode
from .completion import complete_formats
from .raster_options import min_valid, nodata

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def stack(*decorators: Decorator) -> Decorator:
    """One decorator applying ``decorators`` so that ``--help`` lists them in order."""

    def apply(function: Callable[..., Any]) -> Callable[..., Any]:
        for decorator in reversed(decorators):
            function = decorator(function)
        return function

    return apply


# --- parameter types -------------------------------------------------------------

_PAIR = re.compile(r"^\s*(\d+)\s*(?:[xX]\s*(\d+)\s*)?(?:[xX]\s*(\d+)\s*)?$")
_SIZE = re.compile(r"^\s*(\d*)\s*[xX]\s*(\d*)\s*(?:[xX]\s*(\d+)\s*)?$")


class WindowType(click.ParamType):
    """``N`` or ``WxH`` (width x height) -> an (h, w) pair of ints of at least ``minimum``;
    ``WxHxD`` (a volume) -> (d, h, w)."""

    name = "WxH"

    def __init__(self, minimum: int = 1) -> None:
        self.minimum = minimum

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> tuple[int, ...]:
        if isinstance(value, tuple):
            return value
        match = _PAIR.match(str(value))
        if not match:
            self.fail(f"{value!r} is not N, WxH or WxHxD (e.g. 2, 3x2 or 2x2x2)", param, ctx)
        width = int(match.group(1))
        height = int(match.group(2)) if match.group(2) is not None else width
        sides = (height, width) if match.group(3) is None else (int(match.group(3)), height, width)
        if min(sides) < self.minimum:
            self.fail(f"{value!r}: each side must be at least {self.minimum}", param, ctx)
        return sides


class SizeType(click.ParamType):
    """``WxH``, ``Wx`` or ``xH`` -> (width, height); a missing side is None (keeps aspect)."""

    name = "WxH"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> tuple[int | None, ...]:
        if isinstance(value, tuple):
            return value
        match = _SIZE.match(str(value))
        if not match or not (match.group(1) or match.group(2)):
            self.fail(f"{value!r} is not WxH, Wx, xH or WxHxD (e.g. 320x240, x240)", param, ctx)
        width, height, depth = (int(g) if g else None for g in match.groups())
        if 0 in (width, height, depth):
            self.fail(f"{value!r}: sides must be at least 1 pixel", param, ctx)
        return (width, height) if depth is None else (width, height, depth)


class KeyValueType(click.ParamType):
    """``KEY=VALUE`` -> (key, value); the value becomes an int, float or bool when it
    looks like one (``quality=85``, ``lossless=true``), else stays a string."""

    name = "KEY=VALUE"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> tuple[str, object]:
        if isinstance(value, tuple):
            return value
        key, equals, text = str(value).partition("=")
        key = key.strip()
        if not equals or not key.isidentifier():
            self.fail(f"{value!r} is not KEY=VALUE (e.g. quality=85, optimize=true)", param, ctx)
        return key, parse_value(text)


def parse_value(text: str) -> object:
    """'85' -> 85, '0.5' -> 0.5, 'true'/'false' -> bool, anything else as given."""
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


class MaxPixelsType(click.ParamType):
    """A pixel count of at least 1 (``_`` and ``,`` allowed as separators), or ``none``."""

    name = "N|none"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> int | None:
        if value is None or isinstance(value, int):
            return value
        text = str(value).strip().lower()
        if text == "none":
            return None
        try:
            count = int(text.replace(",", "").replace("_", ""))
        except ValueError:
            self.fail(f"{value!r} is not a number of pixels or 'none'", param, ctx)
        if count < 1:
            self.fail(f"{value!r}: the limit must be at least 1 pixel (or 'none')", param, ctx)
        return count


class MemoryType(click.ParamType):
    """A memory size: bytes, or with a unit (``512M``, ``2G``)."""

    name = "SIZE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        from ..spec.limits import parse_memory

        try:
            return parse_memory(value)
        except ParameterError as error:
            self.fail(error.message.replace("`memory` ", ""), param, ctx)


_SHARD = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


class ShardType(click.ParamType):
    """``I/N`` -> :class:`~poolcli.batch.sharding.Shard` (0-based: ``0 <= I < N``)."""

    name = "I/N"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> Shard:
        if isinstance(value, Shard):
            return value
        match = _SHARD.match(str(value))
        if not match:
            self.fail(f"{value!r} is not I/N (e.g. 0/4, the first of 4 shards)", param, ctx)
        index, count = int(match.group(1)), int(match.group(2))
        try:
            return Shard(index, count)
        except ParameterError as error:
            self.fail(f"{value!r}: {error}", param, ctx)


# --- pool options ------------------------------------------------------------------

mode = click.option(
    "-m", "--mode", type=click.Choice([m.value for m in PoolMode]), default=PoolMode.AVG.value,
    show_default=True, help="How a window becomes one value (modes listed below).",
)  # fmt: skip
kernel = click.option(
    "-k", "--kernel", type=WindowType(1), metavar="N|WxH[xD]", default="2", show_default=True,
    help="Window size: N, or WxH (3x2 = 3 wide, 2 tall), or WxHxD for volumes.",
)  # fmt: skip
stride = click.option(
    "-s", "--stride", type=WindowType(1), metavar="N|WxH[xD]", default=None,
    help="Step between windows, N, WxH or WxHxD  [default: the kernel]",
)  # fmt: skip
padding = click.option(
    "-p", "--padding", type=WindowType(0), metavar="N|WxH[xD]", default="0", show_default=True,
    help="Zero padding on each side, N, WxH or WxHxD; at most half the kernel.",
)  # fmt: skip
dilation = click.option(
    "--dilation", type=WindowType(1), metavar="N|WxH[xD]", default="1", show_default=True,
    help="Spacing between window taps, N, WxH or WxHxD.",
)  # fmt: skip
ceil_mode = click.option(
    "--ceil-mode", is_flag=True, help="Keep a last, partial window at the right and bottom edges.",
)  # fmt: skip
exclude_pad = click.option(
    "--exclude-pad", is_flag=True,
    help="avg/rms: divide by the real pixels only, not the padding.",
)  # fmt: skip
divisor = click.option(
    "--divisor", type=click.IntRange(min=1), default=None,
    help="avg: divide every window sum by this instead.",
)  # fmt: skip
power = click.option(
    "--p", "p", type=float, default=2.0, show_default=True, help="lp: the power p.",
)  # fmt: skip
size = click.option(
    "--size", type=SizeType(), metavar="WxH[xD]", default=None,
    help="Adaptive pooling to WxH pixels; Wx or xH keeps the aspect ratio; WxHxD for volumes.",
)  # fmt: skip
repeat = click.option(
    "--repeat", type=click.IntRange(min=1), default=1, show_default=True,
    help="Pool this many times (4x smaller twice is 16x).",
)  # fmt: skip
alpha = click.option(
    "--alpha", type=click.Choice([a.value for a in AlphaPolicy]),
    default=AlphaPolicy.PREMULTIPLIED.value, show_default=True,
    help="premultiplied: averages weight colour by alpha, max/min/median/mode take it "
    "from visible pixels only; independent: every channel on its own.",
)  # fmt: skip
linear = click.option(
    "--linear", is_flag=True, help="Average in linear light (sRGB decoded first, encoded after).",
)  # fmt: skip

pool_options = stack(mode, kernel, stride, padding, dilation, ceil_mode, exclude_pad, divisor,
                     power, size, repeat, alpha, linear, nodata, min_valid)  # fmt: skip

# --- read options ------------------------------------------------------------------

frame = click.option(
    "--frame", type=int, default=None,
    help="Pool only frame N of a multi-frame image (0 is the first, -1 the last).",
)  # fmt: skip
layout = click.option(
    "--layout", type=click.Choice(list(ALL_LAYOUTS)), default=None,
    help="Axes of .npy/.npz/Zarr arrays (volumes: dhw..., signals: w...)  [default: hw, "
    "chw, nchw, ncdhw, w for 2-5 and 1 dims; dhw, cdhw, ncdhw for 3-5 with WxHxD sizes]",
)  # fmt: skip
max_pixels = click.option(
    "--max-pixels", type=MaxPixelsType(), metavar="N|none", default=str(DEFAULT_MAX_PIXELS),
    show_default=True,
    help="Refuse larger inputs from their header (decompression bombs); 'none' lifts the "
    "limit. A streamed input (see --memory) is refused only if it also claims over 1,000 "
    "pixels per byte stored.",
)  # fmt: skip

memory = click.option(
    "--memory", type=MemoryType(), metavar="SIZE", default="256M", show_default=True,
    help="Memory budget. TIFF, .npy and Zarr inputs larger than half of it, written as "
    "TIFF, PNG, .npy or Zarr, are pooled in bands of rows (each reading about a quarter "
    "of it), so any size fits; smaller ones, and other formats, are pooled whole.",
)  # fmt: skip

read_options = stack(frame, layout, max_pixels, memory)

# --- write options -----------------------------------------------------------------


output_format = click.option(
    "--format", "format_name", metavar="FORMAT", default=None,
    shell_complete=complete_formats,
    help="Output format (png, jpg, webp, gif, tif, npy, npz, ...)"
    "  [default: from the output name, else the input's]",
)  # fmt: skip
save_option = click.option(
    "-O", "--save-option", "save_options", type=KeyValueType(), multiple=True,
    help="Passed to Pillow's save, checked up front against what the output format "
    "takes, e.g. -O quality=85 -O optimize=true; -O quality=keep: a JPEG input's own "
    "tables (repeatable).",
)  # fmt: skip
dtype = click.option(
    "--dtype", type=click.Choice(list(DTYPE_NAMES)), default=None,
    help="dtype of .npy/.npz outputs (rounded half up and clipped)  [default: kept]",
)  # fmt: skip
overwrite = click.option("--overwrite", is_flag=True, help="Replace outputs that exist.")
skip_existing = click.option(
    "--skip-existing", is_flag=True, help="Leave outputs that exist alone (resumes a batch).",
)  # fmt: skip
dry_run = click.option(
    "-n", "--dry-run", is_flag=True,
    help="Print the plan (input -> output, sizes) from headers; write nothing.",
)  # fmt: skip

write_options = stack(output_format, save_option, dtype, overwrite, skip_existing, dry_run)

# --- input options -----------------------------------------------------------------

recursive = click.option(
    "-r",
    "--recursive",
    is_flag=True,
    help="Take the files under directory INPUTs (and their subdirectories).",
)
include = click.option(
    "--include", metavar="GLOB", multiple=True,
    help="In directories, take only files matching GLOB (the name, or the path if GLOB has a /; "
    "case ignored, so *.jpg takes IMG_1.JPG).",
)  # fmt: skip
exclude = click.option(
    "--exclude", metavar="GLOB", multiple=True,
    help="In directories, skip files and folders matching GLOB (case ignored).",
)  # fmt: skip
follow_symlinks = click.option(
    "--follow-symlinks", is_flag=True, help="Follow symlinks to directories (each directory once).",
)  # fmt: skip
files_from = click.option(
    "--files-from", type=click.Path(dir_okay=False, allow_dash=True), default=None, metavar="FILE",
    help="Read more INPUT names from FILE (- for stdin), one a line.",
)  # fmt: skip
null = click.option(
    "-0", "--null", is_flag=True, help="--files-from names end with NUL (find -print0)."
)

input_options = stack(recursive, include, exclude, follow_symlinks, files_from, null)

# --- run and report options --------------------------------------------------------

jobs = click.option(
    "-j", "--jobs", type=click.IntRange(min=1), default=None, metavar="N",
    help="Worker processes  [default: one per core]",
)  # fmt: skip
fail_fast = click.option("--fail-fast", is_flag=True, help="Stop at the first input that fails.")
json_lines = click.option(
    "--json", "as_json", is_flag=True, help="One JSON object per file on stdout (keys below).",
)  # fmt: skip
quiet = click.option(
    "-q", "--quiet", is_flag=True, help="No progress, notes or summary; errors only."
)
verbose = click.option("-v", "--verbose", is_flag=True, help="A line per file on stderr.")
traceback = click.option(
    "--traceback", "show_traceback", is_flag=True, help="Show the traceback of an internal error.",
)  # fmt: skip

shard = click.option(
    "--shard", type=ShardType(), default=None,
    help="Pool only share I of N (0-based) of the inputs, split by a stable hash of each "
    "input's path under its root: N runs with I = 0..N-1 cover every input once.",
)  # fmt: skip
executor = click.option(
    "--executor", type=click.Choice([e.value for e in Executor]), default=Executor.LOCAL.value,
    show_default=True,
    help="local: worker processes here (-j); dask: the workers of a Dask cluster "
    "(--scheduler; pip install 'poolcli[dask]'). Paths must be the same on every machine.",
)  # fmt: skip
scheduler = click.option(
    "--scheduler", metavar="ADDRESS", envvar="DASK_SCHEDULER_ADDRESS", show_envvar=True,
    default=None,
    help="The Dask scheduler for --executor dask: tcp://HOST:8786, or a scheduler file.",
)  # fmt: skip
scheduler_timeout = click.option(
    "--scheduler-timeout", metavar="SECONDS", type=click.FloatRange(min=0, min_open=True),
    default=CONNECT_SECONDS, show_default=True,
    help="How long to wait for the Dask scheduler to answer.",
)  # fmt: skip

run_options = stack(jobs, fail_fast)
scale_options = stack(shard, executor, scheduler, scheduler_timeout)
report_options = stack(json_lines, quiet, verbose, traceback)


def modes_epilog() -> str:
    """The modes and their one-line summaries, for a command's help."""
    width = max(len(m.value) for m in PoolMode)
    lines = [f"  {m.value:<{width}}  {m.summary}" for m in PoolMode]
    return "\b\nModes:\n" + "\n".join(lines)
