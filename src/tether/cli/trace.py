"""`tether trace`: run (or attach to) a program under tether, follow every
thread and process, and turn the library's lifecycle callbacks into Events.

Every callback runs on tether's tracer thread while the thread that caused
it is stopped; the main thread only starts the trace, waits for the tree to
end (resuming any process left stopped) and draws the progress line."""
import os
import signal
import time
from collections import Counter

from .. import debugger
from ..arch.output_syscalls import OUTPUT_FD_ARGUMENT
from ..arch.amd64.signals import signal_name, signal_number
from ..arch import arch_named
from ..ptrace import parent_of
from ..state.states import GONE, ProcState
from .breaks import BreakPlanter
from .output import Event
from .output_relay import OutputRelay, quote
from .program import CommandError, cmdline, reason, resolve_command
from .syscall_stats import SyscallStats
from .syscall_text import (entry_fd_paths, exec_text, fd_path_reader, format_call, signed,
                           string_reader, syscall_registers)
from .timeline import Timeline

# The clone(2) flags that tell a fork from a vfork or an
# address-space-sharing clone (linux/sched.h).
CLONE_VM, CLONE_VFORK = 0x100, 0x4000
# After a successful execve the old image (where its arguments were) is gone:
# these are formatted at syscall entry.
EXEC_SYSCALLS = ("execve", "execveat")
INTERRUPT_GRACE = 1.0       # seconds the tree gets to die of its own Ctrl-C


# ------------------------------------------------------------------ records
class ProcRecord:
    """What the summary needs to know about one traced process."""

    def __init__(self, pid, ppid, parent, path):
        self.pid = pid
        self.ppid = ppid
        self.parent = parent
        self.depth = 0 if parent is None else parent.depth + 1
        self.children = []
        self.path = path
        self.threads = {pid}
        self.execs = []
        self.exit_code = None
        self.exit_signal = None
        self.detached = False
        self.breakpoint_hits = Counter()
        self.syscalls = 0
        if parent is not None:
            parent.children.append(self)

    def status(self) -> str:
        if self.exit_signal:
            return f"killed by {self.exit_signal}"
        if self.exit_code is not None:
            return f"exited {self.exit_code}"
        return ProcState.DETACHED.value if self.detached else ProcState.RUNNING.value


class TraceSession:
    def __init__(self, opts, printer):
        self.opts = opts
        self.printer = printer
        self.t0 = time.monotonic()
        self.t_end = None
        self.root = None           # the root Debugger
        self.records = {}          # Debugger -> ProcRecord
        self.order = []            # ProcRecords, in birth order
        self.counts = Counter()    # event kind -> how many
        self.syscall_counts = Counter()
        # tid -> (name, args, text at entry or None, pid, time, -y fd paths) from entry to exit
        self.pending = {}
        self.planter = BreakPlanter(opts.breaks, self._on_breakpoint)
        self.stats = SyscallStats() if opts.count else None
        self.timeline = Timeline() if opts.timeline else None
        # -c: the calls are counted, not shown
        self.show_syscalls = opts.count != "only"
        self.stopped_seen = set()  # Debuggers found stopped by the main loop once already
        self.attached = False
        self.interrupted = False
        self.missed_exits = 0      # deaths the library did not report (see _settle_records)
        self.relay = None          # --output-by-process (output_relay.py)

    # -------------------------------------------------------------- events
    def emit(self, record, tid, kind, details=None, show=True) -> float:
        """Count (and unless `show` is false, print) one event; its time."""
        self.counts[kind] += 1
        now = time.monotonic() - self.t0
        if show:
            self.printer.emit(Event(now, record.pid, tid, record.ppid, kind, details or {},
                                    record.depth, wall=time.time()))
        return now

    def now(self) -> float:
        return time.monotonic() - self.t0

    def _record(self, dbg):
        record = self.records.get(dbg)
        if record is None:  # not seen being born (the fork hook failed): still counted
            record = self._new_record(dbg, None, parent_of(dbg.pid))
        return record

    def _new_record(self, dbg, parent, ppid):
        record = ProcRecord(dbg.pid, ppid, parent, dbg.path)
        self.records[dbg] = record
        self.order.append(record)
        if self.timeline is not None:
            self.timeline.process_started(dbg.pid, record.path, self.now())
        return record

    # -------------------------------------------------------------- start
    def start(self) -> None:
        if self.opts.attach is not None:
            self._attach(self.opts.attach)
        else:
            self._run(self.opts.program)

    def _new_debugger(self, argv=(), path=None, at_first_instruction=False, started=False):
        return debugger(list(argv), path=path, follow_children=self.opts.follow,
                        inherit_stopping_events=True,
                        continue_to_binary_entrypoint=not at_first_instruction,
                        syscall_filter=self.kernel_filter() if started else None)

    def kernel_filter(self):
        """The syscalls of -e trace=SET for a seccomp-bpf filter, or None: all
        of them are traced, --no-seccomp-bpf, or --no-follow (a process let go
        would keep the filter, and its filtered calls would fail)."""
        opts = self.opts
        if opts.syscalls is None and opts.output_by_process and opts.seccomp and opts.follow:
            # Only the writes need to stop (run() adds them to any filter).
            return sorted(OUTPUT_FD_ARGUMENT)
        if not opts.syscalls or not opts.seccomp or not opts.follow:
            return None
        return list(opts.syscalls)

    def _run(self, argv) -> None:
        path, argv = resolve_command(argv)
        # Traced syscalls: start at the very first instruction so the dynamic
        # loader's syscalls show too (like strace); -b breakpoints are planted
        # as their libraries are mapped (breaks.py), from there too.
        first = self.opts.syscalls is not None or bool(self.opts.breaks)
        d = self._new_debugger(argv, path, at_first_instruction=first, started=True)
        by_process = self.opts.output_by_process
        try:
            # The program's stdio is ours (it passes through), unless its
            # output is attributed: then it goes through our ptys.
            pipes = d.run(redirect_pipes=by_process, attribute_output=by_process)
        except OSError as e:
            raise CommandError(f"{argv[0]}: cannot execute: {reason(e)}", 126) from None
        if pipes is not None:
            self.relay = OutputRelay(pipes, self._on_output)
            self.relay.start()
        self.root = d
        self._install(d)
        self.t0 = time.monotonic()
        record = self._new_record(d, None, os.getpid())
        self.emit(record, d.pid, "start", {"path": path, "argv": list(argv)})
        d.cont()

    def _attach(self, pid: int) -> None:
        d = self._new_debugger()
        try:
            d.attach(pid, tree=self.opts.tree)
        except (ValueError, OSError) as e:  # no such process, or not permitted
            raise CommandError(f"cannot attach to process {pid}: {reason(e)}") from None
        self.root = d
        self.attached = True
        self.t0 = time.monotonic()
        # --tree: every process of the tree, parents first; each gets the
        # hooks and events (those found were not born under the root's).
        for x in [d] + d.descendants:
            self._install(x)
            parent = x.control.parent
            precord = None if parent is None else self.records.get(parent.debugger)
            record = self._new_record(x, precord, parent_of(x.pid) if precord is None
                                      else precord.pid)
            record.path = x.exe or x.path
            record.threads = {t.tid for t in x.threads if not t.dead}
            self.emit(record, x.pid, "attach", {"path": record.path, "argv": cmdline(x.pid),
                                                "threads": len(record.threads)})
        for x in [d] + d.descendants:
            if not x.job_stopped:  # (cont() would continue it, as a shell's fg)
                x.cont()

    def _install(self, d) -> None:
        """Hooks and stopping events on the root; children inherit both."""
        try:
            self.planter.plant(d)
            self._handle_syscalls(d)
            d.catch_signal("*", callback=self._on_signal)
            d.on_fork(self._on_fork)
            d.on_exec(self._on_exec)
            d.on_exit(self._on_exit)
            d.on_thread(self._on_thread)
            d.on_thread_exit(self._on_thread_exit)
            d.on_stop(self._on_stop)
        except BaseException:
            self.abort()
            raise

    def _handle_syscalls(self, d) -> None:
        """Handlers of the syscalls of -e trace=SET that `d`'s program can
        make and that are not handled yet: at the start, and again at each
        exec (a program of the other architecture has other calls: mmap2
        only in a 32-bit one, newfstatat only in a 64-bit one)."""
        if self.opts.syscalls is None:
            return
        table = arch_named(d.arch).syscalls.SYSCALL_NUMBERS
        handled = {h.syscall_name for h in d.handled_syscalls.values()}
        for name in self.opts.syscalls or ["*"]:
            if name in handled or (name != "*" and name not in table):
                continue
            d.handle_syscall(name, on_enter=self._on_syscall_enter, on_exit=self._on_syscall_exit)

    def abort(self) -> None:
        """Let go of everything (an error while starting): kill what we
        started, detach from what we attached to."""
        d = self.root
        if d is None or d.dead:
            return
        try:
            if self.attached:
                d.interrupt()  # (detach() would wait for the next stop)
                d.detach()
            else:
                d.terminate()  # at once (kill() would wait for the next stop)
        except Exception:
            pass

    # -------------------------------------------------------------- callbacks (tracer thread)
    def _on_fork(self, parent, child) -> None:
        try:
            precord = self._record(parent)
            record = self._new_record(child, precord, parent.pid)
            record.path = precord.path
            kind, how = self._fork_kind(child)
            t = self.emit(precord, parent.pid, kind, {"child": child.pid, "syscall": how})
            if self.timeline is not None:
                self.timeline.fork(parent.pid, parent.pid, child.pid, how, t)
        finally:
            child.cont()  # every followed child runs at once

    @staticmethod
    def _fork_kind(child) -> tuple:
        """('fork' | 'vfork' | 'clone', syscall name). The new process stops
        on its way back from the syscall that made it, so its syscall number
        (orig_rax, orig_eax) is that syscall's and its argument registers are
        the parent's (clone(2))."""
        try:
            thread = child.threads[0]
            how, flags = thread.arch.syscall_name(thread.syscall_number), thread.syscall_arg0
            if how == "clone3":  # flags are the first u64 of struct clone_args
                flags = int.from_bytes(child.memory.read(flags, 8), "little")
        except Exception:
            return "fork", "?"
        if how in ("vfork", "fork"):
            return how, how
        if how not in ("clone", "clone3"):
            return "fork", how
        if flags & CLONE_VFORK:
            return "vfork", how
        if flags & CLONE_VM:
            return "clone", how
        return "fork", how

    def _on_exec(self, dbg) -> None:
        record = self._record(dbg)
        # Threads other than the exec-ing one vanish (ptrace(2), "execve(2)
        # under ptrace"): a syscall one of them was blocked in never returns,
        # and is shown as such ("= ?", like strace); the pending execve moves
        # to the pid (the survivor takes the leader's tid).
        exec_entry = None
        for tid, entry in list(self.pending.items()):
            if entry[3] != dbg.pid:
                continue
            if entry[0] in EXEC_SYSCALLS and exec_entry is None and entry[2] is not None:
                exec_entry = entry
                del self.pending[tid]
            else:
                self._flush_pending(dbg, tid)
        if exec_entry is not None:
            self.pending[dbg.pid] = exec_entry
        for tid in list(record.threads):
            if tid != dbg.pid and self.timeline is not None:
                self.timeline.ended(dbg.pid, tid, "gone at exec", self.now())
        record.path = dbg.path
        argv = cmdline(dbg.pid)
        record.execs.append(record.path)
        record.threads.add(dbg.pid)
        t = self.emit(record, dbg.pid, "exec", {"path": record.path, "argv": argv})
        if self.timeline is not None:
            self.timeline.renamed(dbg.pid, record.path)
            self.timeline.instant(dbg.pid, dbg.pid, "exec", "exec", t,
                                  {"path": record.path, "argv": argv})
        # The new image has no breakpoints: ours go in as their files are mapped.
        self.planter.plant(dbg)
        self._handle_syscalls(dbg)

    def _on_exit(self, dbg) -> None:
        record = self._record(dbg)
        self._flush_pending(dbg)
        record.exit_code = dbg.exit_code
        record.exit_signal = dbg.exit_signal
        self.planter.forget(dbg)
        details = {"signal": record.exit_signal} if record.exit_signal else {"code": record.exit_code}
        t = self.emit(record, dbg.pid, "exit", details)
        if self.timeline is not None:
            self.timeline.ended(dbg.pid, dbg.pid, record.status(), t)

    def _on_thread(self, dbg, thread) -> None:
        record = self._record(dbg)
        record.threads.add(thread.tid)
        t = self.emit(record, thread.tid, "thread")
        if self.timeline is not None:
            self.timeline.thread_started(dbg.pid, thread.tid, t)

    def _on_thread_exit(self, dbg, thread) -> None:
        record = self._record(dbg)
        self._flush_pending(dbg, thread.tid)
        details = {"signal": thread.exit_signal} if thread.exit_signal else {"code": thread.exit_code}
        t = self.emit(record, thread.tid, "thread_exit", details)
        if self.timeline is not None:
            self.timeline.ended(dbg.pid, thread.tid, "exited", t)

    def _on_signal(self, thread, catcher) -> None:
        record = self._record(thread.debugger)
        name = thread.signal
        number = signal_number(name)
        self._signal_event(record, thread.tid, "signal", {"signal": name, "number": number})

    def _on_stop(self, dbg, thread, number) -> None:
        """A job-control stop (SIGSTOP and the like, from itself or another)."""
        record = self._record(dbg)
        self._signal_event(record, thread.tid, "stopped",
                           {"signal": signal_name(number), "number": number})

    def _signal_event(self, record, tid, kind, details) -> None:
        if self.opts.signals is not None and details["number"] not in self.opts.signals:
            return  # -e signal=SET leaves it out
        t = self.emit(record, tid, kind, details)
        if self.timeline is not None:
            self.timeline.instant(record.pid, tid, "signal", f"{kind} {details['signal']}", t,
                                  details)

    def _on_output(self, record) -> None:
        """One attributed piece of the program's output (relay thread)."""
        owner = next((r for r in reversed(self.order) if r.pid == record.pid), None)
        if owner is None:   # bytes no traced write accounts for (pid None)
            owner = ProcRecord(record.pid, None, None, None)
        self.emit(owner, record.tid, "output", {
            "stream": record.stream, "bytes": len(record.data),
            "text": quote(record.data, self.opts.string_limit)})

    def _on_breakpoint(self, thread, bp) -> None:
        record = self._record(thread.debugger)
        record.breakpoint_hits[bp.symbol] += 1
        details = {"symbol": bp.symbol, "address": hex(bp.address),
                   "hits": record.breakpoint_hits[bp.symbol]}
        t = self.emit(record, thread.tid, "breakpoint", details)
        if self.timeline is not None:
            self.timeline.instant(record.pid, thread.tid, "breakpoint", bp.symbol, t, details)

    def _on_syscall_enter(self, thread, handler) -> None:
        values = syscall_registers(thread)
        name, args = values[0], tuple(values[1:7])
        text = self._format(thread.debugger, name, args, None) if name in EXEC_SYSCALLS else None
        fds = entry_fd_paths(thread.pid, name, args, thread.arch) if self.opts.decode_fds else None
        self.pending[thread.tid] = (name, args, text, thread.pid, self.now(), fds)

    def _on_syscall_exit(self, thread, handler) -> None:
        values = syscall_registers(thread)
        ret = values[7]
        entry = self.pending.pop(thread.tid, None)
        now = self.now()
        fds = None
        if entry is None:  # entered before we started (the root's own execve) or attached
            name, args, text, start = values[0], tuple(values[1:7]), None, now
            if name in EXEC_SYSCALLS:
                # Its arguments were in the image it replaced: describe the new one.
                text = exec_text(thread.debugger, name)
        else:
            # Named at its entry, by the table of the program that made it
            # (an execve may have brought a program of another architecture).
            name, args, text, start, fds = entry[0], entry[1], entry[2], entry[4], entry[5]
        if text is not None:
            # Formatted at entry; only the result is new (formatting without
            # memory readers can't touch the new image).
            text += " = " + format_call(thread.debugger, name, list(args), None, ret).rsplit(" = ", 1)[1]
        else:
            text = self._format(thread.debugger, name, args, ret, fds=fds)
        self._syscall_event(thread.debugger, thread.tid, name, args, signed(ret), text, start, now)

    def _syscall_event(self, dbg, tid, name, args, ret, text, start, end) -> None:
        record = self._record(dbg)
        record.syscalls += 1
        self.syscall_counts[name] += 1
        error = ret is not None and -4095 <= ret < 0
        if self.stats is not None:
            self.stats.add(record, name, error, end - start)
        if self.opts.syscall_times and ret is not None:
            text += f" <{end - start:.6f}>"
        if self.timeline is not None:
            self.timeline.syscall(record.pid, tid, text, name, start, end, ret)
        self.emit(record, tid, "syscall", {"name": name, "args": list(args), "return": ret,
                                           "text": text, "duration": round(end - start, 6)},
                  show=self.show_syscalls)

    def _flush_pending(self, dbg, tid=None) -> None:
        """Syscalls of `dbg` (or of its thread `tid`) that never returned
        (exit, exit_group, or killed): shown with '= ?' like strace."""
        for t, entry in list(self.pending.items()):
            if entry[3] != dbg.pid or (tid is not None and t != tid):
                continue
            del self.pending[t]
            name, args, text = entry[0], entry[1], entry[2]
            if text is None:
                text = self._format(dbg, name, args, None, readable=False)
            self._syscall_event(dbg, t, name, args, None, text + " = ?", entry[4], self.now())

    def _format(self, dbg, name, args, ret, readable=True, fds=None) -> str:
        opts = self.opts
        readers = string_reader(dbg.memory) if readable else (None, None)
        fd_path = fd_path_reader(dbg.pid, fds) if opts.decode_fds and readable else None
        try:
            return format_call(dbg, name, list(args), readers[0], ret, read_memory=readers[1],
                               string_limit=opts.string_limit, verbose=opts.verbose,
                               fd_path=fd_path)
        except Exception:
            return f"{name}(...)" + ("" if ret is None else f" = {signed(ret)}")

    # -------------------------------------------------------------- waiting (main thread)
    def all_debuggers(self) -> list:
        return [self.root] + self.root.descendants

    def finished(self) -> bool:
        return all(d.control.process is None or d.control.process.state in GONE
                   for d in self.all_debuggers())

    def wait(self) -> None:
        """Until every traced process has ended; Ctrl-C (or SIGTERM) detaches
        an attached tree, and kills a started one that does not end by itself."""
        previous = signal.signal(signal.SIGTERM, _raise_interrupt)
        # Ctrl-C must work even when we were started with SIGINT ignored (as
        # shells do for background jobs): Python then installs no handler.
        previous_int = signal.signal(signal.SIGINT, _raise_interrupt)
        try:
            try:
                self._wait_loop()
            except KeyboardInterrupt:
                self.interrupted = True
                self.printer.clear_status()
                if self.attached:
                    self._detach_all()
                else:
                    self._end_started_tree()
        finally:
            signal.signal(signal.SIGTERM, previous)
            signal.signal(signal.SIGINT, previous_int)
            if self.relay is not None:
                self.relay.finish()   # the output the tree wrote last, before the summary
            self._settle_records()
            self.t_end = time.monotonic()
            self.printer.clear_status()
            self.printer.flush()

    def _wait_loop(self, deadline=None) -> None:
        tracer = self.root.control.tracer
        last_lines, quiet_since, drawn = -1, time.monotonic(), 0.0
        while not self.finished():
            if deadline is not None and time.monotonic() > deadline:
                return
            # The tracer notifies this condition at every state change.
            tracer.wait_for(self.finished, 0.25)
            self._resume_stray_stops()
            if self.printer.lines != last_lines:
                last_lines, quiet_since = self.printer.lines, time.monotonic()
            elif time.monotonic() - quiet_since > 1.0 and time.monotonic() - drawn > 0.5:
                # Only after a quiet second: the program writes to the same
                # terminal, and a line it prints lands after our status text.
                self.printer.status(self.progress_text())
                drawn = time.monotonic()
            self.printer.flush()

    def _resume_stray_stops(self) -> None:
        """A process left stopped (e.g. a callback failed before resuming a
        new child) would hang the trace: resume it once it has been stopped
        for a whole round."""
        stopped = {d for d in self.all_debuggers()
                   if d.control.process is not None and d.control.process.state is ProcState.STOPPED}
        for d in stopped & self.stopped_seen:
            try:
                d.cont()
            except Exception:
                pass
        self.stopped_seen = stopped

    def _end_started_tree(self) -> None:
        # The terminal's Ctrl-C reached the program too: give it a moment.
        try:
            self._wait_loop(deadline=time.monotonic() + INTERRUPT_GRACE)
        except KeyboardInterrupt:
            pass
        if not self.finished():
            try:
                self.root.terminate()  # at once, and every followed descendant
            except Exception:
                pass

    def _detach_all(self) -> None:
        if self.opts.tree:
            self._detach_tree()
            return
        for d in self.all_debuggers():
            if d.control.process is None or d.control.process.state in GONE:
                continue
            try:
                d.interrupt()  # (detach() would wait for the next stop)
                d.detach()
            except Exception:
                continue
            record = self.records.get(d)
            if record is not None:
                record.detached = True
                self.emit(record, d.pid, "detach")

    def _detach_tree(self) -> None:
        """--tree: let the whole tree go at once (detach(tree=True))."""
        root = self.root
        let_go = [d for d in self.all_debuggers()
                  if d.control.process is not None and d.control.process.state not in GONE]
        try:
            if root in let_go:
                root.interrupt()  # (detach() would wait for the next stop)
            root.detach(tree=True)
        except Exception:
            return
        for d in let_go:
            record = self.records.get(d)
            if record is not None:
                record.detached = True
                self.emit(record, d.pid, "detach")

    def _settle_records(self) -> None:
        """A process whose death we were not told about (no exit callback)
        still gets its status from the library, so the summary and the exit
        status never say "running" for a dead process."""
        for d, record in self.records.items():
            if record.exit_code is None and record.exit_signal is None and not record.detached \
                    and d.dead:
                record.exit_code, record.exit_signal = d.exit_code, d.exit_signal
                self.missed_exits += 1

    def progress_text(self) -> str:
        live = [r for r in self.order if r.status() == ProcState.RUNNING]
        threads = sum(len(r.threads) for r in self.order)
        n = sum(self.counts.values())
        stop = "detach" if self.attached else "stop"
        return (f"tether: {len(live)} running of {len(self.order)} processes, {threads} threads, "
                f"{n} events, {time.monotonic() - self.t0:.1f} s (Ctrl-C to {stop})")

    # -------------------------------------------------------------- results
    def exit_status(self) -> int:
        """The root program's status, as a shell reports it: its exit code, or
        128 + the signal that killed it; 0 after a detach."""
        record = self.records.get(self.root)
        if record is None:
            return 1
        if record.exit_signal:
            try:
                return 128 + signal_number(record.exit_signal)
            except ValueError:
                return 128
        if record.exit_code is not None:
            return record.exit_code & 0xFF
        return 0


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt
