"""`tether trace` on 32-bit (i386) programs against strace, the oracle:
the same syscalls by name (from each program's own table: write is 4 in a
32-bit program, 1 in a 64-bit one), the same counts and exit status, with
the seccomp-bpf filter (which checks i386 calls against their own numbers)
and without it; a tree that goes from 64 to 32 bits and back by exec, and a
32-bit program with threads (clone3 from a 32-bit creator)."""
import re

import pytest

from test_cli_strace import strace, traced

pytestmark = pytest.mark.timeout(120)

CALLS = "execve,exit_group,exit,write,getppid,brk,close,clone,clone3"


@pytest.mark.parametrize("seccomp", ["--seccomp-bpf", "--no-seccomp-bpf"])
@pytest.mark.parametrize("case", ["i386", "64-32-64", "threads"])
def test_same_syscalls_as_strace(target, tmp_path, case, seccomp):
    argv = {"i386": [target("i386_prog")],
            "64-32-64": [target("mp_exec"), target("i386_prog"), target("mp_exec_target")],
            "threads": [target("i386_threads")]}[case]
    status, expected = strace(tmp_path, CALLS, argv)
    got_status, got, events = traced(tmp_path, CALLS, argv, seccomp)
    assert got_status == status
    assert got == expected
    assert expected["write"] >= 1 and expected["execve"] >= 1
    # A thread is a thread: no process is born in the 32-bit program with threads.
    assert not [e for e in events if e["kind"] == "fork"]


def test_syscall_lines_are_decoded_by_the_i386_table(target, tmp_path):
    argv = [target("i386_prog")]
    _, _, events = traced(tmp_path, "write,getppid,mmap,openat", argv)
    texts = [e["details"]["text"] for e in events if e["kind"] == "syscall"]
    assert 'write(1, "int80\\n", 6) = 6' in texts
    assert any(re.fullmatch(r"getppid\(\) = \d+", t) for t in texts)
    assert any(t.startswith('openat(AT_FDCWD, "/etc/ld.so.cache", O_RDONLY') for t in texts)
    # A 32-bit program's mmap is mmap2 (i386 glibc): no call named mmap is shown.
    assert not [t for t in texts if t.startswith("mmap(")]


@pytest.mark.parametrize("seccomp", ["--seccomp-bpf", "--no-seccomp-bpf"])
def test_calls_of_one_architecture_are_traced_in_its_programs(target, tmp_path, seccomp):
    # mmap2 exists only in 32-bit programs, newfstatat only in 64-bit ones:
    # each is traced in the programs that have it, across exec both ways.
    argv = [target("mp_exec"), target("i386_prog"), target("mp_exec_target")]
    calls = "mmap2,write,newfstatat"
    status, expected = strace(tmp_path, calls, argv)
    got_status, got, _ = traced(tmp_path, calls, argv, seccomp)
    assert got_status == status
    assert got == expected
    assert expected["mmap2"] > 0 and expected["newfstatat"] > 0
