"""The x86-64 Linux system call table, and strace-like formatting of a call.

SYSCALL_NAMES was generated from the kernel's uapi header asm/unistd_64.h of Debian 12
(numbers 0..450) and extended by hand with the numbers later kernels added (451
cachestat .. 469 file_setattr); it is a literal table so nothing is read at run time.
Argument kinds follow the prototypes in the man pages (section 2).
"""
from __future__ import annotations

import errno as _errno

from .signals import SIGNAL_NAMES

__all__ = [
    "SYSCALL_NAMES", "SYSCALL_NUMBERS", "SYSCALL_ARGS", "syscall_number", "syscall_name",
    "syscall_signature", "format_syscall",
]

# number -> name (x86-64 ABI, "common" and "64" entries of syscall_64.tbl).
SYSCALL_NAMES: dict[int, str] = {
    0: 'read', 1: 'write', 2: 'open', 3: 'close', 4: 'stat', 5: 'fstat', 6: 'lstat', 7: 'poll',
    8: 'lseek', 9: 'mmap', 10: 'mprotect', 11: 'munmap', 12: 'brk', 13: 'rt_sigaction',
    14: 'rt_sigprocmask', 15: 'rt_sigreturn', 16: 'ioctl', 17: 'pread64', 18: 'pwrite64',
    19: 'readv', 20: 'writev', 21: 'access', 22: 'pipe', 23: 'select', 24: 'sched_yield',
    25: 'mremap', 26: 'msync', 27: 'mincore', 28: 'madvise', 29: 'shmget', 30: 'shmat',
    31: 'shmctl', 32: 'dup', 33: 'dup2', 34: 'pause', 35: 'nanosleep', 36: 'getitimer',
    37: 'alarm', 38: 'setitimer', 39: 'getpid', 40: 'sendfile', 41: 'socket', 42: 'connect',
    43: 'accept', 44: 'sendto', 45: 'recvfrom', 46: 'sendmsg', 47: 'recvmsg', 48: 'shutdown',
    49: 'bind', 50: 'listen', 51: 'getsockname', 52: 'getpeername', 53: 'socketpair',
    54: 'setsockopt', 55: 'getsockopt', 56: 'clone', 57: 'fork', 58: 'vfork', 59: 'execve',
    60: 'exit', 61: 'wait4', 62: 'kill', 63: 'uname', 64: 'semget', 65: 'semop', 66: 'semctl',
    67: 'shmdt', 68: 'msgget', 69: 'msgsnd', 70: 'msgrcv', 71: 'msgctl', 72: 'fcntl',
    73: 'flock', 74: 'fsync', 75: 'fdatasync', 76: 'truncate', 77: 'ftruncate', 78: 'getdents',
    79: 'getcwd', 80: 'chdir', 81: 'fchdir', 82: 'rename', 83: 'mkdir', 84: 'rmdir',
    85: 'creat', 86: 'link', 87: 'unlink', 88: 'symlink', 89: 'readlink', 90: 'chmod',
    91: 'fchmod', 92: 'chown', 93: 'fchown', 94: 'lchown', 95: 'umask', 96: 'gettimeofday',
    97: 'getrlimit', 98: 'getrusage', 99: 'sysinfo', 100: 'times', 101: 'ptrace',
    102: 'getuid', 103: 'syslog', 104: 'getgid', 105: 'setuid', 106: 'setgid', 107: 'geteuid',
    108: 'getegid', 109: 'setpgid', 110: 'getppid', 111: 'getpgrp', 112: 'setsid',
    113: 'setreuid', 114: 'setregid', 115: 'getgroups', 116: 'setgroups', 117: 'setresuid',
    118: 'getresuid', 119: 'setresgid', 120: 'getresgid', 121: 'getpgid', 122: 'setfsuid',
    123: 'setfsgid', 124: 'getsid', 125: 'capget', 126: 'capset', 127: 'rt_sigpending',
    128: 'rt_sigtimedwait', 129: 'rt_sigqueueinfo', 130: 'rt_sigsuspend', 131: 'sigaltstack',
    132: 'utime', 133: 'mknod', 134: 'uselib', 135: 'personality', 136: 'ustat', 137: 'statfs',
    138: 'fstatfs', 139: 'sysfs', 140: 'getpriority', 141: 'setpriority',
    142: 'sched_setparam', 143: 'sched_getparam', 144: 'sched_setscheduler',
    145: 'sched_getscheduler', 146: 'sched_get_priority_max', 147: 'sched_get_priority_min',
    148: 'sched_rr_get_interval', 149: 'mlock', 150: 'munlock', 151: 'mlockall',
    152: 'munlockall', 153: 'vhangup', 154: 'modify_ldt', 155: 'pivot_root', 156: '_sysctl',
    157: 'prctl', 158: 'arch_prctl', 159: 'adjtimex', 160: 'setrlimit', 161: 'chroot',
    162: 'sync', 163: 'acct', 164: 'settimeofday', 165: 'mount', 166: 'umount2', 167: 'swapon',
    168: 'swapoff', 169: 'reboot', 170: 'sethostname', 171: 'setdomainname', 172: 'iopl',
    173: 'ioperm', 174: 'create_module', 175: 'init_module', 176: 'delete_module',
    177: 'get_kernel_syms', 178: 'query_module', 179: 'quotactl', 180: 'nfsservctl',
    181: 'getpmsg', 182: 'putpmsg', 183: 'afs_syscall', 184: 'tuxcall', 185: 'security',
    186: 'gettid', 187: 'readahead', 188: 'setxattr', 189: 'lsetxattr', 190: 'fsetxattr',
    191: 'getxattr', 192: 'lgetxattr', 193: 'fgetxattr', 194: 'listxattr', 195: 'llistxattr',
    196: 'flistxattr', 197: 'removexattr', 198: 'lremovexattr', 199: 'fremovexattr',
    200: 'tkill', 201: 'time', 202: 'futex', 203: 'sched_setaffinity',
    204: 'sched_getaffinity', 205: 'set_thread_area', 206: 'io_setup', 207: 'io_destroy',
    208: 'io_getevents', 209: 'io_submit', 210: 'io_cancel', 211: 'get_thread_area',
    212: 'lookup_dcookie', 213: 'epoll_create', 214: 'epoll_ctl_old', 215: 'epoll_wait_old',
    216: 'remap_file_pages', 217: 'getdents64', 218: 'set_tid_address', 219: 'restart_syscall',
    220: 'semtimedop', 221: 'fadvise64', 222: 'timer_create', 223: 'timer_settime',
    224: 'timer_gettime', 225: 'timer_getoverrun', 226: 'timer_delete', 227: 'clock_settime',
    228: 'clock_gettime', 229: 'clock_getres', 230: 'clock_nanosleep', 231: 'exit_group',
    232: 'epoll_wait', 233: 'epoll_ctl', 234: 'tgkill', 235: 'utimes', 236: 'vserver',
    237: 'mbind', 238: 'set_mempolicy', 239: 'get_mempolicy', 240: 'mq_open', 241: 'mq_unlink',
    242: 'mq_timedsend', 243: 'mq_timedreceive', 244: 'mq_notify', 245: 'mq_getsetattr',
    246: 'kexec_load', 247: 'waitid', 248: 'add_key', 249: 'request_key', 250: 'keyctl',
    251: 'ioprio_set', 252: 'ioprio_get', 253: 'inotify_init', 254: 'inotify_add_watch',
    255: 'inotify_rm_watch', 256: 'migrate_pages', 257: 'openat', 258: 'mkdirat',
    259: 'mknodat', 260: 'fchownat', 261: 'futimesat', 262: 'newfstatat', 263: 'unlinkat',
    264: 'renameat', 265: 'linkat', 266: 'symlinkat', 267: 'readlinkat', 268: 'fchmodat',
    269: 'faccessat', 270: 'pselect6', 271: 'ppoll', 272: 'unshare', 273: 'set_robust_list',
    274: 'get_robust_list', 275: 'splice', 276: 'tee', 277: 'sync_file_range', 278: 'vmsplice',
    279: 'move_pages', 280: 'utimensat', 281: 'epoll_pwait', 282: 'signalfd',
    283: 'timerfd_create', 284: 'eventfd', 285: 'fallocate', 286: 'timerfd_settime',
    287: 'timerfd_gettime', 288: 'accept4', 289: 'signalfd4', 290: 'eventfd2',
    291: 'epoll_create1', 292: 'dup3', 293: 'pipe2', 294: 'inotify_init1', 295: 'preadv',
    296: 'pwritev', 297: 'rt_tgsigqueueinfo', 298: 'perf_event_open', 299: 'recvmmsg',
    300: 'fanotify_init', 301: 'fanotify_mark', 302: 'prlimit64', 303: 'name_to_handle_at',
    304: 'open_by_handle_at', 305: 'clock_adjtime', 306: 'syncfs', 307: 'sendmmsg',
    308: 'setns', 309: 'getcpu', 310: 'process_vm_readv', 311: 'process_vm_writev',
    312: 'kcmp', 313: 'finit_module', 314: 'sched_setattr', 315: 'sched_getattr',
    316: 'renameat2', 317: 'seccomp', 318: 'getrandom', 319: 'memfd_create',
    320: 'kexec_file_load', 321: 'bpf', 322: 'execveat', 323: 'userfaultfd', 324: 'membarrier',
    325: 'mlock2', 326: 'copy_file_range', 327: 'preadv2', 328: 'pwritev2',
    329: 'pkey_mprotect', 330: 'pkey_alloc', 331: 'pkey_free', 332: 'statx',
    333: 'io_pgetevents', 334: 'rseq', 424: 'pidfd_send_signal', 425: 'io_uring_setup',
    426: 'io_uring_enter', 427: 'io_uring_register', 428: 'open_tree', 429: 'move_mount',
    430: 'fsopen', 431: 'fsconfig', 432: 'fsmount', 433: 'fspick', 434: 'pidfd_open',
    435: 'clone3', 436: 'close_range', 437: 'openat2', 438: 'pidfd_getfd', 439: 'faccessat2',
    440: 'process_madvise', 441: 'epoll_pwait2', 442: 'mount_setattr', 443: 'quotactl_fd',
    444: 'landlock_create_ruleset', 445: 'landlock_add_rule', 446: 'landlock_restrict_self',
    447: 'memfd_secret', 448: 'process_mrelease', 449: 'futex_waitv',
    450: 'set_mempolicy_home_node', 451: 'cachestat', 452: 'fchmodat2',
    453: 'map_shadow_stack', 454: 'futex_wake', 455: 'futex_wait', 456: 'futex_requeue',
    457: 'statmount', 458: 'listmount', 459: 'lsm_get_self_attr', 460: 'lsm_set_self_attr',
    461: 'lsm_list_modules', 462: 'mseal', 463: 'setxattrat', 464: 'getxattrat',
    465: 'listxattrat', 466: 'removexattrat', 467: 'open_tree_attr', 468: 'file_getattr',
    469: 'file_setattr',
}

SYSCALL_NUMBERS: dict[str, int] = {name: number for number, name in SYSCALL_NAMES.items()}


def syscall_number(name_or_number) -> int:
    """The number of a syscall given by name ("write") or number (1).

    Any non-negative number is accepted (the kernel answers ENOSYS to unknown ones);
    "syscall_NNN", as printed by syscall_name() for unknown numbers, maps back to NNN."""
    if isinstance(name_or_number, bool) or not isinstance(name_or_number, (int, str)):
        raise TypeError(f"a syscall is given by name (str) or number (int), "
                        f"not {type(name_or_number).__name__}")
    if isinstance(name_or_number, int):
        if name_or_number < 0:
            raise ValueError(f"syscall numbers are not negative: {name_or_number}")
        return name_or_number
    number = SYSCALL_NUMBERS.get(name_or_number)
    if number is not None:
        return number
    if name_or_number.startswith("syscall_") and name_or_number[8:].isdigit():
        return int(name_or_number[8:])
    raise ValueError(f"unknown x86-64 syscall name {name_or_number!r}")


def syscall_name(number: int) -> str:
    """The name of syscall `number`, or "syscall_NNN" when it has none."""
    if isinstance(number, bool) or not isinstance(number, int):
        raise TypeError(f"a syscall number is an int, not {type(number).__name__}")
    return SYSCALL_NAMES.get(number) or f"syscall_{number}"


# --- argument metadata -------------------------------------------------------------------
#
# Kinds:  int (C int: low 32 bits, signed)   long (64-bit signed)   ulong (64-bit unsigned)
#         hex   ptr (hex, NULL for 0)   fd   dirfd (fd or AT_FDCWD)   str (C string, a path)
#         buf@N  (input bytes, length in argument N)
#         obuf@N (output bytes, shown after the call: as many as the return value)
#         ostr   (output C string, shown after the call)
#         oflags (open flags incl. access mode)   fdflags (O_* flags without access mode)
#         mode (octal)   cmode@N (octal, shown only if flags argument N creates a file)
#         prot   mapflags   cloneflags   signal   atflags   whence   amode (access mode)
#         sighow   fcntl   futexop   archprctl
_SPECS = {
    "read": "fd:fd buf:obuf@2 count:ulong",
    "write": "fd:fd buf:buf@2 count:ulong",
    "open": "pathname:str flags:oflags mode:cmode@1",
    "close": "fd:fd",
    "stat": "pathname:str statbuf:ptr",
    "fstat": "fd:fd statbuf:ptr",
    "lstat": "pathname:str statbuf:ptr",
    "poll": "fds:ptr nfds:ulong timeout:int",
    "lseek": "fd:fd offset:long whence:whence",
    "mmap": "addr:ptr length:ulong prot:prot flags:mapflags fd:fd offset:hex",
    "mprotect": "addr:ptr len:ulong prot:prot",
    "munmap": "addr:ptr length:ulong",
    "brk": "addr:ptr",
    "rt_sigaction": "signum:signal act:ptr oldact:ptr sigsetsize:ulong",
    "rt_sigprocmask": "how:sighow set:ptr oldset:ptr sigsetsize:ulong",
    "rt_sigreturn": "",
    "ioctl": "fd:fd request:hex arg:hex",
    "pread64": "fd:fd buf:obuf@2 count:ulong offset:long",
    "pwrite64": "fd:fd buf:buf@2 count:ulong offset:long",
    "readv": "fd:fd iov:ptr iovcnt:int",
    "writev": "fd:fd iov:ptr iovcnt:int",
    "access": "pathname:str mode:amode",
    "pipe": "pipefd:ptr",
    "select": "nfds:int readfds:ptr writefds:ptr exceptfds:ptr timeout:ptr",
    "sched_yield": "",
    "mremap": "old_address:ptr old_size:ulong new_size:ulong flags:hex new_address:ptr",
    "msync": "addr:ptr length:ulong flags:hex",
    "madvise": "addr:ptr length:ulong advice:int",
    "shmget": "key:int size:ulong shmflg:hex",
    "shmat": "shmid:int shmaddr:ptr shmflg:hex",
    "dup": "oldfd:fd",
    "dup2": "oldfd:fd newfd:fd",
    "pause": "",
    "nanosleep": "req:ptr rem:ptr",
    "alarm": "seconds:int",
    "getpid": "",
    "sendfile": "out_fd:fd in_fd:fd offset:ptr count:ulong",
    "socket": "domain:int type:hex protocol:int",
    "connect": "sockfd:fd addr:ptr addrlen:int",
    "accept": "sockfd:fd addr:ptr addrlen:ptr",
    "sendto": "sockfd:fd buf:buf@2 len:ulong flags:hex dest_addr:ptr addrlen:int",
    "recvfrom": "sockfd:fd buf:obuf@2 len:ulong flags:hex src_addr:ptr addrlen:ptr",
    "sendmsg": "sockfd:fd msg:ptr flags:hex",
    "recvmsg": "sockfd:fd msg:ptr flags:hex",
    "shutdown": "sockfd:fd how:int",
    "bind": "sockfd:fd addr:ptr addrlen:int",
    "listen": "sockfd:fd backlog:int",
    "getsockname": "sockfd:fd addr:ptr addrlen:ptr",
    "getpeername": "sockfd:fd addr:ptr addrlen:ptr",
    "socketpair": "domain:int type:hex protocol:int sv:ptr",
    "setsockopt": "sockfd:fd level:int optname:int optval:ptr optlen:int",
    "getsockopt": "sockfd:fd level:int optname:int optval:ptr optlen:ptr",
    # x86-64 passes clone's arguments in this order (no CLONE_BACKWARDS).
    "clone": "flags:cloneflags stack:ptr parent_tid:ptr child_tid:ptr tls:hex",
    "fork": "",
    "vfork": "",
    "execve": "pathname:str argv:ptr envp:ptr",
    "exit": "status:int",
    "wait4": "pid:int wstatus:ptr options:hex rusage:ptr",
    "kill": "pid:int sig:signal",
    "uname": "buf:ptr",
    "fcntl": "fd:fd cmd:fcntl arg:hex",
    "flock": "fd:fd operation:int",
    "fsync": "fd:fd",
    "fdatasync": "fd:fd",
    "truncate": "path:str length:long",
    "ftruncate": "fd:fd length:long",
    "getdents": "fd:fd dirp:ptr count:ulong",
    "getcwd": "buf:ostr size:ulong",
    "chdir": "path:str",
    "fchdir": "fd:fd",
    "rename": "oldpath:str newpath:str",
    "mkdir": "pathname:str mode:mode",
    "rmdir": "pathname:str",
    "creat": "pathname:str mode:mode",
    "link": "oldpath:str newpath:str",
    "unlink": "pathname:str",
    "symlink": "target:str linkpath:str",
    "readlink": "pathname:str buf:obuf@2 bufsiz:ulong",
    "chmod": "pathname:str mode:mode",
    "fchmod": "fd:fd mode:mode",
    "chown": "pathname:str owner:int group:int",
    "fchown": "fd:fd owner:int group:int",
    "lchown": "pathname:str owner:int group:int",
    "umask": "mask:mode",
    "gettimeofday": "tv:ptr tz:ptr",
    "getrlimit": "resource:int rlim:ptr",
    "getrusage": "who:int usage:ptr",
    "sysinfo": "info:ptr",
    "times": "buf:ptr",
    "ptrace": "request:int pid:int addr:ptr data:hex",
    "getuid": "", "getgid": "", "geteuid": "", "getegid": "", "getppid": "",
    "getpgrp": "", "setsid": "", "gettid": "", "sync": "",
    "setuid": "uid:int",
    "setgid": "gid:int",
    "setpgid": "pid:int pgid:int",
    "getpgid": "pid:int",
    "getsid": "pid:int",
    "sigaltstack": "ss:ptr old_ss:ptr",
    "statfs": "path:str buf:ptr",
    "fstatfs": "fd:fd buf:ptr",
    "prctl": "option:int arg2:hex arg3:hex arg4:hex arg5:hex",
    "arch_prctl": "code:archprctl addr:hex",
    "setrlimit": "resource:int rlim:ptr",
    "chroot": "path:str",
    "mount": "source:str target:str filesystemtype:str mountflags:hex data:ptr",
    "umount2": "target:str flags:hex",
    "tkill": "tid:int sig:signal",
    "time": "tloc:ptr",
    "futex": "uaddr:ptr futex_op:futexop val:int timeout:ptr uaddr2:ptr val3:int",
    "sched_setaffinity": "pid:int cpusetsize:ulong mask:ptr",
    "sched_getaffinity": "pid:int cpusetsize:ulong mask:ptr",
    "set_tid_address": "tidptr:ptr",
    "getdents64": "fd:fd dirp:ptr count:ulong",
    "clock_gettime": "clockid:int tp:ptr",
    "clock_nanosleep": "clockid:int flags:hex request:ptr remain:ptr",
    "exit_group": "status:int",
    "epoll_wait": "epfd:fd events:ptr maxevents:int timeout:int",
    "epoll_ctl": "epfd:fd op:int fd:fd event:ptr",
    "tgkill": "tgid:int tid:int sig:signal",
    "waitid": "idtype:int id:int infop:ptr options:hex rusage:ptr",
    "openat": "dirfd:dirfd pathname:str flags:oflags mode:cmode@2",
    "mkdirat": "dirfd:dirfd pathname:str mode:mode",
    "newfstatat": "dirfd:dirfd pathname:str statbuf:ptr flags:atflags",
    "unlinkat": "dirfd:dirfd pathname:str flags:atflags",
    "renameat": "olddirfd:dirfd oldpath:str newdirfd:dirfd newpath:str",
    "renameat2": "olddirfd:dirfd oldpath:str newdirfd:dirfd newpath:str flags:hex",
    "linkat": "olddirfd:dirfd oldpath:str newdirfd:dirfd newpath:str flags:atflags",
    "symlinkat": "target:str newdirfd:dirfd linkpath:str",
    "readlinkat": "dirfd:dirfd pathname:str buf:obuf@3 bufsiz:ulong",
    "fchmodat": "dirfd:dirfd pathname:str mode:mode",
    "faccessat": "dirfd:dirfd pathname:str mode:amode",
    "faccessat2": "dirfd:dirfd pathname:str mode:amode flags:atflags",
    "pselect6": "nfds:int readfds:ptr writefds:ptr exceptfds:ptr timeout:ptr sigmask:ptr",
    "ppoll": "fds:ptr nfds:ulong tmo_p:ptr sigmask:ptr sigsetsize:ulong",
    "set_robust_list": "head:ptr len:ulong",
    "get_robust_list": "pid:int head_ptr:ptr len_ptr:ptr",
    "utimensat": "dirfd:dirfd pathname:str times:ptr flags:atflags",
    "epoll_pwait": "epfd:fd events:ptr maxevents:int timeout:int sigmask:ptr sigsetsize:ulong",
    "eventfd2": "initval:int flags:fdflags",
    "epoll_create1": "flags:fdflags",
    "dup3": "oldfd:fd newfd:fd flags:fdflags",
    "pipe2": "pipefd:ptr flags:fdflags",
    "accept4": "sockfd:fd addr:ptr addrlen:ptr flags:fdflags",
    "prlimit64": "pid:int resource:int new_limit:ptr old_limit:ptr",
    "getrandom": "buf:ptr buflen:ulong flags:hex",
    "memfd_create": "name:str flags:hex",
    "execveat": "dirfd:dirfd pathname:str argv:ptr envp:ptr flags:atflags",
    "statx": "dirfd:dirfd pathname:str flags:atflags mask:hex statxbuf:ptr",
    "rseq": "rseq:ptr rseq_len:int flags:int sig:hex",
    "clone3": "cl_args:ptr size:ulong",
    "close_range": "first:fd last:fd flags:hex",
    "openat2": "dirfd:dirfd pathname:str how:ptr size:ulong",
    "pidfd_open": "pid:int flags:hex",
    "rt_sigsuspend": "mask:ptr sigsetsize:ulong",
    "rt_sigqueueinfo": "tgid:int sig:signal info:ptr",
    "mlock": "addr:ptr len:ulong",
    "munlock": "addr:ptr len:ulong",
    "fadvise64": "fd:fd offset:long len:long advice:int",
    "timerfd_create": "clockid:int flags:fdflags",
    "inotify_init1": "flags:fdflags",
    "sched_getparam": "pid:int param:ptr",
    "getitimer": "which:int curr_value:ptr",
    "setitimer": "which:int new_value:ptr old_value:ptr",
}

# name -> ((argument name, kind), ...)
SYSCALL_ARGS: dict[str, tuple[tuple[str, str], ...]] = {
    name: tuple(tuple(arg.split(":")) for arg in spec.split()) for name, spec in _SPECS.items()
}
assert all(name in SYSCALL_NUMBERS for name in SYSCALL_ARGS), "argument table names a non-syscall"

# How to show the return value; signed decimal unless listed.
_RETURN_KINDS = {"mmap": "ptr", "mremap": "ptr", "brk": "ptr", "shmat": "ptr",
                 "exit": "none", "exit_group": "none"}


def syscall_signature(name_or_number) -> tuple[tuple[str, str], ...] | None:
    """((argument name, kind), ...) of a syscall, or None if tether has no metadata."""
    return SYSCALL_ARGS.get(syscall_name(syscall_number(name_or_number)))


# --- value decoders ---------------------------------------------------------------------

def _signed32(value: int) -> int:
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value >> 31 else value


def _signed64(value: int) -> int:
    value &= (1 << 64) - 1
    return value - (1 << 64) if value >> 63 else value


def _flags(value: int, table, empty: str = "0") -> str:
    """'A|B|0x40' from a table of (name, bits); multi-bit names come before their parts."""
    names = []
    for name, bits in table:
        if value & bits == bits:
            names.append(name)
            value &= ~bits
    if value:
        names.append(hex(value))
    return "|".join(names) or empty


# include/uapi/asm-generic/fcntl.h (values are octal there too).
_OPEN_FLAGS = (
    ("O_CREAT", 0o100), ("O_EXCL", 0o200), ("O_NOCTTY", 0o400), ("O_TRUNC", 0o1000),
    ("O_APPEND", 0o2000), ("O_NONBLOCK", 0o4000), ("O_SYNC", 0o4010000),
    ("O_DSYNC", 0o10000), ("O_ASYNC", 0o20000), ("O_DIRECT", 0o40000),
    ("O_LARGEFILE", 0o100000), ("O_TMPFILE", 0o20200000), ("O_DIRECTORY", 0o200000),
    ("O_NOFOLLOW", 0o400000), ("O_NOATIME", 0o1000000), ("O_CLOEXEC", 0o2000000),
    ("O_PATH", 0o10000000),
)
_ACCESS_MODES = ("O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE")
_CREATES = 0o100 | 0o20000000  # O_CREAT or __O_TMPFILE: only then is `mode` used

_PROT_FLAGS = (("PROT_READ", 0x1), ("PROT_WRITE", 0x2), ("PROT_EXEC", 0x4), ("PROT_SEM", 0x8),
               ("PROT_GROWSDOWN", 0x01000000), ("PROT_GROWSUP", 0x02000000))
_MAP_TYPES = {1: "MAP_SHARED", 2: "MAP_PRIVATE", 3: "MAP_SHARED_VALIDATE"}
_MAP_FLAGS = (
    ("MAP_FIXED", 0x10), ("MAP_ANONYMOUS", 0x20), ("MAP_32BIT", 0x40),
    ("MAP_GROWSDOWN", 0x100), ("MAP_DENYWRITE", 0x800), ("MAP_EXECUTABLE", 0x1000),
    ("MAP_LOCKED", 0x2000), ("MAP_NORESERVE", 0x4000), ("MAP_POPULATE", 0x8000),
    ("MAP_NONBLOCK", 0x10000), ("MAP_STACK", 0x20000), ("MAP_HUGETLB", 0x40000),
    ("MAP_SYNC", 0x80000), ("MAP_FIXED_NOREPLACE", 0x100000),
)
# include/uapi/linux/sched.h; the low byte of clone()'s flags is the exit signal.
_CLONE_FLAGS = (
    ("CLONE_VM", 0x100), ("CLONE_FS", 0x200), ("CLONE_FILES", 0x400),
    ("CLONE_SIGHAND", 0x800), ("CLONE_PIDFD", 0x1000), ("CLONE_PTRACE", 0x2000),
    ("CLONE_VFORK", 0x4000), ("CLONE_PARENT", 0x8000), ("CLONE_THREAD", 0x10000),
    ("CLONE_NEWNS", 0x20000), ("CLONE_SYSVSEM", 0x40000), ("CLONE_SETTLS", 0x80000),
    ("CLONE_PARENT_SETTID", 0x100000), ("CLONE_CHILD_CLEARTID", 0x200000),
    ("CLONE_DETACHED", 0x400000), ("CLONE_UNTRACED", 0x800000),
    ("CLONE_CHILD_SETTID", 0x1000000), ("CLONE_NEWCGROUP", 0x2000000),
    ("CLONE_NEWUTS", 0x4000000), ("CLONE_NEWIPC", 0x8000000), ("CLONE_NEWUSER", 0x10000000),
    ("CLONE_NEWPID", 0x20000000), ("CLONE_NEWNET", 0x40000000), ("CLONE_IO", 0x80000000),
)
_AT_FLAGS = (
    ("AT_SYMLINK_NOFOLLOW", 0x100), ("AT_REMOVEDIR", 0x200), ("AT_SYMLINK_FOLLOW", 0x400),
    ("AT_NO_AUTOMOUNT", 0x800), ("AT_EMPTY_PATH", 0x1000), ("AT_STATX_FORCE_SYNC", 0x2000),
    ("AT_STATX_DONT_SYNC", 0x4000), ("AT_RECURSIVE", 0x8000),
)
AT_FDCWD = -100
_ACCESS_BITS = (("R_OK", 4), ("W_OK", 2), ("X_OK", 1))
_WHENCE = {0: "SEEK_SET", 1: "SEEK_CUR", 2: "SEEK_END", 3: "SEEK_DATA", 4: "SEEK_HOLE"}
_SIGHOW = {0: "SIG_BLOCK", 1: "SIG_UNBLOCK", 2: "SIG_SETMASK"}
_FCNTL = {
    0: "F_DUPFD", 1: "F_GETFD", 2: "F_SETFD", 3: "F_GETFL", 4: "F_SETFL", 5: "F_GETLK",
    6: "F_SETLK", 7: "F_SETLKW", 8: "F_SETOWN", 9: "F_GETOWN", 10: "F_SETSIG",
    11: "F_GETSIG", 36: "F_OFD_GETLK", 37: "F_OFD_SETLK", 38: "F_OFD_SETLKW",
    1024: "F_SETLEASE", 1025: "F_GETLEASE", 1026: "F_NOTIFY", 1030: "F_DUPFD_CLOEXEC",
    1031: "F_SETPIPE_SZ", 1032: "F_GETPIPE_SZ", 1033: "F_ADD_SEALS", 1034: "F_GET_SEALS",
}
# include/uapi/linux/futex.h
_FUTEX_CMDS = ("FUTEX_WAIT", "FUTEX_WAKE", "FUTEX_FD", "FUTEX_REQUEUE", "FUTEX_CMP_REQUEUE",
               "FUTEX_WAKE_OP", "FUTEX_LOCK_PI", "FUTEX_UNLOCK_PI", "FUTEX_TRYLOCK_PI",
               "FUTEX_WAIT_BITSET", "FUTEX_WAKE_BITSET", "FUTEX_WAIT_REQUEUE_PI",
               "FUTEX_CMP_REQUEUE_PI", "FUTEX_LOCK_PI2")
_FUTEX_PRIVATE, _FUTEX_CLOCK_REALTIME = 128, 256
# arch/x86/include/uapi/asm/prctl.h
_ARCH_PRCTL = {0x1001: "ARCH_SET_GS", 0x1002: "ARCH_SET_FS", 0x1003: "ARCH_GET_FS",
               0x1004: "ARCH_GET_GS", 0x1011: "ARCH_GET_CPUID", 0x1012: "ARCH_SET_CPUID"}

# Kernel-internal codes a tracer can see in rax at syscall exit when a signal
# interrupted the call (include/linux/errno.h); the program never sees them.
_ERRNO_NAMES = dict(_errno.errorcode)
_ERRNO_NAMES.update({512: "ERESTARTSYS", 513: "ERESTARTNOINTR", 514: "ERESTARTNOHAND",
                     515: "ENOIOCTLCMD", 516: "ERESTART_RESTARTBLOCK"})
_MAX_ERRNO = 4095  # returns in [-4095, -1] are errors (include/linux/err.h)

_STRING_LIMIT = 32      # like strace's default -s 32, for data buffers
_PATH_LIMIT = 4096      # paths are shown whole (PATH_MAX)


def _quote(data: bytes, limit: int) -> str:
    """A C-like string literal of `data`, cut after `limit` bytes with '...'."""
    out = []
    for byte in data[:limit]:
        char = chr(byte)
        if char in '"\\':
            out.append("\\" + char)
        elif char == "\n":
            out.append("\\n")
        elif char == "\t":
            out.append("\\t")
        elif char == "\r":
            out.append("\\r")
        elif 32 <= byte < 127:
            out.append(char)
        else:
            out.append(f"\\x{byte:02x}")
    return '"' + "".join(out) + '"' + ("..." if len(data) > limit else "")


def _signal_text(value: int) -> str:
    number = _signed32(value)
    return SIGNAL_NAMES.get(number, str(number))


class _Reader:
    """Reads tracee memory through the caller's callables; unreadable memory gives None."""

    def __init__(self, read_string, read_memory):
        self.read_string = read_string
        self.read_memory = read_memory

    def string(self, address: int) -> bytes | None:
        if not address or self.read_string is None:
            return None
        try:
            data = self.read_string(address)
        except (OSError, ValueError):  # unmapped or unreadable: show the address
            return None
        if data is None:
            return None
        end = data.find(b"\0")
        return bytes(data if end < 0 else data[:end])

    def block(self, address: int, size: int) -> bytes | None:
        if not address:
            return None
        size = min(size, _STRING_LIMIT)  # no need to fetch what is not shown
        if self.read_memory is not None:
            try:
                data = self.read_memory(address, size)
            except (OSError, ValueError):
                return None
            return None if data is None else bytes(data[:size])
        if self.read_string is None:
            return None
        # Only a string reader: the block is what it returns (possibly cut at a NUL).
        try:
            data = self.read_string(address)
        except (OSError, ValueError):
            return None
        return None if data is None else bytes(data[:size])


def _pointer(value: int) -> str:
    return "NULL" if value == 0 else hex(value)


def _format_arg(kind: str, value: int, args: list[int], ret: int | None,
                reader: _Reader) -> str | None:
    """One argument as text; None means "leave it out" (an unused open mode)."""
    kind, _, ref = kind.partition("@")
    if kind in ("int", "fd"):
        return str(_signed32(value))
    if kind == "long":
        return str(_signed64(value))
    if kind == "ulong":
        return str(value & ((1 << 64) - 1))
    if kind == "hex":
        return hex(value)
    if kind == "ptr":
        return _pointer(value)
    if kind == "dirfd":
        fd = _signed32(value)
        return "AT_FDCWD" if fd == AT_FDCWD else str(fd)
    if kind == "str":
        data = reader.string(value)
        return _pointer(value) if data is None else _quote(data, _PATH_LIMIT)
    if kind in ("buf", "obuf"):
        length = args[int(ref)]
        if kind == "obuf":
            # An output buffer holds data only after a successful call.
            if ret is None or _is_error(ret):
                return _pointer(value)
            length = _signed64(ret)
        data = reader.block(value, length)
        if data is None:
            return _pointer(value)
        return _quote(data[:_STRING_LIMIT], _STRING_LIMIT) + ("..." if length > _STRING_LIMIT
                                                               else "")
    if kind == "ostr":
        if ret is None or _is_error(ret):
            return _pointer(value)
        data = reader.string(value)
        return _pointer(value) if data is None else _quote(data, _PATH_LIMIT)
    if kind == "mode":
        return f"0{value & 0o7777:o}" if value & 0o7777 else "000"
    if kind == "cmode":
        if not args[int(ref)] & _CREATES:
            return None
        return f"0{value & 0o7777:o}" if value & 0o7777 else "000"
    if kind == "oflags":
        access = _ACCESS_MODES[value & 3]
        rest = _flags(value & ~3 & 0xFFFFFFFF, _OPEN_FLAGS, "")
        return access + ("|" + rest if rest else "")
    if kind == "fdflags":
        return _flags(value & 0xFFFFFFFF, _OPEN_FLAGS)
    if kind == "prot":
        return _flags(value & 0xFFFFFFFF, _PROT_FLAGS, "PROT_NONE")
    if kind == "mapflags":
        value &= 0xFFFFFFFF
        kind_name = _MAP_TYPES.get(value & 0xF)
        rest = _flags(value & ~0xF if kind_name else value, _MAP_FLAGS, "")
        return "|".join(part for part in (kind_name, rest) if part) or "0"
    if kind == "cloneflags":
        text = _flags(value & ~0xFF, _CLONE_FLAGS, "")
        if value & 0xFF:
            text = (text + "|" if text else "") + _signal_text(value & 0xFF)
        return text or "0"
    if kind == "signal":
        return _signal_text(value)
    if kind == "atflags":
        return _flags(value & 0xFFFFFFFF, _AT_FLAGS)
    if kind == "whence":
        return _WHENCE.get(value & 0xFFFFFFFF, str(_signed32(value)))
    if kind == "amode":
        return _flags(value & 0xFFFFFFFF, _ACCESS_BITS, "F_OK")
    if kind == "sighow":
        return _SIGHOW.get(value & 0xFFFFFFFF, str(_signed32(value)))
    if kind == "fcntl":
        return _FCNTL.get(value & 0xFFFFFFFF, str(_signed32(value)))
    if kind == "futexop":
        command = value & 0x7F
        text = _FUTEX_CMDS[command] if command < len(_FUTEX_CMDS) else str(command)
        if value & _FUTEX_PRIVATE:
            text += "_PRIVATE"
        if value & _FUTEX_CLOCK_REALTIME:
            text += "|FUTEX_CLOCK_REALTIME"
        return text
    if kind == "archprctl":
        return _ARCH_PRCTL.get(value & 0xFFFFFFFF, hex(value))
    raise ValueError(f"unknown syscall argument kind {kind!r}")


def _is_error(ret: int) -> bool:
    return -_MAX_ERRNO <= _signed64(ret) < 0


def _format_return(name: str, ret: int) -> str:
    if _RETURN_KINDS.get(name) == "none":
        return "?"
    signed = _signed64(ret)
    if -_MAX_ERRNO <= signed < 0:
        code = -signed
        return f"-1 {_ERRNO_NAMES.get(code, f'errno {code}')}"
    if _RETURN_KINDS.get(name) == "ptr":
        return hex(ret & ((1 << 64) - 1))
    return str(signed)


def format_syscall(name, args: list[int], read_string=None, ret: int | None = None,
                   read_memory=None) -> str:
    """One strace-like line: `openat(AT_FDCWD, "/etc/passwd", O_RDONLY) = 3`.

    name: syscall name or number. args: the six raw argument registers (fewer are
    padded with 0). read_string(address) -> bytes | None reads a C string from the
    tracee (None or OSError/ValueError: shown as an address). read_memory(address,
    size) -> bytes | None, if given, is used for data buffers so they are not cut at
    a NUL byte. ret: the raw rax at syscall exit, or None at syscall entry (then no
    " = ..." part, and output buffers show as addresses)."""
    if isinstance(name, int) and not isinstance(name, bool):
        name = syscall_name(name)
    elif not isinstance(name, str):
        raise TypeError(f"a syscall is given by name (str) or number (int), "
                        f"not {type(name).__name__}")
    args = [int(arg) & ((1 << 64) - 1) for arg in args][:6]
    args += [0] * (6 - len(args))
    reader = _Reader(read_string, read_memory)
    signature = SYSCALL_ARGS.get(name)
    if signature is None:
        shown = [hex(arg) for arg in args]  # no metadata: all six registers, raw
    else:
        shown = []
        for (_, kind), value in zip(signature, args):
            text = _format_arg(kind, value, args, ret, reader)
            if text is not None:
                shown.append(text)
    line = f"{name}({', '.join(shown)})"
    if ret is not None:
        line += f" = {_format_return(name, ret)}"
    return line
