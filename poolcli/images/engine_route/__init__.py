"""The engine's route for a frame: its pixels as NumPy arrays, pooled per channel.

- :mod:`.route`: a frame the policy sends to the engine (alpha-weighted means,
  linear light, sums clipped into the mode, palette indices voted on).
- :mod:`.pixels`: Pillow images <-> arrays, without copying where Pillow allows.
- :mod:`.passes`: the engine run with image settings (repeats, adaptive sizes).
- :mod:`.alpha`: exact alpha-weighted (premultiplied) pooling.
- :mod:`.linear`: sRGB <-> linear light.

NumPy and the engine load with these modules, so a run that never comes here never
loads them.
"""
