"""What the runtime asks of the facade, as one documented interface.

The runtime (this package) sits below the public API: it never imports the
Debugger. Each traced process the user sees has a `listener`
(`Proc.listener`), an object the facade provides with these methods (its
ProcessControl, facade/control.py); a process traced out of sight (see
tree.py) has none. The runtime calls them
on the tracer thread."""
import sys
import traceback


class ProcessListener:
    """The interface, for the reader: the facade's ProcessControl provides
    these methods. (Not a typing.Protocol: importing typing would cost
    every start-up some 3 ms.)"""

    def thread_context(self, task):
        """The user-facing object for thread `task` (what callbacks receive).
        Called once per thread; the runtime keeps it in `task.context`."""

    def child_followed(self, child) -> None:
        """This process made a child process (Proc `child`) that is followed:
        give it its own facade (and listener)."""

    def child_attached(self, child, position: int) -> None:
        """A child process that existed before this one was seized (Proc
        `child`, found by attach(pid, tree=True)) is traced now: give it
        its own facade, at `position` among this process's children."""

    def inherit_events_from(self, parent) -> None:
        """At a followed child's first stop, with inherit_stopping_events
        (or follow_fork_mode="child"): copy the stopping events of Proc
        `parent` into this process."""

    def thread_ended(self, task) -> None:
        """Thread `task` (not the process's leader) has died and left the
        process's task table; the facade keeps listing it, as libdebug
        does, with its exit status (and the registers last read)."""

    def image_replaced(self) -> None:
        """This process exec'd: symbols, maps and paths belong to the new program."""


def thread_context(task):
    """The user-facing object for `task`, made once per thread."""
    ctx = task.context
    if ctx is None:
        ctx = task.context = task.proc.listener.thread_context(task)
    return ctx


def callback_raised(proc, e, what: str = "a callback") -> None:
    """A user callback (or lifecycle hook) of `proc` raised: printed now,
    raised in the script at its next command (see README, "A callback that
    raises"); the process goes on."""
    if proc.pending_error is None:
        proc.pending_error = e
    print(f"tether: {what} raised in process {proc.pid}:", file=sys.stderr)
    traceback.print_exception(e, file=sys.stderr)
