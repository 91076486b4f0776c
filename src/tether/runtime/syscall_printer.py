"""pprint_syscalls: an strace-like live line per completed syscall."""
import sys

from ..arch import AMD64
from ..arch.amd64.syscalls import format_syscall


class SyscallPrinter:
    def __init__(self, out=None):
        self.out = out
        self.entries = {}  # tid -> (nr, args)

    def on_enter(self, task, nr, args) -> None:
        self.entries[task.tid] = (nr, args)

    def on_exit(self, task, nr, ret) -> None:
        nr_args = self.entries.pop(task.tid, None)
        proc = task.proc
        if (proc.pprint_only is not None and nr not in proc.pprint_only) or \
                (proc.pprint_hidden is not None and nr in proc.pprint_hidden):
            return
        args = nr_args[1] if nr_args is not None else (0,) * 6
        mem = task.proc.mem

        def read_string(address):
            try:
                data = mem.read(address, 256)
            except Exception:
                return None
            return data.split(b"\0", 1)[0]

        def read_memory(address, size):
            return mem.read(address, size)
        try:
            # The process's table (a 32-bit one's: its numbers, 4-byte
            # pointers and longs).
            table = None if proc.arch is AMD64 else proc.arch.syscalls
            line = format_syscall(nr, list(args), read_string, ret, read_memory=read_memory,
                                  table=table)
        except Exception:
            line = f"syscall_{nr}(...) = {ret}"
        print(f"[{task.tid}] {line}", file=self.out or sys.stdout, flush=True)


def ensure_printer(session) -> None:
    if session.printer is None:
        session.printer = SyscallPrinter()
