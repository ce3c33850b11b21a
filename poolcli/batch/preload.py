"""Imported once by the fork server, so that every worker forked from it starts warm.

Importing it loads NumPy, Pillow, poolcli's image layer and engine, and every Pillow plugin
(``Image.init``); a worker then pays none of that per process. It caps OpenBLAS at
one thread first: poolcli never calls BLAS, and a fork server without extra
threads forks safely.
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from PIL import Image  # noqa: E402

from ..images.conversion import load_engine  # noqa: E402
from . import jobs  # noqa: E402, F401 - the import is the point

load_engine()
Image.init()
