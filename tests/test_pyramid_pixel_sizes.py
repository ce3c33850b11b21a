"""A pyramid's physical pixel sizes: an OME-TIFF input's PhysicalSizeX/Y become
level 0's scale in an OME-Zarr pyramid (times 2**k on level k), and an OME-TIFF
pyramid names its unit as OME-XML does (``µm``, not NGFF's ``micrometer``). Read
back with zarr-python, ome-zarr-py's reader and tifffile."""

from __future__ import annotations

import numpy as np
import tifffile
import zarr
from click.testing import CliRunner

from poolcli.cli import cli


def pyramid(*args):
    result = CliRunner().invoke(cli, ["pyramid", *map(str, args)], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr


def ome_tiff(path, channels=3):
    pixels = (np.arange(channels * 60 * 80) % 4000).astype(np.uint16).reshape(channels, 60, 80)
    metadata = {"axes": "CYX", "PhysicalSizeX": 0.5, "PhysicalSizeY": 0.25}
    tifffile.imwrite(path, pixels, ome=True, photometric="minisblack", metadata=metadata)


def ome_pixels(path):
    with tifffile.TiffFile(path) as tif:
        assert tif.is_ome
        return tifffile.xml2dict(tif.ome_metadata)["OME"]["Image"]["Pixels"]


def test_an_ome_tiff_s_pixel_size_scales_every_ome_zarr_level(tmp_path):
    ome_tiff(tmp_path / "in.ome.tif")
    pyramid(tmp_path / "in.ome.tif", "--tile-size", "32", "-o", tmp_path / "p.ome.zarr")
    image = zarr.open_group(str(tmp_path / "p.ome.zarr"), mode="r")
    multiscale = image.attrs["multiscales"][0]
    assert [a.get("unit") for a in multiscale["axes"]] == [None, "micrometer", "micrometer"]
    for k, dataset in enumerate(multiscale["datasets"]):
        scale, translation = dataset["coordinateTransformations"]
        assert scale["scale"] == [1.0, 0.25 * 2**k, 0.5 * 2**k]
        # a pixel's centre at the centre of the level-0 pixels it pools, as pool puts it
        assert translation["translation"] == [0.0, 0.25 * (2**k - 1) / 2, 0.5 * (2**k - 1) / 2]
    from ome_zarr.io import parse_url
    from ome_zarr.reader import Reader

    node = next(iter(Reader(parse_url(str(tmp_path / "p.ome.zarr")))()))
    assert [d.shape for d in node.data] == [(3, 60, 80), (3, 30, 40), (3, 15, 20)]


def test_an_ome_tiff_pyramid_names_its_unit_as_ome_xml_does(tmp_path):
    ome_tiff(tmp_path / "in.ome.tif")
    pyramid(tmp_path / "in.ome.tif", "--tile-size", "32", "-o", tmp_path / "a.ome.zarr")
    pyramid(tmp_path / "a.ome.zarr", "--tile-size", "32", "-o", tmp_path / "b.ome.tif")
    pixels = ome_pixels(tmp_path / "b.ome.tif")
    assert (pixels["PhysicalSizeX"], pixels["PhysicalSizeY"]) == (0.5, 0.25)
    assert pixels["PhysicalSizeXUnit"] == pixels["PhysicalSizeYUnit"] == "µm"
