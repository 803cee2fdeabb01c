"""``%reprotrack``: the thin IPython face of ``reprotrack.kernel.session``.

Parses arguments (``%reprotrack?`` shows real help through IPython's magic_arguments) and calls the
session; all work happens in ``Session``. ``load_ipython_extension``/``unload_ipython_extension`` sit at
the bottom, as in IPython's own extensions.
"""

from __future__ import annotations

import shlex
import sys

from IPython.core.magic import Magics, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring

from reprotrack.kernel.context import active
from reprotrack.kernel.session import Session, start_or_resume
from reprotrack.kernel.widget import attach_panel


@magics_class
class ReprotrackMagics(Magics):
    @magic_arguments()
    @argument(
        "action",
        choices=["start", "stop", "status", "save", "checkpoint", "expect"],
        help="start tracking every cell run; stop; print a status line; save the lock; checkpoint NAME [VAR]; "
             "expect NAME >= VALUE (also <=, within): a performance requirement on the variable NAME",
    )
    @argument("args", nargs="*", help="for checkpoint: NAME and optionally the variable to fingerprint (default: NAME); "
                                      "for expect: NAME >= VALUE, NAME <= VALUE or NAME within VALUE")
    @argument("--distributed", action="store_true",
              help="also fingerprint Dask/Spark frames after each cell (runs a computation on them)")
    @argument("--lock", default=None, help="where the lock is written (default: <notebook>.reprotrack.lock beside the notebook)")
    @argument("--privacy", choices=["values", "safe", "hashed"], default=None,
              help="what the lock keeps of data values and printed text (default: [tool.reprotrack] privacy, else "
                   "safe): values verbatim, safe (frequent non-identifying labels only), hashed (keyed hashes only)")
    @line_magic
    def reprotrack(self, line: str) -> None:
        """Record seeds, randomness, data fingerprints and splits of every cell run into a lockfile."""
        try:
            args = parse_argstring(self.reprotrack, line)
        except Exception as exc:  # noqa: BLE001 - UsageError, or shlex on an unbalanced quote
            print(f"reprotrack: {exc}; see %reprotrack?", file=sys.stderr)
            return
        getattr(self, f"_{args.action}")(args)

    def _start(self, args) -> None:
        current, new = start_or_resume(self.shell, lock=_resolve(args.lock) if args.lock else None,
                                       distributed=args.distributed, privacy=args.privacy)
        if current.mode == "replay":
            return
        if not new:
            print(f"reprotrack: already tracking; {current.summary().removeprefix('reprotrack: ')}")
            _notify_started(current)  # the panel stays: shown again where the cell's output was cleared
            return
        lazy = " (Dask/Spark frames fingerprinted after each cell)" if args.distributed else ""
        print(f"reprotrack: tracking every cell run{lazy}; %reprotrack save writes {current.lock_path}")
        _notify_started(current)

    def _stop(self, args) -> None:
        current = active()
        if current is None:
            print("reprotrack: not tracking")
            return
        if current.mode == "replay":
            current.paused = True
            return
        current.stop()
        print(f"reprotrack: stopped after {len(current.cells)} cell run(s)")

    def _status(self, args) -> None:
        current = active()
        print(current.summary() if current is not None else "reprotrack: not tracking; %reprotrack start to begin")

    def _save(self, args) -> None:
        current = active()
        if current is None:
            print("reprotrack: not tracking, nothing to save; %reprotrack start first", file=sys.stderr)
            return
        path = None if current.mode == "replay" else (_resolve(args.lock) if args.lock else None)
        written = current.save(path)
        if written is not None and current.mode != "replay":
            print(f"reprotrack: saved {len(current.cells)} cell run(s) to {written}")

    def _checkpoint(self, args) -> None:
        current = active()
        if current is None:
            print("reprotrack: not tracking; %reprotrack start first", file=sys.stderr)
            return
        if not args.args or len(args.args) > 2:
            print("reprotrack: usage: %reprotrack checkpoint NAME [VAR]", file=sys.stderr)
            return
        name = args.args[0]
        var = args.args[1] if len(args.args) > 1 else name
        if var not in self.shell.user_ns:
            print(f"reprotrack: no variable {var!r} to checkpoint", file=sys.stderr)
            return
        fp = current.checkpoint(name, self.shell.user_ns[var])
        if fp is not None and current.mode != "replay":
            print(f"reprotrack: checkpoint {name!r} = {fp.get('type')} {fp.get('shape')}")

    def _expect(self, args) -> None:
        from reprotrack.core import requirements
        from reprotrack.errors import ReprotrackError

        current = active()
        if current is None:
            print("reprotrack: not tracking; %reprotrack start first", file=sys.stderr)
            return
        try:
            name, bound, limit = requirements.parse(" ".join(args.args))
        except ReprotrackError as exc:
            print(f"reprotrack: {exc}", file=sys.stderr)
            return
        if name not in self.shell.user_ns:
            print(f"reprotrack: no variable {name!r} to hold to a requirement", file=sys.stderr)
            return
        try:
            req = current.expect(name, self.shell.user_ns[name], **{bound: limit})
        except ReprotrackError as exc:
            print(f"reprotrack: {exc}", file=sys.stderr)
            return
        if req is not None and current.mode != "replay":
            print(f"reprotrack: requirement {requirements.describe(name, req)} (research value {req['value']:g})")


def _resolve(path: str):
    from pathlib import Path

    return Path(shlex.split(path)[0] if path.startswith(("'", '"')) else path).expanduser().resolve()


def _notify_started(session: Session) -> None:
    """Give the live panel a chance to show itself (a failure is a warning, never the user's error)."""
    session.guard(attach_panel, session, what="panel")


def load_ipython_extension(ipython) -> None:
    ipython.register_magics(ReprotrackMagics)


def unload_ipython_extension(ipython) -> None:
    current = active()
    if current is not None and current.shell is ipython:
        current.stop()
    magics = ipython.magics_manager.magics
    magics["line"].pop("reprotrack", None)
    ipython.magics_manager.registry.pop("ReprotrackMagics", None)
