"""The x86-64 syscall table and strace-like formatting."""
import pathlib
import re

import pytest

from tether.arch.amd64.syscalls import (
    SYSCALL_ARGS, SYSCALL_NAMES, SYSCALL_NUMBERS, format_syscall, syscall_name,
    syscall_number, syscall_signature,
)

HEADER = pathlib.Path("/usr/include/x86_64-linux-gnu/asm/unistd_64.h")
AT_FDCWD = 2**64 - 100   # -100 as the register holds it
ENOENT = 2**64 - 2


def test_well_known_numbers():
    assert SYSCALL_NAMES[0] == "read"
    assert SYSCALL_NAMES[1] == "write"
    assert SYSCALL_NAMES[57] == "fork"
    assert SYSCALL_NAMES[59] == "execve"
    assert SYSCALL_NAMES[60] == "exit"
    assert SYSCALL_NAMES[231] == "exit_group"
    assert SYSCALL_NAMES[257] == "openat"
    assert SYSCALL_NAMES[435] == "clone3"
    assert SYSCALL_NAMES[462] == "mseal"
    assert SYSCALL_NUMBERS["getpid"] == 39
    assert 335 not in SYSCALL_NAMES  # the x86-64 table has a hole 335..423


@pytest.mark.skipif(not HEADER.exists(), reason="kernel uapi header not installed")
def test_table_agrees_with_this_machines_header():
    defined = {int(number): name for name, number in
               re.findall(r"#define __NR_(\w+)\s+(\d+)", HEADER.read_text())}
    assert defined
    for number, name in defined.items():
        assert SYSCALL_NAMES.get(number) == name, number


def test_syscall_number():
    assert syscall_number("write") == 1
    assert syscall_number(1) == 1
    assert syscall_number(1000) == 1000  # unknown numbers are still numbers
    assert syscall_number("syscall_400") == 400
    for bad in ("nope", "WRITE", ""):
        with pytest.raises(ValueError, match=repr(bad)):
            syscall_number(bad)
    with pytest.raises(ValueError):
        syscall_number(-1)
    for bad in (1.0, None, True, b"write"):
        with pytest.raises(TypeError):
            syscall_number(bad)


def test_syscall_name():
    assert syscall_name(1) == "write"
    assert syscall_name(400) == "syscall_400"
    assert syscall_name(syscall_number("mmap")) == "mmap"
    with pytest.raises(TypeError):
        syscall_name("write")


def test_argument_metadata_covers_common_syscalls():
    assert len(SYSCALL_ARGS) >= 120
    assert all(name in SYSCALL_NUMBERS for name in SYSCALL_ARGS)
    assert syscall_signature("write") == (("fd", "fd"), ("buf", "buf@2"), ("count", "ulong"))
    assert syscall_signature(1) == syscall_signature("write")
    assert syscall_signature("syscall_400") is None


@pytest.mark.parametrize("name", sorted(SYSCALL_ARGS))
def test_every_signature_formats(name):
    # Any kind in the table must be one the formatter knows (both at entry and exit).
    args = [0x1000, 0x41, 2, 3, 4, 5]
    assert format_syscall(name, args, lambda addr: b"x").startswith(name + "(")
    assert " = " in format_syscall(name, args, lambda addr: b"x", ret=0)


def memory_reader(memory):
    return lambda address: memory.get(address)


def test_openat_line():
    read = memory_reader({0x1000: b"/etc/passwd\0garbage"})
    assert (format_syscall("openat", [AT_FDCWD, 0x1000, 0, 0], read, ret=3)
            == 'openat(AT_FDCWD, "/etc/passwd", O_RDONLY) = 3')


def test_open_mode_shown_only_when_creating():
    read = memory_reader({0x1000: b"/tmp/x"})
    flags = 0o1 | 0o100 | 0o1000 | 0o2000000  # O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC
    assert (format_syscall("openat", [AT_FDCWD, 0x1000, flags, 0o644], read, ret=ENOENT)
            == 'openat(AT_FDCWD, "/tmp/x", O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC, 0644)'
               ' = -1 ENOENT (No such file or directory)')
    assert (format_syscall("open", [0x1000, 0o2 | 0o200000, 0o777], read)
            == 'open("/tmp/x", O_RDWR|O_DIRECTORY)')


def test_write_line():
    read = memory_reader({0x2000: b"hi\n"})
    assert format_syscall("write", [1, 0x2000, 3], read, ret=3) == 'write(1, "hi\\n", 3) = 3'


def test_read_buffer_shown_only_at_exit():
    read = memory_reader({0x2000: b"abc\0"})
    assert format_syscall("read", [0, 0x2000, 100], read) == "read(0, 0x2000, 100)"
    assert format_syscall("read", [0, 0x2000, 100], read, ret=3) == 'read(0, "abc", 100) = 3'
    assert (format_syscall("read", [0, 0x2000, 100], read, ret=2**64 - 11)
            == "read(0, 0x2000, 100) = -1 EAGAIN (Resource temporarily unavailable)")


def test_long_buffers_are_cut_and_bytes_escaped():
    data = b'"\\\t\x00\x7f' + b"A" * 100
    line = format_syscall("write", [2, 0x10, len(data)], None, ret=len(data),
                          read_memory=lambda address, size: data[:size])
    assert line.startswith('write(2, "\\"\\\\\\t\\0\\177' + "A" * 27 + '"..., 105) = 105')


def test_unreadable_memory_shows_addresses():
    def failing(address):
        raise OSError("unmapped")
    assert (format_syscall("openat", [AT_FDCWD, 0xDEAD0, 0], failing)
            == "openat(AT_FDCWD, 0xdead0, O_RDONLY)")
    assert format_syscall("openat", [AT_FDCWD, 0, 0], None) == "openat(AT_FDCWD, NULL, O_RDONLY)"
    assert format_syscall("write", [1, 0x10, 3], lambda address: None) == "write(1, 0x10, 3)"


def test_mmap_flags_and_pointer_return():
    line = format_syscall("mmap", [0, 4096, 3, 0x22, 2**64 - 1, 0], None, ret=0x7F0000001000)
    assert line == ("mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)"
                    " = 0x7f0000001000")
    assert "PROT_NONE" in format_syscall("mprotect", [0x1000, 4096, 0], None)
    assert "= -1 ENOMEM" in format_syscall("mmap", [0, 1, 0, 0x22, 0, 0], None, ret=2**64 - 12)


def test_clone_flags_with_exit_signal():
    flags = 0x01200000 | 17  # CLONE_CHILD_SETTID|CLONE_CHILD_CLEARTID|SIGCHLD
    line = format_syscall("clone", [flags, 0, 0, 0x7000, 0], None, ret=1234)
    assert line == ("clone(CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, NULL, NULL, 0x7000,"
                    " 0x0) = 1234")
    thread = format_syscall("clone", [0x3D0F00, 0, 0, 0, 0], None)
    assert thread.startswith("clone(CLONE_VM|CLONE_FS|")
    assert thread.split(",")[0].endswith("|CLONE_CHILD_CLEARTID")  # no exit signal


def test_kill_decodes_signals():
    assert format_syscall("kill", [1234, 10], None, ret=0) == "kill(1234, SIGUSR1) = 0"
    assert format_syscall("kill", [1234, 0], None, ret=0) == "kill(1234, 0) = 0"
    assert format_syscall("tgkill", [1, 2, 9], None) == "tgkill(1, 2, SIGKILL)"


def test_unknown_syscall_shows_six_hex_args():
    assert (format_syscall(400, [1, 2, 3, 4, 5, 6], None)
            == "syscall_400(0x1, 0x2, 0x3, 0x4, 0x5, 0x6)")
    assert format_syscall("mincore", [1], None, ret=0) == "mincore(0x1, 0x0, 0x0, 0x0, 0x0, 0x0) = 0"


def test_special_returns():
    assert format_syscall("exit_group", [0], None, ret=0) == "exit_group(0) = ?"
    assert format_syscall("futex", [0x10, 0x89, 1, 0, 0, 2**32 - 1], None,
                          ret=2**64 - 512) == \
        "futex(0x10, FUTEX_WAIT_BITSET_PRIVATE, 1, NULL, NULL, -1) = -1 ERESTARTSYS"
    assert format_syscall("getpid", [], None, ret=42) == "getpid() = 42"
    assert format_syscall("lseek", [3, 2**64 - 1, 2], None, ret=10) == "lseek(3, -1, SEEK_END) = 10"


def test_number_accepted_as_name_and_bad_name_type():
    assert format_syscall(39, [], None) == "getpid()"
    with pytest.raises(TypeError):
        format_syscall(None, [], None)


@pytest.mark.parametrize("alias,canonical", [
    ("newfstat", "fstat"), ("newstat", "stat"), ("newlstat", "lstat"), ("newuname", "uname"),
    ("fstatat", "newfstatat"), ("fstatat64", "newfstatat"), ("sendfile64", "sendfile"),
    ("umount", "umount2"), ("pread", "pread64"), ("pwrite", "pwrite64"), ("sysctl", "_sysctl"),
])
def test_other_names_of_a_syscall_are_accepted(alias, canonical):
    assert syscall_number(alias) == syscall_number(canonical)
    assert syscall_name(syscall_number(alias)) == canonical  # printed under one name
    assert alias not in SYSCALL_NUMBERS


def test_every_alias_names_a_syscall_and_shadows_none():
    from tether.arch.amd64.syscall_table import SYSCALL_ALIASES
    for alias, canonical in SYSCALL_ALIASES.items():
        assert canonical in SYSCALL_NUMBERS and alias not in SYSCALL_NUMBERS
