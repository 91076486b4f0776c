"""The summary at the end of `tether trace`: the process tree with each
process's status, thread and event counts, breakpoint hits per process, wall
time. One dict (the JSON "summary" event's details) and its text rendering."""

import os

from .syscall_stats import format_stats

# Event kinds in the order the text summary lists their counts.
_KIND_ORDER = ("start", "attach", "fork", "vfork", "clone", "thread", "thread_exit", "exec",
               "signal", "stopped", "breakpoint", "syscall", "exit", "detach")
_TOP_SYSCALLS = 8


def build_summary(session) -> dict:
    """Everything the summary shows, JSON-ready."""
    end = session.t_end if session.t_end is not None else session.t0
    processes = []
    for r in session.order:
        processes.append({
            "pid": r.pid, "ppid": r.ppid, "path": r.path, "status": r.status(),
            "exit_code": r.exit_code, "exit_signal": r.exit_signal,
            "threads": len(r.threads), "execs": list(r.execs),
            "breakpoints": dict(r.breakpoint_hits), "syscalls": r.syscalls,
        })
    breakpoints = {}
    for symbol in session.opts.breaks:
        breakpoints[symbol] = {str(r.pid): r.breakpoint_hits.get(symbol, 0) for r in session.order}
    return {
        "wall_time": round(end - session.t0, 6),
        "processes": processes,
        "process_count": len(processes),
        "thread_count": sum(p["threads"] for p in processes),
        "events": {k: v for k, v in session.counts.items()},
        "syscalls": dict(session.syscall_counts.most_common()),
        "breakpoints": breakpoints,
        "breakpoints_never_found": session.planter.never_found(),
        "syscall_stats": None if session.stats is None else session.stats.to_json(),
        "exit_status": session.exit_status(),
        "interrupted": session.interrupted,
        "unreported_exits": session.missed_exits,
    }


def format_summary(summary: dict, unicode: bool = True) -> str:
    lines = []
    n_proc, n_thr = summary["process_count"], summary["thread_count"]
    lines.append(f"--- tether summary: {n_proc} process{'es' if n_proc != 1 else ''}, "
                 f"{n_thr} thread{'s' if n_thr != 1 else ''}, "
                 f"{summary['wall_time']:.3f} s wall time ---")
    # The tree: each process under the traced process that forked it (the
    # latest earlier one with that pid, should a pid have been reused).
    latest: dict = {}
    kids: dict = {}
    roots: list = []
    for p in summary["processes"]:
        parent = latest.get(p["ppid"])
        if parent is not None:
            kids.setdefault(id(parent), []).append(p)
        else:
            roots.append(p)
        latest[p["pid"]] = p
    branch, last, pipe, blank = ("├── ", "└── ", "│   ", "    ") if unicode else \
        ("|-- ", "`-- ", "|   ", "    ")
    rows = []

    def walk(p, prefix, connector):
        rows.append((prefix + connector, p))
        if connector == "":
            below = prefix          # a root: its children start at the margin
        else:
            below = prefix + (blank if connector == last else pipe)
        children = kids.get(id(p), [])
        for i, child in enumerate(children):
            walk(child, below, last if i == len(children) - 1 else branch)
    for p in roots:
        walk(p, "", "")
    left = [f"{lead}{p['pid']} {_short(p['path'])}" for lead, p in rows]
    width = min(max((len(s) for s in left), default=0), 60)
    for text, (_, p) in zip(left, rows):
        extra = [f"{p['threads']} thread{'s' if p['threads'] != 1 else ''}"]
        if p["execs"]:
            extra.append(f"exec x{len(p['execs'])}")
        if p["syscalls"]:
            extra.append(f"{p['syscalls']} syscalls")
        lines.append(f"  {text:<{width}}  {p['status']:<20} {', '.join(extra)}")
    counts = summary["events"]
    shown = [f"{k} {counts[k]}" for k in _KIND_ORDER if counts.get(k)]
    shown += [f"{k} {v}" for k, v in counts.items() if k not in _KIND_ORDER and v]
    lines.append("events: " + (", ".join(shown) if shown else "none"))
    if summary["syscalls"]:
        top = list(summary["syscalls"].items())
        text = ", ".join(f"{name} {n}" for name, n in top[:_TOP_SYSCALLS])
        if len(top) > _TOP_SYSCALLS:
            text += f", ... ({len(top) - _TOP_SYSCALLS} more)"
        lines.append("syscalls: " + text)
    for symbol, per_pid in summary["breakpoints"].items():
        total = sum(per_pid.values())
        each = ", ".join(f"{pid}: {n}" for pid, n in per_pid.items())
        lines.append(f"breakpoint {symbol}: {total} hit{'s' if total != 1 else ''} ({each})")
    for symbol in summary.get("breakpoints_never_found") or ():
        lines.append(f"breakpoint {symbol}: no function {symbol!r} in any traced program "
                     "or its libraries")
    status = summary["exit_status"]
    note = " (interrupted)" if summary["interrupted"] else ""
    lines.append(f"exit status {status}{note}")
    return "\n".join(lines)


def format_counts(session) -> str:
    """-c / -C: the strace-like tables, per process and for the tree."""
    return format_stats(session.stats, session.order)


def _short(path) -> str:
    """~ for the home directory; long paths keep their end (the file name
    matters most)."""
    path = str(path or "?")
    home = os.path.expanduser("~")
    if home not in ("/", "~") and path.startswith(home + "/"):
        path = "~" + path[len(home):]
    return path if len(path) <= 48 else "..." + path[-45:]
