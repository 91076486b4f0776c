"""Command-line parsing for `tether`: turns argv into a TraceOptions, or raises
UsageError (the caller prints the usage and exits 2, like most Unix tools).

    tether trace [options] -- PROGRAM [ARGS...]
    tether trace [options] -p PID
    tether demo  [options]

strace's flags keep strace's meaning (-f, -e trace=/signal=, -c, -C, -t/-tt/-ttt,
-T, -y, -s, -v, -o, -p, --seccomp-bpf); tether's own are long options or
letters strace does not use (-b).
"""
import argparse

from .selection import parse_signal_set, parse_syscall_set

PROG = "tether"

EXAMPLES = """\
examples:
  tether demo                          trace the bundled demo program
  tether trace -- ./server --port 80   trace a program and everything it starts
  tether trace -f -e trace=all -- make also show every system call (strace style)
  tether trace -e trace=%file,execve -s 64 -y -- ./build.sh
  tether trace -e trace='!%memory' -tt -T -- ./prog
  tether trace -c -- ./prog            count calls, errors and time per system call
  tether trace -b malloc -- ./prog     count calls of malloc in every process
  tether trace --timeline run.json -- make   a trace for the Perfetto UI
  tether trace --json -o events.jsonl -- ./prog
  tether trace -p 1234                 attach to a running process (Ctrl-C detaches)
  tether trace -p 1234 --tree          ... and to every process below it
"""


class UsageError(Exception):
    """Bad command line: the message says what is wrong (exit status 2)."""


class TraceOptions:
    """What the command line asked for. (A plain class, not a dataclass:
    importing dataclasses would cost every start-up some 11 ms.)"""
    command: str = "trace"            # "trace" or "demo"
    attach: int | None = None
    tree: bool = False                # --tree: -p takes the process's whole tree
    syscalls: list | None = None      # None: not traced; []: all; else syscall names
    signals: frozenset | None = None  # None: every signal shown; else the numbers shown
    follow: bool = True
    json: bool = False
    output: str | None = None         # None: stderr; "-": stdout; else a file path
    color: str = "auto"               # auto | always | never
    progress: bool = True
    count: str | None = None          # None; "only" (-c: no syscall lines); "also" (-C)
    timestamps: int = 0               # -t, -tt, -ttt
    syscall_times: bool = False       # -T
    decode_fds: bool = False          # -y
    string_limit: int = 32            # -s
    verbose: bool = False             # -v
    seccomp: bool = True              # only the chosen syscalls stop the tracee (kernel filter)
    timeline: str | None = None       # --timeline FILE
    output_by_process: bool = False   # --output-by-process: "output" events (cli/output_relay.py)

    def __init__(self, **values):
        self.program: list = []       # PROGRAM ARGS... (empty with --attach / demo)
        self.breaks: list = []
        for name, value in values.items():
            if name not in _OPTION_NAMES:
                raise TypeError(f"TraceOptions has no option {name!r}")
            setattr(self, name, value)

    def __repr__(self) -> str:
        return "TraceOptions(" + ", ".join(f"{k}={getattr(self, k)!r}" for k in _OPTION_NAMES) + ")"

    def __eq__(self, other) -> bool:
        return type(other) is TraceOptions and \
            all(getattr(self, k) == getattr(other, k) for k in _OPTION_NAMES)

    __hash__ = None  # type: ignore[assignment]  # (mutable)


_OPTION_NAMES = ("command", "program", *[k for k in vars(TraceOptions) if not k.startswith("_")
                                          and k != "command"], "breaks")


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


def _string_size(text: str) -> int:
    try:
        value = int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"-s takes a string size (a number, as in strace), not {text!r}; "
            f"to choose system calls use -e trace={text}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"-s: a string size is not negative: {text!r}")
    return value


def _add_trace_options(p: argparse.ArgumentParser, program: bool) -> None:
    strace = p.add_argument_group("strace's options (same meaning)")
    strace.add_argument("-f", dest="follow_flag", action="count", default=0,
                        help="follow forks, vforks and clones (tether always does, "
                             "unless --no-follow)")
    strace.add_argument("-e", dest="expressions", action="append", default=[], metavar="EXPR",
                        help="trace=SET: show these system calls (names, numbers, %%classes such "
                             "as %%file %%process %%network %%signal %%desc %%memory, /regex, all, "
                             "none; '!' before the set negates it). signal=SET: show only these "
                             "signals. A bare SET means trace=SET")
    strace.add_argument("--trace", dest="trace_sets", action="append", default=[],
                        metavar="SET", help="the same as -e trace=SET")
    strace.add_argument("--signal", dest="signal_sets", action="append", default=[],
                        metavar="SET", help="the same as -e signal=SET")
    strace.add_argument("-c", "--summary-only", dest="count_only", action="store_true",
                        help="count calls, errors and time per system call (per process and "
                             "for the tree), shown at the end; no system call lines")
    strace.add_argument("-C", "--summary", dest="count_also", action="store_true",
                        help="like -c, and show the system call lines too")
    strace.add_argument("-t", dest="timestamps", action="count", default=0,
                        help="wall-clock time of day on each line; -tt with microseconds; "
                             "-ttt as seconds since the epoch")
    strace.add_argument("-T", "--syscall-times", dest="syscall_times", action="store_true",
                        help="show the time spent in each system call, <seconds>")
    strace.add_argument("-y", "--decode-fds", dest="decode_fds", action="store_true",
                        help="show the path behind each file descriptor, 3</etc/passwd>")
    strace.add_argument("-s", "--string-limit", dest="string_limit", type=_string_size,
                        default=32, metavar="SIZE",
                        help="show at most SIZE bytes of each string (default 32; "
                             "file names are shown whole)")
    strace.add_argument("-v", "--no-abbrev", dest="verbose", action="store_true",
                        help="don't abbreviate: execve's environment, every stat field")
    strace.add_argument("-o", "--output", metavar="FILE",
                        help="write the events and the summary to FILE ('-' for standard "
                             "output; default: standard error, like strace)")
    if program:
        strace.add_argument("-p", "--attach", type=_pid, metavar="PID",
                            help="trace the running process PID instead of starting a program "
                                 "(Ctrl-C detaches and prints the summary)")
        strace.add_argument("--tree", action="store_true",
                            help="with -p: also every process descending from PID (and their "
                                 "threads), taken over as they run")
    strace.add_argument("--seccomp-bpf", dest="seccomp", action="store_true", default=None,
                        help="only the chosen system calls stop the program (a seccomp-bpf "
                             "filter); tether does this by default whenever -e trace= names "
                             "a set")
    own = p.add_argument_group("tether's options")
    own.add_argument("--no-seccomp-bpf", dest="seccomp", action="store_false",
                     help="stop the program at every system call even with -e trace=SET")
    own.add_argument("-b", "--break", dest="breaks", action="append", default=[],
                     metavar="SYMBOL",
                     help="count the calls of function SYMBOL in every process (repeatable)")
    own.add_argument("--no-follow", dest="follow", action="store_false",
                     help="trace only the first process, not the children it forks")
    own.add_argument("--output-by-process", dest="output_by_process", action="store_true",
                     help="show which process wrote each piece of the program's stdout and "
                          "stderr (an 'output' event per write; the program then writes to "
                          "terminals of tether's, whose bytes tether copies to its own)")
    own.add_argument("--json", action="store_true",
                     help="print one JSON object per line per event: "
                          "time, pid, tid, ppid, kind, details")
    own.add_argument("--timeline", metavar="FILE",
                     help="also write the run as a trace for the Perfetto UI / chrome://tracing "
                          "(Chrome JSON trace event format)")
    own.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                     help="colour the events (default: auto, only on a terminal)")
    own.add_argument("--no-progress", dest="progress", action="store_false",
                     help="no live progress line on a terminal")
    if program:
        p.add_argument("program", nargs=argparse.REMAINDER, metavar="PROGRAM [ARGS...]",
                       help="the program to run and its arguments (put them after --)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="Trace a program's whole process tree: forks, threads, "
                     "execs, signals, exits, and optionally system calls and function calls.",
                     epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter,
                     allow_abbrev=False)
    from .. import __version__
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    trace = sub.add_parser("trace", help="run a program (or attach to a process) and trace it",
                           usage=f"{PROG} trace [options] -- PROGRAM [ARGS...]\n"
                                 f"       {PROG} trace [options] -p PID",
                           epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter,
                           allow_abbrev=False)
    _add_trace_options(trace, program=True)
    demo = sub.add_parser("demo", help="trace a small bundled multi-process demo program",
                          usage=f"{PROG} demo [options]", allow_abbrev=False)
    _add_trace_options(demo, program=False)
    parser.subcommands = {"trace": trace, "demo": demo}  # type: ignore[attr-defined]  # for usage_text()
    return parser


def split_double_dash(argv: list) -> tuple:
    """Split argv at the first '--': (before, after or None). argparse's own
    '--' handling around a REMAINDER positional is fragile, so the program
    part is taken out first."""
    if "--" in argv:
        i = argv.index("--")
        return argv[:i], argv[i + 1:]
    return argv, None


def _apply_expressions(opts: TraceOptions, ns) -> None:
    """-e QUALIFIER=SET (and --trace/--signal): later ones win, as in strace."""
    for expression in ns.expressions:
        qualifier, eq, value = expression.partition("=")
        if not eq:
            qualifier, value = "trace", expression
        qualifier = qualifier.strip()
        if qualifier in ("trace", "t"):
            ns.trace_sets.append(value)
        elif qualifier in ("signal", "signals"):
            ns.signal_sets.append(value)
        else:
            raise UsageError(f"-e {expression}: tether knows -e trace=SET and -e signal=SET, "
                             f"not {qualifier}=")
    try:
        for value in ns.trace_sets:
            opts.syscalls = parse_syscall_set(value)
        for value in ns.signal_sets:
            opts.signals = parse_signal_set(value)
    except ValueError as e:
        raise UsageError(str(e)) from None


def parse_args(argv) -> TraceOptions:
    """argv without the program name (sys.argv[1:]) -> TraceOptions."""
    argv = list(argv)
    before, after = split_double_dash(argv)
    parser = build_parser()
    ns, unknown = parser.parse_known_args(before)
    if ns.command is None:
        raise UsageError("missing command (trace or demo)")
    if unknown:
        flag = unknown[0]
        raise UsageError(f"unknown option {flag} (tether {ns.command} --help lists them)"
                         if flag.startswith("-") else f"unexpected argument {flag!r}")
    if ns.follow_flag > 1:
        raise UsageError("-ff (one output file per process) is not supported: "
                         "use -f, or --json and filter by pid")
    opts = TraceOptions(command=ns.command, follow=ns.follow, json=ns.json, output=ns.output,
                        color=ns.color, progress=ns.progress, breaks=list(ns.breaks),
                        timestamps=min(ns.timestamps, 3), syscall_times=ns.syscall_times,
                        decode_fds=ns.decode_fds, string_limit=ns.string_limit,
                        verbose=ns.verbose, timeline=ns.timeline,
                        output_by_process=ns.output_by_process)
    if ns.follow_flag and not ns.follow:
        raise UsageError("-f and --no-follow contradict each other")
    _apply_expressions(opts, ns)
    if ns.count_only or ns.count_also:
        opts.count = "only" if ns.count_only and not ns.count_also else "also"
        if opts.syscalls is None:
            opts.syscalls = []   # counting needs the calls: all of them unless a set is given
    if ns.seccomp is not None:
        opts.seccomp = ns.seccomp
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
        if opts.output_by_process and not opts.follow:
            raise UsageError("--output-by-process needs the children followed (not "
                             "--no-follow): the writes of a process let go are not seen")
        if opts.attach is not None and opts.output_by_process:
            raise UsageError("--output-by-process needs a PROGRAM that tether starts: the "
                             "output of a process attached with -p does not go through tether")
        opts.tree = ns.tree
        if opts.tree and opts.attach is None:
            raise UsageError("--tree goes with -p PID (a started program's tree is always followed)")
        if opts.tree and not opts.follow:
            raise UsageError("--tree and --no-follow contradict each other")
        if opts.attach is None and not program:
            raise UsageError("missing PROGRAM to trace (tether trace [options] -- PROGRAM [ARGS...])")
        if program and program[0].startswith("-") and after is None:
            raise UsageError(f"unknown option {program[0]} (tether trace --help lists them)")
        opts.program = program
    return opts


def usage_text(command: str | None = None) -> str:
    """The short usage line(s) of `tether` or of one of its commands."""
    parser = build_parser()
    sub = parser.subcommands.get(command)  # type: ignore[attr-defined]
    return (sub or parser).format_usage()
