"""The image medium as batch runs see it: which files, which output names, the job."""

from __future__ import annotations

from noisecli.batch.medium import Medium
from noisecli.image.io import EXTENSIONS, FORMAT_EXTENSION, cv2
from noisecli.image.job import noise_image_file


def single_threaded_opencv() -> None:
    """One OpenCV thread per worker: parallelism comes from the workers, and OpenCV's own
    threads would only compete with them."""
    cv2().setNumThreads(1)


# OpenCV is not preloaded: with it loaded before the fork, the image pool measured 5-10 %
# slower than with OpenCV loaded by each worker.
IMAGE = Medium(
    "image",
    EXTENSIONS,
    FORMAT_EXTENSION,
    ".png",
    noise_image_file,
    worker_init=single_threaded_opencv,
)
