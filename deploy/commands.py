"""Does a command named in a deploy file exist in this project? Checked without running it.

`command_exists(["bot", "telegram", "--framework", "ptb"])` imports the module's
argparse parser (a `build_parser()` or `_parser()` function in the module, its
`__main__` or its `cli`) and parses the words with it: an unknown subcommand or flag
fails exactly as it would at start. Modules without such a function must at least
be importable and have `main`. Used by tests/deploy (compose file, Kubernetes
manifests, systemd units) and by deploy/local.py to skip commands not built yet.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
from collections.abc import Sequence
from types import ModuleType

_BUILDERS = ("build_parser", "_parser")


def _modules(name: str) -> list[ModuleType]:
    found = []
    for candidate in (name, f"{name}.__main__", f"{name}.cli"):
        try:
            found.append(importlib.import_module(candidate))
        except ModuleNotFoundError as exc:
            if exc.name is None or not candidate.startswith(exc.name):
                raise  # the module exists but one of its imports is missing: a real failure
    return found


def find_parser(module: str) -> argparse.ArgumentParser | None:
    """The argparse parser of `python -m module`, when it has a builder function."""
    for mod in _modules(module):
        for builder in _BUILDERS:
            make = getattr(mod, builder, None)
            if callable(make):
                parser = make()
                if isinstance(parser, argparse.ArgumentParser):
                    return parser
    return None


def command_exists(argv: Sequence[str]) -> bool:
    """True when `python -m argv[0] argv[1:]` would be accepted by its argument parser."""
    module, *words = argv
    parser = find_parser(module)
    if parser is None:
        return any(callable(getattr(mod, "main", None)) for mod in _modules(module))
    try:
        with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
            parser.parse_args(list(words))
    except SystemExit as exc:
        return exc.code == 0  # --help exits 0
    return True
