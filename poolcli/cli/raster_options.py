"""The options of scientific rasters: ``--nodata VALUE|nan|none`` and ``--min-valid``.

Kept beside :mod:`.options` (which applies them with the pool options) so that each
module stays small; NumPy-free, like it, so that ``--help`` stays fast.
"""

from __future__ import annotations

import math
from typing import Any

import click

from ..spec.modes import NO_NODATA


class NodataType(click.ParamType):
    """``-9999``, ``0.5``, ``nan`` or ``none`` -> an int, a float, NaN or ``"none"``."""

    name = "VALUE"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> int | float | str:
        if not isinstance(value, str):
            return value  # a default, already converted
        text = value.strip().lower()
        if text == NO_NODATA:
            return NO_NODATA
        try:
            return int(text)  # exact, even for 64-bit values
        except ValueError:
            pass
        try:
            number = float(text)
        except ValueError:
            self.fail(f"{value!r} is not a number, nan or none (e.g. -9999, 0, nan)", param, ctx)
        if math.isinf(number):
            self.fail(f"{value!r}: nodata must be finite or nan", param, ctx)
        return number


nodata = click.option(
    "--nodata", type=NodataType(), metavar="VALUE|nan|none", default=None,
    help="Samples of this value count in no window (means, sums, max, median, mode, "
    "divisors); a window without valid samples gives VALUE. Default: the file's own "
    "(a GeoTIFF's GDAL_NODATA, a Zarr's nodata attribute); none: every value is data.",
)  # fmt: skip
min_valid = click.option(
    "--min-valid", type=click.FloatRange(0, 1), metavar="FRACTION", default=0.0,
    help="With nodata: a window with fewer valid pixels than this fraction of its "
    "pixels gives nodata.  [default: 0, any valid pixel]",
)  # fmt: skip
