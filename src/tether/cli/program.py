"""What `tether trace -- PROGRAM` runs, found the way a shell finds it, and
the one-line errors (with a shell's exit statuses) when it can't run."""
import os
import re
import shutil

from ..symbols.program_file import check_program, shebang


class CommandError(Exception):
    """The trace cannot start: a one-line message and the exit status."""

    def __init__(self, message: str, status: int = 1):
        super().__init__(message)
        self.status = status


def resolve_command(argv: list) -> tuple:
    """(path, argv) to give debugger(), like a shell: a bare name is searched
    in PATH only; a '#!' script runs as it is (the kernel starts its
    interpreter, as for any exec). Raises CommandError with the shell's
    statuses: 127 when not found, 126 when it can't be executed."""
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
    except (OSError, ValueError) as e:
        interpreter = script_interpreter(path)
        if interpreter is not None and os.access(path, os.X_OK) and not os.path.isdir(path):
            # The script is fine: its interpreter is what can't run (bash's words).
            why = "no such file or directory" if isinstance(e, FileNotFoundError) else reason(e)
            raise CommandError(f"{name}: bad interpreter {interpreter[0]}: {why}", 126) from None
        if isinstance(e, FileNotFoundError):
            raise CommandError(f"{name}: no such file or directory", 127) from None
        raise CommandError(f"{name}: cannot execute: {reason(e)}", 126) from None


def reason(error: Exception) -> str:
    """The core's message without its "program 'X' is" lead (we name X already)."""
    text = str(error.args[-1] if isinstance(error, OSError) and error.args else error)
    return re.sub(r"^program '.*?' (is )?", "", text)


def script_interpreter(path: str):
    """['interpreter', 'optional-arg'] of a '#!' script, else None."""
    try:
        with open(path, "rb") as f:
            return shebang(f.read(256))
    except OSError:
        return None


def cmdline(pid: int) -> list:
    """A process's argv, from /proc/<pid>/cmdline."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            data = f.read()
    except OSError:
        return []
    return [os.fsdecode(a) for a in data.split(b"\0")[:-1]]
