"""`tether trace -c` / `-C`: calls, errors and time per system call, for each
process and for the whole tree, and the table strace -c prints.

The time of a call is the wall-clock time from its entry stop to its exit
stop as the tracer saw them (what strace -c -w counts): it includes the
time the tracee was stopped for us, so it is an upper bound."""
from collections import defaultdict

_RULE = "------ ----------- ----------- --------- --------- ----------------"
_HEAD = "% time     seconds  usecs/call     calls    errors syscall"


class SyscallStats:
    """name -> [calls, errors, seconds] per process (its ProcRecord) and for the tree."""

    def __init__(self):
        self.by_record = defaultdict(lambda: defaultdict(lambda: [0, 0, 0.0]))

    def add(self, record, name: str, error: bool, seconds: float) -> None:
        row = self.by_record[record][name]
        row[0] += 1
        row[1] += 1 if error else 0
        row[2] += max(seconds, 0.0)

    def tree(self) -> dict:
        total: defaultdict = defaultdict(lambda: [0, 0, 0.0])
        for rows in self.by_record.values():
            for name, (calls, errors, seconds) in rows.items():
                row = total[name]
                row[0] += calls
                row[1] += errors
                row[2] += seconds
        return total

    def to_json(self) -> dict:
        """{"tree": {name: {calls, errors, seconds}}, "processes": {pid: {...}}}."""
        def rows(table):
            return {name: {"calls": c, "errors": e, "seconds": round(s, 6)}
                    for name, (c, e, s) in sorted(table.items())}
        return {"tree": rows(self.tree()),
                "processes": {str(r.pid): rows(t) for r, t in self.by_record.items()}}


def format_table(rows: dict) -> str:
    """strace -c's table of {name: [calls, errors, seconds]}, the most time first."""
    total_time = sum(r[2] for r in rows.values())
    lines = [_HEAD, _RULE]
    ordered = sorted(rows.items(), key=lambda item: (-item[1][2], -item[1][0], item[0]))
    for name, (calls, errors, seconds) in ordered:
        share = 100.0 * seconds / total_time if total_time else 0.0
        per_call = int(seconds * 1e6 / calls) if calls else 0
        lines.append(f"{share:6.2f} {seconds:11.6f} {per_call:11d} {calls:9d} "
                     f"{errors if errors else '':>9} {name}")
    lines.append(_RULE)
    calls = sum(r[0] for r in rows.values())
    errors = sum(r[1] for r in rows.values())
    per_call = int(total_time * 1e6 / calls) if calls else 0
    lines.append(f"{100.0 if total_time else 0.0:6.2f} {total_time:11.6f} {per_call:11d} "
                 f"{calls:9d} {errors if errors else '':>9} total")
    return "\n".join(lines)


def format_stats(stats: SyscallStats, records) -> str:
    """One table per process that made a system call (in birth order), then
    the tree's when there was more than one process."""
    parts = []
    shown = 0
    for record in records:
        rows = stats.by_record.get(record)
        if not rows:
            continue
        shown += 1
        parts.append(f"system calls of {record.pid} {record.path or '?'}:\n{format_table(rows)}")
    if shown != 1:
        parts.append(f"system calls of the whole tree:\n{format_table(stats.tree())}")
    return "\n\n".join(parts)
