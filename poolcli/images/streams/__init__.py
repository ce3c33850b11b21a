"""Streamed readers and writers: files read and written a band of rows at a time.

- :mod:`.readers`: row sources of .npy (memory-mapped), (Big)TIFF (tifffile, any
  compression imagecodecs decodes, striped or tiled) and Zarr v2/v3 or OME-Zarr
  (zarr-python), with the header facts their outputs keep.
- :mod:`.writers`: .npy, tiled (Big)TIFF and PNG written from bands of rows;
  :mod:`.zarr_store`: Zarr and OME-Zarr arrays and their metadata.
- :mod:`.output`: which writer a streamed pooling's bands go to; :mod:`.slabs`:
  volumes pooled in slabs of depth slices; :mod:`.tiff_stack`: TIFF Z stacks' axes
  and pages.
"""

import logging

# tifffile logs a warning for each damaged tag it skips, which Python prints to
# stderr unless the program set up logging. poolcli reports a bad file in one line
# of its own, so these stay quiet unless a caller's handlers ask for them.
logging.getLogger("tifffile").addHandler(logging.NullHandler())
