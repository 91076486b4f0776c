"""Classes of x86-64 system calls for `-e trace=%CLASS`, with the meanings
strace users know (strace(1), "-e trace=%file" and the following entries):

  %file     takes a file name            %desc     takes or makes a file descriptor
  %process  a process's life: create,    %network  sockets
            exec, wait, end, signal it   %signal   signal handling
  %ipc      SysV IPC                     %memory   the address space
  %creds    user/group ids, capabilities %clock    read or set clocks
  %stat %lstat %fstat %%stat             the stat variants
  %statfs %fstatfs %%statfs              the statfs variants
  %pure     no arguments, always succeed

Membership was written from the section 2 man pages; a name that is not an
x86-64 syscall would fail the check at the bottom at import.
"""
from __future__ import annotations

from .syscall_table import SYSCALL_NUMBERS

__all__ = ["SYSCALL_CLASSES", "syscall_class"]

_STAT = "stat statx"
_LSTAT = "lstat"
_FSTAT = "fstat newfstatat"
_STATFS = "statfs"
_FSTATFS = "fstatfs"

_CLASSES = {
    "file": """open stat lstat access execve truncate chdir rename mkdir rmdir creat link unlink
        symlink readlink chmod chown lchown utime mknod uselib statfs pivot_root chroot acct mount
        umount2 swapon swapoff quotactl setxattr lsetxattr getxattr lgetxattr listxattr
        llistxattr removexattr lremovexattr utimes inotify_add_watch openat mkdirat mknodat
        fchownat futimesat newfstatat unlinkat renameat linkat symlinkat readlinkat fchmodat
        faccessat utimensat fanotify_mark name_to_handle_at renameat2 execveat statx open_tree
        move_mount fspick openat2 faccessat2 mount_setattr fchmodat2""",
    "process": """clone fork vfork execve exit wait4 kill exit_group tkill tgkill waitid
        rt_sigqueueinfo rt_tgsigqueueinfo execveat clone3 pidfd_send_signal pidfd_open""",
    "network": """socket connect accept sendto recvfrom sendmsg recvmsg shutdown bind listen
        getsockname getpeername socketpair setsockopt getsockopt accept4 recvmmsg sendmmsg""",
    "signal": """rt_sigaction rt_sigprocmask rt_sigreturn pause kill rt_sigpending
        rt_sigtimedwait rt_sigqueueinfo rt_sigsuspend sigaltstack tkill tgkill signalfd
        signalfd4 rt_tgsigqueueinfo pidfd_send_signal""",
    "ipc": """shmget shmat shmctl semget semop semctl shmdt msgget msgsnd msgrcv msgctl
        semtimedop""",
    "desc": """read write open close fstat poll lseek mmap ioctl pread64 pwrite64 readv writev
        pipe select dup dup2 sendfile socket connect accept sendto recvfrom sendmsg recvmsg
        shutdown bind listen getsockname getpeername socketpair setsockopt getsockopt fcntl
        flock fsync fdatasync ftruncate getdents fchdir creat fchmod fchown fstatfs readahead
        fsetxattr fgetxattr flistxattr fremovexattr epoll_create getdents64 fadvise64
        epoll_wait epoll_ctl inotify_init inotify_add_watch inotify_rm_watch openat mkdirat
        mknodat fchownat futimesat newfstatat unlinkat renameat linkat symlinkat readlinkat
        fchmodat faccessat pselect6 ppoll splice tee sync_file_range vmsplice utimensat
        epoll_pwait signalfd timerfd_create eventfd fallocate timerfd_settime timerfd_gettime
        accept4 signalfd4 eventfd2 epoll_create1 dup3 pipe2 inotify_init1 preadv pwritev
        perf_event_open recvmmsg fanotify_init fanotify_mark name_to_handle_at
        open_by_handle_at syncfs sendmmsg setns finit_module renameat2 memfd_create bpf
        execveat userfaultfd copy_file_range preadv2 pwritev2 statx io_uring_setup
        io_uring_enter io_uring_register open_tree move_mount fsopen fsconfig fsmount fspick
        pidfd_open close_range openat2 pidfd_getfd faccessat2 epoll_pwait2 mount_setattr
        fchmodat2""",
    "memory": """mmap mprotect munmap brk mremap msync mincore madvise shmat shmdt mlock
        munlock mlockall munlockall remap_file_pages mbind set_mempolicy get_mempolicy
        migrate_pages move_pages mlock2 pkey_mprotect process_madvise map_shadow_stack
        mseal""",
    "creds": """getuid getgid setuid setgid geteuid getegid setreuid setregid getgroups
        setgroups setresuid getresuid setresgid getresgid setfsuid setfsgid capget capset""",
    "clock": """gettimeofday settimeofday time adjtimex clock_settime clock_gettime
        clock_getres clock_adjtime""",
    "pure": "getpid getppid getuid getgid geteuid getegid gettid getpgrp",
    "stat": _STAT,
    "lstat": _LSTAT,
    "fstat": _FSTAT,
    "%stat": f"{_STAT} {_LSTAT} {_FSTAT}",
    "statfs": _STATFS,
    "fstatfs": _FSTATFS,
    "%statfs": f"{_STATFS} {_FSTATFS}",
}

# "file" -> frozenset of syscall names ("%stat" is the class strace spells %%stat).
SYSCALL_CLASSES: dict[str, frozenset] = {
    name: frozenset(text.split()) for name, text in _CLASSES.items()
}
SYSCALL_CLASSES["net"] = SYSCALL_CLASSES["network"]   # strace's short spelling
_unknown = {n for names in SYSCALL_CLASSES.values() for n in names} - set(SYSCALL_NUMBERS)
assert not _unknown, f"syscall classes name non-syscalls: {sorted(_unknown)}"


def syscall_class(name: str) -> frozenset:
    """The syscall names of class `name` ("file", "%stat"; without the
    leading '%' of the command line). ValueError naming the classes known."""
    found = SYSCALL_CLASSES.get(name)
    if found is None:
        known = ", ".join("%" + k for k in sorted(SYSCALL_CLASSES))
        raise ValueError(f"unknown syscall class %{name} (known: {known})")
    return found
