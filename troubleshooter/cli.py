"""``python -m troubleshooter COMMAND``: the terminal side of the troubleshooter.

Each command lives in its own module, imported only when it runs (the others are
imported only to list them, for ``--help`` or a mistyped command). A command
module defines ``HELP`` (one line), ``configure(parser)`` and ``run(args) -> int``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from types import ModuleType

COMMANDS = {
    "walk": "troubleshooter.walk",
    "diagnose": "troubleshooter.diagnose",
    "run": "troubleshooter.runner",
    "kernel": "troubleshooter.companion.install",
}


def _available(only: str | None = None) -> dict[str, ModuleType]:
    modules = {}
    for name, module_name in COMMANDS.items():
        if only is not None and name != only:
            continue
        try:
            modules[name] = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            if error.name != module_name:
                raise
    return modules


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser; given the arguments, with only the command they name (when they name one)."""
    parser = argparse.ArgumentParser(
        prog="python -m troubleshooter",
        description="Find out why a Jupyter kernel died, and what to do about it.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    named = argv[0] if argv and argv[0] in COMMANDS else None
    for name, module in (_available(named) or _available()).items():
        sub = commands.add_parser(name, help=module.HELP, description=module.HELP)
        module.configure(sub)
        sub.set_defaults(handler=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser(argv).parse_args(argv)
    try:
        return args.handler(args)
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return 130
