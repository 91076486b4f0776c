"""The pure parts behind `tether trace`'s strace flags: -e trace=/signal= sets
and syscall classes, the seccomp-bpf program, struct stat/statx, argv/envp,
-s, -y and -v in the formatter, the -c table, and the timeline document."""
import json
import os
import struct

import pytest
from hypothesis import given, settings, strategies as st

from tether.arch.amd64.seccomp_bpf import (AUDIT_ARCH_X86_64, RET_ALLOW, RET_TRACE, run_program,
                                          seccomp_program)
from tether.arch.amd64.syscall_classes import SYSCALL_CLASSES, syscall_class
from tether.arch.amd64.syscall_structs import file_mode, format_stat, format_statx, makedev
from tether.arch.amd64.syscall_table import SYSCALL_ALIASES
from tether.arch.amd64.syscalls import SYSCALL_NAMES, SYSCALL_NUMBERS, format_syscall
from tether.cli.selection import parse_signal_set, parse_syscall_set
from tether.cli.syscall_stats import SyscallStats, format_table
from tether.cli.timeline import Timeline

from tether.arch.i386.syscall_table import SYSCALL_NAMES as I386_NAMES

ALL = set(SYSCALL_NAMES.values())
# -e trace= also names the calls only 32-bit programs make (mmap2...).
EVERY = ALL | set(I386_NAMES.values())


# ------------------------------------------------------------------ sets
@pytest.mark.parametrize("text, expected", [
    ("open,close", ["open", "close"]),                       # number order
    ("3,2", ["open", "close"]),
    ("%stat", ["stat", "statx"]),
    ("%%stat", ["stat", "fstat", "lstat", "newfstatat", "statx"]),
    ("/^getp[gp]", ["getppid", "getpgrp", "getpgid"]),
    ("?nosuch,write", ["write"]),
    ("none", None),
    ("all", []),
    ("!all", None),
    ("!none", []),
])
def test_syscall_sets(text, expected):
    got = parse_syscall_set(text)
    if isinstance(expected, list) and expected:
        assert sorted(got) == sorted(expected)
        assert got == sorted(got, key=lambda n: SYSCALL_NUMBERS[n])
    else:
        assert got == expected


@pytest.mark.parametrize("text, word", [("nosuch", "nosuch"), ("%nosuch", "%nosuch"),
                                        ("/[", "regular expression"), ("", "empty"),
                                        ("/zzzq", "no system call matches")])
def test_bad_syscall_sets_name_what_is_wrong(text, word):
    with pytest.raises(ValueError, match=word.replace("[", r"\[")):
        parse_syscall_set(text)


@settings(max_examples=200, deadline=None)
@given(st.sets(st.sampled_from(sorted(EVERY - set(SYSCALL_ALIASES))), min_size=1, max_size=20))
def test_negation_is_the_complement(names):
    chosen = parse_syscall_set(",".join(sorted(names)))
    negated = parse_syscall_set("!" + ",".join(sorted(names)))
    assert set(chosen) == names and set(negated) == EVERY - names


def test_calls_of_32_bit_programs_are_named_and_come_after_the_x86_64_ones():
    assert parse_syscall_set("mmap2,write,socketcall,openat") == ["write", "openat", "socketcall",
                                                                 "mmap2"]
    # x86-64's other name of sendfile, and a call of its own in 32-bit programs
    assert parse_syscall_set("sendfile64") == ["sendfile", "sendfile64"]
    assert parse_syscall_set("fstatat") == ["newfstatat"]
    with pytest.raises(ValueError, match="nosuch32"):
        parse_syscall_set("mmap2,nosuch32")


def test_classes_hold_syscalls_only_and_overlap_where_meant():
    for name, members in SYSCALL_CLASSES.items():
        assert members and members <= ALL, name
    assert "execve" in syscall_class("process") & syscall_class("file")
    assert "openat" in syscall_class("file") & syscall_class("desc")
    assert "mmap" in syscall_class("memory") & syscall_class("desc")
    assert syscall_class("net") is syscall_class("network")
    with pytest.raises(ValueError, match="%file"):
        syscall_class("nosuch")


def test_signal_sets():
    assert parse_signal_set("SIGUSR1,term,9") == {10, 15, 9}
    assert parse_signal_set("all") is None
    assert parse_signal_set("!all") == frozenset()
    assert 17 not in parse_signal_set("!chld") and len(parse_signal_set("!chld")) == 63
    with pytest.raises(ValueError, match="SIGNOPE"):
        parse_signal_set("SIGNOPE")


# ------------------------------------------------------------------ seccomp-bpf
@settings(max_examples=200, deadline=None)
@given(st.sets(st.integers(0, 470), max_size=60), st.sets(st.integers(0, 470), max_size=60),
       st.integers(0, 600))
def test_the_filter_traces_exactly_the_set(numbers, i386_numbers, nr):
    program = seccomp_program(numbers, i386_numbers)
    assert run_program(program, nr) == (RET_TRACE if nr in numbers else RET_ALLOW)
    # the calls of a 32-bit process are checked against their own set
    assert run_program(program, nr, arch=0x40000003) == (RET_TRACE if nr in i386_numbers else RET_ALLOW)
    # another ABI's calls are never traced
    assert run_program(program, nr, arch=0x400000B7) == RET_ALLOW
    assert run_program(seccomp_program(numbers), nr, arch=0x40000003) == RET_ALLOW


def test_the_filter_of_every_syscall_fits_and_is_well_formed():
    from tether.arch.i386.syscall_table import SYSCALL_NAMES as I386_NAMES
    program = seccomp_program(SYSCALL_NAMES, I386_NAMES)
    assert len(program) % 8 == 0 and len(program) // 8 <= 4096
    assert all(run_program(program, n) == RET_TRACE for n in SYSCALL_NAMES)
    assert all(run_program(program, n, arch=0x40000003) == RET_TRACE for n in I386_NAMES)
    with pytest.raises(ValueError, match="too many"):
        seccomp_program(range(2100))
    code, jt, jf, k = struct.unpack_from("<HBBI", program, 24)
    assert (code, k) == (0x15, AUDIT_ARCH_X86_64)
    code, jt, jf, k = struct.unpack_from("<HBBI", program, 8)
    assert (code, k) == (0x15, 0x40000003)   # AUDIT_ARCH_I386
    with pytest.raises(ValueError):
        seccomp_program([-1])


# ------------------------------------------------------------------ structs
def stat_bytes(mode, size=1234, rdev=0):
    return struct.pack("<QQQIII4xQqqqqqqqqq", 0x801, 42, 1, mode, 0, 0, rdev, size, 4096, 8,
                       1700000000, 5, 1700000001, 0, 1700000002, 0) + bytes(24)


def test_stat_abbreviated_and_verbose():
    assert format_stat(stat_bytes(0o100644)) == "{st_mode=S_IFREG|0644, st_size=1234, ...}"
    assert format_stat(stat_bytes(0o20620, rdev=0x8801)) == \
        "{st_mode=S_IFCHR|0620, st_rdev=makedev(0x88, 0x1), ...}"
    full = format_stat(stat_bytes(0o40755), verbose=True)
    assert full.startswith("{st_dev=makedev(0x8, 0x1), st_ino=42, st_mode=S_IFDIR|0755, ")
    assert "st_atime=1700000000.000000005" in full and full.endswith("st_ctime=1700000002}")
    with pytest.raises(ValueError):
        format_stat(b"short")


def test_statx_and_modes():
    data = bytearray(256)
    struct.pack_into("<IIQIIIH", data, 0, 0x7FF, 4096, 0, 1, 0, 0, 0o100600)
    struct.pack_into("<Q", data, 40, 99)
    assert format_statx(bytes(data)) == "{stx_mask=0x7ff, stx_mode=S_IFREG|0600, stx_size=99, ...}"
    assert file_mode(0o104755) == "S_IFREG|04755" and file_mode(0) == "000"
    assert makedev(os.makedev(259, 70000)) == "makedev(0x103, 0x11170)"


# ------------------------------------------------------------------ the formatter's options
class FakeMemory:
    """A tracee's memory: {address: bytes}, each block alone in its zeroed
    page(s); reading past them fails, as an unmapped page does."""

    def __init__(self, blocks):
        self.blocks = {a: d + bytes(-(a + len(d)) % 4096) for a, d in blocks.items()}

    def read(self, address, size):
        for start, data in self.blocks.items():
            if start <= address and address + size <= start + len(data):
                return data[address - start:address - start + size]
        return None

    def string(self, address):
        data = self.read(address, 4096)
        return None if data is None else data.split(b"\0")[0]


def test_execve_argv_envp_and_string_size():
    argv = {0x1000: b"/bin/echo\0", 0x11000: b"a long argument here\0", 0x12000: b"HOME=/root\0"}
    arrays = {0x2000: struct.pack("<QQQ", 0x1000, 0x11000, 0),
              0x3ff8: struct.pack("<Q", 0x12000),     # across a page boundary
              0x4000: struct.pack("<Q", 0)}
    mem = FakeMemory({**argv, **arrays})
    args = [0x1000, 0x2000, 0x3ff8]
    text = format_syscall("execve", args, mem.string, 0, read_memory=mem.read, string_limit=6)
    assert text == 'execve("/bin/echo", ["/bin/e"..., "a long"...], 0x3ff8 /* 1 vars */) = 0'
    text = format_syscall("execve", args, mem.string, None, read_memory=mem.read, verbose=True)
    assert text == 'execve("/bin/echo", ["/bin/echo", "a long argument here"], ["HOME=/root"])'


def test_data_strings_honour_the_size_and_fds_their_paths():
    mem = FakeMemory({0x5000: b"0123456789abcdef"})
    text = format_syscall("write", [1, 0x5000, 16], mem.string, 16, read_memory=mem.read,
                          string_limit=4, fd_path=lambda fd: "/dev/null" if fd == 1 else None)
    assert text == 'write(1</dev/null>, "0123"..., 16) = 16'
    opened = format_syscall("openat", [2**64 - 100, 0x6000, 0], lambda a: b"/etc/passwd", 3,
                            fd_path=lambda fd: "/root" if fd == -100 else "/etc/passwd")
    assert opened == 'openat(AT_FDCWD</root>, "/etc/passwd", O_RDONLY) = 3</etc/passwd>'
    with pytest.raises(ValueError, match="string_limit"):
        format_syscall("write", [1, 0, 0], string_limit=-1)


@pytest.mark.parametrize("data, text", [
    (b"\x06\x00\x00\x00", '"\\6\\0\\0\\0"'),
    (b"\x7fELF", '"\\177ELF"'),
    (b"\x001", '"\\0001"'),          # an octal digit follows: three digits
    (b'a"\\\n\t\r\v\f', '"a\\"\\\\\\n\\t\\r\\v\\f"'),
])
def test_strings_are_escaped_as_strace_escapes_them(data, text):
    mem = FakeMemory({0x5000: data})
    line = format_syscall("write", [1, 0x5000, len(data)], None, len(data), read_memory=mem.read)
    assert line == f"write(1, {text}, {len(data)}) = {len(data)}"


def test_a_stat_is_decoded_after_a_successful_call_only():
    mem = FakeMemory({0x7000: stat_bytes(0o100644)})
    ok = format_syscall("fstat", [3, 0x7000], mem.string, 0, read_memory=mem.read)
    assert ok == "fstat(3, {st_mode=S_IFREG|0644, st_size=1234, ...}) = 0"
    failed = format_syscall("fstat", [3, 0x7000], mem.string, 2**64 - 9, read_memory=mem.read)
    assert failed == "fstat(3, 0x7000) = -1 EBADF (Bad file descriptor)"


# ------------------------------------------------------------------ -c
def test_the_table_sums_and_orders_by_time():
    class Record:
        pid = 1
    stats = SyscallStats()
    r = Record()
    for _ in range(3):
        stats.add(r, "read", False, 0.001)
    stats.add(r, "openat", True, 0.004)
    table = format_table(stats.tree()).splitlines()
    assert table[0].split() == ["%", "time", "seconds", "usecs/call", "calls", "errors", "syscall"]
    assert table[2].split() == ["57.14", "0.004000", "4000", "1", "1", "openat"]
    assert table[3].split() == ["42.86", "0.003000", "1000", "3", "read"]
    assert table[-1].split() == ["100.00", "0.007000", "1750", "4", "1", "total"]
    assert stats.to_json()["processes"]["1"]["read"] == {"calls": 3, "errors": 0,
                                                         "seconds": 0.003}


# ------------------------------------------------------------------ --timeline
def test_timeline_document(tmp_path):
    t = Timeline()
    t.process_started(10, "/bin/sh", 0.0)
    t.syscall(10, 10, "vfork() = 11", "vfork", 0.001, 0.002, 11)
    t.process_started(11, "/bin/sh", 0.0015)
    t.fork(10, 10, 11, "vfork", 0.0015)
    t.instant(11, 11, "exec", "exec", 0.003, {"path": "/bin/true"})
    t.renamed(11, "/bin/true")
    t.thread_started(11, 12, 0.004)
    t.ended(11, 12, "exited", 0.005)
    t.ended(11, 11, "exited 0", 0.006)
    path = tmp_path / "run.json"
    t.write(str(path), 0.01)
    doc = json.loads(path.read_text())
    events = doc["traceEvents"]
    names = {(e["pid"], e["tid"]): e["args"]["name"] for e in events
             if e["ph"] == "M" and e["name"] == "process_name"}
    assert names == {(10, 10): "sh 10", (11, 11): "true 11"}
    lives = [e for e in events if e["ph"] == "X" and e["cat"] in ("process", "thread")]
    assert {(e["pid"], e["tid"], e["args"]["end"]) for e in lives} == \
        {(10, 10, "running"), (11, 11, "exited 0"), (11, 12, "exited")}
    flow = [e for e in events if e["ph"] in "sf"]
    assert [(e["ph"], e["pid"]) for e in flow] == [("s", 10), ("f", 11)]
    assert flow[1]["bp"] == "e" and flow[0]["id"] == flow[1]["id"]
    assert oct(path.stat().st_mode & 0o777) != "0o600"   # not the temporary file's mode
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tether-timeline-")]


def test_timeline_replaces_a_symlink_instead_of_writing_through_it(tmp_path):
    target = tmp_path / "precious"
    target.write_text("keep")
    link = tmp_path / "run.json"
    link.symlink_to(target)
    Timeline().write(str(link), 0.0)
    assert target.read_text() == "keep" and not link.is_symlink()
