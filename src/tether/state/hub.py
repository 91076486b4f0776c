"""What the state objects need from the runtime, handed to them at creation
instead of patched into their classes: a flag raised whenever a process's
state changes (the tracer thread wakes the script's waiting threads only
then) and the function that runs a ptrace request on the tracer thread
(Linux binds ptrace to the one thread that attached, so a register read
asked from the script's thread must be done by the tracer thread)."""


def _direct(fn, *args):
    return fn(*args)


class Hub:
    __slots__ = ("changed", "call")

    def __init__(self, call=_direct):
        self.changed = False
        self.call = call
