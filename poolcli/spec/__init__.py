"""What a pooling request is, before anything runs: NumPy-free, Pillow-free names.

- :mod:`.modes`: :class:`~.modes.PoolMode` and :class:`~.modes.AlphaPolicy`.
- :mod:`.parameters`: the one check of every pooling parameter (kernel, stride,
  padding, dilation, divisor, p, repeat, size, threads) and PyTorch's output length.
- :mod:`.settings`: :class:`~.settings.PoolSettings`, a whole request for images and
  arrays, and the output sizes it gives, predicted from header sizes.
- :mod:`.arrays`: array layouts and the dtypes poolcli pools.
- :mod:`.limits`: the pixel limit and its check.

Every layer above builds on these, and the command line builds ``--help`` from
them, so importing any of them loads neither NumPy nor Pillow.
"""
