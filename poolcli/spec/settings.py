"""What to do to one input: the pooling parameters plus the image policy switches.

:class:`PoolSettings` is built once (by the command line or a library caller),
checked up front, and then applied to every input; it also predicts output sizes
from header sizes, so dry runs and ``poolcli info`` never decode pixels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

from ..errors import InputError, ParameterError
from .arrays import SIGNAL_LAYOUTS
from .bands import RowBand
from .modes import NO_NODATA, AlphaPolicy, PoolMode
from .parameters import (
    Pair,
    check_mode_options,
    check_repeat,
    check_size,
    check_threads,
    check_window,
    fitted_length,
    pair,
    show,
    show_size,
)
from .volumes import FLAT, Depth


@dataclass(frozen=True)
class PoolSettings:
    """Pooling parameters (as :func:`poolcli.pool`) and image switches.

    ``kernel``, ``stride``, ``padding`` and ``dilation`` are (h, w) pairs. ``size``
    asks for adaptive pooling to (width, height) instead; either side may be None
    to keep the aspect ratio. ``repeat`` applies the pooling that many times.
    ``bands``, one per pass, restricts the passes to bands of output rows (a
    streamed input pooled a band at a time, see :mod:`poolcli.pooling.streaming`).

    ``nodata``: samples of this value (``float('nan')``: NaN) count in no window
    (see :func:`poolcli.pool`); None takes each file's own (a GeoTIFF's GDAL_NODATA,
    a Zarr array's ``nodata`` attribute), ``"none"`` pools every value as data.
    ``min_valid``: with nodata, the fraction of a window that must be valid.

    ``depth``: a volume pooling's window along depth (``WxHxD`` sizes on the
    command line); None pools images (and volumes slice by slice).
    """

    kernel: Pair = (2, 2)
    stride: Pair | None = None
    padding: Pair = (0, 0)
    dilation: Pair = (1, 1)
    mode: PoolMode = PoolMode.AVG
    ceil_mode: bool = False
    count_include_pad: bool = True
    divisor: int | None = None
    p: float = 2.0
    size: tuple[int | None, int | None] | None = None
    repeat: int = 1
    alpha: AlphaPolicy = AlphaPolicy.PREMULTIPLIED
    linear: bool = False
    nodata: int | float | str | None = None
    min_valid: float = 0.0
    threads: int | None = field(default=None, compare=False)
    bands: tuple[RowBand, ...] = field(default=(), compare=False)
    depth: Depth | None = None

    @classmethod
    def make(cls, kernel: int | Pair = 2, **options: object) -> PoolSettings:
        """Settings from loose values (ints for pairs, strings for enums), checked."""
        values: dict[str, object] = dict(options)
        values["kernel"] = pair("kernel", kernel)
        for name in ("stride", "padding", "dilation"):
            if values.get(name) is not None:
                values[name] = pair(name, values[name])
        if "mode" in values:
            values["mode"] = PoolMode.parse(values["mode"])  # type: ignore[arg-type]
        if "alpha" in values:
            values["alpha"] = AlphaPolicy.parse(values["alpha"])  # type: ignore[arg-type]
        settings = cls(**values)  # type: ignore[arg-type]
        settings.check()
        return settings

    @property
    def effective_stride(self) -> Pair:
        return self.kernel if self.stride is None else self.stride

    @property
    def nodata_value(self) -> int | float | None:
        """The nodata value pooling leaves out, or None (every value is data)."""
        return None if self.nodata is None or self.nodata == NO_NODATA else self.nodata  # type: ignore[return-value]

    def for_file(self, nodata: int | float | None) -> PoolSettings:
        """These settings for a file that declares ``nodata`` (None: declares none):
        the file's value unless one was given."""
        if self.nodata is not None or nodata is None:
            return self
        return replace(self, nodata=nodata)

    @property
    def engine_options(self) -> dict[str, Any]:
        """Keyword arguments for :func:`poolcli.pool` (without ``mode``)."""
        return dict(
            stride=self.effective_stride,
            padding=self.padding,
            dilation=self.dilation,
            ceil_mode=self.ceil_mode,
            count_include_pad=self.count_include_pad,
            divisor=self.divisor,
            p=self.p,
            threads=self.threads,
            nodata=self.nodata_value,
            min_valid=self.min_valid,
        )

    def check(self, max_pixels: int | None = None) -> None:
        """Raise :class:`ParameterError` for settings that no allowed image could satisfy.

        With ``max_pixels``, a kernel reach or an output size that needs a bigger
        image than the limit allows is refused too, before any file is read.
        """
        check_window(self.kernel, self.effective_stride, self.padding, self.dilation)
        padding: tuple[int, ...] = self.padding
        if self.depth is not None:
            d = self.depth
            check_window((d.kernel,), (d.effective_stride,), (d.padding,), (d.dilation,))
            padding = (*self.padding, d.padding)
            if d.size is not None and d.size < 1:
                message = f"`size` depth must be at least 1, got {d.size}"
                raise ParameterError(message, parameter="size", value=d.size)
        check_repeat(self.repeat)
        if self.size is not None:
            check_size(self.size, self.repeat, **self._window_given())
        check_mode_options(
            self.mode,
            divisor=self.divisor,
            p=self.p,
            padding=padding,
            count_include_pad=self.count_include_pad,
        )
        check_threads(self.threads)
        check_nodata_setting(self.nodata, self.min_valid)
        if max_pixels is not None:
            self._check_reach(max_pixels)

    def _window_given(self) -> dict[str, object]:
        """The window options away from their defaults (None where at the default)."""
        defaults = PoolSettings()
        return {
            name: value if value != getattr(defaults, name) else None
            for name, value in (
                ("kernel", self.kernel),
                ("stride", self.stride),
                ("padding", self.padding),
                ("dilation", self.dilation),
                ("ceil_mode", self.ceil_mode or None),
                ("count_include_pad", None if self.count_include_pad else False),
            )
        }

    def _check_reach(self, max_pixels: int) -> None:
        """Refuse settings that need an axis longer than any image ``max_pixels`` allows."""
        if self.size is not None:
            width, height = self.size
            area = (width or 1) * (height or 1)
            if area > max_pixels:
                message = (
                    f"`size` {show_size(self.size)} asks for {area:,} pixels, more than "
                    f"`max_pixels` {max_pixels:,} allows any input to have; pooling only shrinks"
                )
                raise ParameterError(message, parameter="size", value=self.size)
            return
        for axis, name in ((0, "height"), (1, "width")):
            needed = self.minimum_input(axis, limit=max_pixels)
            if needed > max_pixels:
                message = (
                    f"`kernel` {show(self.kernel)} with `repeat` {self.repeat} needs an image "
                    f"{name} of at least {needed:,} pixels, more than `max_pixels` "
                    f"{max_pixels:,} allows; use a smaller kernel or repeat"
                )
                raise ParameterError(message, parameter="kernel", value=self.kernel)

    def minimum_input(self, axis: int, limit: int = 1 << 62) -> int:
        """The shortest axis that survives every repeat with one output (capped past ``limit``)."""
        s = self.effective_stride[axis]
        p, reach = self.padding[axis], self.dilation[axis] * (self.kernel[axis] - 1) + 1
        n = 1
        for _ in range(self.repeat):
            # invert output_length: the smallest input giving n outputs
            if self.ceil_mode:
                before = max((n - 2) * s + reach - 2 * p + 1, (n - 1) * s - p + 1, 1)
            else:
                before = max((n - 1) * s + reach - 2 * p, 1)
            if before == n or before > limit:  # a fixed point, or already out of reach
                return before
            n = before
        return n

    def output_size(self, width: int, height: int) -> tuple[int, int]:
        """(width, height) of the result for an input of that size; InputError if none."""
        if self.size is not None:
            return self.adaptive_size(width, height)
        h, w = height, width
        for step in range(self.repeat):
            try:
                h = self._length(h, 0)
                w = self._length(w, 1)
            except InputError as error:
                if self.repeat == 1:
                    raise
                message = (
                    f"pass {step + 1} of `repeat` {self.repeat} has a {w}x{h} image left, "
                    f"too small: {error.message}"
                )
                raise InputError(message) from None
        return w, h

    def planned_size(self, width: int, height: int, layout: str | None) -> tuple[int, int]:
        """:meth:`output_size` of a plane of an array in ``layout``: a signal's planes
        are (width, 1), and only its width is pooled."""
        if layout not in SIGNAL_LAYOUTS:
            return self.output_size(width, height)
        if self.size is not None:
            return self.size[0] or width, 1
        for _ in range(self.repeat):
            width = self._length(width, 1)
        return width, 1

    def planned_volume(self, width: int, height: int, depth: int) -> tuple[int, int, int]:
        """(width, height, depth) of a pooled volume: :meth:`output_size` in plane, and
        the depth window (or ``size``'s depth; none given keeps it) every pass."""
        out_w, out_h = self.output_size(width, height)
        along = self.depth or FLAT
        if self.size is not None:
            return out_w, out_h, along.size or depth
        for _ in range(self.repeat):
            depth = fitted_length(
                depth, along.kernel, along.effective_stride, along.padding, along.dilation,
                self.ceil_mode, where="the volume's depth",
            )  # fmt: skip
        return out_w, out_h, depth

    def adaptive_size(self, width: int, height: int) -> tuple[int, int]:
        """The ``size`` target for an input of width x height (aspect kept for a missing side)."""
        assert self.size is not None
        out_w, out_h = self.size
        if out_w is None:
            assert out_h is not None
            out_w = max(1, _round_half_up(width * out_h / height))
        if out_h is None:
            out_h = max(1, _round_half_up(height * out_w / width))
        if out_w > width or out_h > height:
            message = (
                f"`size` {out_w}x{out_h} is larger than the {width}x{height} input; "
                "pooling only shrinks"
            )
            raise InputError(message)
        return out_w, out_h

    def _length(self, n: int, axis: int) -> int:
        k, s = self.kernel[axis], self.effective_stride[axis]
        p, d = self.padding[axis], self.dilation[axis]
        side = "height" if axis == 0 else "width"
        return fitted_length(n, k, s, p, d, self.ceil_mode, where=f"the image {side}")

    def scale(self, width: int, height: int) -> tuple[float, float]:
        """How many input pixels one output pixel spans, (x, y): DPI divides by this."""
        (scale_x, _), (scale_y, _) = self.placement(width, height)
        return scale_x, scale_y

    def placement(self, width: int, height: int) -> tuple[tuple[float, float], tuple[float, float]]:
        """Where output pixels lie on the input: ((scale, offset) along x, along y), so
        that output pixel coordinate ``v`` (its corner at 0) is input coordinate
        ``scale * v + offset``. Each output pixel's centre is its window's centre
        (``k/2 - s/2 - p`` input pixels from the stride grid); ``repeat`` composes
        the passes; a ``size`` target spreads its windows over the whole input.
        Georeferencing and physical pixel sizes follow this."""
        out_w, out_h = self.output_size(width, height)
        if self.size is not None:
            return (width / out_w, 0.0), (height / out_h, 0.0)
        stride = self.effective_stride
        x, y = (
            self._composed(self.kernel[a], stride[a], self.padding[a], self.dilation[a])
            for a in (1, 0)
        )
        return x, y

    def volume_placement(self, width: int, height: int, depth: int) -> tuple:
        """:meth:`placement` along x and y, then along a volume's depth (z)."""
        return (*self.placement(width, height), self.depth_placement(depth))

    def depth_placement(self, depth: int) -> tuple[float, float]:
        """(scale, offset) along a volume's depth, as :meth:`placement` along x and y."""
        along = self.depth or FLAT
        if self.size is not None:
            return depth / (along.size or depth), 0.0
        return self._composed(along.kernel, along.effective_stride, along.padding, along.dilation)

    def _composed(self, k: int, s: int, p: int, d: int) -> tuple[float, float]:
        """(scale, offset) of ``repeat`` passes of one axis's window."""
        scale, offset = 1.0, 0.0
        for _ in range(self.repeat):
            step, shift = _placement(k, s, p, d)
            offset += scale * shift  # u = scale * (step * v + shift) + offset
            scale *= step
        return scale, offset


def check_nodata_setting(nodata: object, min_valid: object) -> None:
    """Refuse a ``nodata`` that is no number (nor None or ``"none"``) and a
    ``min_valid`` outside [0, 1], or given without nodata to apply it to."""
    number = isinstance(nodata, (int, float)) and not isinstance(nodata, bool)
    if not (nodata is None or nodata == NO_NODATA or number):
        message = f"`nodata` must be a number, NaN or 'none', got {nodata!r}"
        raise ParameterError(message, parameter="nodata", value=nodata)
    fraction = isinstance(min_valid, (int, float)) and not isinstance(min_valid, bool)
    if not fraction or not 0 <= float(min_valid) <= 1:  # type: ignore[arg-type]
        message = f"`min_valid` must be a fraction from 0 to 1, got {min_valid!r}"
        raise ParameterError(message, parameter="min_valid", value=min_valid)
    if min_valid and nodata == NO_NODATA:
        message = "`min_valid` counts valid pixels, but `nodata` is 'none'; give a nodata value"
        raise ParameterError(message, parameter="min_valid", value=min_valid)


def _placement(k: int, s: int, p: int, d: int) -> tuple[float, float]:
    """(scale, offset) of one pass along an axis: an output pixel spans ``s`` input
    pixels and its centre is its window's centre, ``(k - 1) * d + 1`` wide from ``-p``."""
    reach = (k - 1) * d + 1
    return float(s), reach / 2 - s / 2 - p


def _round_half_up(value: float) -> int:
    return math.floor(value + 0.5)
