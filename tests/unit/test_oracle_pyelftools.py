"""tether's ELF reader and .eh_frame unwinder against pyelftools, the
field's ELF/DWARF library, as an oracle on the system's own binaries: libc,
the dynamic loader and the coreutils. tether keeps its own parser for speed
(libc's symbols in a few ms where pyelftools takes tens); these tests say it
reads the same things."""
import glob
import os

import pytest
from elftools.elf.elffile import ELFFile
from hypothesis import given, settings, strategies as st

from tether.symbols.cfa_program import row_for
from tether.symbols.eh_frame import EhFrame
from tether.symbols.elf import ElfFile

LIBC = "/lib/x86_64-linux-gnu/libc.so.6"
LD_SO = "/lib64/ld-linux-x86-64.so.2"
COREUTILS = ["ls", "cp", "cat", "sort", "true", "env", "date", "install"]
BINARIES = [LIBC, LD_SO] + [os.path.realpath(f"/usr/bin/{n}") for n in COREUTILS]
# DWARF register numbers (x86-64 psABI): rbx, rbp, r12-r15, return address.
CALLEE_SAVED = (3, 6, 12, 13, 14, 15, 16)


def oracle(path):
    f = open(path, "rb")
    return f, ELFFile(f)


@pytest.mark.parametrize("path", BINARIES, ids=os.path.basename)
def test_sections_and_segments_agree(path):
    ours = ElfFile(path)
    f, elf = oracle(path)
    with f:
        theirs = [(s.name, s["sh_addr"], s["sh_offset"], s["sh_size"]) for s in elf.iter_sections()]
        segments = [(p["p_type"], p["p_vaddr"], p["p_memsz"], p["p_offset"], p["p_filesz"])
                    for p in elf.iter_segments()]
        interp = next((p.get_interp_name() for p in elf.iter_segments() if p["p_type"] == "PT_INTERP"), None)
    assert [(s.name, s.addr, s.offset, s.size) for s in ours.sections] == theirs
    assert [(s.vaddr, s.memsz, s.offset, s.filesz) for s in ours.segments] == [x[1:] for x in segments]
    assert ours.interpreter == interp
    assert ours.is_pie == (elf.header["e_type"] == "ET_DYN")


@pytest.mark.parametrize("path", BINARIES, ids=os.path.basename)
def test_build_id_agrees(path):
    f, elf = oracle(path)
    with f:
        ids = [n["n_desc"] for s in elf.iter_sections() if s["sh_type"] == "SHT_NOTE"
               for n in s.iter_notes() if n["n_type"] == "NT_GNU_BUILD_ID"]
    ours = ElfFile(path).build_id
    ours = ours.hex() if isinstance(ours, (bytes, bytearray)) else ours
    assert ours == (ids[0] if ids else None)


def _their_symbols(elf):
    """(name, value) of the symbols tether keeps: defined, non-zero, not
    section/file/TLS; .dynsym names of a hidden or non-default version
    carry "@VERSION" in tether, so only the base name is compared."""
    out = set()
    for sec in elf.iter_sections():
        if sec["sh_type"] not in ("SHT_SYMTAB", "SHT_DYNSYM"):
            continue
        for sym in sec.iter_symbols():
            kind = sym["st_info"]["type"]
            if sym["st_shndx"] == "SHN_UNDEF" or sym["st_value"] == 0 or not sym.name \
                    or kind in ("STT_SECTION", "STT_FILE", "STT_TLS"):
                continue
            out.add((sym.name, sym["st_value"]))
    return out


@pytest.mark.parametrize("path", BINARIES, ids=os.path.basename)
def test_symbols_agree(path):
    f, elf = oracle(path)
    with f:
        theirs = _their_symbols(elf)
    ours = {(s.name.split("@")[0], s.value) for s in ElfFile(path).symbols()}
    assert ours == theirs


def _fdes(path):
    """pyelftools' FDEs of the file's .eh_frame, each with its decoded table."""
    f, elf = oracle(path)
    with f:
        dwarf = elf.get_dwarf_info()
        entries = [e for e in dwarf.EH_CFI_entries()
                   if hasattr(e, "header") and "initial_location" in e.header]
        out = []
        for e in entries:
            try:
                table = e.get_decoded().table
            except Exception:
                # pyelftools' own limit: it can't decode DW_CFA_GNU_args_size
                # (0x2e), which a few libc functions use. Those are left out.
                continue
            out.append((e.header["initial_location"], e.header["address_range"], table))
        assert len(out) > 0.9 * len(entries)
        return out


_FDES = {}


def fdes_of(path):
    if path not in _FDES:
        _FDES[path] = _fdes(path)
    return _FDES[path]


def _their_rule(rule):
    """pyelftools' RegisterRule as tether's Row rule tuple (None: not comparable)."""
    kind = rule.type
    if kind == "OFFSET":
        return ("offset", rule.arg)
    if kind == "VAL_OFFSET":
        return ("val_offset", rule.arg)
    if kind == "REGISTER":
        return ("register", rule.arg)
    if kind == "SAME_VALUE":
        return ("same",)
    if kind == "UNDEFINED":
        return ("undefined",)
    return None   # expressions: compared by kind below


@pytest.mark.parametrize("path", [LIBC, LD_SO], ids=os.path.basename)
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_unwind_rows_agree(path, data):
    """At a random row of a random FDE: the same FDE found for its pc, the
    same CFA rule and the same rules for the callee-saved registers and the
    return address."""
    fdes = fdes_of(path)
    begin, size, table = data.draw(st.sampled_from(fdes))
    row = data.draw(st.sampled_from(table))
    pc = row["pc"]
    elf = ElfFile(path)
    frame = EhFrame(elf)
    fde = frame.find(pc)
    assert fde is not None and (fde.pc_begin, fde.pc_end) == (begin, begin + size)
    ours = row_for(fde, pc, frame.data_base)
    cfa = row["cfa"]
    if cfa.expr is None:
        assert ours.cfa == ("reg", cfa.reg, cfa.offset)
    else:
        assert ours.cfa[0] == "expr"
    for reg in CALLEE_SAVED:
        theirs = row.get(reg)
        mine = ours.rules.get(reg)
        if theirs is None:
            assert mine is None or mine == ("same",), (hex(pc), reg, mine)
            continue
        expected = _their_rule(theirs)
        if expected is None:
            assert mine is not None and mine[0] in ("expr", "val_expr"), (hex(pc), reg, mine)
        else:
            assert mine == expected, (hex(pc), reg, mine, theirs)


@pytest.mark.parametrize("path", [LIBC, LD_SO], ids=os.path.basename)
def test_every_fde_is_found_at_its_start(path):
    frame = EhFrame(ElfFile(path))
    for begin, size, _ in fdes_of(path):
        if size == 0:
            continue
        fde = frame.find(begin)
        assert fde is not None and (fde.pc_begin, fde.pc_end) == (begin, begin + size), hex(begin)


def test_the_binaries_exist():
    """The oracle tests above read these Debian paths (the CI machine's)."""
    missing = [p for p in BINARIES if not os.path.exists(p)]
    assert not missing, missing
    assert glob.glob("/usr/bin/*")
