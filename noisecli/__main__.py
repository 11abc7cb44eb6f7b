"""``python -m noisecli``."""

from noisecli.cli import main

main()
