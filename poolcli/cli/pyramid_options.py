"""The options only ``poolcli pyramid`` takes (the shared ones live in :mod:`.options`).

``--levels N``, ``--factors WxHxD`` (volumes), ``--tile-size N``, ``--overlap N``
(Deep Zoom), ``--container`` (for an output folder of several pyramids), ``--label
NAME`` with ``--image IMG.ome.zarr`` (an OME-Zarr label pyramid), ``--format`` (Deep
Zoom tiles, a folder's files). NumPy-free, so ``--help`` stays fast.
"""

from __future__ import annotations

import click

from ..spec.pyramids import Container
from .completion import complete_formats
from .options import WindowType

levels = click.option(
    "--levels", type=click.IntRange(min=1), default=None, metavar="N",
    help="Levels to make, level 0 included  [default: down to the first that fits one "
    "tile; Deep Zoom: down to 1x1]",
)  # fmt: skip
factors = click.option(
    "--factors", type=WindowType(), default=None, metavar="WxHxD",
    help="Volumes: what each level divides width, height and depth by, e.g. 2x2x1 for a "
    "stack whose depth is kept  [default: 2x2x2 for a volume; images halve, 2x2]. A TIFF "
    "Z stack, or a .npy/Zarr array in a volume layout, is then read as a volume.",
)  # fmt: skip
tile_size = click.option(
    "--tile-size", "tile_size", type=click.IntRange(16, 65536), default=None, metavar="N",
    help="Tile side in pixels (TIFF tiles, Zarr chunks, Deep Zoom tiles)  "
    "[default: 256; Deep Zoom 254]",
)  # fmt: skip
overlap = click.option(
    "--overlap", type=click.IntRange(min=0), default=1, show_default=True, metavar="N",
    help="Deep Zoom: pixels each tile overlaps its neighbours by.",
)  # fmt: skip
container = click.option(
    "--container", type=click.Choice([c.value for c in Container]), default=None,
    help="The pyramid kind when -o is a folder of several pyramids  [default: from -o's "
    "name; ome-zarr for a folder]",
)  # fmt: skip
tile_format = click.option(
    "--format", "tile_format", metavar="FORMAT", default=None, shell_complete=complete_formats,
    help="Deep Zoom tiles and a folder's level files: png, jpg, webp, tif, npy  [default: "
    "Deep Zoom jpeg (png with alpha or 16 bits); folder png]",
)  # fmt: skip
label = click.option(
    "--label", metavar="NAME", default=None,
    help="Write a label pyramid (-m mode) into --image IMG.ome.zarr as labels/NAME.",
)  # fmt: skip
image = click.option(
    "--image", metavar="IMG.ome.zarr", default=None, type=click.Path(file_okay=False),
    help="The OME-Zarr image --label writes into.",
)  # fmt: skip
