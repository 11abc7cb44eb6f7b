"""Benchmarks: not written yet.

The benchmark suite (ratios against the decode+encode floor, peers side by side) is the
subject of the performance work; until then `make bench` says so and exits 0.
"""

print("make bench: the benchmark suite is not implemented yet (see the performance issue).")
