"""``poolcli pyramid``: every level of a multiscale image, exact, in one pass.

Parsing and printing only: the options become a
:class:`~poolcli.batch.pyramids.PyramidRequest`, :func:`~poolcli.batch.pyramids.run_pyramids`
does the work, and this module prints each outcome (a line on stderr with ``-v``,
a JSON object on stdout with ``--json``, a line on stdout with ``--dry-run``) and
exits 0, 1 (an input failed) or 2 (bad usage). The batch library loads inside the
command, so ``--help`` stays fast.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import click

from ..errors import ExitStatus
from . import options
from . import pyramid_options as pyr
from . import raster_options as raster
from .completion import PATHS
from .guards import clean_errors, interruptible

EPILOG = """\b
Levels: level k has ceil(n / 2**k) pixels per axis and equals pooling level 0
once with a 2**k window in ceil mode over real pixels: integer means from the
level-0 sums, rounded half up once; max and min exact; median and mode computed
from level 0 for every level. Labels (-m mode) never gain a value.

\b
With --json, each input gives one line on stdout:
  {"input": ..., "output": ..., "status": "ok" | "error" | "skipped" | "planned",
   "error": null | "message", "container": ..., "in_size": [w, h],
   "levels": [[w, h], ...], "seconds": s}   ([w, h, d] for a volume)

\b
Volumes (--factors WxHxD, or --layout dhw/dhwc/cdhw/ncdhw): a TIFF Z stack
(pages are depth), .npy or Zarr, read whole; level k has ceil(n / f**k)
voxels along an axis of factor f and equals pooling level 0 once with an
f**k window. Written as OME-Zarr (axes zyx or czyx) or a folder of Z stacks.
Chunks are 64x64x64 voxels, or 1x256x256 when the depth is kept (--tile-size
sets the side)."""


@click.command(epilog=EPILOG, context_settings={"max_content_width": 100})
@click.argument("inputs", nargs=-1, metavar="INPUT...", required=True, type=PATHS)
@click.option(
    "-o", "--output", metavar="OUT", default=None, type=PATHS,
    help="NAME.ome.zarr, NAME.tif, NAME.ome.tif, NAME.dzi or DIR/ (one file per level); "
    "a folder for several inputs.",
)  # fmt: skip
@options.stack(options.mode, options.alpha, options.linear, options.power, raster.nodata,
               raster.min_valid)  # fmt: skip
@options.stack(pyr.levels, pyr.factors, pyr.tile_size, pyr.overlap, pyr.tile_format,
               options.save_option, pyr.container, pyr.label, pyr.image)  # fmt: skip
@options.stack(options.layout, options.max_pixels, options.memory)
@options.stack(options.overwrite, options.skip_existing, options.dry_run)
@options.stack(options.recursive, options.include, options.exclude, options.fail_fast)
@options.report_options
@click.pass_context
def pyramid(ctx: click.Context, **params: Any) -> None:
    """Make the multiscale pyramid of each INPUT: level 0 is the image, each next
    level half the size, every level exact and all of them from one pass over the
    input, in bounded memory (--memory).

    The container comes from -o: NAME.ome.zarr (OME-Zarr, NGFF 0.4 on Zarr v2; -O
    zarr_format=3 for NGFF 0.5 on v3), NAME.tif (tiled TIFF, the levels as
    reduced-resolution pages: GDAL overviews 2, 4, 8...), NAME.ome.tif (OME-TIFF,
    the levels as SubIFDs), NAME.dzi (Deep Zoom: NAME.dzi + NAME_files/), DIR/ (one
    file per level, PNG unless --format). Several inputs, or a folder with -r,
    make one pyramid each in the folder -o, as --container says.

    -m avg (the default) weights colour by alpha as 'poolcli pool' does; -m mode
    for label maps. Nodata (a GeoTIFF's GDAL_NODATA, a Zarr's nodata, or --nodata)
    counts in no level's windows, as in 'poolcli pool'. --label NAME --image
    IMG.ome.zarr writes a label pyramid into an OME-Zarr image as labels/NAME.
    -O compression=... for TIFF, -O quality=... for JPEG tiles.

    Outputs are whole or absent; existing ones are refused unless --overwrite or
    --skip-existing. Exit status: 0 all done, 1 some input failed, 2 bad usage.

    \b
    Example:
      poolcli pyramid slide.tif -o slide.ome.zarr
      poolcli pyramid slide.tif -o slide_pyramid.tif
      poolcli pyramid photo.jpg -o photo.dzi
      poolcli pyramid labels.tif -m mode --label cells --image slide.ome.zarr
      poolcli pyramid stack.tif --factors 2x2x1 -o stack.ome.zarr
      poolcli pyramid -r scans -o pyramids --container ome-tiff --json
    """
    with clean_errors(params["show_traceback"]), interruptible():
        status = _run(params)
    ctx.exit(status)


def _run(params: dict[str, Any]) -> ExitStatus:
    from ..batch.choices import Existing
    from ..batch.pyramids import PyramidRequest, run_pyramids
    from ..batch.report import shown
    from ..images.requests import ReadOptions
    from ..spec.pyramids import Container, PyramidOptions
    from ..spec.settings import PoolSettings
    from .console import Console, data, said

    if params["overwrite"] and params["skip_existing"]:
        _usage("--overwrite and --skip-existing exclude each other: pick one")
    if params["verbose"] and params["quiet"]:
        _usage("-v and -q exclude each other")
    if params["output"] is None and params["label"] is None:
        _usage("-o OUT is needed (NAME.ome.zarr, NAME.tif, NAME.dzi...)")
    if params["output"] is not None and params["label"] is not None:
        _usage("--label writes into --image: leave out -o")
    if params["label"] is not None and params["mode"] not in ("mode", "max", "min"):
        _usage("--label makes a label pyramid: use -m mode (or max, min)")
    existing = Existing.REFUSE
    if params["overwrite"] or params["skip_existing"]:
        existing = Existing.OVERWRITE if params["overwrite"] else Existing.SKIP
    settings = PoolSettings.make(2, mode=params["mode"], alpha=params["alpha"],
                                 linear=params["linear"], p=params["p"], nodata=params["nodata"],
                                 min_valid=params["min_valid"])  # fmt: skip
    request = PyramidRequest(
        tuple(params["inputs"]), params["output"] or "", settings=settings,
        options=PyramidOptions(
            levels=params["levels"], tile=params["tile_size"], overlap=params["overlap"],
            tile_format=params["tile_format"], label=params["label"], image=params["image"],
            factors=params["factors"],
        ),
        container=Container(params["container"]) if params["container"] else None,
        read=ReadOptions(max_pixels=params["max_pixels"], layout=params["layout"],
                         memory=params["memory"]),
        save_options=dict(params["save_options"]), existing=existing,
        recursive=params["recursive"], include=params["include"], exclude=params["exclude"],
        dry_run=params["dry_run"], fail_fast=params["fail_fast"],
    )  # fmt: skip
    console = Console(quiet=params["quiet"], verbose=params["verbose"])
    counts: Counter[str] = Counter()
    for outcome in run_pyramids(request):
        counts[outcome.status] += 1
        error = None if outcome.failure is None else said(outcome.failure.message)
        if params["as_json"]:
            data(json.dumps({
                "input": outcome.source, "output": outcome.target, "status": outcome.status,
                "error": error, "container": outcome.container and str(outcome.container),
                "in_size": list(outcome.in_size) if outcome.in_size else None,
                "levels": [list(size) for size in outcome.levels],
                "seconds": round(outcome.seconds, 6),
            }, ensure_ascii=True))  # fmt: skip
        source = shown(outcome.source)
        if outcome.failed:
            console.error(f"{source}: {error}")
            if outcome.traceback and params["show_traceback"]:
                console.raw(outcome.traceback)
            continue
        line = f"{source} -> {shown(outcome.target or '?')}: {_sizes(outcome)}"
        if outcome.status == "skipped":
            console.line(f"{source} -> {shown(outcome.target or '?')}: skipped, the output exists")
        elif params["dry_run"] and not params["as_json"]:
            data(line)
        elif params["verbose"]:
            console.line(f"{line}, {outcome.seconds:.3f} s, streamed {outcome.streamed}")
        for note in outcome.notes:
            console.note(f"{source}: {said(note)}")
    # as pool says it: planned (a dry run) or ok, skipped, failed (refused among them)
    failed, total, first = counts["error"], counts.total(), counts["planned"] + counts["ok"]
    if (params["dry_run"] and (failed or total > 1)) or (failed and total > 1):
        done = "planned" if params["dry_run"] else "ok"
        console.summary(f"{first} {done}, {counts['skipped']} skipped, {failed} failed", failed)
    return ExitStatus.INPUT_FAILED if failed else ExitStatus.OK


def _usage(message: str) -> None:
    raise click.UsageError(message)


def _sizes(outcome: Any) -> str:
    if not outcome.levels:
        return str(outcome.container)
    first, last = ("x".join(map(str, size)) for size in (outcome.levels[0], outcome.levels[-1]))
    return f"{first} -> {len(outcome.levels)} levels down to {last} ({outcome.container})"
