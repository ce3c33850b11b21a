"""Reading inputs: sources, the pixel limit, decoding frames and arrays, headers."""
