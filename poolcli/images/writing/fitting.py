"""Conversions into a mode an output format holds, keeping meaning where Pillow's
``convert`` would not: 16-bit scaled to 8 (not clipped), float and 32-bit values
rounded and clipped into 16 bits, transparency flattened onto white, and GIF
palettes that keep every colour when a frame has at most 256 of them.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from ..engine_route.pixels import image_from
from ..modes import has_alpha, mode_of


def for_gif(image: Image.Image) -> tuple[Image.Image, list[str]]:
    """A palette image for GIF, exact when the frame has at most 256 colours and
    on/off transparency; otherwise RGB(A) for Pillow's adaptive quantiser, with
    notes saying what is lost."""
    transparent = has_alpha(image.mode) or "transparency" in image.info
    rgba = np.asarray(convert(image, "RGBA" if transparent else "RGB"))
    losses = []
    record = mode_of(image.mode)
    if record is not None and record.bits > 8:
        losses.append(f"GIF cannot hold mode {image.mode}: written as P{loss(image, 'RGB')}")
    exact = _exact_palette(rgba)
    if exact is not None:
        return exact, losses
    if transparent and not set(np.unique(rgba[..., 3]).tolist()) <= {0, 255}:
        losses.append("GIF transparency is on or off per pixel: partial alpha was rounded (lossy)")
    losses.append("GIF holds 256 colours per frame: frames with more were quantised (lossy)")
    return Image.fromarray(rgba), losses


def _exact_palette(pixels: np.ndarray) -> Image.Image | None:
    """``pixels`` (H, W, 3 or 4 uint8) as a P image with the very same colours, or None.

    Fully transparent pixels share one index; partial alpha cannot be held.
    """
    height, width, channels = pixels.shape
    flat = pixels.reshape(-1, channels)
    clear = flat[:, 3] == 0 if channels == 4 else np.zeros(len(flat), bool)
    if channels == 4 and not np.isin(flat[:, 3], (0, 255)).all():
        return None
    code = (flat[:, 0].astype(np.uint32) << 16) | (flat[:, 1].astype(np.uint32) << 8) | flat[:, 2]
    code[clear] = 1 << 24  # one slot, after every colour, for "transparent"
    colours, index = np.unique(code, return_inverse=True)
    if len(colours) > 256:
        return None
    palette = np.stack([(colours >> 16) & 255, (colours >> 8) & 255, colours & 255], axis=1)
    result = Image.frombytes("P", (width, height), index.astype(np.uint8).tobytes())
    result.putpalette(palette.astype(np.uint8).tobytes())
    if clear.any():
        result.info["transparency"] = len(colours) - 1
    return result


def loss(image: Image.Image, target: str) -> str:
    """What the conversion loses, for the note ('' when nothing)."""
    record = mode_of(image.mode)
    if record is not None and target in record.lossless:
        return ""
    if has_alpha(image.mode) and target in ("RGB", "L"):
        return " (transparency flattened onto white)"
    if image.mode in ("I", "F") and target in ("I;16", "I"):
        values = np.asarray(image)
        exact = values.min() >= 0 and values.max() <= 65535 and (values == np.round(values)).all()
        return "" if exact else " (values rounded and clipped to 0..65535; TIFF or .npy keeps them)"
    if image.mode in ("I;16", "I;16B") and target in ("L", "RGB"):
        return " (16 bits scaled to 8)"
    return " (lossy)"


def convert(image: Image.Image, target: str) -> Image.Image:
    """Mode conversion that keeps meaning where Pillow's ``convert`` would not."""
    source = image.mode
    if source in ("I;16", "I;16B") and target in ("L", "RGB"):
        # Pillow clips 16-bit values at 255; scale the full range instead (65535 -> 255)
        values = np.asarray(image).astype(np.uint32)
        scaled = ((values * 255 + 32767) // 65535).astype(np.uint8)
        gray = Image.fromarray(scaled)
        return gray if target == "L" else gray.convert("RGB")
    if source in ("I;16", "I;16B", "I", "F") and target in ("I;16", "I;16B", "I"):
        values = np.nan_to_num(
            np.asarray(image).astype(np.float64), posinf=2.0**32, neginf=-(2.0**32)
        )
        values = np.floor(values + 0.5)  # F rounds half up (NaN as 0); integers are unchanged
        values = np.clip(
            values, 0 if target != "I" else -(2**31), 65535 if target != "I" else 2**31 - 1
        )
        return image_from(values.astype({"I": np.int32}.get(target, np.uint16)), target)
    if has_alpha(source) and target in ("RGB", "L"):
        # flatten onto white, as a viewer shows transparency, rather than exposing
        # whatever colour hides under alpha 0
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert(target)
    return image.convert(target)
