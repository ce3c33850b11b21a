"""Streamed readers and writers: files read and written a band of rows at a time.

- :mod:`.readers`: row sources of .npy (memory-mapped), (Big)TIFF (tifffile, any
  compression imagecodecs decodes, striped or tiled) and Zarr v2/v3 or OME-Zarr
  (zarr-python), with the header facts their outputs keep.
- :mod:`.writers`: .npy, tiled (Big)TIFF, Zarr and PNG written from bands of rows.
"""
