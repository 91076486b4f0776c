"""Structures a system call reads or fills, as strace-like text: struct stat
(stat, fstat, lstat, newfstatat), struct statx, file modes and device
numbers. Pure: the caller reads the bytes from the tracee.

Layouts are x86-64's: struct stat from arch/x86/include/uapi/asm/stat.h,
struct statx from include/uapi/linux/stat.h."""
from __future__ import annotations

import struct

__all__ = ["STAT_SIZE", "STATX_SIZE", "format_stat", "format_statx", "file_mode", "makedev"]

STAT_SIZE = 144
STATX_SIZE = 256

# dev, ino, nlink, mode, uid, gid, (pad), rdev, size, blksize, blocks,
# atime, atime_nsec, mtime, mtime_nsec, ctime, ctime_nsec
_STAT = struct.Struct("<QQQIII4xQqqqqqqqqq")
# mask, blksize, attributes, nlink, uid, gid, mode, (pad), ino, size, blocks,
# attributes_mask, then atime btime ctime mtime (sec, nsec, pad each),
# rdev major/minor, dev major/minor
_STATX = struct.Struct("<IIQIIIH2xQQQQ" + "qI4x" * 4 + "IIII")

_FILE_TYPES = {0o140000: "S_IFSOCK", 0o120000: "S_IFLNK", 0o100000: "S_IFREG",
               0o060000: "S_IFBLK", 0o040000: "S_IFDIR", 0o020000: "S_IFCHR",
               0o010000: "S_IFIFO"}
_S_IFMT = 0o170000


def file_mode(mode: int) -> str:
    """'S_IFREG|0644' (type and permission bits, set-id and sticky bits in the octal)."""
    kind = _FILE_TYPES.get(mode & _S_IFMT)
    perms = f"0{mode & 0o7777:o}" if mode & 0o7777 else "000"
    return f"{kind}|{perms}" if kind else perms


def makedev(dev: int) -> str:
    """'makedev(0x8, 0x1)' from a Linux dev_t (glibc's gnu_dev_major/minor split)."""
    major = ((dev >> 8) & 0xFFF) | ((dev >> 32) & ~0xFFF)
    minor = (dev & 0xFF) | ((dev >> 12) & ~0xFF)
    return f"makedev({major:#x}, {minor:#x})"


def _is_device(mode: int) -> bool:
    return mode & _S_IFMT in (0o060000, 0o020000)


def _when(sec: int, nsec: int) -> str:
    return f"{sec}.{nsec:09d}" if nsec else str(sec)


def format_stat(data: bytes, verbose: bool = False) -> str:
    """'{st_mode=S_IFREG|0644, st_size=1234, ...}'; every field with verbose."""
    if len(data) < STAT_SIZE:
        raise ValueError(f"a struct stat is {STAT_SIZE} bytes, got {len(data)}")
    (dev, ino, nlink, mode, uid, gid, rdev, size, blksize, blocks,
     atime, atime_ns, mtime, mtime_ns, ctime, ctime_ns) = _STAT.unpack_from(data)
    size_part = f"st_rdev={makedev(rdev)}" if _is_device(mode) else f"st_size={size}"
    if not verbose:
        return f"{{st_mode={file_mode(mode)}, {size_part}, ...}}"
    return (f"{{st_dev={makedev(dev)}, st_ino={ino}, st_mode={file_mode(mode)}, "
            f"st_nlink={nlink}, st_uid={uid}, st_gid={gid}, st_blksize={blksize}, "
            f"st_blocks={blocks}, {size_part}, st_atime={_when(atime, atime_ns)}, "
            f"st_mtime={_when(mtime, mtime_ns)}, st_ctime={_when(ctime, ctime_ns)}}}")


def format_statx(data: bytes, verbose: bool = False) -> str:
    """'{stx_mask=0x7ff, stx_mode=S_IFREG|0644, stx_size=1234, ...}'; more with verbose."""
    if len(data) < _STATX.size:
        raise ValueError(f"a struct statx is at least {_STATX.size} bytes, got {len(data)}")
    v = _STATX.unpack_from(data)
    mask, blksize, _attrs, nlink, uid, gid, mode, ino, size, blocks = v[:10]
    atime, atime_ns, _bt, _bt_ns, ctime, ctime_ns, mtime, mtime_ns = v[11:19]
    rdev_major, rdev_minor = v[19:21]
    size_part = (f"stx_rdev=makedev({rdev_major:#x}, {rdev_minor:#x})" if _is_device(mode)
                 else f"stx_size={size}")
    if not verbose:
        return f"{{stx_mask={mask:#x}, stx_mode={file_mode(mode)}, {size_part}, ...}}"
    return (f"{{stx_mask={mask:#x}, stx_blksize={blksize}, stx_nlink={nlink}, stx_uid={uid}, "
            f"stx_gid={gid}, stx_mode={file_mode(mode)}, stx_ino={ino}, {size_part}, "
            f"stx_blocks={blocks}, stx_atime={_when(atime, atime_ns)}, "
            f"stx_ctime={_when(ctime, ctime_ns)}, stx_mtime={_when(mtime, mtime_ns)}}}")
