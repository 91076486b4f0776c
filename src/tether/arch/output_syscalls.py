"""The system calls that put bytes into a file descriptor given as an
argument, and which argument that is: what output attribution
(`run(attribute_output=True)`) stops at.

Left out on purpose (the README's "Who wrote what" says so too):
  * sendto, sendmsg, sendmmsg: they work on sockets only; on the pty or pipe
    of a PipeManager they fail with ENOTSOCK and put nothing in it;
  * copy_file_range: regular files only (EINVAL on a pty or pipe);
  * io_uring: its writes run without a system call of the writer's that
    names the fd, so no ptrace stop can see them.
pwrite64/pwritev/pwritev2 fail with ESPIPE on a pty or pipe, and tee and
vmsplice need a pipe: they are kept so that every call that could add bytes
to one is seen, whatever the stream turns out to be."""

from functools import cache

__all__ = ["OUTPUT_FD_ARGUMENT", "output_fd_arguments"]

# syscall name -> index of the argument that is the fd written to; every
# architecture's table numbers them its own way (output_fd_arguments).
OUTPUT_FD_ARGUMENT = {
    "write": 0,       # write(fd, buf, count)
    "pwrite64": 0,    # pwrite64(fd, buf, count, offset)
    "writev": 0,      # writev(fd, iov, iovcnt)
    "pwritev": 0,     # pwritev(fd, iov, iovcnt, ...)
    "pwritev2": 0,    # pwritev2(fd, iov, iovcnt, ...)
    "sendfile": 0,    # sendfile(out_fd, in_fd, offset, count)
    "sendfile64": 0,  # (i386: the 64-bit offset variant, a call of its own there)
    "splice": 2,      # splice(fd_in, off_in, fd_out, off_out, len, flags)
    "tee": 1,         # tee(fd_in, fd_out, len, flags)
    "vmsplice": 0,    # vmsplice(fd, iov, nr_segs, flags)
}


@cache
def output_fd_arguments(arch) -> dict[int, int]:
    """syscall number in `arch`'s table -> index of the fd argument, for the
    calls of OUTPUT_FD_ARGUMENT the table has."""
    table = arch.syscalls.SYSCALL_NUMBERS
    return {table[name]: index for name, index in OUTPUT_FD_ARGUMENT.items() if name in table}
