"""Every traced thread and process, by id; and the ids we let go of.

Runs only on the tracer thread."""
import os
import time

from ..state.hub import Hub


class Registry:
    def __init__(self, hub: Hub):
        self.hub = hub             # handed to every Proc (see state/hub.py)
        self.tasks: dict = {}      # tid -> Task, every live traced thread
        self.procs: dict = {}      # pid -> Proc, every live traced process
        self.early: dict = {}      # tid -> StopEvent of a new tracee seen before its creator's event
        self.early_creator: dict = {}  # tid -> pid of its creator's process (hold_first_stop)
        # tid -> clock tick (since boot) when we let that thread go (detached,
        # or vanished in an exec). The kernel hands a tid out again once the
        # thread is reaped (pid_max may be only 32768), so an entry only
        # stands for threads born before that tick (see is_gone).
        self.gone: dict = {}
        self.seen_pids: set = set()  # processes traced (for the untraced-child check)
        self.reported_untraced: set = set()
        # These three only grow as processes come and go (a forking server's
        # tracer sees thousands): entries of ids that no longer exist are
        # dropped whenever a table doubles (see _pruned).
        self._limits = {"gone": _PRUNE_AT, "seen_pids": _PRUNE_AT, "reported_untraced": _PRUNE_AT}

    def note_seen(self, pid: int) -> None:
        """A new process is traced."""
        self.seen_pids.add(pid)
        if len(self.seen_pids) > self._limits["seen_pids"]:
            self._prune("seen_pids")

    def note_untraced(self, pid: int) -> None:
        """An untraced child was reported (once per pid)."""
        self.reported_untraced.add(pid)
        if len(self.reported_untraced) > self._limits["reported_untraced"]:
            self._prune("reported_untraced")

    def _let_go(self, tid: int, when: int) -> None:
        self.gone[tid] = when
        if len(self.gone) > self._limits["gone"]:
            self._prune("gone")

    def _prune(self, name: str) -> None:
        """Drop the ids of `name` that no longer exist: a thread that is dead
        and reaped reports nothing more, and a later thread given its id is
        born after our entry (is_gone checks the birth time for the ids
        still there). Runs when the table has doubled since the last prune,
        so it costs about one /proc lookup per entry added."""
        table = getattr(self, name)
        dead = [tid for tid in table if not os.path.exists(f"/proc/{tid}")]
        for tid in dead:
            if isinstance(table, dict):
                del table[tid]
            else:
                table.discard(tid)
        self._limits[name] = max(_PRUNE_AT, 2 * len(table))

    def hold_first_stop(self, tid: int, ev):
        """Keep the first stop of a new tracee that came before its creator's
        fork/clone event (docs/edge-cases.md §1), and who the creator is (its
        thread group for a thread, else its parent), in case the creator dies
        before reporting the event). Returns the creator's pid."""
        creator = self.early_creator[tid] = creator_of(tid)
        self.early[tid] = ev
        return creator

    def take_first_stop(self, tid: int):
        """The first stop kept for `tid` (None if none), forgotten."""
        self.early_creator.pop(tid, None)
        return self.early.pop(tid, None)

    def unclaimed_births(self) -> list:
        """The new tracees whose first stop is kept while their creator is no
        longer a traced process (it died or was let go before reporting
        their birth: no event will claim them)."""
        procs = self.procs
        return [tid for tid, creator in self.early_creator.items() if creator not in procs]

    def add(self, task) -> None:
        task.proc.tasks[task.tid] = task
        self.tasks[task.tid] = task

    def is_gone(self, tid: int) -> bool:
        """Is `tid` a thread we let go of? Not if the thread now called so was
        born after we let that one go: it is a new one with a recycled tid
        (e.g. a new tracee whose first stop came before its creator's clone
        event; resumed as a gone thread, it would lose that stop and run one
        byte past the int3 of a breakpoint it hits before the clone event)."""
        let_go_at = self.gone.get(tid)
        if let_go_at is None:
            return False
        started = start_ticks(tid)
        if let_go_at < started < UNKNOWN_START:
            del self.gone[tid]
            return False
        return True

    def child_ended(self, pid: int) -> None:
        """A process we traced (and maybe let go of) is dead, as its parent's
        SIGCHLD says: it reports nothing more, and its pid is free for reuse
        once reaped, so keep nothing about it."""
        self.seen_pids.discard(pid)
        self.gone.pop(pid, None)

    def forget_task(self, tid: int, let_go: bool) -> None:
        self.tasks.pop(tid, None)
        if let_go:
            self._let_go(tid, uptime_ticks())

    def forget(self, proc) -> None:
        """A process we let go of: its tids may still report stops. Its
        memory file is closed (a fork child let go of at its first stop had
        one opened to write our int3s' original bytes back)."""
        proc.mem.close()
        now = uptime_ticks()
        for tid in list(proc.tasks):
            self.tasks.pop(tid, None)
            self._let_go(tid, now)
        self.procs.pop(proc.pid, None)


def uptime_ticks() -> int:
    """Clock ticks since boot, on the clock of /proc/<pid>/stat's start time
    (the boot-time clock, as /proc/uptime is, read without a file: this runs
    whenever a thread or process is let go, e.g. at every unfollowed fork).
    Integer arithmetic, truncated as the kernel truncates a start time."""
    return time.clock_gettime_ns(time.CLOCK_BOOTTIME) // _NS_PER_TICK


_NS_PER_TICK = 1_000_000_000 // os.sysconf("SC_CLK_TCK")
UNKNOWN_START = 1 << 62
_PRUNE_AT = 1024   # the smallest size at which a table is pruned


def creator_of(tid: int):
    """The process that created `tid`: its thread group if it is a thread,
    else its parent (None if it is gone)."""
    tgid = ppid = None
    try:
        with open(f"/proc/{tid}/status", "rb") as f:
            for line in f:
                if line.startswith(b"Tgid:"):
                    tgid = int(line.split()[1])
                elif line.startswith(b"PPid:"):
                    ppid = int(line.split()[1])
                    break
    except (OSError, ValueError, IndexError):
        return None
    return tgid if tgid is not None and tgid != tid else ppid


def start_ticks(pid: int) -> int:
    """A process's start time, in clock ticks since boot (/proc/<pid>/stat
    field 22); UNKNOWN_START if it can't be read (gone already)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
        return int(stat[stat.rindex(b")") + 2:].split()[19])
    except (OSError, ValueError, IndexError):
        return UNKNOWN_START
