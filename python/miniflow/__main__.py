"""``python -m miniflow``: the same as the ``miniflow`` command."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
