"""Images: the OpenCV reader/writer, the array engine (row bands), the one-file job."""
