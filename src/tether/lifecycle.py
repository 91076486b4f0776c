"""What happens to traced processes when the script ends, timeouts of run(),
and the printable process tree (gdb's `info inferiors`, as a tree)."""
import atexit
import threading
import weakref

_debuggers = weakref.WeakSet()
_lock = threading.Lock()


def register(debugger) -> None:
    with _lock:
        _debuggers.add(debugger)


def _at_exit() -> None:
    """kill_on_exit: kill (or else detach) every process still traced, so none
    stays stopped, orphaned under ptrace or a zombie. PTRACE_O_EXITKILL covers
    a script that dies too hard for atexit to run."""
    with _lock:
        debuggers = list(_debuggers)
    for dbg in debuggers:
        proc = dbg._proc
        if proc is None or proc.state in ("dead", "detached"):
            continue
        try:
            if dbg._settings.kill_on_exit:
                dbg._tracer.call(dbg._tracer.session.kill, proc)
            else:
                dbg._tracer.call(dbg._tracer.session.stop_process, proc)
                dbg._tracer.wait_for(lambda p=proc: p.state in ("stopped", "dead"), 2.0)
                if proc.state == "stopped":
                    dbg._tracer.call(dbg._tracer.session.detach, proc)
        except Exception:
            pass


atexit.register(_at_exit)


def kill_after(debugger, timeout: float) -> None:
    """run(timeout=...): kill the process if it is still alive after `timeout` s."""
    proc = debugger._proc

    def expire():
        if proc.state not in ("dead", "detached"):
            try:
                debugger._tracer.call(debugger._tracer.session.kill, proc)
            except Exception:
                pass
    timer = threading.Timer(timeout, expire)
    timer.daemon = True
    timer.start()


def _describe(dbg) -> str:
    proc = dbg._proc
    if proc is None:
        return f"(not started) {dbg.path}"
    if proc.state == "dead":
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
    lines = [_describe(root)]

    def walk(dbg, prefix):
        kids = dbg.children
        for i, child in enumerate(kids):
            last = i == len(kids) - 1
            lines.append(prefix + ("└── " if last else "├── ") + _describe(child))
            walk(child, prefix + ("    " if last else "│   "))
    walk(root, "")
    return "\n".join(lines)
