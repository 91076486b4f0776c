"""Output attribution's part of the runtime: one writer at a time per output
stream, and a record of each write's byte count when it returns.

A process started with `run(attribute_output=True)` (and every process it
starts) has `proc.output_watch`: the facade's object that knows the output
streams (commlink/attribution.py). Its writes stop at their entry and exit
(syscall stops, or our seccomp filter's stops plus the exit stop). Then:

* at the entry of a write-family call (arch/amd64/output_syscalls.py) the
  thread gets a pending OUTPUT_TURN event instead of going on: whatever
  resumes it (the stop's handler, the user's cont(), the end of a step-over
  hold) handles that event first, through the one dispatch (`on_turn`). It
  reads the call's number and fd from the registers as they are now (a
  handler may have changed them) and asks the watch which stream, if any,
  the fd writes to (compared by the file's identity: `/proc/TID/fd/N`). A
  write to a stream that another thread is writing to stays stopped, the
  event pending, until that write returns; otherwise it takes the stream
  (`Turn.writer`) and goes into the kernel.
* at its exit stop (handled at once even while its process is being
  stopped for the user: `at_held_exit`, so a stopped process never holds up
  the writers of others) the kernel's return value is the number of bytes
  it put in the stream, all of them after every earlier write's and before
  any later one's. The watch records them, and the next waiting writer of
  that stream gets its turn.
* a writer that dies inside its call (SIGKILL, another thread's exit_group
  or exec) never reports its exit: the next writer to want the stream finds
  it dead, and what reached the stream meanwhile is recorded as its.

So the order of the bytes in each stream is the order of the records, and
each record's bytes are contiguous, whatever the pipe or terminal does with
concurrent writes (pipe(7): writes over PIPE_BUF may interleave; the
kernel facts are docs/edge-cases.md §35). The cost
when attribution is off: one attribute test at a syscall stop, and none at
all when syscall stops are off."""
from .. import _native as native
from ..arch.output_syscalls import OUTPUT_FD_ARGUMENT, output_fd_arguments
from ..events.decode import STOP_OUTPUT_TURN, stop_of
from ..state.states import GONE, TASK_DEAD, TASK_STOPPED
from ..state.task import ORIG_RAX_OFFSET, RAX_OFFSET, SYSCALL_ARG_OFFSETS

__all__ = ["OUTPUT_TURN", "OUTPUT_FD_ARGUMENT", "Turn", "OutputTurns"]

OUTPUT_TURN = stop_of(STOP_OUTPUT_TURN)


class Turn:
    """Who writes to one output stream now, and who waits to (tracer thread only)."""
    __slots__ = ("writer", "waiting")

    def __init__(self) -> None:
        self.writer = None    # the Task inside a write to the stream, or None
        self.waiting: list = []  # Tasks stopped at a write's entry, in arrival order


def _gone(task) -> bool:
    return task.state is TASK_DEAD or task.proc.state in GONE


class OutputTurns:
    """The turn-taking of writers (see the module's docstring)."""

    def __init__(self, resumer) -> None:
        self.resumer = resumer

    def at_entry(self, task, nr: int) -> None:
        """`task` of a watched process stopped at the entry of syscall `nr`:
        a write waits for its turn when it is resumed. Only where its exit
        stop will be asked for (a process traced out of sight stops at our
        seccomp filter's calls, but is resumed without syscall stops: its
        writes are not seen, and must not take a stream it would not give
        back)."""
        if nr in output_fd_arguments(task.proc.arch) and task.proc.trace_syscalls:
            task.pending = OUTPUT_TURN

    def on_turn(self, task, ev) -> None:
        """The pending OUTPUT_TURN of `task`, whose process may run: it goes
        into its write now, or waits (the event kept) for the stream."""
        watch = task.proc.output_watch
        stream = None
        # Still at a syscall's entry (a user's single step may have taken it
        # through the call since): read the call as it is now.
        if watch is not None and native.syscall_stop(task.tid) >= 0:
            nr = task.read_gpr(ORIG_RAX_OFFSET)
            index = output_fd_arguments(task.proc.arch).get(nr)
            if index is not None:
                stream = watch.stream_of(task.tid, task.read_gpr(task.proc.arch.syscall_arg_offsets[index]))
        if stream is None:
            self.resumer.resume(task)
            return
        turn = stream.turn
        writer = turn.writer
        if writer is not None and writer is not task and _gone(writer):
            # It died inside its write: what reached the stream is its.
            turn.writer = None
            watch.record(stream, writer.proc.pid, writer.tid, None)
            writer = None
        if writer is None or writer is task:
            turn.writer = task
            if task in turn.waiting:
                turn.waiting.remove(task)
            self.resumer.resume(task)
            return
        if task not in turn.waiting:
            turn.waiting.append(task)
        task.pending = ev

    def at_exit(self, task) -> None:
        """`task` of a watched process is at a syscall's exit stop, before
        any handler of the user's sees (and may change) the return value."""
        watch = task.proc.output_watch
        for stream in watch.streams:
            turn = stream.turn
            if turn.writer is task:
                turn.writer = None
                # The bytes it put in the stream: a partial write returns the
                # part written, an interrupted one -ERESTARTSYS and comes
                # back as a new entry (docs/edge-cases.md §35).
                written = task.read_gpr(RAX_OFFSET)
                if written > 0:
                    watch.record(stream, task.proc.pid, task.tid, written)
                self._next(turn)
                return

    def at_held_exit(self, task) -> None:
        """A syscall stop of `task` kept pending (its process is being
        stopped for the user): if it is the return of a write that holds a
        stream, the write is recorded and the stream passed on now."""
        watch = task.proc.output_watch
        if watch is None or task.state is not TASK_STOPPED:
            return
        if any(s.turn.writer is task for s in watch.streams) and native.syscall_stop(task.tid) == -1:
            self.at_exit(task)

    def _next(self, turn) -> None:
        """The stream is free: offer it to its waiting writers in order; the
        first whose process may run takes it (its pending turn handled
        through the one resume), the others keep waiting."""
        for task in list(turn.waiting):
            if turn.writer is not None:
                return
            if _gone(task):
                turn.waiting.remove(task)
                continue
            self.resumer.resume(task)
