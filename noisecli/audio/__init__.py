"""Audio: the soundfile reader/writer, the mixer, the resampler, recordings, the one-file job."""
