"""The program a Debugger is asked to run: found as execvp finds it, and
checked before anything starts (an x86-64 ELF executable, or a '#!' script
whose interpreter exists), with an error that says what the file is.
Reads at most the file's first 256 bytes."""
import os
import stat

from ..safe_files import UnsafeFileError, open_regular, read_at
from .elf import describe_non_elf


def shebang(head: bytes):
    """['interpreter', 'optional-arg'] from a '#!' first line (the first
    bytes of a file), else None. Like the kernel (fs/binfmt_script.c), the
    line ends at 255 bytes and everything after the interpreter name is one
    argument."""
    if not head.startswith(b"#!"):
        return None
    parts = head[2:256].split(b"\n", 1)[0].strip().split(None, 1)
    return [os.fsdecode(p) for p in parts] or None


def _resolve_program(path: str) -> str:
    """Find the file `debugger(argv)` means, as libdebug 0.9 does: "~" is
    expanded, a name with a '/' is used as given, a bare name is looked up in
    PATH (like execvp(3)) and, when PATH has no such program, taken from the
    current directory (libdebug's examples write debugger("test") for a file
    next to the script). Returns an absolute path; FileNotFoundError when a
    bare name is in neither place."""
    path = os.path.expanduser(path)
    if "/" in path:
        return os.path.abspath(path)
    dirs = os.environ.get("PATH", os.defpath).split(os.pathsep) + ["."]
    candidates = [os.path.join(d or ".", path) for d in dirs]
    for cand in candidates:
        if os.path.isfile(cand) and os.access(cand, os.X_OK):
            return os.path.abspath(cand)
    # Nothing runnable: report the first existing match (so the error says
    # "not executable" rather than "missing"), or the plain name.
    for cand in candidates:
        if os.path.exists(cand):
            return os.path.abspath(cand)
    raise FileNotFoundError(
        f"program '{path}' not found in PATH or in the current directory")


def program_location(path) -> str:
    """The absolute path run() executes for `path` (see _resolve_program),
    or `path` unchanged when there is no such program (yet)."""
    try:
        return _resolve_program(os.fsdecode(path))
    except (FileNotFoundError, TypeError, ValueError):
        return path


def check_program(path) -> str:
    """Validate the program `debugger(argv)` will run; return its absolute path.

    The program is an ELF executable, or a '#!' script (which the kernel runs
    through its interpreter). Raises FileNotFoundError (missing, or a script
    whose interpreter is), PermissionError (a directory, not executable or
    not readable), ValueError (not an x86-64 ELF64 executable nor a script;
    the message says what the file is), TypeError (not a path)."""
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"program path must be a str or path, not {type(path).__name__}")
    path = os.fspath(path)
    if not path:
        raise FileNotFoundError("program path is empty")
    found = _resolve_program(path)
    try:
        st = os.stat(found)
    except FileNotFoundError:
        raise FileNotFoundError(f"program '{path}' does not exist") from None
    if stat.S_ISDIR(st.st_mode):
        raise PermissionError(f"program '{path}' is a directory")
    if not stat.S_ISREG(st.st_mode):
        raise PermissionError(f"program '{path}' is not a regular file")
    if not os.access(found, os.X_OK):
        raise PermissionError(f"program '{path}' is not executable")
    try:
        fd, st = open_regular(found, "program")  # (raw: at every run(), no buffer needed)
    except PermissionError:
        raise PermissionError(f"program '{path}' is not readable") from None
    except UnsafeFileError as e:  # replaced by a FIFO or device since the stat above
        raise PermissionError(str(e)) from None
    try:
        head = read_at(fd, 0, 256, st.st_size)  # (a #! line, or the ELF header)
    finally:
        os.close(fd)
    interpreter = shebang(head)
    if interpreter is not None:
        _check_interpreter(path, interpreter[0])
        return found
    problem = describe_non_elf(head[:64])
    if problem:
        raise ValueError(f"program '{path}' is {problem}")
    return found


def _check_interpreter(path: str, interpreter: str) -> None:
    """The kernel runs a script's interpreter by the path written after '#!'
    (relative to the current directory when not absolute): say so when that
    cannot work, instead of the bare ENOENT/EACCES that execve gives."""
    if not os.path.exists(interpreter):
        raise FileNotFoundError(
            f"program '{path}' is a script whose interpreter '{interpreter}' does not exist")
    if os.path.isdir(interpreter) or not os.access(interpreter, os.X_OK):
        raise PermissionError(
            f"program '{path}' is a script whose interpreter '{interpreter}' is not executable")
