"""The x86-64 system calls that put bytes into a file descriptor given as an
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

__all__ = ["OUTPUT_FD_ARGUMENT"]

# syscall number (asm/unistd_64.h) -> index of the argument that is the fd written to
OUTPUT_FD_ARGUMENT = {
    1: 0,     # write(fd, buf, count)
    18: 0,    # pwrite64(fd, buf, count, offset)
    20: 0,    # writev(fd, iov, iovcnt)
    296: 0,   # pwritev(fd, iov, iovcnt, ...)
    328: 0,   # pwritev2(fd, iov, iovcnt, ...)
    40: 0,    # sendfile(out_fd, in_fd, offset, count)
    275: 2,   # splice(fd_in, off_in, fd_out, off_out, len, flags)
    276: 1,   # tee(fd_in, fd_out, len, flags)
    278: 0,   # vmsplice(fd, iov, nr_segs, flags)
}
