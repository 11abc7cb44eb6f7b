"""Readers and writers: OpenCV for images, soundfile for audio (both imported lazily)."""
