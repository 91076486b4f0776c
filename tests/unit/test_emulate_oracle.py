"""The step-over emulator against two independent oracles: unicorn (a CPU
emulator built on QEMU) executes the same instruction on the same registers,
and capstone (a disassembler) measures its length. Property: whenever
tether's emulator accepts bytes, its result is what the CPU does: the same
sixteen registers, the same stack write, the same defined flags, the same
length. The bytes come from the instruction forms function entries use and
from arbitrary bytes (which it must refuse unless it gets them right)."""
import struct

from hypothesis import given, settings, strategies as st

from tether.arch.amd64.registers import GPR_OFFSETS
from tether.runtime.emulate import AF, CF, OF, PF, REG_SLOT, SF, ZF, emulate

import capstone
import unicorn
from elftools.elf.elffile import ELFFile
from unicorn import x86_const as X

CODE, STACK = 0x400000, 0x7000_0000
USER64_CS = 0x33   # the code segment of 64-bit user code (the emulator takes no other)
LIBC = "/lib/x86_64-linux-gnu/libc.so.6"   # (Debian's, as on the CI machine)
NAMES = ["rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi"] + [f"r{i}" for i in range(8, 16)]
UC_REGS = [getattr(X, f"UC_X86_REG_{n.upper()}") for n in NAMES]
EFLAGS_SLOT = 18
STATUS = CF | PF | AF | ZF | SF | OF
# Flags each emulated instruction defines (SDM): the others must be kept.
# TEST leaves AF undefined, so it is not compared there.
DEFINED = {"test": CF | PF | ZF | SF | OF, "sub": STATUS}
_disasm = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)


def regs_buffer(values, eflags):
    buf = bytearray(27 * 8)
    for number, value in enumerate(values):
        struct.pack_into("<Q", buf, REG_SLOT[number] * 8, value)
    struct.pack_into("<Q", buf, EFLAGS_SLOT * 8, eflags)
    struct.pack_into("<Q", buf, GPR_OFFSETS["cs"], USER64_CS)  # a thread running 64-bit code
    return buf


def on_cpu(code, values, eflags):
    """Run `code` once in unicorn: (registers, eflags, stack bytes)."""
    uc = unicorn.Uc(unicorn.UC_ARCH_X86, unicorn.UC_MODE_64)
    uc.mem_map(CODE, 0x1000)
    uc.mem_map(STACK, 0x2000)
    uc.mem_write(CODE, code)
    for r, v in zip(UC_REGS, values):
        uc.reg_write(r, v)
    uc.reg_write(X.UC_X86_REG_EFLAGS, eflags)
    uc.emu_start(CODE, CODE + len(code), count=1)
    return ([uc.reg_read(r) for r in UC_REGS], uc.reg_read(X.UC_X86_REG_EFLAGS),
            uc.reg_read(X.UC_X86_REG_RIP) - CODE, bytes(uc.mem_read(STACK, 0x2000)))


def kind_of(code):
    insn = next(_disasm.disasm(code, CODE), None)
    return insn, (insn.mnemonic if insn else None)


def check(code, values, eflags):
    # rsp inside the mapped stack, so a push lands where both can see it.
    values = list(values)
    values[4] = STACK + 0x1000 + (values[4] & 0xFF8)
    buf = regs_buffer(values, eflags)
    pushes = []
    code = code + b"\x00" * 15   # (what follows the instruction in memory)
    length = emulate(buf, code, lambda a, v: pushes.append((a, v)))
    if length is None:
        return False
    insn, mnemonic = kind_of(code)
    assert insn is not None and insn.size == length, (code.hex(), insn, length)
    cpu_regs, cpu_flags, advanced, stack = on_cpu(code[:length], values, eflags)
    assert advanced == length
    ours = [struct.unpack_from("<Q", buf, REG_SLOT[n] * 8)[0] for n in range(16)]
    assert ours == cpu_regs, (code.hex(), mnemonic)
    defined = DEFINED.get(mnemonic, 0)
    our_flags = struct.unpack_from("<Q", buf, EFLAGS_SLOT * 8)[0]
    assert our_flags & defined == cpu_flags & defined, (code.hex(), mnemonic)
    # What the instruction does not define it keeps.
    assert our_flags & STATUS & ~DEFINED.get(mnemonic, STATUS if mnemonic in DEFINED else 0) \
        == eflags & STATUS & ~DEFINED.get(mnemonic, STATUS if mnemonic in DEFINED else 0)
    for address, value in pushes:
        offset = address - STACK
        assert stack[offset:offset + 8] == value.to_bytes(8, "little"), code.hex()
    if not pushes:
        assert stack == bytes(0x2000)
    return True


u64 = st.integers(0, 2**64 - 1)
registers = st.lists(u64, min_size=16, max_size=16)
flags = st.integers(0, STATUS).map(lambda f: (f & STATUS) | 0x202)
rex_b = st.sampled_from([b"", b"\x41"])
modrm_rr = st.integers(0, 63).map(lambda x: 0xC0 | x)


@st.composite
def entry_forms(draw):
    """The instruction forms at function entries, with random operands."""
    form = draw(st.sampled_from(["push", "mov_imm", "mov_rr", "test", "sub_rsp8", "sub_rsp32",
                                 "nop", "endbr64"]))
    if form == "push":
        return draw(rex_b) + bytes([0x50 + draw(st.integers(0, 7))])
    if form == "mov_imm":
        return draw(rex_b) + bytes([0xB8 + draw(st.integers(0, 7))]) + draw(st.binary(min_size=4, max_size=4))
    if form in ("mov_rr", "test"):
        rex = 0x48 | draw(st.integers(0, 7)) & 0b101
        op = {"mov_rr": draw(st.sampled_from([0x89, 0x8B])), "test": 0x85}[form]
        return bytes([rex, op, draw(modrm_rr)])
    if form == "sub_rsp8":
        return b"\x48\x83\xec" + draw(st.binary(min_size=1, max_size=1))
    if form == "sub_rsp32":
        return b"\x48\x81\xec" + draw(st.binary(min_size=4, max_size=4))
    return {"nop": b"\x90", "endbr64": b"\xf3\x0f\x1e\xfa"}[form]


@settings(max_examples=600, deadline=None)
@given(entry_forms(), registers, flags)
def test_accepted_entry_instructions_do_what_the_cpu_does(code, values, eflags):
    assert check(code, values, eflags), f"{code.hex()} should be emulated"


@settings(max_examples=1500, deadline=None)
@given(st.binary(min_size=1, max_size=15), registers, flags)
def test_arbitrary_bytes_are_refused_or_done_right(code, values, eflags):
    check(code, values, eflags)


def test_the_prologues_of_libc_are_done_right():
    """Every function entry of libc whose first instruction the emulator
    takes, run on unicorn with fixed registers."""
    with open(LIBC, "rb") as f:
        elf = ELFFile(f)
        text = elf.get_section_by_name(".text")
        base, data = text["sh_addr"], text.data()
        starts = sorted({s["st_value"] for sec in elf.iter_sections() if sec.name == ".dynsym"
                         for s in sec.iter_symbols()
                         if s["st_info"]["type"] == "STT_FUNC" and base <= s["st_value"] < base + len(data)})
    values = [0x1111_0000_0000_0000 * (i % 7 + 1) + i for i in range(16)]
    taken = 0
    for start in starts:
        code = data[start - base:start - base + 15]
        taken += check(code, values, 0x246)
    assert taken > len(starts) // 2   # most of libc's entries start with endbr64 or a push
