"""`tether demo`: build the bundled demo program (tether/demo/demo.c) once per
user into a cache directory, so `tether demo` shows a real multi-process
trace with nothing but tether and a C compiler installed."""
import hashlib
import os
import pathlib
import shutil
import subprocess
import tempfile

from .program import CommandError

DEMO_SOURCE = pathlib.Path(__file__).resolve().parent.parent / "demo" / "demo.c"
CFLAGS = ["-g", "-O0", "-fno-omit-frame-pointer", "-pthread"]


def cache_dir() -> pathlib.Path:
    """$XDG_CACHE_HOME/tether, else ~/.cache/tether (XDG Base Directory spec)."""
    base = os.environ.get("XDG_CACHE_HOME")
    if not base or not os.path.isabs(base):
        base = os.path.join(os.path.expanduser("~"), ".cache")
    return pathlib.Path(base) / "tether"


def demo_binary(compiler: str | None = None) -> str:
    """Path of the compiled demo, compiling it first if needed. The directory
    name hashes the source and the flags, so an updated demo.c is rebuilt."""
    try:
        source = DEMO_SOURCE.read_bytes()
    except OSError as e:
        raise CommandError(f"the demo's source is missing ({DEMO_SOURCE}): {e.strerror}") from None
    compiler = compiler or os.environ.get("CC") or "gcc"
    digest = hashlib.sha256(source + " ".join([compiler] + CFLAGS).encode()).hexdigest()[:16]
    out_dir = cache_dir() / f"demo-{digest}"
    binary = out_dir / "demo"
    if binary.is_file() and os.access(binary, os.X_OK):
        return str(binary)
    if shutil.which(compiler) is None:
        raise CommandError(f"tether demo needs a C compiler to build its demo program: "
                           f"{compiler!r} was not found (install gcc, or set CC)")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise CommandError(f"cannot create the cache directory {out_dir}: {e.strerror}") from None
    # Compile to a temporary name and rename: two demos started at once never
    # run a half-written binary.
    fd, tmp = tempfile.mkstemp(prefix="demo.", dir=out_dir)
    os.close(fd)
    try:
        result = subprocess.run([compiler, *CFLAGS, "-o", tmp, str(DEMO_SOURCE)],
                                capture_output=True, text=True)
        if result.returncode != 0:
            first = (result.stderr.strip().splitlines() or ["no message"])[0]
            raise CommandError(f"compiling the demo failed: {first}")
        os.chmod(tmp, 0o755)
        os.replace(tmp, binary)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return str(binary)
