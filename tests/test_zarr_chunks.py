"""poolcli's own chunk writer stores exactly what zarr-python would have stored."""

from __future__ import annotations

import os

import numpy as np
import pytest
import zarr

from poolcli.images.streams.zarr_chunks import ChunkWriter
from poolcli.images.streams.zarr_store import zstd


def _create(path, shape, dtype, chunks, zarr_format, **extra):
    group = zarr.open_group(path, mode="w", zarr_format=zarr_format)
    if zarr_format == 2:
        extra.setdefault("chunk_key_encoding", {"name": "v2", "separator": "/"})
    return group.create_array(
        "0", shape=shape, dtype=dtype, chunks=chunks, compressors=zstd(zarr_format), **extra
    )


def _stored(root: str) -> dict[str, bytes]:
    """Every chunk file under ``root`` (metadata left out), by relative path."""
    files = {}
    for folder, _, names in os.walk(root):
        for name in names:
            if not name.startswith(".") and not name.endswith(".json"):
                path = os.path.join(folder, name)
                with open(path, "rb") as file:
                    files[os.path.relpath(path, root)] = file.read()
    return files


CASES = [
    ((300, 500), np.uint32, (256, 256), 256),
    ((3, 700, 530), np.uint8, (3, 256, 256), 256),
    ((70, 40, 300), np.float32, (64, 256, 256), 64),
    ((513, 257), np.int16, (256, 256), 256),
    ((260, 260), np.bool_, (256, 256), 256),
]


@pytest.mark.parametrize("zarr_format", [2, 3])
@pytest.mark.parametrize(("shape", "dtype", "chunks", "rows"), CASES)
def test_chunks_are_the_bytes_zarr_python_stores(tmp_path, zarr_format, shape, dtype, chunks, rows):
    rng = np.random.default_rng(len(shape) + rows)
    data = (rng.random(shape) * 200).astype(dtype)
    axis = 1 if len(shape) == 3 and chunks[0] == shape[0] else 0
    index = [slice(None)] * len(shape)
    index[axis] = slice(0, rows)  # a whole chunk row of zeros: not stored by either
    data[tuple(index)] = 0
    ours = _create(tmp_path / "ours.zarr", shape, dtype, chunks, zarr_format, fill_value=0)
    theirs = _create(tmp_path / "theirs.zarr", shape, dtype, chunks, zarr_format, fill_value=0)
    writer = ChunkWriter(ours)
    assert writer._folder is not None  # the fast path, not zarr-python's
    for start in range(0, shape[axis], rows):
        corner = [0] * len(shape)
        corner[axis] = start
        band = np.take(data, range(start, min(start + rows, shape[axis])), axis=axis)
        writer.write(tuple(corner), band)
    writer.close()
    theirs[...] = data
    np.testing.assert_array_equal(zarr.open_array(tmp_path / "ours.zarr" / "0")[...], data)
    mine, zarrs = _stored(str(tmp_path / "ours.zarr")), _stored(str(tmp_path / "theirs.zarr"))
    assert sorted(mine) == sorted(zarrs)  # the same keys: the empty chunks skipped alike
    assert mine == zarrs  # byte for byte


def test_unaligned_regions_and_other_codecs_go_through_zarr_python(tmp_path):
    data = np.arange(300 * 300, dtype=np.uint16).reshape(300, 300)
    array = _create(tmp_path / "a.zarr", data.shape, data.dtype, (256, 256), 3)
    writer = ChunkWriter(array)
    writer.write((0, 0), data[:100])  # not a whole chunk row: zarr-python writes it
    writer.write((100, 0), data[100:])
    writer.close()
    np.testing.assert_array_equal(array[...], data)
    blosc = zarr.create_array(
        tmp_path / "b.zarr", shape=data.shape, dtype=data.dtype, chunks=(256, 256),
        compressors=zarr.codecs.BloscCodec(),
    )  # fmt: skip
    writer = ChunkWriter(blosc)
    assert writer._folder is None
    writer.write((0, 0), data)
    np.testing.assert_array_equal(blosc[...], data)


def test_a_nan_fill_skips_chunks_of_nan_only(tmp_path):
    data = np.full((512, 256), np.nan, np.float32)
    data[300, 7] = 1.5
    array = _create(tmp_path / "n.zarr", data.shape, data.dtype, (256, 256), 2, fill_value=np.nan)
    writer = ChunkWriter(array)
    writer.write((0, 0), data)
    writer.close()
    assert sorted(_stored(str(tmp_path / "n.zarr"))) == [os.path.join("0", "1", "0")]
    np.testing.assert_array_equal(zarr.open_array(tmp_path / "n.zarr" / "0")[...], data)
