"""``python -m policies``: see policies/cli.py."""

from __future__ import annotations

import sys

from policies.cli import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
