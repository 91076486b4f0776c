"""The one tracer thread.

Linux ties ptrace to the *thread* that attached: only it may issue ptrace
requests on a tracee, and fork/clone children are auto-attached to that same
thread. So one thread owns every tracee of every Debugger; the user's thread
hands it work with `call()`. Called from the tracer thread itself (inside a
callback), `call()` runs the function inline."""
import queue
import signal
import sys
import threading
import traceback

from .. import _native as native
from ..ptrace import WAKE_SIGNAL


class _Call:
    __slots__ = ("fn", "args", "done", "result", "error")

    def __init__(self, fn, args):
        self.fn = fn
        self.args = args
        self.done = threading.Event()
        self.result = None
        self.error = None


class Tracer:
    def __init__(self):
        from .session import Session
        self._calls = queue.SimpleQueue()
        self.cond = threading.Condition()   # notified whenever a process changes state
        self.session = Session(self)
        self._ready = threading.Event()
        # Register reads from the user's thread must go through us (ptrace is per thread).
        from ..state.task import Task
        Task.call = staticmethod(self.call)
        self.thread = threading.Thread(target=self._main, name="tether-tracer", daemon=True)
        self.thread.start()
        self._ready.wait()

    def on_tracer_thread(self) -> bool:
        return threading.get_ident() == self.thread.ident

    def call(self, fn, *args):
        if threading.get_ident() == self.thread.ident:
            return fn(*args)
        if not self.thread.is_alive():
            raise RuntimeError("the tether tracer thread has stopped")
        box = _Call(fn, args)
        self._calls.put(box)
        # Wake the tracer if it sleeps in waitid (see _native.c: no wake-up is lost).
        signal.pthread_kill(self.thread.ident, WAKE_SIGNAL)
        box.done.wait()
        if box.error is not None:
            raise box.error.with_traceback(box.error.__traceback__)
        return box.result

    def wake(self) -> None:
        """Interrupt the tracer thread's wait (from any thread)."""
        if self.thread.is_alive():
            signal.pthread_kill(self.thread.ident, WAKE_SIGNAL)

    def notify(self) -> None:
        with self.cond:
            self.cond.notify_all()

    def wait_for(self, predicate, timeout=None) -> bool:
        """Block the user's thread until predicate() is true (checked under the lock)."""
        with self.cond:
            return self.cond.wait_for(predicate, timeout)

    def _run_calls(self) -> None:
        while True:
            try:
                box = self._calls.get_nowait()
            except queue.Empty:
                return
            self._run_one(box)

    def _run_one(self, box) -> None:
        try:
            box.result = box.fn(*box.args)
        except BaseException as e:  # handed to the caller's thread
            box.error = e
        box.done.set()
        if self.session.changed:
            self.session.changed = False
            self.notify()

    def _main(self) -> None:
        native.tracer_thread_init(WAKE_SIGNAL)
        self.tid = native.gettid()
        self._ready.set()
        session = self.session
        wait_event = native.wait_event
        dispatch = session.dispatch
        self._run_calls()
        while True:
            event = wait_event(True)
            if event is None:
                # Woken up by call(): run what was queued.
                self._run_calls()
                continue
            pid, status = event
            if pid == -1:
                # No tracee and no child at all: sleep until someone calls us.
                self._run_one(self._calls.get())
                self._run_calls()
                continue
            if pid == 0:
                continue
            try:
                dispatch(pid, status)
            except Exception:  # a bug in tether must not kill the tracer thread
                print("tether: internal error while handling an event:", file=sys.stderr)
                traceback.print_exc()
            # Wake the user's waiters only when a process changed state (not
            # after every breakpoint callback).
            if session.changed:
                session.changed = False
                self.notify()


_tracer = None
_tracer_lock = threading.Lock()


def get_tracer() -> Tracer:
    global _tracer
    with _tracer_lock:
        if _tracer is None or not _tracer.thread.is_alive():
            _tracer = Tracer()
        return _tracer
