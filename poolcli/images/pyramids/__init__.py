"""Multiscale pyramids: one input, every level, one pass (``poolcli pyramid``).

- :mod:`.source`: the input as level-0 rows, and the engine's level maker for the mode.
- :mod:`.build`: one input into one pyramid (levels planned, made and written).
- :mod:`.zarr`, :mod:`.tiff`, :mod:`.dzi`, :mod:`.folder`: the containers' writers.
- :mod:`.tags`: each TIFF level's extra tags (georeferencing's home).
- :mod:`.handoff`: bands handed to a writer that pulls, on its own thread.
- :mod:`.volume`, :mod:`.volume_input`: volume pyramids (``--factors WxHxD``), in memory.
"""
