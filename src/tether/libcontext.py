"""libcontext: global settings (libdebug's name), with tmp() for temporary changes."""
import contextlib


class _LibContext:
    def __init__(self):
        self.platform = "amd64"
        self.arch = "amd64"
        self.sym_lvl = 5
        self.debugger_logger = "INFO"
        self.pipe_logger = "INFO"
        self.general_logger = "INFO"
        self.terminal = []

    @contextlib.contextmanager
    def tmp(self, **changes):
        for key in changes:
            if not hasattr(self, key):
                raise ValueError(f"libcontext has no setting {key!r}")
        old = {k: getattr(self, k) for k in changes}
        for k, v in changes.items():
            setattr(self, k, v)
        try:
            yield self
        finally:
            for k, v in old.items():
                setattr(self, k, v)


libcontext = _LibContext()
