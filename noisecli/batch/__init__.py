"""Batch runs: planning, executors (inline, pool, Dask), manifest, progress, storage, atomic
output. Handed a medium's job function, batch knows no medium's internals."""
