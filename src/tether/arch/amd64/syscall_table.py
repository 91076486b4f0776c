"""The x86-64 Linux system call table: numbers, names and argument kinds.

SYSCALL_NAMES was generated from the kernel's uapi header asm/unistd_64.h of Debian 12
(numbers 0..450) and extended by hand with the numbers later kernels added (451
cachestat .. 469 file_setattr); it is a literal table so nothing is read at run time.
Argument kinds follow the prototypes in the man pages (section 2).
"""
from __future__ import annotations

__all__ = [
    "SYSCALL_NAMES", "SYSCALL_NUMBERS", "SYSCALL_ALIASES", "SYSCALL_ARGS", "syscall_number", "syscall_name",
    "syscall_signature",
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

# Other names of the same calls, which syscall_number() also takes (the
# canonical name above is the one printed). The kernel's entry points
# (syscall_64.tbl's third column, sys_<name>) where they differ from the
# table's name, and the libc wrappers that are the same call under another
# name (glibc's fstatat is newfstatat, pread is pread64...).
SYSCALL_ALIASES: dict[str, str] = {
    "newstat": "stat", "newfstat": "fstat", "newlstat": "lstat",   # sys_newstat...
    "newuname": "uname",
    "sendfile64": "sendfile",
    "umount": "umount2",                                          # sys_umount
    "fstatat": "newfstatat", "fstatat64": "newfstatat",
    "pread": "pread64", "pwrite": "pwrite64",
    "sysctl": "_sysctl",
}
assert all(target in SYSCALL_NUMBERS and alias not in SYSCALL_NUMBERS
           for alias, target in SYSCALL_ALIASES.items()), "an alias names no syscall, or shadows one"


def syscall_number(name_or_number) -> int:
    """The number of a syscall given by name ("write") or number (1).

    Other names of a call (SYSCALL_ALIASES: "newfstat", "fstatat") are
    accepted too. Any non-negative number is accepted (the kernel answers ENOSYS to unknown ones);
    "syscall_NNN", as printed by syscall_name() for unknown numbers, maps back to NNN."""
    if isinstance(name_or_number, bool) or not isinstance(name_or_number, (int, str)):
        raise TypeError(f"a syscall is given by name (str) or number (int), "
                        f"not {type(name_or_number).__name__}")
    if isinstance(name_or_number, int):
        if name_or_number < 0:
            raise ValueError(f"syscall numbers are not negative: {name_or_number}")
        return name_or_number
    number = SYSCALL_NUMBERS.get(SYSCALL_ALIASES.get(name_or_number, name_or_number))
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
#         hex   offset (hex, 0 for 0)   ptr (hex, NULL for 0)   fd   dirfd (fd or AT_FDCWD)   str (C string, a path)
#         buf@N  (input bytes, length in argument N)
#         obuf@N (output bytes, shown after the call: as many as the return value)
#         ostr   (output C string, shown after the call)
#         oflags (open flags incl. access mode)   fdflags (O_* flags without access mode)
#         mode (octal)   cmode@N (octal, shown only if flags argument N creates a file)
#         prot   mapflags   cloneflags   signal   atflags   whence   amode (access mode)
#         sighow   fcntl   futexop   archprctl
#         argv envp (execve's string arrays)   ostat ostatx (struct stat / statx, filled)
_SPECS = {
    "read": "fd:fd buf:obuf@2 count:ulong",
    "write": "fd:fd buf:buf@2 count:ulong",
    "open": "pathname:str flags:oflags mode:cmode@1",
    "close": "fd:fd",
    "stat": "pathname:str statbuf:ostat",
    "fstat": "fd:fd statbuf:ostat",
    "lstat": "pathname:str statbuf:ostat",
    "poll": "fds:ptr nfds:ulong timeout:int",
    "lseek": "fd:fd offset:long whence:whence",
    "mmap": "addr:ptr length:ulong prot:prot flags:mapflags fd:fd offset:offset",
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
    "execve": "pathname:str argv:argv envp:envp",
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
    "newfstatat": "dirfd:dirfd pathname:str statbuf:ostat flags:atflags",
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
    "execveat": "dirfd:dirfd pathname:str argv:argv envp:envp flags:atflags",
    "statx": "dirfd:dirfd pathname:str flags:atflags mask:hex statxbuf:ostatx",
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
    name: tuple((arg.partition(":")[0], arg.partition(":")[2]) for arg in spec.split())
    for name, spec in _SPECS.items()
}
assert all(name in SYSCALL_NUMBERS for name in SYSCALL_ARGS), "argument table names a non-syscall"


def syscall_signature(name_or_number) -> tuple[tuple[str, str], ...] | None:
    """((argument name, kind), ...) of a syscall, or None if tether has no metadata."""
    return SYSCALL_ARGS.get(syscall_name(syscall_number(name_or_number)))
