"""The Python entry points: whole datasets (process_dataset) and arrays (add_noise)."""
