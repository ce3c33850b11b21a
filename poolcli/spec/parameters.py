"""The one check of pooling parameters, and PyTorch's output length.

Every layer checks parameters here: the engine (:func:`poolcli.pool`), image
settings (:class:`~poolcli.spec.settings.PoolSettings`) and, through them, the
command line. Each error is a :class:`~poolcli.errors.ParameterError` carrying the
parameter's name and value, worded once, with the name in backticks so that the
command line can say ``--divisor`` where the library says ``divisor``.

Pairs are (h, w). A pair is shown as one number when both sides agree, else as
``(h=2, w=3)``, which reads the same whichever way the caller wrote it.

Plain Python, without NumPy, so that a command line is refused before the engine
loads.
"""

from __future__ import annotations

import math
import numbers
import operator
from collections.abc import Collection
from typing import Any

from ..errors import InputError, ParameterError
from .modes import PoolMode

Pair = tuple[int, int]


def pair(name: str, value: object) -> Pair:
    """``value`` as an (h, w) pair of ints; an int means the same on both axes."""
    if type(value) is int:  # the common case, checked first: the engine calls this per call
        return value, value
    # a 1-D NumPy array counts as a sequence
    sequence = isinstance(value, (tuple, list)) or getattr(value, "ndim", None) == 1
    items: list[Any] = list(value) if sequence else [value, value]  # type: ignore[call-overload]
    try:
        if len(items) != 2 or any(isinstance(v, bool) for v in items):
            raise TypeError  # NumPy's bools refuse index() already
        h, w = (operator.index(v) for v in items)
    except TypeError:
        message = f"`{name}` must be an int or an (h, w) pair of ints, got {value!r}"
        raise ParameterError(message, parameter=name, value=value) from None
    return h, w


def window(
    kernel: object, stride: object = None, padding: object = 0, dilation: object = 1
) -> tuple[Pair, Pair, Pair, Pair]:
    """(kernel, stride, padding, dilation) as checked pairs; stride defaults to the kernel."""
    k = pair("kernel", kernel)
    s = k if stride is None else pair("stride", stride)
    p = pair("padding", padding)
    d = pair("dilation", dilation)
    check_window(k, s, p, d)
    return k, s, p, d


#: Sizes along 1, 2 or 3 spatial axes, outermost first: (w,), (h, w) or (d, h, w).
Sizes = tuple[int, ...]
_AXIS_NAMES = {1: "(w,)", 2: "(h, w)", 3: "(d, h, w)"}


def sizes(name: str, value: object, count: int) -> Sizes:
    """``value`` as ``count`` ints, one per spatial axis; an int means the same on every axis.

    ``count`` 2 is :func:`pair`; 1 and 3 are signals and volumes.
    """
    if count == 2:
        return pair(name, value)
    if type(value) is int:
        return (value,) * count
    sequence = isinstance(value, (tuple, list)) or getattr(value, "ndim", None) == 1
    items: list[Any] = list(value) if sequence else [value] * count  # type: ignore[call-overload]
    try:
        if len(items) != count or any(isinstance(v, bool) for v in items):
            raise TypeError
        result = tuple(operator.index(v) for v in items)
    except TypeError:
        message = (
            f"`{name}` must be an int or a {_AXIS_NAMES[count]} tuple of ints for "
            f"{count} spatial ax{'is' if count == 1 else 'es'}, got {value!r}"
        )
        raise ParameterError(message, parameter=name, value=value) from None
    return result


def window_of(
    count: int, kernel: object, stride: object = None, padding: object = 0, dilation: object = 1
) -> tuple[Sizes, Sizes, Sizes, Sizes]:
    """:func:`window` for ``count`` spatial axes (1, 2 or 3): checked tuples of that length."""
    k = sizes("kernel", kernel, count)
    s = k if stride is None else sizes("stride", stride, count)
    p = sizes("padding", padding, count)
    d = sizes("dilation", dilation, count)
    check_window(k, s, p, d)
    return k, s, p, d


def check_window(kernel: Sizes, stride: Sizes, padding: Sizes, dilation: Sizes) -> None:
    """Raise :class:`ParameterError` for window sizes no input could satisfy."""
    for name, values in (("kernel", kernel), ("stride", stride), ("dilation", dilation)):
        if min(values) < 1:
            message = f"`{name}` must be at least 1, got {show(values)}"
            raise ParameterError(message, parameter=name, value=values)
    half = tuple(k // 2 for k in kernel)
    if min(padding) < 0 or any(p > h for p, h in zip(padding, half, strict=True)):
        message = (
            f"`padding` must be between 0 and half the kernel (kernel {show(kernel)} "
            f"allows at most {show(half)}), got {show(padding)}"
        )
        raise ParameterError(message, parameter="padding", value=padding)


#: The modes that divide by a pixel count, so that ``count_include_pad`` can matter.
COUNTING_MODES = (PoolMode.AVG, PoolMode.RMS)


def check_mode_options(
    mode: PoolMode, *, divisor: object, p: object, padding: Sizes, count_include_pad: object = True
) -> tuple[int | None, float]:
    """``divisor`` and ``p`` checked against ``mode``; returned as int (or None), float.

    An option the mode has no use for is refused rather than ignored: ``p`` other
    than 2 outside 'lp', ``count_include_pad=False`` outside 'avg' and 'rms'.
    """
    if divisor is not None:
        if mode is not PoolMode.AVG:
            message = f"`divisor` only applies to mode 'avg', not {mode.value!r}"
            raise ParameterError(message, parameter="divisor", value=divisor)
        try:
            if isinstance(divisor, bool):
                raise TypeError
            number = operator.index(divisor)  # type: ignore[arg-type]
        except TypeError:
            number = 0
        if number == 0:
            message = f"`divisor` must be a non-zero integer, got {divisor!r}"
            raise ParameterError(message, parameter="divisor", value=divisor)
        divisor = number
    # a float first: the common case, cheaper than the abstract class
    if not (type(p) is float or isinstance(p, numbers.Real)):
        message = f"`p` must be a number, got {p!r}"
        raise ParameterError(message, parameter="p", value=p)
    power = float(p)
    if power != 2.0 and mode is not PoolMode.LP:
        message = f"`p` only applies to mode 'lp', not {mode.value!r}"
        raise ParameterError(message, parameter="p", value=p)
    if not count_include_pad and mode not in COUNTING_MODES:
        message = (
            f"`count_include_pad=false` only applies to modes 'avg' and 'rms', not "
            f"{mode.value!r}: the other modes never count padding"
        )
        raise ParameterError(message, parameter="count_include_pad", value=count_include_pad)
    if mode is PoolMode.LP:
        if not (math.isfinite(power) and power > 0):
            message = f"`p` must be a finite number above 0 for mode 'lp', got {p!r}"
            raise ParameterError(message, parameter="p", value=p)
        if max(padding) > 0:
            message = f"mode 'lp' takes no `padding` (as PyTorch's LPPool2d), got {show(padding)}"
            raise ParameterError(message, parameter="padding", value=padding)
    return divisor, power


def check_repeat(repeat: object) -> int:
    """``repeat``, a whole number of at least 1."""
    if isinstance(repeat, bool) or not isinstance(repeat, int) or repeat < 1:
        message = f"`repeat` must be a whole number of at least 1, got {repeat!r}"
        raise ParameterError(message, parameter="repeat", value=repeat)
    return repeat


def check_size(size: tuple[int | None, int | None], repeat: int, **window: object) -> None:
    """An adaptive output ``size`` (width, height), either side None to keep the aspect.

    ``window`` holds the window options by name, each None when left at its default:
    adaptive pooling chooses the windows itself, so any of them given is refused.
    """
    if not (isinstance(size, (tuple, list)) and len(size) == 2) or any(
        side is not None and (isinstance(side, bool) or not isinstance(side, int)) for side in size
    ):
        message = (
            f"`size` must be a (width, height) pair of ints, one side may be None; got {size!r}"
        )
        raise ParameterError(message, parameter="size", value=size)
    if repeat != 1:
        message = "`size` picks the output size itself; it does not combine with `repeat`"
        raise ParameterError(message, parameter="size", value=size)
    width, height = size
    if width is None and height is None:
        message = "`size` needs a width, a height or both (width, height; one may be None)"
        raise ParameterError(message, parameter="size", value=size)
    for side in (width, height):
        if side is not None and side < 1:
            message = f"`size` sides must be at least 1 pixel, got {show_size(size)}"
            raise ParameterError(message, parameter="size", value=size)
    for name, value in window.items():
        if value is not None:
            _refuse_with_size(name, value)


#: The options that shape windows, which adaptive pooling (``size``) chooses itself.
WINDOW_OPTIONS = ("kernel", "stride", "padding", "dilation", "ceil_mode", "count_include_pad")


def check_given(mode: PoolMode, size: object, padding: Pair, given: Collection[str]) -> None:
    """Refuse options named explicitly (on a command line) that would change nothing,
    even at their default values: a window option with ``size``, ``p`` outside 'lp',
    ``count_include_pad`` outside 'avg' and 'rms' or without padding."""
    if size is not None:
        for name in WINDOW_OPTIONS:
            if name in given:
                _refuse_with_size(name, None)
    if "p" in given and mode is not PoolMode.LP:
        message = f"`p` only applies to mode 'lp', not {mode.value!r}"
        raise ParameterError(message, parameter="p")
    if "count_include_pad" in given and size is None and mode in COUNTING_MODES:
        if max(padding) == 0:
            message = "`count_include_pad=false` changes nothing without `padding`"
            raise ParameterError(message, parameter="count_include_pad")


def _refuse_with_size(name: str, value: object) -> None:
    message = f"`size` picks the windows itself; `{name}` does nothing with it: drop one of them"
    raise ParameterError(message, parameter=name, value=value)


def check_threads(threads: object) -> int | None:
    """``threads``: None (all cores) or a positive integer."""
    if threads is None:
        return None
    if isinstance(threads, bool) or not isinstance(threads, numbers.Integral) or threads < 1:
        message = f"`threads` must be a positive integer, got {threads!r}"
        raise ParameterError(message, parameter="threads", value=threads)
    return int(threads)


def output_length(
    n: int, kernel: int, stride: int, padding: int, dilation: int, ceil_mode: bool
) -> int:
    """PyTorch's pooled length of an axis of ``n`` pixels (may be < 1: no window fits).

    ``floor_or_ceil((n + 2p - d(k-1) - 1) / s) + 1``; in ceil mode the last window is
    dropped when it would start at or past ``n + p``.
    """
    span = n + 2 * padding - dilation * (kernel - 1) - 1
    if ceil_mode:
        out = -(-span // stride) + 1
        if (out - 1) * stride >= n + padding:
            out -= 1
    else:
        out = span // stride + 1
    return out


def fitted_length(
    n: int, kernel: int, stride: int, padding: int, dilation: int, ceil_mode: bool, *, where: str
) -> int:
    """:func:`output_length`, or :class:`InputError` when no window fits the ``n``
    pixels of ``where`` ('axis 0', 'the image width')."""
    out = output_length(n, kernel, stride, padding, dilation, ceil_mode)
    if out < 1:
        pixels = f"{n} pixel{'s' if n != 1 else ''}"
        padded = f" plus padding {padding} on each side" if padding else ""
        helps = not ceil_mode and output_length(n, kernel, stride, padding, dilation, True) >= 1
        remedy = ", or `ceil_mode` to keep a partial window" if helps else ""
        if dilation > 1:
            reach = dilation * (kernel - 1) + 1
            message = (
                f"a window of `kernel` {kernel} with `dilation` {dilation} spans {reach} pixels, "
                f"more than {where} ({pixels}{padded}); use a smaller dilation or kernel{remedy}"
            )
        else:
            message = (
                f"`kernel` {kernel} is larger than {where} ({pixels}{padded}); "
                f"use a smaller kernel{remedy}"
            )
        raise InputError(message)
    return out


def show(values: tuple[int, ...]) -> str:
    """Sizes as messages show them: ``3`` when all sides agree, else ``(h=2, w=3)``
    (``(d=1, h=2, w=3)`` for a volume)."""
    if len(set(values)) == 1:
        return str(values[0])
    if len(values) == 2:
        return f"(h={values[0]}, w={values[1]})"
    if len(values) == 3:
        return f"(d={values[0]}, h={values[1]}, w={values[2]})"
    return str(values)


def show_size(size: tuple[int | None, int | None]) -> str:
    """A (width, height) size as ``WxH``, a missing side left empty (``640x``)."""
    width, height = size
    return f"{'' if width is None else width}x{'' if height is None else height}"
