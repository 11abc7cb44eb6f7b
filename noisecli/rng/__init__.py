"""The random-number layer: counter-based bits, libm-free variates, compiled kernels and
their numpy twins."""
