"""Seeded mutations of the corpus files: bit flips, truncations, splices, absurd sizes.

Deterministic for a seed, so a failing case can be rebuilt from its number alone.
"""

from __future__ import annotations

import random
import struct
from pathlib import Path

CORPUS = Path(__file__).parent / "corpus"
# small files keep thousands of cases fast; they still cover every container
SOURCES = sorted(
    p
    for p in CORPUS.iterdir()
    if p.suffix != ".json" and p.suffix != ".md" and p.stat().st_size < 150_000
)


def mutate(case: int) -> tuple[str, bytes]:
    """The ``case``-th mutated file: (description, bytes)."""
    rng = random.Random(case)
    source = rng.choice(SOURCES)
    data = bytearray(source.read_bytes())
    kind = rng.choice(["flip", "truncate", "splice", "size", "flip", "zero"])
    if not data:
        return f"{case}:{source.name}:empty", b""
    if kind == "splice":
        other = rng.choice(SOURCES).read_bytes()
        if other:
            a, b = sorted(rng.randrange(len(data)) for _ in range(2))
            c = rng.randrange(len(other))
            data[a:b] = other[c : c + rng.randint(1, 512)]
    elif kind == "size":
        data = bytearray(absurd_size(bytes(data), rng))
    else:
        _damage(data, kind, rng, flips=8, run=64)
    return f"{case}:{source.name}:{kind}", bytes(data)


def _damage(data: bytearray, kind: str, rng: random.Random, *, flips: int, run: int) -> None:
    """The mutations every kind of file shares, in place: ``flip`` (up to ``flips``
    bit flips), ``zero`` (a zeroed run of up to ``run`` bytes) or ``truncate``."""
    if kind == "flip":
        for _ in range(rng.randint(1, flips)):
            i = rng.randrange(len(data))
            data[i] ^= 1 << rng.randrange(8)
    elif kind == "zero":
        start = rng.randrange(len(data))
        data[start : start + rng.randint(1, run)] = bytes(min(run, len(data) - start))
    elif kind == "truncate":
        del data[rng.randrange(len(data)) :]
    else:
        raise ValueError(kind)


def absurd_size(data: bytes, rng: random.Random) -> bytes:
    """Rewrite the image dimensions in a header to something huge or zero."""
    big = rng.choice([0, 1, 65535, 1 << 20, 1 << 30, (1 << 31) - 1, 0xFFFFFFFF])
    out = bytearray(data)
    if data.startswith(b"\x89PNG") and len(data) > 24:
        out[16:24] = struct.pack(">II", big & 0xFFFFFFFF, rng.choice([1, big & 0xFFFFFFFF]))
    elif data[:3] == b"GIF" and len(data) > 10:
        out[6:10] = struct.pack("<HH", big & 0xFFFF, rng.choice([1, big & 0xFFFF]))
    elif data[:2] == b"BM" and len(data) > 26:
        out[18:26] = struct.pack("<ii", big & 0x7FFFFFFF, rng.choice([1, -(big & 0x7FFFFFFF)]))
    elif data[:2] == b"\xff\xd8":
        at = max(data.find(b"\xff\xc0"), data.find(b"\xff\xc2"))
        if at > 0 and len(data) > at + 9:
            out[at + 5 : at + 9] = struct.pack(">HH", big & 0xFFFF, rng.choice([1, big & 0xFFFF]))
    elif data[:6] == b"\x93NUMPY":
        out = bytearray(data.replace(b"'shape': (", f"'shape': ({big}, ".encode(), 1))
    else:
        at = rng.randrange(len(out))
        out[at : at + 4] = struct.pack("<I", big & 0xFFFFFFFF)
    return bytes(out)


def array_seeds() -> list[tuple[str, bytes]]:
    """Small .npy and .npz files covering the array reader: dtypes, 2 to 4 dims,
    Fortran order, stored and deflated archives."""
    import io

    import numpy as np

    rng = np.random.default_rng(0)
    seeds = []
    for array in [
        rng.integers(0, 255, (6, 5), dtype=np.uint8),
        rng.standard_normal((3, 8, 7)).astype(np.float32),
        rng.integers(-5, 5, (2, 3, 6, 6), dtype=np.int16),
        np.asfortranarray(rng.random((5, 9))),
        rng.random((4, 4)) > 0.5,
    ]:
        stream = io.BytesIO()
        np.save(stream, array)
        seeds.append(("npy", stream.getvalue()))
    for save in (np.savez, np.savez_compressed):
        stream = io.BytesIO()
        save(stream, a=rng.random((6, 6)), b=rng.integers(0, 9, (2, 5, 5)).astype(np.uint16))
        seeds.append(("npz", stream.getvalue()))
    return seeds


_ARRAY_SEEDS: list[tuple[str, bytes]] = []


def mutate_array(case: int) -> tuple[str, str, bytes]:
    """The ``case``-th mutated array file: (description, extension, bytes)."""
    if not _ARRAY_SEEDS:
        _ARRAY_SEEDS.extend(array_seeds())
    rng = random.Random(case)
    extension, seed = rng.choice(_ARRAY_SEEDS)
    data = bytearray(seed)
    kind = rng.choice(["flip", "truncate", "header", "size", "zero", "flip"])
    if kind == "header":  # the .npy header, or the zip's first local header
        data[rng.randrange(min(len(data), 128))] = rng.randrange(256)
    elif kind == "size":
        data = bytearray(absurd_size(bytes(data), rng))
    else:
        _damage(data, kind, rng, flips=6, run=32)
    return f"{case}:{extension}:{kind}", extension, bytes(data)
