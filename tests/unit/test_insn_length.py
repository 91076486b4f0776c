"""The x86-64 instruction length decoder (native/displaced.c) and the
displaced-step plan, against objdump as the oracle: every instruction of a
whole libc's .text, decoded from the bytes that follow it in the section."""
import re
import subprocess
import tempfile
from pathlib import Path

import pytest

from tether import _native as native

pytestmark = pytest.mark.timeout(120)

LINE = re.compile(r"^\s*([0-9a-f]+):\t([0-9a-f]{2}(?: [0-9a-f]{2})*)\s*\t?(.*)$")
# A line of objdump that is not one whole instruction: invalid bytes, or a
# prefix it prints on its own (then the decoder sees it with what follows).
NOT_ONE_INSN = re.compile(r"^\(bad\)|^(rex(\.\w+)?|data16|addr32|cs|ds|es|ss|fs|gs|lock|rep\w*|bnd|notrack)\s*$")


def _libc() -> Path:
    out = subprocess.run(["ldd", "/bin/sh"], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        if "libc.so" in line and "=>" in line:
            return Path(line.split("=>")[1].split()[0])
    pytest.fail("no libc found in `ldd /bin/sh`")


def _disassemble(path, extra=()) -> list:
    """[(offset, bytes, text)] of every instruction objdump prints."""
    out = subprocess.run(["objdump", "-d", "-z", "--insn-width=16", *extra, str(path)],
                         capture_output=True, text=True, check=True).stdout
    rows = []
    for line in out.splitlines():
        m = LINE.match(line)
        if m:
            rows.append((int(m.group(1), 16), bytes.fromhex(m.group(2).replace(" ", "")),
                         m.group(3).strip()))
    return rows


@pytest.fixture(scope="module")
def libc_text():
    rows = _disassemble(_libc(), ["-j", ".text"])
    assert len(rows) > 50_000
    start = rows[0][0]
    section = bytearray()
    for offset, data, _ in rows:
        assert offset == start + len(section), "objdump skipped bytes"
        section += data
    return start, bytes(section), rows


def test_lengths_match_objdump_over_libc(libc_text):
    start, section, rows = libc_text
    checked, wrong = 0, []
    for offset, data, text in rows:
        if NOT_ONE_INSN.match(text):
            continue
        at = offset - start
        got = native.insn_length(section[at:at + 15])
        checked += 1
        if got != len(data):
            wrong.append(f"{offset:x}: {data.hex(' ')} {text!r}: objdump {len(data)}, decoder {got}")
    assert checked > 50_000
    assert not wrong, f"{len(wrong)} of {checked} wrong:\n" + "\n".join(wrong[:40])


def test_rip_relative_rewrite_keeps_the_instruction(libc_text):
    """Every RIP-relative instruction of libc, as the displaced-step plan
    rewrites it for the slot, is (for objdump) the same instruction with
    the same displacement from the scratch register instead of rip, then
    the int3 that ends the step."""
    start, section, rows = libc_text
    originals, blob = [], bytearray()
    seen = set()
    for offset, data, text in rows:
        if "(%rip)" not in text or data in seen:
            continue
        seen.add(data)
        plan = native.displace_plan(section[offset - start:offset - start + 15])
        if plan is None:
            # Not movable: only branches through memory (call/jmp *x(%rip)).
            assert re.match(r"^(notrack )?(call|jmp)", text), text
            continue
        length, slot, scratch = plan
        assert length == len(data) and slot[-1] == 0xCC and len(slot) == length + 1
        assert scratch in (6, 7)
        originals.append((text, scratch))
        blob += slot
    assert len(originals) > 1000
    with tempfile.NamedTemporaryFile(suffix=".bin") as f:
        f.write(blob)
        f.flush()
        rows2 = _disassemble(f.name, ["-D", "-b", "binary", "-m", "i386:x86-64"])
    texts = [t for _, _, t in rows2]
    assert len(texts) == 2 * len(originals)
    for i, (text, scratch) in enumerate(originals):
        new = texts[2 * i]
        name = "%rsi" if scratch == 6 else "%rdi"
        expected = re.sub(r"\s+#.*$", "", text).replace("(%rip)", f"({name})")
        assert re.sub(r"\s+", " ", new) == re.sub(r"\s+", " ", expected), (text, new)
        assert texts[2 * i + 1] == "int3"


@pytest.mark.parametrize("code, movable", [
    ("c3", False), ("e8 00 00 00 00", False), ("eb fe", False), ("74 00", False),
    ("0f 84 00 00 00 00", False), ("ff d0", False), ("ff 25 00 00 00 00", False),
    ("0f 05", False), ("cd 80", False), ("cc", False), ("c7 f8 00 00 00 00", False),
    ("e2 fe", False), ("f4", False),
    ("f0 48 ff 05 00 00 00 00", True), ("0f a2", True), ("f3 48 a5", True),
    ("66 0f 6f 05 00 01 00 00", True), ("c5 f8 77", True), ("ff 35 00 00 00 00", True),
])
def test_what_may_run_out_of_line(code, movable):
    data = bytes.fromhex(code) + b"\x90" * 15
    assert (native.displace_plan(data) is not None) is movable
    assert native.insn_length(data) == len(bytes.fromhex(code))


def test_scratch_avoids_the_registers_the_instruction_names():
    # mov 0x0(%rip),%rsi: rsi is the destination, so rdi holds the address
    _, slot, scratch = native.displace_plan(bytes.fromhex("48 8b 35 00 00 00 00") + b"\x90" * 8)
    assert scratch == 7 and slot[:3] == bytes.fromhex("48 8b b7")
    # andn 0x0(%rip),%rsi,%rdi (VEX.vvvv = rsi, reg = rdi): no scratch left
    assert native.displace_plan(bytes.fromhex("c4 e2 48 f2 3d 00 00 00 00") + b"\x90" * 8) is None
    # a REX.B on a RIP-relative operand is ignored by the CPU; cleared for the scratch
    _, slot, _ = native.displace_plan(bytes.fromhex("49 8b 05 00 00 00 00") + b"\x90" * 8)
    assert slot[0] == 0x48


def test_truncated_and_invalid_input():
    assert native.insn_length(b"") == 0
    assert native.insn_length(b"\x48") == 0
    assert native.insn_length(b"\x66" * 15) == 0
    assert native.insn_length(bytes.fromhex("b8 00 00")) == 0
    assert native.insn_length(b"\x06") == 0   # push es: invalid in 64-bit mode
    assert native.displace_plan(b"") is None


def test_the_slot_fits_in_glibcs_entry_code_only():
    from tether.runtime.displaced import entry_fits
    # glibc's _start: endbr64; xor %ebp,%ebp; mov %rdx,%r9; pop %rsi;
    # mov %rsp,%rdx; and $-16,%rsp; push %rax; push %rsp; ...
    glibc = bytes.fromhex("f30f1efa 31ed 4989d1 5e 4889e2 4883e4f0 50 54 4531c0 31c9"
                          " 488b3d00000000 ff1500000000 f4")
    assert entry_fits(glibc)
    # A Go program's entry is one jmp, other functions follow.
    assert not entry_fits(bytes.fromhex("e9 00 10 00 00") + b"\x55" * 30)
    # A hand-written _start shorter than the slot: call main; exit(...)
    assert not entry_fits(bytes.fromhex("e8 00 00 00 00 89c7 b83c000000 0f05 cc cc") + b"\x90" * 20)
    # A branch that ends past the slot's 16 bytes leaves them all entry code.
    assert entry_fits(b"\x90" * 14 + bytes.fromhex("e8 00 00 00 00") + b"\x90" * 12)


def test_the_slot_fits_in_a_compiled_programs_entry(target):
    from elftools.elf.elffile import ELFFile

    from tether.runtime.displaced import entry_fits
    with open(target("basic"), "rb") as f:
        elf = ELFFile(f)
        entry = elf.header.e_entry
        text = next(s for s in elf.iter_sections()
                    if s["sh_addr"] <= entry < s["sh_addr"] + s["sh_size"])
        code = text.data()[entry - text["sh_addr"]:][:31]
    assert entry_fits(code)
