"""libcontext: process-wide settings (libdebug's name and semantics), with
tmp() for a temporary change.

sym_lvl (0-5) decides where symbols come from (tether.symbols.debug_files
says what each level reads). The three logger settings set the level of a
part of the `tether` logger tree and make tether print that part's records
to stderr; "SILENT" (the default of all three) leaves the part to the
application's own logging configuration, which prints nothing unless the
application asked for it:

    general_logger   logger "tether"          DEBUG | INFO | WARNING | SILENT
    debugger_logger  logger "tether.runtime"  DEBUG | SILENT
    pipe_logger      logger "tether.commlink" DEBUG | SILENT

(libdebug prints its general logger at INFO by default; tether is silent by
default, as a library should be.)
"""
from __future__ import annotations

import contextlib
import logging

from .symbols.debug_files import settings as _symbol_settings

__all__ = ["libcontext", "LibContext"]

_LOGGERS = {
    "general_logger": ("tether", ("DEBUG", "INFO", "WARNING", "SILENT")),
    "debugger_logger": ("tether.runtime", ("DEBUG", "SILENT")),
    "pipe_logger": ("tether.commlink", ("DEBUG", "SILENT")),
}
_ARCH_NAMES = {"amd64": "amd64", "x86_64": "amd64", "x86-64": "amd64",
               "i386": "i386", "i686": "i386", "x86": "i386"}

# The library's loggers print nothing unless someone configures them.
logging.getLogger("tether").addHandler(logging.NullHandler())


class _StderrHandler(logging.StreamHandler):
    """The handler libcontext attaches; told apart from the application's by type."""

    def __init__(self):
        super().__init__()
        self.setFormatter(logging.Formatter("%(levelname)s [%(name)s] %(message)s"))


def _apply_logger_level(logger_name: str, level: str) -> None:
    logger = logging.getLogger(logger_name)
    for handler in [h for h in logger.handlers if isinstance(h, _StderrHandler)]:
        logger.removeHandler(handler)
    if level == "SILENT":
        logger.setLevel(logging.NOTSET)
        logger.propagate = True
        return
    logger.setLevel(level)
    logger.addHandler(_StderrHandler())
    # Printed here: not again by an ancestor's handler.
    logger.propagate = False


class LibContext:
    """The settings shared by every Debugger of the process."""

    def __init__(self):
        self._arch = "amd64"
        self._terminal: list[str] = []
        self._loggers = {name: "SILENT" for name in _LOGGERS}

    # -- symbols ---------------------------------------------------------------

    @property
    def sym_lvl(self) -> int:
        """How far symbol resolution goes, 0 (none) to 5 (see the module's docstring)."""
        return _symbol_settings.level

    @sym_lvl.setter
    def sym_lvl(self, value: int) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 5:
            raise ValueError(f"sym_lvl must be an int from 0 to 5, not {value!r}")
        _symbol_settings.level = value

    @property
    def debug_file_directories(self) -> list[str]:
        """The directories searched for separate debug files (gdb's
        debug-file-directory; default ["/usr/lib/debug"])."""
        return list(_symbol_settings.debug_directories)

    @debug_file_directories.setter
    def debug_file_directories(self, value) -> None:
        if isinstance(value, str):
            value = [value]
        value = list(value)
        if not all(isinstance(d, str) and d.startswith("/") for d in value):
            raise ValueError(f"debug_file_directories must be absolute paths, not {value!r}")
        _symbol_settings.debug_directories = value

    # -- loggers ---------------------------------------------------------------

    def _get_logger(self, name: str) -> str:
        return self._loggers[name]

    def _set_logger(self, name: str, value: str) -> None:
        logger_name, levels = _LOGGERS[name]
        if value not in levels:
            raise ValueError(f"{name} must be one of {', '.join(levels)}, not {value!r}")
        _apply_logger_level(logger_name, value)
        self._loggers[name] = value

    general_logger = property(lambda self: self._get_logger("general_logger"),
                              lambda self, v: self._set_logger("general_logger", v),
                              doc="Level of the `tether` logger printed to stderr, or SILENT.")
    debugger_logger = property(lambda self: self._get_logger("debugger_logger"),
                               lambda self, v: self._set_logger("debugger_logger", v),
                               doc="Level of `tether.runtime` (ptrace decisions) printed to stderr, or SILENT.")
    pipe_logger = property(lambda self: self._get_logger("pipe_logger"),
                           lambda self, v: self._set_logger("pipe_logger", v),
                           doc="Level of `tether.commlink` (pipe traffic) printed to stderr, or SILENT.")

    # -- platform --------------------------------------------------------------

    @property
    def platform(self) -> str:
        """The machine tether runs on, by libdebug's names ("amd64"); read-only."""
        import platform  # (here: it is needed only when asked)
        machine = platform.machine()
        return _ARCH_NAMES.get(machine.lower(), machine.lower())

    @property
    def arch(self) -> str:
        """libdebug's setting of the architecture debugged: "amd64" (the
        default) or "i386". tether reads each process's architecture from its
        program (`Debugger.arch`), so this is kept for scripts that set it."""
        return self._arch

    @arch.setter
    def arch(self, value: str) -> None:
        arch = _ARCH_NAMES.get(str(value).lower()) if isinstance(value, str) else None
        if arch is None:
            raise ValueError(f"tether debugs amd64 (x86-64) and i386 programs only, not {value!r}")
        self._arch = arch

    @property
    def terminal(self) -> list[str]:
        """The command that opens a new terminal window or pane, to which
        Debugger.gdb() appends gdb's command line (a str becomes a one-item
        list); empty: gdb() looks for one among the script's ancestors."""
        return list(self._terminal)

    @terminal.setter
    def terminal(self, value) -> None:
        if isinstance(value, str):
            value = [value]
        value = list(value)
        if not all(isinstance(part, str) for part in value):
            raise ValueError(f"terminal must be a str or a list of str, not {value!r}")
        self._terminal = value

    # -- changes ---------------------------------------------------------------

    def update(self, **changes) -> None:
        """Set several settings at once; a name that is no setting raises ValueError."""
        for key in changes:
            self._check_name(key)
        for key, value in changes.items():
            setattr(self, key, value)

    def _check_name(self, key: str) -> None:
        if key.startswith("_") or not isinstance(getattr(type(self), key, None), property):
            raise ValueError(f"libcontext has no setting {key!r}")
        if getattr(type(self), key).fset is None:
            raise ValueError(f"libcontext setting {key!r} is read-only")

    @contextlib.contextmanager
    def tmp(self, **changes):
        """Context manager: the settings `changes` inside the block, the old ones after it."""
        for key in changes:
            self._check_name(key)
        old = {k: getattr(self, k) for k in changes}
        try:
            self.update(**changes)
            yield self
        finally:
            for k, v in old.items():
                setattr(self, k, v)


libcontext = LibContext()
