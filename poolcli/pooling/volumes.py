"""Signals and volumes: :func:`poolcli.pool` and friends over 1 or 3 spatial axes.

:mod:`.engine` hands every call whose ``axes`` name one or three axes here.

- One axis (a signal): the 2-D engine with a unit axis beside it (kernel 1 there),
  so every mode, option, ``band`` and ``nodata`` means what it means in 2-D; the
  result is the same array with the unit axis dropped.
- Three axes (a volume, depth first): windows placed per axis as in 2-D, then three
  separable passes (:mod:`.volume_passes`) or whole-window ranking
  (:mod:`.volume_ranked`). ``band`` names depth slices of the output (slabs of a
  volume larger than memory); ``nodata`` leaves voxels out as in 2-D
  (:mod:`.volume_valid`; median and mode: :mod:`.valid_ranked` on stacked windows).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import cast

import numpy as np

from ..errors import InputError, ParameterError
from ..spec.modes import PoolMode
from ..spec.parameters import Pair, Sizes, check_threads, sizes, window_of
from . import numeric, volume_passes, volume_ranked, volume_valid
from .geometry import AxisWindows, adaptive_windows, banded, regular_windows
from .nodata import check_nodata
from .reduction import Reduction


def spatial_count(axes: object) -> int:
    """How many spatial axes ``axes`` names: 1 or 3, else 2 (the 2-D engine's checks)."""
    try:
        count = len(axes)  # type: ignore[arg-type]
    except TypeError:
        return 2
    return count if count in (1, 3) else 2


def check_kernel_count(kernel: object, axes: object) -> None:
    """A :class:`ParameterError` naming ``axes`` for a kernel of another length than ``axes``."""
    if isinstance(kernel, (tuple, list)) and len(kernel) in (1, 3):
        count = spatial_count(axes)
        if len(kernel) != count:
            message = (
                f"`kernel` {tuple(kernel)!r} has {len(kernel)} value(s) but `axes` {axes!r} "
                f"names {count}; give `axes` {len(kernel)} spatial axes, e.g. "
                f"{tuple(range(len(kernel)))!r}"
            )
            raise ParameterError(message, parameter="kernel", value=kernel)


def pool(
    x: np.ndarray, kernel: object, *, axes: Sequence[int], planes: Callable, **options
) -> np.ndarray:
    """:func:`poolcli.pool` over the 1 or 3 ``axes`` (same options); ``planes`` is the
    2-D :func:`poolcli.pool`, which pools signals."""
    count = len(axes)
    k, s, pad, d = window_of(
        count, kernel, options["stride"], options["padding"], options["dilation"]
    )
    mode = PoolMode.parse(options["mode"])
    reduction = Reduction.make(
        mode, options["count_include_pad"], options["divisor"], options["p"],
        cast(Pair, pad), options["_ignore"],
    )  # fmt: skip
    threads = check_threads(options["threads"])
    if count == 1:
        x, (axis,), channel = prepare(x, axes, options["channel_axis"])
        result = planes(
            np.expand_dims(x, axis + 1), (k[0], 1), stride=(s[0], 1), padding=(pad[0], 0),
            dilation=(d[0], 1), mode=mode, ceil_mode=options["ceil_mode"],
            count_include_pad=options["count_include_pad"], divisor=options["divisor"],
            p=options["p"], axes=(axis, axis + 1), channel_axis=_beside(channel, axis),
            threads=threads, band=options["band"], nodata=options["nodata"],
            min_valid=options["min_valid"], _ignore=options["_ignore"],
        )  # fmt: skip
        return result.reshape(result.shape[: axis + 1] + result.shape[axis + 2 :])
    x, spatial, channel = prepare(x, axes, options["channel_axis"])
    reduction = _with_nodata(reduction, options["nodata"], options["min_valid"], x.dtype)
    band = options["band"]
    lengths = [x.shape[a] for a in spatial]
    if band is not None:
        lengths[0] = band.length  # the slices given are the band's: windows of the whole
    windows = [
        regular_windows(n, k[i], s[i], pad[i], d[i], options["ceil_mode"], axis=a)
        for i, (n, a) in enumerate(zip(lengths, spatial, strict=True))
    ]
    windows[0] = banded(windows[0], band, x.shape[spatial[0]])
    return _run(x, spatial, channel, tuple(windows), reduction, threads)


def adaptive_pool(
    x: np.ndarray, output_size: object, *, axes: Sequence[int], planes: Callable, **options
) -> np.ndarray:
    """:func:`poolcli.adaptive_pool` over the 1 or 3 ``axes`` (same options); ``planes``
    is the 2-D :func:`poolcli.adaptive_pool`, which pools signals."""
    count = len(axes)
    size = _output_size(output_size, count)
    mode = PoolMode.parse(options["mode"])
    reduction = Reduction.make(mode, True, None, options["p"], (0, 0), options["_ignore"])
    threads = check_threads(options["threads"])
    if count == 1:
        x, (axis,), channel = prepare(x, axes, options["channel_axis"])
        result = planes(
            np.expand_dims(x, axis + 1), (size[0], None), mode=mode, p=options["p"],
            axes=(axis, axis + 1), channel_axis=_beside(channel, axis), threads=threads,
            band=options["band"], nodata=options["nodata"], min_valid=options["min_valid"],
            _ignore=options["_ignore"],
        )  # fmt: skip
        return result.reshape(result.shape[: axis + 1] + result.shape[axis + 2 :])
    x, spatial, channel = prepare(x, axes, options["channel_axis"])
    reduction = _with_nodata(reduction, options["nodata"], options["min_valid"], x.dtype)
    band = options["band"]
    lengths = [x.shape[a] for a in spatial]
    if band is not None:
        lengths[0] = band.length
    windows = [
        adaptive_windows(n, n if out is None else out, axis=a)
        for n, a, out in zip(lengths, spatial, size, strict=True)
    ]
    windows[0] = banded(windows[0], band, x.shape[spatial[0]])
    return _run(x, spatial, channel, tuple(windows), reduction, threads)


def output_shape(
    shape: Sequence[int], kernel: object, *, axes: Sequence[int], **options
) -> tuple[int, ...]:
    """:func:`poolcli.output_shape` over the 1 or 3 ``axes``."""
    count = len(axes)
    k, s, pad, d = window_of(
        count, kernel, options["stride"], options["padding"], options["dilation"]
    )
    shape = tuple(int(n) for n in shape)
    result = list(shape)
    for i, axis in enumerate(_normalise_axes(axes, len(shape))):
        windows = regular_windows(
            shape[axis], k[i], s[i], pad[i], d[i], options["ceil_mode"], axis=axis
        )
        result[axis] = windows.out
    return tuple(result)


def _run(
    x: np.ndarray,
    axes: tuple[int, ...],
    channel_axis: int | None,
    windows: tuple[AxisWindows, ...],
    reduction: Reduction,
    threads: int | None,
) -> np.ndarray:
    if reduction.mode.separable:
        plan = None if reduction.nodata is None else volume_valid.ValidVolumeWork
        return volume_passes.run(x, axes, windows, reduction, threads, plan)
    gd, gh, gw = windows
    spatial = cast(tuple[int, int, int], axes)
    return volume_ranked.run(x, spatial, channel_axis, (gd, gh, gw), reduction, threads)


def _with_nodata(
    reduction: Reduction, nodata: object, min_valid: object, dtype: np.dtype
) -> Reduction:
    """``reduction`` leaving out the voxels equal to ``nodata`` (checked for ``dtype``)."""
    if nodata is None:
        return reduction
    value, fraction = check_nodata(nodata, min_valid, dtype)
    return replace(reduction, nodata=value, min_valid=fraction)


def _output_size(output_size: object, count: int) -> tuple[int | None, ...]:
    """``output_size`` as ``count`` sides; None on a side keeps that axis, as in PyTorch."""
    if isinstance(output_size, (tuple, list)) and None in output_size:
        checked: Sizes = sizes("output_size", [1 if v is None else v for v in output_size], count)
        return tuple(None if v is None else c for v, c in zip(output_size, checked, strict=True))
    return sizes("output_size", output_size, count)


def _beside(channel: int | None, axis: int) -> int | None:
    """``channel`` once a unit axis is inserted after ``axis``."""
    return None if channel is None else channel + (channel > axis)


def _normalise_axes(axes: Sequence[int], ndim: int) -> tuple[int, ...]:
    """The spatial ``axes`` of an ``ndim``-d array as axis numbers from 0."""
    count = len(axes)
    if ndim < count:
        message = (
            f"pooling over {count} spatial axes needs an array of {count} or more "
            f"dimensions, got {ndim}"
        )
        raise InputError(message)
    try:
        numbers = tuple(int(v) for v in axes)
    except (TypeError, ValueError):
        message = f"`axes` must be {count} distinct axis numbers, got {axes!r}"
        raise ParameterError(message, parameter="axes", value=axes) from None
    if not all(-ndim <= a < ndim for a in numbers) or len({a % ndim for a in numbers}) < count:
        message = f"`axes` must be {count} distinct axes of a {ndim}-d array, got {axes!r}"
        raise ParameterError(message, parameter="axes", value=axes)
    return tuple(a % ndim for a in numbers)


def prepare(
    x: np.ndarray,
    axes: Sequence[int],
    channel_axis: int | None,
    normalise: Callable[[Sequence[int], int], tuple[int, ...]] | None = None,
) -> tuple[np.ndarray, tuple[int, ...], int | None]:
    """``x`` native and C-ordered (every band is then a cheap view), its spatial axes
    (checked by ``normalise``, default: 1 to 3 axes) and channel axis as axis numbers."""
    try:
        x = np.asarray(x)
    except (ValueError, TypeError) as error:
        message = f"the input is not an array of numbers of one shape: {error}"
        raise InputError(message) from None
    dtype = numeric.check_dtype(x.dtype)
    spatial = (normalise or _normalise_axes)(axes, x.ndim)
    if channel_axis is not None:
        given = channel_axis
        channel_axis = int(channel_axis)
        if not -x.ndim <= channel_axis < x.ndim or channel_axis % x.ndim in spatial:
            message = (
                f"`channel_axis` must be an axis of the {x.ndim}-d array other than the "
                f"spatial axes {spatial}, got {given}"
            )
            raise ParameterError(message, parameter="channel_axis", value=given)
        channel_axis %= x.ndim
    return np.ascontiguousarray(x, dtype=dtype), spatial, channel_axis
