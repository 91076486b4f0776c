"""The architecture layer: the i386 table against its sources (the
kernel's asm/unistd_32.h, the ELF32 files gcc -m32 writes, read by
pyelftools), its register names over the x86-64 register buffer, and the
formatting of 32-bit calls."""
import re
import struct

import pytest
from elftools.elf.elffile import ELFFile
from hypothesis import given, settings
from hypothesis import strategies as st

from tether.arch import AMD64, ARCHES, I386, arch_named, arch_of_elf_header
from tether.arch.amd64.registers import GPR_OFFSETS, GPR_SIZE, format_registers, frozen_registers
from tether.arch.amd64.syscalls import format_syscall
from tether.arch.i386 import syscall_table as i386
from tether.arch.i386.registers import Registers as I386Registers
from tether.symbols.elf import ElfFile

UNISTD_32 = "/usr/include/x86_64-linux-gnu/asm/unistd_32.h"


class Cache:
    """The register-cache protocol over plain buffers (as a Task gives)."""

    def __init__(self):
        self.buf = bytearray(GPR_SIZE)
        self.dirty = False

    def gpr(self):
        return self.buf

    def gpr_dirty(self):
        self.dirty = True

    def xstate(self):
        return bytearray()


def field(cache, name):
    return struct.unpack_from("<Q", cache.buf, GPR_OFFSETS[name])[0]


# ------------------------------------------------------------------ the tables
def test_every_architecture_is_listed_by_its_name():
    assert ARCHES == {"amd64": AMD64, "i386": I386}
    assert arch_named("i386") is I386
    with pytest.raises(ValueError, match="aarch64"):
        arch_named("aarch64")


def test_i386_syscall_numbers_are_the_kernels():
    with open(UNISTD_32) as f:
        header = dict((int(n), name) for name, n in re.findall(r"#define __NR_(\w+)\s+(\d+)", f.read()))
    assert len(header) > 400
    for number, name in header.items():
        assert i386.SYSCALL_NAMES[number] == name
        assert I386.syscall_number(name) == number
    # Numbers from 424 on are shared by every architecture.
    assert all(AMD64.syscall_name(n) == I386.syscall_name(n) for n in range(424, 470))
    assert (I386.sys_ptrace, I386.sys_execve) == (26, 11)
    assert (AMD64.sys_ptrace, AMD64.sys_execve) == (101, 59)


def test_i386_syscall_convention():
    assert I386.syscall_arg_regs == ("ebx", "ecx", "edx", "esi", "edi", "ebp")
    def fields(*names):
        return tuple(GPR_OFFSETS[name] for name in names)
    assert I386.syscall_arg_offsets == fields("rbx", "rcx", "rdx", "rsi", "rdi", "rbp")
    assert AMD64.syscall_arg_offsets == fields("rdi", "rsi", "rdx", "r10", "r8", "r9")
    with pytest.raises(ValueError, match="unknown i386 syscall name 'newfstatat'"):
        I386.syscall_number("newfstatat")
    # the kernel's entry-point names (syscall_32.tbl), as libdebug names them
    assert (I386.syscall_number("mmap_pgoff"), I386.syscall_number("old_mmap")) == (192, 90)
    assert I386.syscall_number("fstatat") == I386.syscall_number("fstatat64") == 300


@pytest.mark.parametrize("head, arch", [
    (b"\x7fELF\x01\x01\x01" + bytes(9) + struct.pack("<HH", 2, 3), I386),
    (b"\x7fELF\x02\x01\x01" + bytes(9) + struct.pack("<HH", 3, 62), AMD64),
    (b"\x7fELF\x01\x01\x01" + bytes(9) + struct.pack("<HH", 2, 40), None),    # 32-bit ARM
    (b"\x7fELF\x02\x01\x01" + bytes(9) + struct.pack("<HH", 2, 183), None),   # AArch64
    (b"\x7fELF\x02\x01\x01" + bytes(9) + struct.pack("<HH", 2, 3), None),     # class/machine mismatch
    (b"#!/bin/sh\n" + bytes(10), None),
    (b"\x7fELF", None),
])
def test_arch_of_elf_header(head, arch):
    assert arch_of_elf_header(head) is arch


# ------------------------------------------------------------------ registers
def test_i386_names_over_the_x86_64_buffer():
    cache = Cache()
    regs = I386Registers(cache)
    struct.pack_into("<Q", cache.buf, GPR_OFFSETS["rax"], 0x11223344)
    assert (regs.eax, regs.ax, regs.al, regs.ah) == (0x11223344, 0x3344, 0x44, 0x33)
    regs.ah = 0xAB
    assert field(cache, "rax") == 0x1122AB44 and cache.dirty
    regs.eip = 0x08049000
    regs.esp = 0xFFFFD000
    assert (field(cache, "rip"), field(cache, "rsp")) == (0x08049000, 0xFFFFD000)
    assert repr(regs) == "<Registers eip=0x8049000 esp=0xffffd000>"
    assert "orig_eax" in dir(regs) and "rax" not in dir(regs)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["eax", "ebx", "ecx", "edx", "esi", "edi", "ebp", "esp", "eip", "eflags", "orig_eax"]),
       st.integers(0, (1 << 64) - 1), st.integers(0, (1 << 32) - 1))
def test_a_32_bit_write_zero_extends_its_field(name, before, value):
    cache = Cache()
    regs = I386Registers(cache)
    full = {"eip": "rip", "eflags": "eflags", "orig_eax": "orig_rax"}.get(name, "r" + name[1:])
    struct.pack_into("<Q", cache.buf, GPR_OFFSETS[full], before)
    assert getattr(regs, name) == before & 0xFFFFFFFF
    setattr(regs, name, value)
    assert field(cache, full) == value
    # every other field is untouched
    assert all(field(cache, other) == 0 for other in GPR_OFFSETS if other != full)


def test_frozen_and_formatted_i386_registers():
    buf = bytearray(GPR_SIZE)
    struct.pack_into("<Q", buf, GPR_OFFSETS["rip"], 0x565561BD)
    struct.pack_into("<Q", buf, GPR_OFFSETS["cs"], 0x23)
    regs = frozen_registers(buf, None, I386.registers)
    assert regs.eip == 0x565561BD
    with pytest.raises(RuntimeError, match="read-only"):
        regs.eax = 1
    with pytest.raises(AttributeError, match="i386 register 'rip'"):
        regs.rip
    text = format_registers(regs)
    assert "eip      0x565561bd" in text and "cs       0x0023" in text and "rip" not in text


# ------------------------------------------------------------------ formatting
def test_format_a_32_bit_call():
    memory = bytearray(0x4000)   # mapped at 0..0x4000
    for address, data in {0x1000: b"/etc/passwd\0", 0x2000: struct.pack("<III", 0x3000, 0x3010, 0),
                          0x3000: b"ls\0", 0x3010: b"-l\0"}.items():
        memory[address:address + len(data)] = data

    def read(address, size=64):
        if not 0 < address < len(memory):
            raise OSError("unmapped")
        return bytes(memory[address:address + size])
    # argv is an array of 4-byte pointers; -ENOENT comes back as a 32-bit eax.
    line = format_syscall(I386.syscall_number("execve"), [0x1000, 0x2000, 0, 0, 0, 0], read,
                          ret=0xFFFFFFFE, read_memory=read, table=i386)
    assert line == 'execve("/etc/passwd", ["ls", "-l"], NULL) = -1 ENOENT (No such file or directory)'
    # A pointer returned by mmap2 above 2 GiB is not an error.
    line = format_syscall("mmap2", [0, 4096, 3, 0x22, 0xFFFFFFFF, 0], table=i386, ret=0xF7F00000)
    assert line == "mmap2(NULL, 4096, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0xf7f00000"
    assert format_syscall(4, [1, 0, 3], table=i386) == "write(1, NULL, 3)"
    # long arguments are 32 bits wide
    assert format_syscall("lseek", [3, 0xFFFFFFFF, 1], table=i386, ret=5) == "lseek(3, -1, SEEK_CUR) = 5"


# ------------------------------------------------------------------ ELF32
def test_elf32_symbols_and_segments_match_pyelftools(tmp_path):
    import subprocess
    src = tmp_path / "t.c"
    src.write_text("int counter = 3;\n"
                   "int f(int x) { return x + counter; }\n"
                   "int main(void) { return f(1); }\n")
    out = tmp_path / "t"
    subprocess.run(["gcc", "-m32", "-g", "-o", str(out), str(src)], check=True)
    ours = ElfFile(str(out))
    assert ours.word == 4
    with open(out, "rb") as f:
        theirs = ELFFile(f)
        assert theirs.elfclass == 32
        assert ours.entry_point == theirs["e_entry"]
        loads = [(s["p_vaddr"], s["p_memsz"], s["p_offset"], s["p_flags"])
                 for s in theirs.iter_segments() if s["p_type"] == "PT_LOAD"]
        assert [(s.vaddr, s.memsz, s.offset, s.flags) for s in ours.load_segments] == loads
        symtab = theirs.get_section_by_name(".symtab")
        for name in ("f", "main", "counter"):
            sym = symtab.get_symbol_by_name(name)[0]
            found = [s for s in ours.symbols() if s.name == name]
            assert [(s.value, s.size) for s in found] == [(sym["st_value"], sym["st_size"])]
        assert ours.eh_frame_hdr_addr == theirs.get_section_by_name(".eh_frame_hdr")["sh_addr"]


# ------------------------------------------------------------------ exec across architectures
def test_an_exec_renumbers_syscall_handlers_and_filters_by_name():
    from types import SimpleNamespace

    from tether.runtime.tree import renumber_syscalls
    from tether.state.stopping_events import SyscallHandler

    write = SyscallHandler(1, "write", None, None, False, None)
    hijack = SyscallHandler(39, "getpid", None, None, False, None)
    hijack.hijack_to = 110                      # getpid -> getppid
    stat = SyscallHandler(262, "newfstatat", None, None, False, None)   # no i386 twin
    execing = SimpleNamespace(in_syscall=True, syscall_nr=59)           # in its execve
    idle = SimpleNamespace(in_syscall=False, syscall_nr=None)
    proc = SimpleNamespace(arch=AMD64, syscall_handlers={1: write, 39: hijack, 262: stat},
                           pprint_only={1, 262}, pprint_hidden=None,
                           tasks={1: execing, 2: idle}, dormant_syscalls=())
    renumber_syscalls(proc, I386)
    assert proc.arch is I386
    assert proc.syscall_handlers == {4: write, 20: hijack}
    assert (write.syscall_number, hijack.syscall_number, hijack.hijack_to) == (4, 20, 64)
    assert proc.pprint_only == {4} and proc.pprint_hidden is None
    assert execing.syscall_nr == 11 and idle.syscall_nr is None
    assert proc.dormant_syscalls == ((stat, None),)
    renumber_syscalls(proc, AMD64)                # and back: newfstatat is handled again
    assert proc.syscall_handlers == {1: write, 39: hijack, 262: stat} and hijack.hijack_to == 110
    assert proc.pprint_only == {1} and execing.syscall_nr == 59 and proc.dormant_syscalls == ()


# ------------------------------------------------------------------ .eh_frame of ELF32
def _eh_frame_32(augmentation: bytes, aug_data: bytes):
    """A CIE (code align 1, data align -4, return address column 8 = eip,
    DW_CFA_def_cfa esp+4, DW_CFA_offset eip at cfa-4) and one FDE of
    0x8049000..0x8049020 whose addresses are 4-byte absolute pointers."""
    body = b"\x01" + augmentation + b"\0" + b"\x01\x7c\x08"
    if augmentation.startswith(b"z"):
        body += bytes([len(aug_data)]) + aug_data
    body += b"\x0c\x04\x04" + b"\x88\x01"
    body += bytes(-(len(body) + 8) % 4)
    cie = struct.pack("<II", len(body) + 4, 0) + body
    fde_body = struct.pack("<II", 0x8049000, 0x20)
    if augmentation.startswith(b"z"):
        fde_body += b"\x00"
    fde_body += b"\x41\x0e\x08" + bytes(-(len(fde_body) + 3 + 8) % 4)
    fde = struct.pack("<II", len(fde_body) + 4, len(cie) + 4) + fde_body
    return cie + fde + bytes(4)


@pytest.mark.parametrize("augmentation, aug_data", [(b"", b""), (b"zR", b"\x00")])
def test_absolute_pointers_of_a_32_bit_eh_frame_are_4_bytes(augmentation, aug_data):
    from types import SimpleNamespace

    from tether.symbols.eh_frame import EhFrame
    data = _eh_frame_32(augmentation, aug_data)
    elf = SimpleNamespace(eh_frame=data, eh_frame_addr=0x804a000, word=4,
                          section=lambda name: None)
    fde = EhFrame(elf, use_search_table=False).find(0x8049010)
    assert (fde.pc_begin, fde.pc_end) == (0x8049000, 0x8049020)
    assert fde.cie.ra_reg == I386.dwarf_ip and fde.cie.data_align == -4
