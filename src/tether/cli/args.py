"""Command-line parsing for `tether`: turns argv into a TraceOptions, or raises
UsageError (the caller prints the usage and exits 2, like most Unix tools).

    tether trace [options] -- PROGRAM [ARGS...]
    tether trace [options] -p PID
    tether demo  [options]
"""
import argparse
from dataclasses import dataclass, field

from ..arch.amd64.syscalls import syscall_name, syscall_number

PROG = "tether"

EXAMPLES = """\
examples:
  tether demo                          trace the bundled demo program
  tether trace -- ./server --port 80   trace a program and everything it starts
  tether trace -s -- make              also show every system call
  tether trace -s open,openat,execve -- ./build.sh
  tether trace -b malloc -- ./prog     count calls of malloc in every process
  tether trace --json -o events.jsonl -- ./prog
  tether trace -p 1234                 attach to a running process (Ctrl-C detaches)
"""


class UsageError(Exception):
    """Bad command line: the message says what is wrong (exit status 2)."""


@dataclass
class TraceOptions:
    command: str = "trace"            # "trace" or "demo"
    program: list = field(default_factory=list)   # PROGRAM ARGS... (empty with --attach / demo)
    attach: int | None = None
    syscalls: list | None = None      # None: not shown; []: all; else syscall names
    breaks: list = field(default_factory=list)
    follow: bool = True
    json: bool = False
    output: str | None = None         # None: stderr; "-": stdout; else a file path
    color: str = "auto"               # auto | always | never
    progress: bool = True


class _Parser(argparse.ArgumentParser):
    """argparse prints and exits on errors; we raise instead, so main() decides
    (and tests can check the message)."""

    def error(self, message):
        raise UsageError(message)


def _pid(text: str) -> int:
    try:
        value = int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a process id: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"not a process id: {text!r} (pids are positive)")
    return value


def _add_trace_options(p: argparse.ArgumentParser, program: bool) -> None:
    p.add_argument("-s", "--syscalls", nargs="?", const="all", metavar="NAMES",
                   help="show system calls like strace -f: all of them, or only the "
                        "comma-separated NAMES (e.g. open,openat,write)")
    p.add_argument("-b", "--break", dest="breaks", action="append", default=[], metavar="SYMBOL",
                   help="count the calls of function SYMBOL in every process (repeatable)")
    p.add_argument("--no-follow", dest="follow", action="store_false",
                   help="trace only the first process, not the children it forks")
    if program:
        p.add_argument("-p", "--attach", type=_pid, metavar="PID",
                       help="trace the running process PID instead of starting a program "
                            "(Ctrl-C detaches and prints the summary)")
    p.add_argument("--json", action="store_true",
                   help="print one JSON object per line per event: "
                        "time, pid, tid, ppid, kind, details")
    p.add_argument("-o", "--output", metavar="FILE",
                   help="write the events and the summary to FILE ('-' for standard output; "
                        "default: standard error, like strace)")
    p.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                   help="colour the events (default: auto, only on a terminal)")
    p.add_argument("--no-progress", dest="progress", action="store_false",
                   help="no live progress line on a terminal")
    if program:
        p.add_argument("program", nargs=argparse.REMAINDER, metavar="PROGRAM [ARGS...]",
                       help="the program to run and its arguments (put them after --)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="Trace a program's whole process tree: forks, threads, "
                     "execs, signals, exits, and optionally system calls and function calls.",
                     epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    from .. import __version__
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    trace = sub.add_parser("trace", help="run a program (or attach to a process) and trace it",
                           usage=f"{PROG} trace [options] -- PROGRAM [ARGS...]\n"
                                 f"       {PROG} trace [options] -p PID",
                           epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_trace_options(trace, program=True)
    demo = sub.add_parser("demo", help="trace a small bundled multi-process demo program",
                          usage=f"{PROG} demo [options]")
    _add_trace_options(demo, program=False)
    parser.subcommands = {"trace": trace, "demo": demo}  # for usage_text()
    return parser


def parse_syscall_names(text: str) -> list:
    """'-s' value -> [] for all, else the list of canonical syscall names.
    Raises UsageError naming an unknown one."""
    if text.strip() in ("all", "*", ""):
        return []
    names = []
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        try:
            number = syscall_number(int(item) if item.isdigit() else item)
        except ValueError:
            raise UsageError(f"unknown system call name {item!r} in --syscalls") from None
        name = syscall_name(number)
        if name not in names:
            names.append(name)
    if not names:
        raise UsageError("--syscalls got an empty list of names")
    return names


def split_double_dash(argv: list) -> tuple:
    """Split argv at the first '--': (before, after or None). argparse's own
    '--' handling around an optional-value option (-s) and a REMAINDER
    positional is fragile, so the program part is taken out first."""
    if "--" in argv:
        i = argv.index("--")
        return argv[:i], argv[i + 1:]
    return argv, None


def parse_args(argv) -> TraceOptions:
    """argv without the program name (sys.argv[1:]) -> TraceOptions."""
    argv = list(argv)
    before, after = split_double_dash(argv)
    parser = build_parser()
    ns = parser.parse_args(before)
    if ns.command is None:
        raise UsageError("missing command (trace or demo)")
    opts = TraceOptions(command=ns.command, follow=ns.follow, json=ns.json, output=ns.output,
                        color=ns.color, progress=ns.progress, breaks=list(ns.breaks))
    if ns.syscalls is not None:
        opts.syscalls = parse_syscall_names(ns.syscalls)
    for symbol in opts.breaks:
        if not symbol or any(c.isspace() for c in symbol):
            raise UsageError(f"not a symbol name: {symbol!r}")
    program = list(getattr(ns, "program", None) or [])
    if after is not None:
        if ns.command == "demo":
            raise UsageError("demo takes no program (it traces the bundled one)")
        # A '--' after the program name belongs to the program's own arguments.
        program = program + ["--"] + after if program else after
    if ns.command == "trace":
        opts.attach = ns.attach
        if opts.attach is not None and program:
            raise UsageError("give either a PROGRAM or -p PID, not both")
        if opts.attach is None and not program:
            raise UsageError("missing PROGRAM to trace (tether trace [options] -- PROGRAM [ARGS...])")
        if program and program[0].startswith("-") and after is None:
            raise UsageError(f"unrecognized option: {program[0]}")
        opts.program = program
    return opts


def usage_text(command: str | None = None) -> str:
    """The short usage line(s) of `tether` or of one of its commands."""
    parser = build_parser()
    sub = parser.subcommands.get(command)
    return (sub or parser).format_usage()
