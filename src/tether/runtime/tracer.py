"""The one tracer thread.

Linux ties ptrace to the *thread* that attached: only it may issue ptrace
requests on a tracee, and fork/clone children are auto-attached to that same
thread. So one thread owns every tracee of every Debugger; the user's thread
hands it work with `call()`. Called from the tracer thread itself (inside a
callback), `call()` runs the function inline.

The hand-offs use the C extension's generation counter (see native/handoff.c): a
user thread sleeps until the tracer bumps it, and the tracer bumps it only
on its way into its next wait, when it has released the GIL."""
import queue
import sys
import threading
import time
import traceback

from .. import _native as native
from ..ptrace import WAKE_SIGNAL
from ..state.hub import Hub
from . import decision_log
from .session import Session


class _Call:
    """A call() handed to the tracer thread, which fills in the answer. (A
    post() is queued as a plain (fn, args) tuple: nobody reads an answer.)"""
    __slots__ = ("fn", "args", "finished", "result", "error")

    def __init__(self, fn, args):
        self.fn = fn
        self.args = args
        self.finished = False
        self.result = None
        self.error = None


class Tracer:
    def __init__(self):
        self._calls = queue.SimpleQueue()
        self.alive = True             # False once the tracer thread has ended (a bug)
        self.notify_pending = False   # wake the user's waiters at the next wait
        # The predicates the user's threads blocked in wait_for() wait for
        # (besides their posted commands being done): after an
        # event that changed a process's state they are woken only if one of
        # these holds (a followed child being born and dying must not wake a
        # script waiting for its parent to stop: two context switches each).
        self.waiting_for: list = []
        # Commands handed over with post() (cont()), and how many are done:
        # the user's thread sees the processes' state only once they are
        # (wait_for and sync wait for it), as if post() had waited.
        self.posted = 0
        self.posted_done = 0
        self.posted_error = None
        # Register reads from the user's thread must go through us (ptrace is
        # per thread): the state objects call hub.call.
        self.hub = Hub(self.call)
        self.session = Session(self.hub, self.pump_until)
        self._ready = threading.Event()
        self.thread = threading.Thread(target=self._main, name="tether-tracer", daemon=True)
        self.thread.start()
        self._ready.wait()

    def on_tracer_thread(self) -> bool:
        return threading.get_ident() == self.ident

    def call(self, fn, *args):
        if _get_ident() == self.ident:
            return fn(*args)
        if not self.alive:
            raise RuntimeError("the tether tracer thread has stopped")
        box = _Call(fn, args)
        self._calls.put(box)
        kick = True
        generation = native.generation
        wait_generation = native.wait_generation
        while True:
            seen = generation()
            if box.finished:
                break
            if not self.alive:
                raise RuntimeError("the tether tracer thread has stopped")
            # The kick (wake signal) goes out once, after the GIL is released.
            wait_generation(seen, -1.0, kick)
            kick = False
        if box.error is not None:
            raise box.error.with_traceback(box.error.__traceback__)
        return box.result

    def post(self, fn, *args) -> None:
        """Hand `fn(*args)` to the tracer thread without waiting for it (it
        runs before any later call()). A user's cont() followed by wait()
        then costs one hand-off each way instead of two; an error it raises
        comes out of the next wait_for()/sync()."""
        if _get_ident() == self.ident:
            fn(*args)
            return
        if not self.alive:
            raise RuntimeError("the tether tracer thread has stopped")
        self.posted += 1
        self._calls.put((fn, args))
        _kick()

    def sync(self) -> None:
        """Wait until the commands this thread posted are done (cheap when
        they are) and raise what they raised."""
        if self.posted_done != self.posted and _get_ident() != self.ident:
            self.wait_for(_always)
        if self.posted_error is not None:
            self._raise_posted_error()

    def _raise_posted_error(self) -> None:
        error, self.posted_error = self.posted_error, None
        if error is not None:
            raise error.with_traceback(error.__traceback__)

    def notify(self) -> None:
        """Wake the user's waiters: now if called from another thread or
        before blocking elsewhere, otherwise at the tracer's next wait."""
        self.notify_pending = True

    def wait_for(self, predicate, timeout=None) -> bool:
        """Block the user's thread until predicate() is true (checked with
        the GIL held, so it sees the tracer's state between two events)."""
        if _get_ident() == self.ident:
            # Inside a callback (the tracer thread): nobody else would handle
            # the events that make predicate() true, so handle them here.
            if timeout is None:
                self.pump_until(predicate)
            else:
                self.pump_until(predicate, timeout, _always)
            return predicate()
        # (Runs at every wait(): kept to few calls.) remaining: seconds left,
        # -1.0 for no limit.
        start = None if timeout is None else time.monotonic()
        remaining = -1.0 if timeout is None else (float(timeout) if timeout > 0 else 0.0)
        woken = False   # (the clock is read again only when it must sleep again)
        # What it waits for: the commands this thread posted are done and
        # predicate() holds (the tracer checks the same, in that order).
        waiting_for = self.waiting_for
        waiting_for.append(predicate)
        try:
            while True:
                seen = _generation()
                if self.posted_done == self.posted and predicate():
                    if self.posted_error is not None:
                        self._raise_posted_error()
                    return True
                if not self.alive:
                    raise RuntimeError("the tether tracer thread has stopped")
                if woken and start is not None and remaining > 0.0:
                    remaining = max(timeout - (time.monotonic() - start), 0.0)
                if remaining == 0.0:
                    return False  # timed out (ready() was checked once more)
                if _wait_generation(seen, remaining):
                    woken = True
                else:
                    remaining = 0.0
        finally:
            waiting_for.remove(predicate)

    def _someone_waits_for_this(self) -> bool:
        if self.posted_done != self.posted:
            return False  # every waiter also waits for the posted commands
        for predicate in list(self.waiting_for):
            try:
                if predicate():
                    return True
            except Exception:  # let its own thread see the error
                return True
        return False

    def _run_calls(self) -> None:
        decision_log.refresh()  # (the script may have changed the log level)
        calls = self._calls
        while not calls.empty():   # (no exception raised per call: it is on every hand-off)
            self._run_one(calls.get())

    def _run_one(self, item) -> None:
        if type(item) is tuple:   # post()ed
            fn, args = item
            try:
                fn(*args)
            except BaseException as e:  # handed to the next wait_for()/sync()
                if self.posted_error is None:
                    self.posted_error = e
            self.posted_done += 1
            # No one waits for this one itself: wake the waiters only if what
            # they wait for now holds (pump_until checks).
            self.hub.changed = True
            return
        try:
            item.result = item.fn(*item.args)
        except BaseException as e:  # handed to the caller's thread
            item.error = e
        item.finished = True
        self.notify_pending = True

    def _main(self) -> None:
        try:
            self._loop()
        finally:
            # Only a bug ends this thread: let every waiting user thread say so
            # instead of hanging.
            self.alive = False
            self._ready.set()  # (if it ended while starting)
            native.notify()

    def _loop(self) -> None:
        native.tracer_thread_init(WAKE_SIGNAL)
        self.tid = native.gettid()
        self.ident = threading.get_ident()
        self._ready.set()
        self._run_calls()
        self.pump_until(None)

    def pump_until(self, predicate, timeout=None, give_up=None) -> None:
        """THE event loop: wait for the next event, hand it to the session's
        dispatch, until predicate() holds. The tracer thread runs it forever
        (predicate None), running the callers' queued work between events;
        kill, stepping and detach run it nested, on the tracer thread, until
        the process they drive is through (queued work then waits for them
        to finish). With a timeout, give_up() is asked every `timeout`
        seconds whether to stop waiting (a wake-up timer interrupts the wait)."""
        nested = predicate is not None
        decision_log.refresh()
        deadline = None if timeout is None else time.monotonic() + timeout
        armed = False
        hub = self.hub
        dispatch = self.session.dispatch
        wait_event = native.wait_event
        try:
            while not nested or not predicate():
                if deadline is not None:
                    if time.monotonic() >= deadline:
                        if give_up is not None and give_up():
                            return
                        deadline = time.monotonic() + timeout
                    if not armed:
                        native.wake_after(max(deadline - time.monotonic(), 1e-6))
                        armed = True
                # Wake the user's waiters first if anything changed for them
                # (runs once per event: kept inline).
                notify = self.notify_pending
                if hub.changed:
                    hub.changed = False
                    notify = notify or self._someone_waits_for_this()
                self.notify_pending = False
                event = wait_event(True, notify)
                if event is None:
                    # Woken up: by call() (run what was queued, unless nested
                    # inside one of those calls), or by our timer.
                    armed = False
                    if not nested:
                        self._run_calls()
                    continue
                pid, status = event
                if pid == -1:
                    # No tracee and no child at all.
                    if nested:
                        return
                    # Sleep until someone calls us.
                    hub.changed = False
                    self.notify_pending = False
                    native.notify()  # (no event can follow: wake every waiter now)
                    self._run_one(self._calls.get())
                    self._run_calls()
                    continue
                if pid == 0:
                    continue
                try:
                    dispatch(pid, status)
                except Exception:  # a bug in tether must not kill the tracer thread
                    if nested:
                        raise
                    print("tether: internal error while handling an event:", file=sys.stderr)
                    traceback.print_exc()
        finally:
            if armed:
                native.wake_after(0)
            if nested:
                self.notify()


def _always() -> bool:
    return True


_get_ident = threading.get_ident
_generation = native.generation
_wait_generation = native.wait_generation
_kick = native.kick


_tracer = None
_tracer_lock = threading.Lock()


def get_tracer() -> Tracer:
    global _tracer
    with _tracer_lock:
        if _tracer is None or not _tracer.alive:
            _tracer = Tracer()
        return _tracer
