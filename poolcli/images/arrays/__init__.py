"""Feature maps: .npy/.npz files (:mod:`.files`), their layouts (:mod:`.layouts`),
and arrays pooled and written as arrays or images (:mod:`.route`). NumPy loads
with these modules, for array inputs and outputs only."""
