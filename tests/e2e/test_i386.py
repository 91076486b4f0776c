"""32-bit (i386) programs on x86-64 (issue 21, item 2), end to end: targets
i386_prog.c and i386_threads.c are built with gcc -m32 (gcc-multilib).

What is checked against what the kernel and the program say, not against
tether itself: register values against the C code's arithmetic and the
ELF32 symbol table (read with pyelftools), syscall numbers against the
i386 table of the kernel's header (asm/unistd_32.h: write 4, getppid 64,
execve 11), the program's own output and exit code.
"""
import re

import pytest
from elftools.elf.elffile import ELFFile

from tether import debugger

pytestmark = pytest.mark.timeout(60)

I386_WRITE, I386_GETPPID, I386_EXECVE = 4, 64, 11   # asm/unistd_32.h
AMD64_EXECVE = 59                                    # asm/unistd_64.h


def elf32_symbol(path, name):
    """(value, size) of a symbol in the ELF32 file, read by pyelftools."""
    with open(path, "rb") as f:
        elf = ELFFile(f)
        assert elf.elfclass == 32 and elf["e_machine"] == "EM_386"
        sym = elf.get_section_by_name(".symtab").get_symbol_by_name(name)[0]
        return sym["st_value"], sym["st_size"]


@pytest.fixture
def prog(target):
    return target("i386_prog")


def test_registers_have_the_i386_names(launch, prog):
    d = launch("i386_prog")
    d.run(redirect_pipes=False)
    assert d.arch == "i386"
    bp = d.breakpoint("add32", file="binary")
    d.cont()
    d.wait()
    value, _ = elf32_symbol(prog, "add32")
    regs = d.regs
    assert regs.eip == bp.address and bp.address & 0xFFF == value & 0xFFF
    assert d.instruction_pointer == regs.eip
    assert regs.eip < 1 << 32 and regs.esp < 1 << 32
    assert regs.cs == 0x23   # __USER32_CS: the task runs 32-bit code
    # The arguments of a cdecl call are on the stack, above the return address.
    ret, a, b = (int.from_bytes(d.memory[regs.esp + 4 * i, 4, "absolute"], "little") for i in range(3))
    assert (a, b) == (0, 0x100)
    assert regs.ax == regs.eax & 0xFFFF and regs.al == regs.eax & 0xFF
    assert regs.ah == (regs.eax >> 8) & 0xFF
    for name in ("eax", "ebx", "ecx", "edx", "esi", "edi", "ebp", "esp", "eip", "eflags",
                 "xmm0", "xmm7", "st0", "orig_eax"):
        assert hasattr(regs, name), name
    for name in ("rax", "rip", "r8", "r15d", "xmm8", "fs_base"):
        assert not hasattr(regs, name), name
    with pytest.raises(ValueError, match="i386 register 'rax'"):
        regs.rax = 1
    with pytest.raises(ValueError, match="32-bit register eax"):
        regs.eax = 1 << 32
    assert d.backtrace(as_symbols=True)[:2] == ["add32", "main+" + hex(ret - d.symbols["main"][0].start)]
    d.kill()


def test_breakpoint_step_over_and_register_writes(launch, capfd):
    d = launch("i386_prog")
    d.run(redirect_pipes=False)
    bp = d.breakpoint("add32", file="binary")
    for _ in range(5):     # the loop: each hit is stepped over (push %ebp: never emulated as push %rbp)
        d.cont()
        d.wait()
        assert bp.hit_on(d)
    d.cont()
    d.wait()               # add32(0x11111111, 0x22222222)
    d.finish()
    assert d.regs.eax == 0x33333333
    d.regs.eax = 0xCAFE    # the caller reports what it finds in eax
    bp.disable()
    d.cont()
    d.wait()
    assert d.exit_code == 7
    out = capfd.readouterr().out
    assert "report 0x50a\nreport 0xcafe\n" in out
    assert bp.hit_count == 6


def test_step_and_next_in_32_bit_code(launch):
    d = launch("i386_prog")
    d.run(redirect_pipes=False)
    d.breakpoint("add32", file="binary")
    d.cont()
    d.wait()
    eip, esp = d.regs.eip, d.regs.esp
    d.step()                                    # push %ebp: 1 byte, 4 bytes of stack
    assert (d.regs.eip, d.regs.esp) == (eip + 1, esp - 4)
    d.step()                                    # mov %esp,%ebp
    assert d.regs.eip == eip + 3 and d.regs.ebp == esp - 4
    d.next()                                    # call __x86.get_pc_thunk.ax, as a whole
    assert d.regs.eip == eip + 8
    d.kill()


def test_syscalls_int80_and_sysenter(launch, capfd):
    d = launch("i386_prog")
    d.run(redirect_pipes=False)
    seen = []

    def on_write(t, h):
        if t.syscall_arg2 == 6:    # the raw int $0x80 write of "int80\n"
            # eip is past the instruction that entered the kernel: cd 80 (int $0x80)
            assert bytes(t.memory[t.instruction_pointer - 2, 2, "absolute"]) == b"\xcd\x80"
            seen.append(("write", t.syscall_number, t.syscall_arg0,
                         bytes(t.memory[t.syscall_arg1, 6, "absolute"])))

    def on_getppid_exit(t, h):
        # i386 glibc enters through the vDSO's __kernel_vsyscall (sysenter on
        # Intel, syscall on AMD): the stop is inside [vdso].
        vdso = [m for m in d.maps if m.backing_file == "[vdso]"]
        assert any(m.start <= t.instruction_pointer < m.end for m in vdso)
        seen.append(("getppid", t.syscall_number, t.syscall_return))
        t.syscall_return = 0       # the program then prints "ppid ok 0"

    d.handle_syscall("write", on_enter=on_write)
    h = d.handle_syscall("getppid", on_exit=on_getppid_exit)
    assert h.syscall_number == I386_GETPPID
    d.cont()
    d.wait()
    assert d.exit_code == 7
    import os
    assert seen == [("write", I386_WRITE, 1, b"int80\n"), ("getppid", I386_GETPPID, os.getpid())]
    out = capfd.readouterr().out
    assert "raw_write 6\nppid ok 0\n" in out


def test_hijack_and_pprint_syscalls_use_the_i386_table(launch, capfd):
    d = launch("i386_prog")
    d.run(redirect_pipes=False)
    d.hijack_syscall("getppid", "getpid")
    d.pprint_syscalls = True
    d.syscalls_to_pprint = ["write", "getpid"]
    assert d.syscalls_to_pprint == ["getpid", "write"]
    d.cont()
    d.wait()
    out = capfd.readouterr().out
    assert d.exit_code == 7
    assert re.search(r'write\(1, "int80\\n", 6\) = 6', out), out
    assert re.search(r"getpid\(\) = %d" % d.pid, out), out


def test_snapshot_of_a_32_bit_thread(launch, tmp_path):
    d = launch("i386_prog")
    d.run(redirect_pipes=False)
    d.breakpoint("add32", file="binary")
    d.cont()
    d.wait()
    snap = d.create_snapshot("writable")
    assert snap.arch == "i386"
    assert snap.regs.eip == d.regs.eip and snap.regs.esp == d.regs.esp
    assert not hasattr(snap.regs, "rip")
    path = tmp_path / "snap.json"
    snap.save(str(path))
    loaded = d.load_snapshot(str(path), read_mapped_files=True)
    assert loaded.arch == "i386" and loaded.regs.eax == d.regs.eax
    assert loaded.instruction_pointer == d.regs.eip
    assert loaded.backtrace(as_symbols=True)[:2] == d.backtrace(as_symbols=True)[:2]
    assert d.backtrace(as_symbols=True)[:2][0] == "add32"
    d.kill()


def test_exec_from_64_to_32_bit_and_back(launch, target, capfd):
    prog, back = target("i386_prog"), target("mp_exec_target")
    d = launch("mp_exec", prog, back)        # 64-bit mp_exec execs i386_prog, which execs back
    d.run(redirect_pipes=False)
    assert d.arch == "amd64"
    d.handle_syscall("execve")
    arches = []
    d.on_exec(lambda dbg: arches.append(dbg.arch))
    d.cont()
    d.wait()                                 # the 64-bit execve's entry
    assert (d.arch, d.syscall_number) == ("amd64", AMD64_EXECVE)
    d.cont()
    d.wait()                                 # its exit, in the 32-bit program
    assert (d.arch, d.syscall_number) == ("i386", I386_EXECVE)
    assert hasattr(d.regs, "eip") and not hasattr(d.regs, "rip")
    bp = d.breakpoint("report", file="binary")
    d.cont()
    d.wait()
    assert bp.hit_on(d)
    d.cont()
    for _ in range(2):
        d.wait()
        if d.syscall_number == I386_EXECVE:
            break
        d.cont()
    assert (d.arch, d.syscall_number) == ("i386", I386_EXECVE)  # the 32-bit execve's entry
    bp.disable()
    d.cont()
    d.wait()                                 # its exit, in the 64-bit program
    assert (d.arch, d.syscall_number) == ("amd64", AMD64_EXECVE)
    assert d.regs.rip > 0
    d.cont()
    d.wait()
    assert d.exit_code == 12
    assert arches == ["i386", "amd64"]


def test_threads_step_over_a_breakpoint_thousands_of_times(launch, capfd):
    d = launch("i386_threads")
    d.run(redirect_pipes=False)
    hits = []
    d.breakpoint("add32", file="binary", callback=lambda t, b: hits.append(t.tid))
    d.cont()
    d.wait()
    assert d.exit_code == 0
    assert "threads ok 1" in capfd.readouterr().out
    assert len(hits) == 4 * 200 and len(set(hits)) == 4


def test_hardware_breakpoint_and_watchpoint(launch, capfd):
    d = launch("i386_prog")
    d.run(redirect_pipes=False)
    wp = d.watchpoint("counter", condition="w", length=4)
    hb = d.breakpoint("report", hardware=True)
    for _ in range(2):                         # report(sum), report(add32(...))
        d.cont()
        d.wait()
        assert hb.hit_on(d) and d.regs.eip == hb.address
    d.cont()
    d.wait()                                   # counter++ in the innermost inner()
    assert wp.hit_on(d)
    # inner(3) -> inner(2) -> inner(1) -> inner(0), called from main
    assert [f.split("+")[0] for f in d.backtrace(as_symbols=True)[:5]] == ["inner"] * 4 + ["main"]
    assert int.from_bytes(d.memory["counter", 4, "binary"], "little") == 0x1235
    hb.disable()
    d.cont()
    d.wait()
    assert d.exit_code == 7
    assert (wp.hit_count, hb.hit_count) == (1, 2)
    assert "report 0x1235\n" in capfd.readouterr().out


def test_fork_in_a_32_bit_program(launch):
    # mp_fork.c built with -m32: the child runs its parent's (32-bit) program.
    d = launch("mp_fork.m32")
    d.run(redirect_pipes=False)
    assert d.arch == "i386"
    bp = d.breakpoint("parent_after_fork", file="binary")
    d.cont()
    d.wait()
    assert bp.hit_on(d) and len(d.children) == 1
    c = d.children[0]
    assert c.arch == "i386"
    # cdecl: parent_after_fork(pid)'s argument is on the stack
    assert int.from_bytes(d.memory[d.regs.esp + 4, 4, "absolute"], "little") == c.pid
    assert c.regs.eax == 0                 # fork() returned 0 in the child
    assert c.memory[bp.address, 1, "absolute"] != b"\xcc"   # the int3 copy was scrubbed
    cb = c.breakpoint("work", file="binary")
    c.cont()
    c.wait()
    assert cb.hit_on(c) and int.from_bytes(c.memory[c.regs.esp + 4, 4, "absolute"], "little") == 1
    c.cont()
    c.wait()
    assert c.exit_code == 3
    d.cont()
    d.wait()
    assert d.exit_code == 43


@pytest.mark.timeout(30)
def test_attach_to_a_32_bit_process(target):
    import subprocess
    proc = subprocess.Popen([target("spin.m32"), "1.5"], stdout=subprocess.PIPE)
    d = None
    try:
        assert proc.stdout.readline() == b"ready\n"
        d = debugger()
        d.attach(proc.pid)
        assert d.arch == "i386"
        bp = d.breakpoint("tick", file="binary")
        d.cont()
        d.wait()
        assert bp.hit_on(d) and d.regs.eip == bp.address
        assert d.backtrace(as_symbols=True)[1].startswith("main+")
        bp.disable()
        d.detach()
        out, _ = proc.communicate(timeout=15)
        assert proc.returncode == 0 and out.startswith(b"finished ")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if d is not None:
            d.terminate()


@pytest.mark.parametrize("syscall_filter", [None, ["write"]])
@pytest.mark.parametrize("escape", [False, True])
def test_escape_antidebug_in_a_32_bit_program(target, escape, syscall_filter):
    # antidebug.c built with -m32: its ptrace(PTRACE_TRACEME) is i386 call 26,
    # with PTRACE_TRACEME in ebx; under the seccomp filter it must still stop.
    d = debugger([target("antidebug.m32")], escape_antidebug=escape, syscall_filter=syscall_filter)
    try:
        io = d.run()
        assert d.arch == "i386"
        d.cont()
        line = io.recvline(timeout=10)
        d.wait()
        assert line == (b"traceme=0" if escape else b"traceme=-1")
        assert d.exit_code == 0
    finally:
        d.terminate()


def test_syscall_filter_stops_32_bit_calls_by_name(target):
    counts = []
    for syscall_filter in (None, ["write", "getppid"]):
        d = debugger([target("i386_prog")], syscall_filter=syscall_filter)
        try:
            d.run()
            writes = d.handle_syscall("write")
            ppid = d.handle_syscall("getppid", on_exit=lambda t, h: None)
            assert (writes.syscall_number, ppid.syscall_number) == (I386_WRITE, I386_GETPPID)
            if syscall_filter is not None:
                with pytest.raises(ValueError, match="brk is not in the syscall_filter"):
                    d.handle_syscall("brk")
            while True:
                d.cont()
                d.wait()
                if d.dead:
                    break
                assert d.syscall_number == I386_WRITE and writes.hit_on(d)
            assert d.exit_code == 7
            counts.append((writes.hit_count, ppid.hit_count))
        finally:
            d.terminate()
    assert counts[0] == counts[1] and counts[0][0] >= 4 and counts[0][1] == 1


def test_syscall_filter_names_calls_of_32_bit_programs_only(target):
    # mmap2 has no x86-64 twin: declared by name, it stops the 32-bit program.
    d = debugger([target("i386_prog")], syscall_filter=["mmap2", "sendfile64"])
    try:
        assert d.syscall_filter == ["mmap2", "sendfile", "sendfile64"]
        d.run()
        h = d.handle_syscall("mmap2", on_enter=lambda t, h: None)
        assert h.syscall_number == 192
        d.cont()
        d.wait()
        assert d.exit_code == 7 and h.hit_count >= 1
    finally:
        d.terminate()


def test_register_views_hold_what_the_cpu_loaded(launch, capfd):
    # i386_regs.c loads known patterns with 8-, 16- and 32-bit moves (as
    # libdebug's i386 register test does) and stops at a label after each.
    d = launch("i386_regs")
    d.run(redirect_pipes=False)
    bps = {label: d.breakpoint(label, file="binary")
           for label in ("after_8l", "after_16", "after_32", "after_8h", "store_point")}
    expected = {
        "after_8l": {"al": 0x11, "bl": 0x22, "cl": 0x33, "dl": 0x44},
        "after_16": {"ax": 0x1122, "bx": 0x2233, "cx": 0x3344, "dx": 0x4455, "si": 0x5566,
                     "di": 0x6677, "bp": 0x7788},
        "after_32": {"eax": 0x11223344, "ebx": 0x22334455, "ecx": 0x33445566, "edx": 0x44556677,
                     "esi": 0x55667788, "edi": 0x66778899, "ebp": 0x778899AA,
                     "al": 0x44, "ax": 0x3344, "bh": 0x44, "sil": 0x88},
        "after_8h": {"ah": 0x11, "bh": 0x22, "ch": 0x33, "dh": 0x44,
                     "eax": 0x11221144, "edx": 0x44554477},
    }
    for label, values in expected.items():
        d.cont()
        d.wait()
        assert bps[label].hit_on(d) and d.regs.eip == bps[label].address
        assert {name: getattr(d.regs, name) for name in values} == values, label
    d.cont()
    d.wait()                                   # store_point: the program stores eax..edx next
    assert bps["store_point"].hit_on(d)
    d.regs.eax = 0xDEADBEEF                    # 32-bit: the whole register
    d.regs.bx = 0xBEEF                         # 16-bit: merged into ebx
    d.regs.cl = 0x5A                           # low byte
    d.regs.dh = 0xA5                           # high byte
    d.cont()
    d.wait()
    assert d.exit_code == 0
    assert "deadbeef 2233beef 3344335a 4455a577\n" in capfd.readouterr().out


def test_a_handler_of_a_64_bit_only_call_waits_through_a_32_bit_program(launch, target):
    # newfstatat has no i386 number: put aside while the 32-bit program runs,
    # it catches the calls of the 64-bit program exec'd after it.
    d = launch("mp_exec", target("i386_prog"), target("mp_exec_target"))
    d.run(redirect_pipes=False)
    seen = []
    h = d.handle_syscall("newfstatat", on_enter=lambda t, h: seen.append((t.debugger.exec_count,
                                                                        t.debugger.arch)))
    arches = []
    d.on_exec(lambda dbg: arches.append((dbg.arch, sorted(dbg.handled_syscalls))))
    d.cont()
    d.wait()
    assert d.exit_code == 12
    assert arches == [("i386", []), ("amd64", [262])]
    assert seen and set(seen) == {(2, "amd64")} and h.hit_count == len(seen)
