"""Exceptions users catch. Types follow libdebug's (ValueError, TypeError,
RuntimeError...) so existing `except` clauses keep working; the tether
subclasses let a script tell our errors apart when it wants to."""


class TetherError(Exception):
    """Base of tether-specific errors."""


class ProcessDeadError(TetherError, RuntimeError):
    """A command needs a live process but it has exited or been killed."""


class ProcessRunningError(TetherError, RuntimeError):
    """A command needs the process stopped but it is running."""


class NotRunningError(TetherError, RuntimeError):
    """No process: run() or attach() first."""


class MemoryAccessError(TetherError, ValueError):
    """An address (or part of a range) is not mapped in the process."""


class CallbackError(TetherError, RuntimeError):
    """A user callback raised on the tracer thread; the original exception is
    its __cause__ (with its traceback)."""
