"""What `tether trace -- PROGRAM` runs, found the way a shell finds it, and
the one-line errors (with a shell's exit statuses) when it can't run."""
import os
import re
import shutil

from ..symbols.elf import check_program


class CommandError(Exception):
    """The trace cannot start: a one-line message and the exit status."""

    def __init__(self, message: str, status: int = 1):
        super().__init__(message)
        self.status = status


def resolve_command(argv: list) -> tuple:
    """(path, argv) to give debugger(), like a shell: a bare name is searched
    in PATH only, a '#!' script runs through its interpreter (what execve(2)
    does). Raises CommandError with the shell's statuses: 127 when not found,
    126 when it can't be executed."""
    name = argv[0]
    if "/" in name:
        path = name
        if not os.path.exists(path):
            raise CommandError(f"{name}: no such file or directory", 127)
    else:
        path = shutil.which(name)
        if path is None:
            raise CommandError(f"{name}: command not found", 127)
    try:
        return check_program(path), list(argv)
    except FileNotFoundError:
        raise CommandError(f"{name}: no such file or directory", 127) from None
    except PermissionError as e:
        raise CommandError(f"{name}: cannot execute: {reason(e)}", 126) from None
    except ValueError as e:
        interpreter = shebang(path)
        if interpreter is None:
            raise CommandError(f"{name}: cannot execute: {reason(e)}", 126) from None
    # A script: the kernel would run "interpreter [arg] script args...".
    interp_argv = interpreter + [path] + list(argv[1:])
    try:
        return check_program(interpreter[0]), interp_argv
    except (OSError, ValueError) as e:
        raise CommandError(f"{name}: bad interpreter {interpreter[0]}: {reason(e)}", 126) from None


def reason(error: Exception) -> str:
    """The core's message without its "program 'X' is" lead (we name X already)."""
    text = str(error.args[-1] if isinstance(error, OSError) and error.args else error)
    return re.sub(r"^program '.*?' (is )?", "", text)


def shebang(path: str):
    """['interpreter', 'optional-arg'] from a '#!' first line, else None.
    Like the kernel (fs/binfmt_script.c), everything after the interpreter
    name is one argument."""
    try:
        with open(path, "rb") as f:
            line = f.readline(256)
    except OSError:
        return None
    if not line.startswith(b"#!"):
        return None
    parts = line[2:].strip().split(None, 1)
    if not parts:
        return None
    return [os.fsdecode(p) for p in parts]


def cmdline(pid: int) -> list:
    """A process's argv, from /proc/<pid>/cmdline."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            data = f.read()
    except OSError:
        return []
    return [os.fsdecode(a) for a in data.split(b"\0")[:-1]]
