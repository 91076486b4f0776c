"""`tether`: the command line. main(argv) parses, runs the trace and returns
the exit status: the traced program's own (128 + signal if it was killed),
2 for a bad command line, 126/127 when the program can't run (like a shell),
1 for other errors. Errors are one line on stderr, never a traceback."""
import os
import sys

from .args import PROG, UsageError, parse_args, usage_text
from .output import Event, open_printer
from .program import CommandError
from .summary import build_summary, format_counts, format_summary
from .trace import TraceSession


def _error(message: str) -> None:
    print(f"{PROG}: {message}", file=sys.stderr)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        opts = parse_args(argv)
    except UsageError as e:
        command = argv[0] if argv and argv[0] in ("trace", "demo") else None
        sys.stderr.write(usage_text(command))
        _error(str(e))
        return 2
    except SystemExit as e:  # --help and --version print and "exit" 0
        return e.code if isinstance(e.code, int) else 0
    try:
        return run(opts)
    except Exception as e:  # a bug of ours: one line, the traceback on request
        if os.environ.get("TETHER_DEBUG"):
            raise
        _error(f"internal error: {type(e).__name__}: {e} (set TETHER_DEBUG=1 for the traceback)")
        return 1


def run(opts) -> int:
    if opts.command == "demo":
        try:
            from .demo import demo_binary  # (pathlib, hashlib...: only for `tether demo`)
            opts.program = [demo_binary()]
        except CommandError as e:
            _error(str(e))
            return e.status
    try:
        printer, to_close = open_printer(opts)
    except OSError as e:
        _error(f"cannot write to {opts.output}: {e.strerror}")
        return 1
    session = TraceSession(opts, printer)
    try:
        try:
            session.start()
        except CommandError as e:
            _error(str(e))
            return e.status
        except KeyboardInterrupt:
            session.abort()
            return 130
        session.wait()
        summary = build_summary(session)
        if opts.timeline is not None:
            try:
                session.timeline.write(opts.timeline, session.t_end - session.t0)
            except OSError as e:
                _error(f"cannot write the timeline to {opts.timeline}: {e.strerror}")
        if opts.json:
            root = session.records.get(session.root)
            printer.emit(Event(session.t_end - session.t0, root.pid, root.pid, root.ppid,
                               "summary", summary))
        else:
            encoding = (getattr(printer.stream, "encoding", None) or "").lower().replace("-", "")
            if session.stats is not None:
                printer.write_block(format_counts(session))
            printer.write_block(format_summary(summary, unicode=encoding == "utf8"))
        for symbol in summary["breakpoints_never_found"]:
            if opts.json or opts.output is not None:  # (else the summary said it, on stderr)
                _error(f"-b {symbol}: no function {symbol!r} in any traced program "
                       "or its libraries")
        return summary["exit_status"]
    finally:
        printer.flush()
        if to_close is not None:
            to_close.close()
