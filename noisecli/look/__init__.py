"""Looking before noising: the preview window, display probe, canvas, contact sheets,
spectrograms, slider levels and measure."""
