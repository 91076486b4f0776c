"""What happens to traced processes when the script ends, timeouts of run(),
and the printable process tree (gdb's `info inferiors`, as a tree)."""
import atexit
import threading
import weakref

from .state.states import GONE, ProcState

_debuggers: "weakref.WeakSet" = weakref.WeakSet()
_lock = threading.Lock()


def register(debugger) -> None:
    """Look after `debugger`'s process when the script ends (weakly: a
    Debugger nobody holds is forgotten)."""
    with _lock:
        _debuggers.add(debugger)


def _at_exit() -> None:
    """kill_on_exit: kill (or else detach) every process still traced, so none
    stays stopped, orphaned under ptrace or a zombie. PTRACE_O_EXITKILL covers
    a script that dies too hard for atexit to run."""
    with _lock:
        debuggers = list(_debuggers)
    for dbg in debuggers:
        control = dbg.control
        proc = control.process
        if proc is None or proc.state in GONE:
            continue
        tracer, session = control.tracer, control.session
        try:
            if control.settings.kill_on_exit:
                tracer.call(session.kill, proc)
            else:
                tracer.call(session.stop_process, proc)
                tracer.wait_for(lambda p=proc: p.state in (ProcState.STOPPED, ProcState.DEAD), 2.0)
                if proc.state is ProcState.STOPPED:
                    tracer.call(session.detach, proc)
        except Exception:
            pass


atexit.register(_at_exit)


def kill_after(debugger, timeout: float) -> None:
    """run(timeout=...): kill the process if it is still alive after `timeout` s."""
    control = debugger.control
    proc = control.process

    def expire():
        if proc.state not in GONE:
            try:
                control.tracer.call(control.session.kill, proc)
            except Exception:
                pass
    timer = threading.Timer(timeout, expire)
    timer.daemon = True
    timer.start()


def _describe(dbg) -> str:
    proc = dbg.control.process
    if proc is None:
        return f"(not started) {dbg.path}"
    if proc.state is ProcState.DEAD:
        if proc.exit_signal is not None:
            from .arch.amd64.signals import signal_name
            status = f"killed by {signal_name(proc.exit_signal)}"
        else:
            status = f"exited {proc.exit_code}"
    else:
        status = proc.state
        threads = len([t for t in proc.tasks.values() if not t.dead])
        if threads > 1:
            status += f", {threads} threads"
    return f"{proc.pid} [{status}] {dbg.path}" + (f" (exec x{proc.exec_count})" if proc.exec_count else "")


def format_tree(root) -> str:
    """The tree of `root`'s process and its followed descendants, one line
    each: pid, [state], program (d.tree())."""
    lines = [_describe(root)]

    def walk(dbg, prefix):
        kids = dbg.children
        for i, child in enumerate(kids):
            last = i == len(kids) - 1
            lines.append(prefix + ("└── " if last else "├── ") + _describe(child))
            walk(child, prefix + ("    " if last else "│   "))
    walk(root, "")
    return "\n".join(lines)
