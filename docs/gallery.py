"""Draw docs/gallery.png: one sample photo pooled with every mode, side by side.

Run from the repository root:  python docs/gallery.py

Each tile is the astronaut's face pooled 8x8 (64 pixels to one) and scaled back up
without smoothing, so the blocks show what each mode keeps: max the highlights,
min the shadows, avg and rms the mean light, median the typical pixel, mode the most
common colour (whole pixels: no colour that was not there), avg --linear the mean
in linear light (brighter where light and dark mix). sum and lp are left out:
they grow with the window, so 8-bit pixels saturate; they are for feature maps.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

from poolcli import PoolMode, pool_image

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "sample_images" / "astronaut.png"
TARGET = ROOT / "docs" / "gallery.png"
KERNEL = 8
TILE = 192
LABEL = 22


def tile(image: Image.Image, title: str) -> Image.Image:
    """``image`` scaled to a tile with ``title`` above it."""
    canvas = Image.new("RGB", (TILE, TILE + LABEL), "white")
    canvas.paste(image.resize((TILE, TILE), Image.Resampling.NEAREST), (0, LABEL))
    ImageDraw.Draw(canvas).text((6, 5), title, fill="black")
    return canvas


def main() -> None:
    with Image.open(SOURCE) as photo:
        face = photo.convert("RGB").crop((160, 40, 352, 232))  # 192x192 around the face
    tiles = [tile(face, "original")]
    for mode in PoolMode:
        if mode in (PoolMode.SUM, PoolMode.LP):
            continue
        pooled = pool_image(face, KERNEL, mode=mode.value)
        tiles.append(tile(pooled, f"{mode.value}, kernel {KERNEL}"))
    linear = pool_image(face, KERNEL, mode="avg", linear=True)
    tiles.append(tile(linear, f"avg --linear, kernel {KERNEL}"))
    columns = 4
    rows = -(-len(tiles) // columns)
    sheet = Image.new("RGB", (columns * (TILE + 8) + 8, rows * (TILE + LABEL + 8) + 8), "white")
    for index, image in enumerate(tiles):
        row, column = divmod(index, columns)
        sheet.paste(image, (8 + column * (TILE + 8), 8 + row * (TILE + LABEL + 8)))
    sheet.save(TARGET, optimize=True)
    print(f"wrote {TARGET.relative_to(ROOT)} ({sheet.width}x{sheet.height})")


if __name__ == "__main__":
    main()
