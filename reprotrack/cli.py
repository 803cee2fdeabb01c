"""The ``reprotrack`` command: a thin shell over the Python API.

Parses arguments, calls the API, maps outcomes to exit codes: 0 reproduced · 1 differences found · 2 bad
input or usage · 3 the notebook could not be executed. A ``ReprotrackError`` becomes one line on stderr;
no traceback ever reaches a user for bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Sequence

from reprotrack import store
from reprotrack._version import __version__
from reprotrack.core.text import cell_name, one_line
from reprotrack.errors import ReprotrackError

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
    export.add_argument("--output", "-o", default=None, help="file to write (default, or -: standard output)")
    export.add_argument("--find-links", action="append", default=[], metavar="DIR",
                        help="folder of wheels/sdists whose files and hashes go into pylock.toml (repeatable)")
    export.set_defaults(func=cmd_export)

    _add_run_commands(sub)
    _add_production_commands(sub)
    _add_contract_commands(sub)
    for register in _extensions():
        register(sub)
    return parser


def _add_run_commands(sub) -> None:
    record = sub.add_parser("record", help="run a notebook headless in a fresh kernel and write its lock")
    record.add_argument("notebook", help="path to a .ipynb notebook")
    record.add_argument("--lock", default=None, help="where to write the lock (default: <notebook>.reprotrack.lock beside it)")
    record.add_argument("--allow-errors", action="store_true",
                        help="write the lock even when cells raised (default: exit 3 and keep the existing lock)")
    record.add_argument("--privacy", choices=["values", "safe", "hashed"], default=None,
                        help="what the lock keeps of data values and printed text (default: [tool.reprotrack] "
                             "privacy, else safe)")
    _kernel_args(record)
    record.set_defaults(func=cmd_record)

    verify = sub.add_parser("verify", help="replay a notebook in a fresh kernel and diff it against its lock")
    verify.add_argument("notebook", nargs="+", help="path to a .ipynb notebook (several: verified in parallel with --jobs)")
    verify.add_argument("--lock", default=None, help="the research lock (default: <notebook>.reprotrack.lock)")
    verify.add_argument("--jobs", "-j", type=_jobs, default=1, metavar="N",
                        help="with several notebooks, verify up to N at once, one kernel each (default: 1)")
    _kernel_args(verify)
    _report_args(verify)
    verify.add_argument("--order", choices=["recorded", "notebook"], default="recorded",
                        help="replay cells in the research run's execution order (default) or top-down")
    verify.add_argument("--pin-seeds", action="store_true",
                        help="feed the research run's recorded entropy to unseeded generators")
    verify.add_argument("--save-replay", default=None, metavar="PATH", help="also write the replay's lock to PATH")
    verify.set_defaults(func=cmd_verify)

    diff = sub.add_parser("diff", help="diff two locks (research first) without running anything")
    diff.add_argument("research", help="the research lock")
    diff.add_argument("other", help="the lock to check against it")
    _report_args(diff)
    diff.set_defaults(func=cmd_diff)

    env = sub.add_parser("env", help="environment checks")
    env_sub = env.add_subparsers(dest="env_command", metavar="ACTION", parser_class=_Parser)
    env_sub.required = True
    check = env_sub.add_parser("check", help="compare this interpreter's packages with a lock's (runs nothing)")
    check.add_argument("lock", help="path to a .lock file")
    check.add_argument("--format", choices=["text", "json"], default="text")
    check.add_argument("--env-policy", choices=["exact", "patch", "minor", "major"], default=None,
                       help="package-version drift reported as a warning, not an error")
    check.set_defaults(func=cmd_env_check)

    demo = sub.add_parser("demo", help="record and verify the quickstart notebook, print the report")
    demo.add_argument("--workdir", default=None, metavar="DIR", help="folder to work in (default: a temporary one)")
    demo.add_argument("--format", choices=["text", "json", "junit", "html"], default="text")
    demo.set_defaults(func=cmd_demo)


# -- production: check a script or pipeline against the research run by checkpoints (issue 15) ------------
def _add_production_commands(sub) -> None:
    check = sub.add_parser("check", help="check a production run's lock against the research lock, checkpoint by "
                                         "checkpoint (never by cells)")
    check.add_argument("production", help="the production run's lock (reprotrack run, or reprotrack.save)")
    check.add_argument("--against", required=True, metavar="RESEARCH", help="the research lock")
    _production_args(check)
    check.set_defaults(func=cmd_check)

    run = sub.add_parser("run", help="run a script (or -m module) in a fresh process with tracking on and write "
                                     "its lock; --against checks it at the end")
    run.add_argument("-m", dest="module", action="store_true", help="SCRIPT is a module name, run as python -m does")
    run.add_argument("--lock", default=None, help="where to write the lock (default: <script>.reprotrack.lock)")
    run.add_argument("--against", default=None, metavar="RESEARCH", help="check the run against this research lock")
    run.add_argument("--timeout", type=_positive, default=None, metavar="S", help="seconds the script may run")
    _production_args(run)
    run.add_argument("target", metavar="SCRIPT", help="the script to run (with -m: the module)")
    run.add_argument("args", nargs=argparse.REMAINDER, help="arguments passed to the script, as given")
    run.set_defaults(func=cmd_run)


def _production_args(parser) -> None:
    _report_args(parser)
    parser.add_argument("--map", action="append", default=[], metavar="PROD=RESEARCH",
                        help="a production checkpoint name and the research one it stands for (repeatable; also "
                             "[tool.reprotrack] checkpoints)")


def cmd_check(args: argparse.Namespace) -> int:
    from reprotrack.check import check_locks
    from reprotrack.verify import exit_code_for

    _output_not_input(args.output, args.production, args.against)
    report = check_locks(args.production, args.against, maps=args.map, rtol=args.rtol, atol=args.atol,
                         env_policy=args.env_policy)
    if report.execution_error:
        _log(f"the production lock is partial: {report.execution_error}")
    _emit(report, args.format, args.output)
    return exit_code_for(report)


def cmd_run(args: argparse.Namespace) -> int:
    from reprotrack.errors import UsageError
    from reprotrack.run import run_script

    if args.output and args.against is None:
        raise UsageError("--output writes the check report: give --against RESEARCH.lock too")
    _output_not_input(args.output, args.against, args.lock, None if args.module else args.target)
    result = run_script(args.target, args.args, module=args.module, lock=args.lock, against=args.against, timeout=args.timeout,
                        maps=args.map, rtol=args.rtol, atol=args.atol, env_policy=args.env_policy)
    if result.error:
        _log(f"{result.error}; partial lock written to {result.lock_path}")
    else:
        _log(f"recorded {len(result.lock.checkpoints)} checkpoint(s) to {result.lock_path}")
    if result.report is not None:
        _emit(result.report, args.format, args.output)
    return result.exit_code


def _output_not_input(output: str | None, *inputs: str | None) -> None:
    """A report written over a lock or the script it is about would destroy the evidence."""
    from reprotrack.errors import UsageError

    if output and any(p and Path(p).resolve() == Path(output).resolve() for p in inputs):
        raise UsageError(f"--output {output} is also an input of this command; write the report elsewhere")


def _kernel_args(parser) -> None:
    parser.add_argument("--kernel", default=None, metavar="NAME",
                        help="kernelspec to run in, i.e. the environment (default: the notebook's, else python3)")
    parser.add_argument("--timeout", type=_positive, default=None, metavar="S", help="seconds allowed per cell")


def _report_args(parser) -> None:
    parser.add_argument("--format", choices=["text", "json", "junit", "html"], default="text")
    parser.add_argument("--output", "-o", default=None, metavar="FILE",
                        help="write the report here (default, or -: standard output)")
    parser.add_argument("--rtol", type=_non_negative, default=None, metavar="R", help="relative tolerance for numbers")
    parser.add_argument("--atol", type=_non_negative, default=None, metavar="A", help="absolute tolerance for numbers")
    parser.add_argument("--env-policy", choices=["exact", "patch", "minor", "major"], default=None,
                        help="package-version drift reported as a warning, not an error (default: [tool.reprotrack] "
                             "env-policy, else exact)")


def _non_negative(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} must be a finite number >= 0")
    return value


def _positive(text: str) -> float:
    value = _non_negative(text)
    if value == 0:
        raise argparse.ArgumentTypeError("must be > 0")
    return value


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
    from reprotrack.report.lockview import render_lock_json, render_lock_text

    lock = store.read_lock(args.lock)
    out = render_lock_json(lock) if args.format == "json" else render_lock_text(lock)
    sys.stdout.write(out)
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    from reprotrack.export import render

    output = _output(args.output, inputs=(args.lock,))
    lock = store.read_lock(args.lock)
    text = render(lock, args.format, find_links=args.find_links, output=output,
                  warn=lambda message: print(f"reprotrack: warning: {message}", file=sys.stderr))
    if output:
        store.write_text_atomic(output, text)
    else:
        sys.stdout.write(text)
    return EXIT_OK


def _output(path: str | None, *, inputs: tuple = (), what: str = "--output") -> str | None:
    """``-o`` checked before any work (``store.check_output``); ``-`` means standard output (None)."""
    if path is None or path == store.STDOUT:
        return None
    store.check_output(path, inputs=inputs, what=what)
    return path


def cmd_record(args: argparse.Namespace) -> int:
    from reprotrack.verify import record_notebook

    result = record_notebook(args.notebook, lock=args.lock, kernel=args.kernel, timeout=args.timeout, progress=_progress(),
                             allow_errors=args.allow_errors, privacy=args.privacy)
    _say_ended(result.replay)
    if result.replay.interrupted:
        _log(f"{result.replay.execution_error}; no lock written, the kernel was shut down")
        return 128 + result.replay.interrupted
    if result.replay.execution_error:
        _log(f"the notebook could not be executed: {result.replay.execution_error}; no lock written")
        return EXIT_EXECUTION
    raised = [r for r in result.replay.runs if r.status == "error"]
    cells = ", ".join(cell_name(r.index) for r in raised[:10])
    if result.refused:
        kept = "the existing lock is kept" if result.lock_path.exists() else "no lock written"
        _log(f"{len(raised)} cell(s) raised ({cells}); {kept}. Fix them, or pass --allow-errors to record the errors")
        return EXIT_EXECUTION
    if raised:
        _log(f"warning: {len(raised)} cell(s) raised ({cells}); recorded as errors (--allow-errors)")
    if result.backup is not None:
        _log(f"the previous lock is kept as {result.backup}")
    count = len(result.lock.cells) if result.lock else 0
    print(f"reprotrack: recorded {count} cell run(s) to {result.lock_path}")
    return EXIT_OK


def _jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be >= 1")
    return value


def cmd_verify(args: argparse.Namespace) -> int:
    if len(args.notebook) > 1:
        return _verify_many(args)
    from reprotrack.verify import check_replay_output, verify_notebook

    notebook = Path(args.notebook[0]).expanduser()
    lock = Path(args.lock).expanduser() if args.lock else store.find_lock_for(notebook)
    args.output = _output(args.output, inputs=(notebook, lock, args.save_replay))
    if args.save_replay is not None:
        check_replay_output(args.save_replay, notebook, lock)
    result = verify_notebook(args.notebook[0], lock=args.lock, kernel=args.kernel, order=args.order,
                             pin_seeds=args.pin_seeds, save_replay=args.save_replay, timeout=args.timeout,
                             progress=_progress(), rtol=args.rtol, atol=args.atol,
                             env_policy=args.env_policy)
    _say_ended(result.replay)
    if result.replay.execution_error:
        _log(f"the notebook could not be executed: {result.replay.execution_error}; the report covers what ran")
    _emit(result.report, args.format, args.output)
    if result.replay.interrupted:  # 130 for SIGINT (Ctrl-C), 143 for SIGTERM: the shell's convention
        return 128 + result.replay.interrupted
    return result.exit_code


def _say_ended(replay) -> None:
    if replay.ended:
        from reprotrack.core.text import escaped as clean

        _log(f"ended {len(replay.ended)} background process(es) the notebook left running: "
             + clean(", ".join(replay.ended[:5])))


def _verify_many(args: argparse.Namespace) -> int:
    """Several notebooks: one line each and one combined report (``reprotrack.batch`` has the exit rule)."""
    from reprotrack.batch import verify_many
    from reprotrack.errors import UsageError
    from reprotrack.report.batch import render_batch

    for flag, value in (("--lock", args.lock), ("--save-replay", args.save_replay)):
        if value is not None:
            raise UsageError(f"{flag} applies to one notebook; with several, each uses <notebook>.reprotrack.lock")
    if args.format == "html":
        raise UsageError("--format html applies to one notebook; with several use text, json or junit")
    from reprotrack.core.text import escaped as clean

    notebooks = [Path(nb).expanduser() for nb in args.notebook]
    args.output = _output(args.output, inputs=(*notebooks, *(store.find_lock_for(nb) for nb in notebooks)))
    tty = _isatty(sys.stderr)

    def done(outcome) -> None:
        if tty:
            sys.stderr.write(f"reprotrack: {outcome.status} {clean(str(outcome.notebook))} ({outcome.seconds:.1f}s)\n")
            sys.stderr.flush()

    result = verify_many(args.notebook, jobs=args.jobs, done=done, kernel=args.kernel, order=args.order,
                         pin_seeds=args.pin_seeds, timeout=args.timeout, rtol=args.rtol, atol=args.atol,
                         env_policy=args.env_policy)
    text = render_batch(result, args.format)
    if args.output:
        store.write_text_atomic(args.output, text)
        _log(f"report written to {args.output}")
        if args.format != "text":
            sys.stdout.write(render_batch(result, "text"))
    else:
        sys.stdout.write(text)
    if result.interrupted:  # the notebooks verified so far are in the report; 130 (SIGINT) or 143 (SIGTERM)
        return 128 + result.interrupted
    return result.exit_code


def cmd_diff(args: argparse.Namespace) -> int:
    from reprotrack.check import by_checkpoints, check_locks
    from reprotrack.verify import diff_locks, exit_code_for

    args.output = _output(args.output, inputs=(args.research, args.other))
    if by_checkpoints(store.read_lock(args.research), store.read_lock(args.other)):
        _log(f"{args.other} is a script's run: compared by checkpoints (as reprotrack check {args.other} --against "
             f"{args.research})")
        report = check_locks(args.other, args.research, rtol=args.rtol, atol=args.atol, env_policy=args.env_policy)
        _emit(report, args.format, args.output)
        return exit_code_for(report)
    report = diff_locks(args.research, args.other, rtol=args.rtol, atol=args.atol, env_policy=args.env_policy)
    _emit(report, args.format, args.output)
    return exit_code_for(report)


def cmd_env_check(args: argparse.Namespace) -> int:
    from reprotrack.verify import check_environment, load_options

    options = load_options(Path(args.lock).resolve().parent, env_policy=args.env_policy) if args.env_policy else None
    findings = check_environment(args.lock, options=options)
    rows = [_as_dict(f) for f in findings]
    errors = [r for r in rows if r.get("severity", "error") == "error"]  # drift the policy allows only warns
    if args.format == "json":
        sys.stdout.write(json.dumps({"status": "differs" if errors else "reproduced", "findings": rows}, indent=2,
                                    sort_keys=True) + "\n")
    elif not rows:
        print("reprotrack: the environment matches the lock")
    else:
        from reprotrack.core.text import (
            escaped as clean,  # names and versions come from the lock: never raw to a terminal
        )

        for row in rows:
            fix = f" Fix: {row['fix']}" if row.get("fix") else ""
            print(clean(f"{row.get('severity', 'error')}: {row.get('cause')}: {row.get('message')}{fix}"))
    return EXIT_DIFFERS if errors else EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from reprotrack.demo import run_demo

    return run_demo(workdir=args.workdir, fmt=args.format, progress=_progress(), log=_log)


def _emit(report, fmt: str, output: str | None) -> None:
    """The report to stdout, or atomically to ``--output`` (colour only for text on a terminal)."""
    from reprotrack.report import render

    color = fmt == "text" and output is None and _use_color(sys.stdout)
    text = render(report, fmt, color=color)
    if output:
        store.write_text_atomic(output, text)
        _log(f"report written to {output}")
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")


def _progress():
    """``[3/12] cell 3 … ok 0.4s`` on stderr when it is a terminal; nothing otherwise."""
    stream = sys.stderr
    if not _isatty(stream):
        return None
    from reprotrack.core.text import escaped as clean

    color = _use_color(stream)
    marks = {"ok": "32", "error": "33", "timeout": "31", "died": "31"}

    def show(position: int, total: int, run) -> None:
        status = f"\x1b[{marks.get(run.status, '0')}m{run.status}\x1b[0m" if color else run.status
        ident = f" ({clean(run.cell_id)})" if run.cell_id else ""  # a notebook's cell id is user text
        stream.write(f"[{position}/{total}] {cell_name(run.index)}{ident} … {status} {run.seconds:.1f}s\n")
        stream.flush()

    return show


def _isatty(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _use_color(stream) -> bool:
    import os

    return _isatty(stream) and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"


def _log(message: str) -> None:
    print(f"reprotrack: {message}", file=sys.stderr)


def _as_dict(finding) -> dict:
    if hasattr(finding, "to_dict"):
        return finding.to_dict()
    from dataclasses import asdict, is_dataclass

    return asdict(finding) if is_dataclass(finding) else dict(finding)


# -- the research contract in production: drift of new data, performance requirements (issue 16) ----------
def _add_contract_commands(sub) -> None:
    drift = sub.add_parser("drift", help="new data against a research checkpoint's statistics (no research data needed)")
    drift.add_argument("lock", help="the research lock")
    drift.add_argument("data", nargs="+", help="CSV or Parquet file(s), folder(s) or glob(s) of the new data")
    drift.add_argument("--checkpoint", "-c", required=True, metavar="NAME", help="the checkpoint (or data variable) to compare with")
    drift.add_argument("--format", choices=["text", "json", "junit", "html"], default="text")
    drift.add_argument("--output", "-o", default=None, metavar="FILE", help="write the report here (default: standard output)")
    drift.add_argument("--threshold", "-t", action="append", default=[], metavar="[COLUMN:]KEY=VALUE",
                       help="a drift threshold for every column, or for one (repeatable), e.g. wasserstein=0.2, "
                            "age:null_rate=0.01, dataset_share=0.3")
    drift.add_argument("--require", action="append", default=[], metavar="COLUMN",
                       help="the data set drifts when this column drifts (repeatable)")
    drift.set_defaults(func=cmd_drift)

    expect = sub.add_parser("expect", help="show a lock's performance requirements, or ratchet them up")
    expect.add_argument("lock", help="the research lock")
    expect.add_argument("--ratchet", action="store_true",
                        help="write better values as the new requirements (from --from and/or --set)")
    expect.add_argument("--from", dest="source", default=None, metavar="LOCK",
                        help="a replay or production lock whose recorded values to ratchet to")
    expect.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="a new value (repeatable)")
    expect.set_defaults(func=cmd_expect)


def _threshold_args(args: argparse.Namespace) -> tuple[dict, dict]:
    from reprotrack.errors import UsageError

    everywhere: dict = {}
    columns: dict = {}
    for item in args.threshold:
        target, _, value = item.partition("=")
        column, _, key = target.rpartition(":")
        if not key or not value:
            raise UsageError(f"--threshold {item!r}: expected [COLUMN:]KEY=VALUE")
        parsed = {"true": True, "false": False, "none": None}.get(value.lower(), value)
        if isinstance(parsed, str):
            try:
                parsed = float(parsed)
            except ValueError:
                raise UsageError(f"--threshold {item!r}: {value!r} is not a number") from None
        (columns.setdefault(column, {}) if column else everywhere)[key.replace("-", "_")] = parsed
    for column in args.require:
        columns.setdefault(column, {})["required"] = True
    return everywhere, columns


def cmd_drift(args: argparse.Namespace) -> int:
    from reprotrack.config import load_drift_options
    from reprotrack.drift_check import drift
    from reprotrack.report.drift import render_drift

    everywhere, columns = _threshold_args(args)
    if args.output and Path(args.output).resolve() in {Path(p).resolve() for p in [args.lock, *args.data]}:
        from reprotrack.errors import UsageError

        raise UsageError(f"--output {args.output} is one of the command's inputs; write the report elsewhere")
    options = load_drift_options(Path(args.lock).resolve().parent, columns=columns, **everywhere)
    report = drift(args.lock, args.checkpoint, args.data, options=options)
    text = render_drift(report, args.format)
    if args.output:
        store.write_text_atomic(args.output, text)
        _log(f"report written to {args.output}")
    else:
        sys.stdout.write(text)
    return EXIT_DIFFERS if report.status == "drift" else EXIT_OK


def cmd_expect(args: argparse.Namespace) -> int:
    from reprotrack.nowtest import ratchet_lock, requirement_lines

    if args.ratchet:
        changed = ratchet_lock(args.lock, source=args.source, values=args.set)
        for line in changed or ["no requirement improved; the lock is unchanged"]:
            print(f"reprotrack: {line}")
        return EXIT_OK
    if args.source or args.set:
        from reprotrack.errors import UsageError

        raise UsageError("--from and --set give values to ratchet to: add --ratchet")
    for line in requirement_lines(args.lock):
        print(line)
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    store.skip_slow_format_checkers()
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        code = args.func(args)
    except ReprotrackError as exc:
        print(f"reprotrack: error: {one_line(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("reprotrack: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK
    return int(code or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
