"""The ``reprotrack`` command: a thin shell over the Python API.

Parses arguments, calls the API, maps outcomes to exit codes: 0 reproduced · 1 differences found · 2 bad
input or usage · 3 the notebook could not be executed. A ``ReprotrackError`` becomes one line on stderr;
no traceback ever reaches a user for bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Sequence

from . import __version__, store
from .errors import ReprotrackError

EXIT_OK, EXIT_DIFFERS, EXIT_USAGE, EXIT_EXECUTION = 0, 1, 2, 3


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of exiting, so usage errors share the one-line path (exit 2)."""

    def error(self, message: str):  # type: ignore[override]
        raise ReprotrackError(f"{message} (see `{self.prog} --help`)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="reprotrack", description="Record a notebook's run in a lockfile; verify a replay against it.")
    parser.add_argument("--version", action="version", version=f"reprotrack {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    show = sub.add_parser("show", help="print a readable summary of a lock")
    show.add_argument("lock", help="path to a .lock file")
    show.add_argument("--format", choices=["text", "json"], default="text")
    show.set_defaults(func=cmd_show)

    export = sub.add_parser("export", help="write the lock's packages as pinned requirements or a PEP 751 pylock.toml")
    export.add_argument("lock", help="path to a .lock file")
    export.add_argument("--format", choices=["requirements", "pylock"], default="requirements")
    export.add_argument("--output", "-o", default=None, help="file to write (default: standard output)")
    export.add_argument("--find-links", action="append", default=[], metavar="DIR",
                        help="folder of wheels/sdists whose files and hashes go into pylock.toml (repeatable)")
    export.set_defaults(func=cmd_export)

    for register in _extensions():
        register(sub)
    return parser


def _extensions():
    """Subcommands that live in their own modules (record/verify/diff/env/export/demo)."""
    from importlib import import_module

    found = []
    for name in ("reprotrack.commands",):
        try:
            module = import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        found.extend(module.REGISTER)
    return found


def cmd_show(args: argparse.Namespace) -> int:
    from .showing import render_lock_json, render_lock_text

    lock = store.read_lock(args.lock)
    out = render_lock_json(lock) if args.format == "json" else render_lock_text(lock)
    sys.stdout.write(out)
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    from .export import render

    lock = store.read_lock(args.lock)
    text = render(lock, args.format, find_links=args.find_links, output=args.output,
                  warn=lambda message: print(f"reprotrack: warning: {message}", file=sys.stderr))
    if args.output:
        store.write_text_atomic(args.output, text)
    else:
        sys.stdout.write(text)
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        code = args.func(args)
    except ReprotrackError as exc:
        print(f"reprotrack: error: {_one_line(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("reprotrack: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK
    return int(code or 0)


def _one_line(text: str) -> str:
    clean = "".join(ch if ch.isprintable() else " " for ch in text)
    return " ".join(clean.split())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
