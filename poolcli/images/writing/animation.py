"""Writing animations frame for frame: GIF, APNG and animated WebP.

Pillow decodes an animation into whole composited frames, which is what poolcli
pools. Its animation writers then merge consecutive identical frames (adding their
durations), so a 31-frame GIF can come back with 22 frames. poolcli keeps every
frame and its duration:

- GIF and WebP: each frame is encoded by Pillow as a still image, and the frames'
  image blocks are assembled into one animation here (both containers are simple,
  documented block formats).
- APNG: Pillow's writer is used with ``blend=OP_SOURCE`` (a whole frame replaces
  the canvas), and identical neighbours get alternating disposal ops, which renders
  the same but is not merged. With ``default_image`` the first frame is written as
  the still default image, outside the animation (Pillow's option of that name).

Frames are whole canvases, so the disposal written is the one that reproduces them
exactly: a GIF frame is cleared (disposal 2) before a frame with transparency.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Sequence
from typing import BinaryIO

import numpy as np
from PIL import Image

from ...errors import OutputError

_GIF_CLEAR = 2  # "restore to background": the next frame starts from transparency
_GIF_KEEP = 1
_PNG_OP_NONE, _PNG_OP_BACKGROUND = 0, 1
_PNG_BLEND_SOURCE = 0

# keywords that describe the animation, not how to encode one frame
_ANIMATION_KEYS = ("duration", "loop", "disposal", "blend", "save_all", "append_images",
                   "background", "comment", "transparency", "default_image")  # fmt: skip


def save(frames: Sequence[Image.Image], target: BinaryIO, format: str, options: dict) -> None:
    """Write ``frames`` as an animation in ``format`` (GIF, PNG or WEBP); for PNG,
    ``options["default_image"]``: ``frames[0]`` is the default image, the others
    the animation (``duration`` lists theirs)."""
    default_image = format == "PNG" and bool(options.get("default_image"))
    durations = _per_frame(options.get("duration"), len(frames) - default_image, default=0)
    loop = options.get("loop")
    still = {k: v for k, v in options.items() if k not in _ANIMATION_KEYS}
    if format == "GIF":
        _write_gif(frames, target, durations, loop, options.get("comment"), still)
    elif format == "WEBP":
        _write_webp(frames, target, durations, loop, options, still)
    elif format == "PNG":
        _write_apng(frames, target, durations, loop, options, default_image=default_image)
    else:
        message = f"no animation writer for {format}"
        raise OutputError(message)


def _write_apng(frames, target, durations, loop, options, *, default_image: bool) -> None:
    animated = frames[1:] if default_image else frames
    disposal = [_PNG_OP_NONE]
    for previous, frame in zip(animated, animated[1:], strict=False):
        same = _identical(previous, frame)
        # Pillow merges a frame into an identical previous one with the same ops;
        # flipping the disposal keeps it (blend SOURCE repaints, so both render alike).
        disposal.append(_PNG_OP_BACKGROUND - disposal[-1] if same else _PNG_OP_NONE)
    extra = {k: v for k, v in options.items() if k not in _ANIMATION_KEYS}
    frames[0].save(
        target,
        format="PNG",
        save_all=True,
        append_images=list(frames[1:]),
        duration=durations,
        disposal=disposal,
        blend=[_PNG_BLEND_SOURCE] * len(animated),
        loop=0 if loop is None else loop,
        default_image=default_image,
        **extra,
    )


def _write_gif(frames, target, durations, loop, comment, still) -> None:
    width, height = frames[0].size
    out = bytearray(b"GIF89a")
    # no global colour table: every frame carries its own palette
    out += struct.pack("<HHBBB", width, height, 0x70, 0, 0)
    if loop is not None:
        out += b"\x21\xff\x0bNETSCAPE2.0\x03\x01" + struct.pack("<H", loop) + b"\x00"
    if comment:
        out += b"\x21\xfe" + _sub_blocks(comment) + b"\x00"
    encoded = [_still_gif(frame, still) for frame in frames]
    for index, block in enumerate(encoded):
        following = encoded[(index + 1) % len(encoded)]
        disposal = _GIF_CLEAR if following.transparent is not None else _GIF_KEEP
        transparent = block.transparent
        packed = (disposal << 2) | (1 if transparent is not None else 0)
        delay = round(durations[index] / 10)  # GIF counts centiseconds
        out += (
            b"\x21\xf9\x04"
            + struct.pack("<BHB", packed, min(delay, 0xFFFF), transparent or 0)
            + b"\x00"
        )
        out += block.image
    out += b"\x3b"
    target.write(bytes(out))


class _GifFrame:
    """The image block of a one-frame GIF, with its palette made local."""

    def __init__(self, image: bytes, transparent: int | None):
        self.image = image
        self.transparent = transparent


def _still_gif(frame: Image.Image, options: dict) -> _GifFrame:
    buffer = io.BytesIO()
    frame.save(buffer, format="GIF", **options)
    data = buffer.getvalue()
    flags = data[10]
    i = 13
    global_table = b""
    if flags & 0x80:
        size = 3 << ((flags & 7) + 1)
        global_table, table_bits = data[i : i + size], flags & 7
        i += size
    transparent = None
    while data[i] == 0x21:  # extensions: keep only the transparency index
        label = data[i + 1]
        if label == 0xF9 and data[i + 3] & 1:
            transparent = data[i + 6]
        i += 2
        while data[i]:
            i += data[i] + 1
        i += 1
    if data[i] != 0x2C:
        message = "unexpected GIF block from Pillow's encoder"
        raise OutputError(message)
    left, top, w, h, packed = struct.unpack("<HHHHB", data[i + 1 : i + 10])
    i += 10
    if packed & 0x80:  # the frame already has a local table
        size = 3 << ((packed & 7) + 1)
        table, table_bits = data[i : i + size], packed & 7
        i += size
    else:
        table = global_table
    start = i
    i += 1  # LZW minimum code size
    while data[i]:
        i += data[i] + 1
    pixels = data[start : i + 1]
    descriptor = b"\x2c" + struct.pack(
        "<HHHHB", left, top, w, h, 0x80 | (packed & 0x40) | table_bits
    )
    return _GifFrame(descriptor + table + pixels, transparent)


def _write_webp(frames, target, durations, loop, options, still) -> None:
    width, height = frames[0].size
    alpha = any(frame.mode == "RGBA" for frame in frames)
    body = bytearray()
    icc, exif, xmp = options.get("icc_profile"), options.get("exif"), options.get("xmp")
    if icc:
        body += _chunk(b"ICCP", icc)
    background = options.get("background")
    bgra = (
        bytes(background[2::-1] + background[3:])
        if isinstance(background, tuple) and len(background) == 4
        else b"\0\0\0\0"
    )
    body += _chunk(b"ANIM", bgra + struct.pack("<H", 0 if loop is None else loop))
    for frame, duration in zip(frames, durations, strict=True):
        payload = _still_webp(frame, still)
        header = _u24(0) + _u24(0) + _u24(width - 1) + _u24(height - 1) + _u24(int(duration))
        body += _chunk(b"ANMF", header + bytes([0b10]) + payload)  # do not blend, keep
    if exif:
        body += _chunk(b"EXIF", exif[6:] if exif.startswith(b"Exif\0\0") else exif)
    if xmp:
        body += _chunk(b"XMP ", xmp)
    flags = (
        0x02
        | (0x10 if alpha else 0)
        | (0x20 if icc else 0)
        | (0x08 if exif else 0)
        | (0x04 if xmp else 0)
    )
    vp8x = _chunk(b"VP8X", bytes([flags, 0, 0, 0]) + _u24(width - 1) + _u24(height - 1))
    content = b"WEBP" + vp8x + bytes(body)
    target.write(b"RIFF" + struct.pack("<I", len(content)) + content)


def _still_webp(frame: Image.Image, options: dict) -> bytes:
    """The ALPH/VP8/VP8L chunks of ``frame`` encoded alone, as an ANMF payload."""
    buffer = io.BytesIO()
    frame.save(buffer, format="WEBP", **options)
    data = buffer.getvalue()
    i, payload = 12, bytearray()
    while i < len(data):
        tag = data[i : i + 4]
        size = struct.unpack("<I", data[i + 4 : i + 8])[0]
        if tag in (b"ALPH", b"VP8 ", b"VP8L"):
            payload += data[i : i + 8 + size + (size & 1)]
        i += 8 + size + (size & 1)
    return bytes(payload)


def _chunk(tag: bytes, data: bytes) -> bytes:
    return tag + struct.pack("<I", len(data)) + data + (b"\0" if len(data) & 1 else b"")


def _u24(value: int) -> bytes:
    return struct.pack("<I", value)[:3]


def _sub_blocks(data: bytes) -> bytes:
    return b"".join(
        bytes([len(part)]) + part for part in (data[i : i + 255] for i in range(0, len(data), 255))
    )


def _identical(a: Image.Image, b: Image.Image) -> bool:
    return a.mode == b.mode and a.size == b.size and np.array_equal(np.asarray(a), np.asarray(b))


def _per_frame(value, count: int, default: float) -> list[float]:
    if value is None:
        return [default] * count
    if isinstance(value, (list, tuple)):
        values = [default if v is None else v for v in value]
        return (values + [values[-1] if values else default] * count)[:count]
    return [value] * count
