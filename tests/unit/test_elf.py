"""The ELF reader and program-path validation (tether.symbols.elf)."""
import os
import re
import shutil
import struct
import subprocess

import pytest
from hypothesis import given, strategies as st

from tether.symbols import elf as elfmod
from tether.symbols.elf import ElfFile
from tether.symbols.program_file import check_program, program_location, shebang

LIBC = "/usr/lib/x86_64-linux-gnu/libc.so.6"

SOURCE = r"""
#include <stdio.h>
int counter = 7;
static int hidden_helper(int x) { return x * 3; }
int alpha(int x) { return hidden_helper(x) + counter; }
int beta(int x) { return alpha(x) - 1; }
int main(void) { printf("%d\n", beta(2)); return 0; }
"""


def _compile(tmp_path, name, *flags, source=SOURCE):
    src = tmp_path / f"{name}.c"
    src.write_text(source)
    out = tmp_path / name
    subprocess.run(["gcc", "-O0", "-g0", "-o", str(out), str(src), *flags], check=True)
    return str(out)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    d = tmp_path_factory.mktemp("elf")
    return {"pie": _compile(d, "pie", "-pie", "-fPIE"),
            "nopie": _compile(d, "nopie", "-no-pie", "-fno-pie"),
            "static": _compile(d, "static", "-static"),
            "object": _compile(d, "object.o", "-c")}


def _nm(path):
    """{name: value} of defined symbols, as binutils' nm reports them."""
    if shutil.which("nm") is None:
        pytest.skip("nm not installed")
    out = subprocess.run(["nm", "--defined-only", path], capture_output=True, text=True).stdout
    table = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3:
            table.setdefault(parts[2], int(parts[0], 16))
    return table


# --- ElfFile ---------------------------------------------------------------------------

def test_pie_header_facts(built):
    e = ElfFile(built["pie"])
    assert e.is_pie and e.elf_type == "DYN"
    assert e.interpreter == "/lib64/ld-linux-x86-64.so.2"
    syms = {s.name: s for s in e.symbols()}
    assert e.entry_point == syms["_start"].value


def test_non_pie_header_facts(built):
    e = ElfFile(built["nopie"])
    assert not e.is_pie and e.elf_type == "EXEC"
    assert e.entry_point >= 0x400000
    assert min(s.vaddr for s in e.load_segments) == 0x400000


def test_static_has_no_interpreter(built):
    e = ElfFile(built["static"])
    assert e.interpreter is None
    assert "main" in {s.name for s in e.symbols()}


@pytest.mark.parametrize("kind", ["pie", "nopie"])
def test_symbols_known_functions(built, kind):
    e = ElfFile(built[kind])
    syms = {s.name: s for s in e.symbols()}
    for name in ("main", "alpha", "beta", "hidden_helper"):
        assert syms[name].kind == "func"
        assert syms[name].size > 0
    assert syms["counter"].kind == "object" and syms["counter"].size == 4
    # printf is undefined in the program: left out.
    assert "printf" not in syms and "printf@GLIBC_2.2.5" not in syms
    # Values agree with nm.
    nm = _nm(built[kind])
    for name in ("main", "alpha", "beta", "hidden_helper", "counter"):
        assert syms[name].value == nm[name]


def test_symbols_are_sorted_and_unique(built):
    syms = ElfFile(built["pie"]).symbols()
    assert [s.value for s in syms] == sorted(s.value for s in syms)
    keys = [(s.name, s.value) for s in syms]
    assert len(keys) == len(set(keys))
    assert all(s.value != 0 for s in syms)


def test_sections(built):
    e = ElfFile(built["pie"])
    names = [s.name for s in e.sections]
    for name in (".text", ".eh_frame", ".eh_frame_hdr", ".symtab", ".dynsym"):
        assert name in names
    text = e.section(".text")
    assert text.size > 0 and text.addr > 0
    assert e.section(".nonexistent") is None
    main = [s for s in e.symbols() if s.name == "main"][0]
    assert text.addr <= main.value < text.addr + text.size


def test_eh_frame_bytes_and_addresses(built):
    e = ElfFile(built["pie"])
    sec = e.section(".eh_frame")
    assert e.eh_frame_addr == sec.addr and len(e.eh_frame) == sec.size
    hdr = e.section(".eh_frame_hdr")
    assert e.eh_frame_hdr_addr == hdr.addr and len(e.eh_frame_hdr) == hdr.size
    assert e.eh_frame_hdr[0] == 1  # .eh_frame_hdr version


def test_load_segments(built):
    e = ElfFile(built["pie"])
    segs = e.load_segments
    assert segs and all(s.type == 1 for s in segs)
    assert any(s.flags & 1 for s in segs)  # an executable segment
    out = subprocess.run(["readelf", "-lW", built["pie"]], capture_output=True, text=True).stdout
    assert len(segs) == len(re.findall(r"^\s*LOAD\s", out, re.M))


def test_build_id_matches_readelf(built):
    e = ElfFile(built["pie"])
    out = subprocess.run(["readelf", "-n", built["pie"]], capture_output=True, text=True).stdout
    m = re.search(r"Build ID: ([0-9a-f]+)", out)
    assert m and e.build_id == m.group(1)


def test_bytes_at_reads_file_image(built):
    e = ElfFile(built["pie"])
    text = e.section(".text")
    raw = open(built["pie"], "rb").read()
    assert e.bytes_at(text.addr, 16) == raw[text.offset:text.offset + 16]
    assert e.bytes_at(0xDEAD0000000, 4) is None


def test_libc_symbols_and_versions():
    e = ElfFile(LIBC)
    syms = e.symbols()
    names = {s.name for s in syms}
    assert {"printf", "malloc", "qsort", "__libc_start_main"} <= names
    by_name = {s.name: s for s in syms}
    assert by_name["printf"].kind == "func"
    # memcpy's default version is an IFUNC; the old GLIBC_2.2.5 one is hidden
    # and keeps its version in the name, as readelf shows it.
    assert by_name["memcpy"].kind == "ifunc"
    assert "memcpy@GLIBC_2.2.5" in names
    assert e.is_pie and e.interpreter  # libc.so.6 is also runnable


def test_libc_dynsym_agrees_with_readelf():
    out = subprocess.run(["readelf", "--dyn-syms", "-W", LIBC], capture_output=True,
                         text=True).stdout
    ours = {(s.name, s.value) for s in ElfFile(LIBC).symbols()}
    checked = 0
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 8 and parts[3] == "FUNC" and parts[6] != "UND":
            name = parts[7].split("@@")[0]
            if "@" in name or "(" in name:
                continue
            assert (name, int(parts[1], 16)) in ours, name
            checked += 1
    assert checked > 1000


def test_cache_returns_same_object_until_file_changes(tmp_path):
    path = _compile(tmp_path, "cached")
    a = ElfFile(path)
    assert ElfFile(path) is a
    assert ElfFile(os.path.join(str(tmp_path), ".", "cached")) is a  # same real path
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    b = ElfFile(path)
    assert b is not a
    assert ElfFile(path) is b
    elfmod.clear_cache()
    assert ElfFile(path) is not b


def test_from_bytes_parses_an_image_in_memory(built):
    raw = open(built["pie"], "rb").read()
    e = ElfFile.from_bytes(raw, "image")
    assert e.path == "image" and e.entry_point == ElfFile(built["pie"]).entry_point
    assert "alpha" in {s.name for s in e.symbols()}
    with pytest.raises(ValueError, match="not an ELF"):
        ElfFile.from_bytes(b"garbage")


def test_from_bytes_reads_the_vdso_of_this_process():
    from tether.memory.maps import read_maps
    vdso = read_maps("self").filter("[vdso]")
    if not vdso:
        pytest.skip("no [vdso] mapped")
    with open("/proc/self/mem", "rb") as mem:
        mem.seek(vdso[0].start)
        image = mem.read(vdso[0].size)
    e = ElfFile.from_bytes(image, "[vdso]")
    assert e.is_pie
    assert any("clock_gettime" in s.name for s in e.symbols())
    assert e.eh_frame_hdr is not None


def test_symbols_are_lazy_and_cached(built):
    e = ElfFile(built["pie"])
    assert e.symbols() is e.symbols()


def test_elffile_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        ElfFile(tmp_path / "missing")
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(ValueError, match="not an ELF"):
        ElfFile(text)
    with pytest.raises(ValueError, match="directory"):
        ElfFile(tmp_path)


def test_sectionless_file_finds_eh_frame_through_header(built, tmp_path):
    """With section headers removed, .eh_frame is found via PT_GNU_EH_FRAME."""
    raw = bytearray(open(built["pie"], "rb").read())
    # Zero e_shoff, e_shnum and e_shstrndx: the file now has no section table.
    struct.pack_into("<Q", raw, 0x28, 0)
    struct.pack_into("<H", raw, 0x3C, 0)
    struct.pack_into("<H", raw, 0x3E, 0)
    stripped = tmp_path / "sectionless"
    stripped.write_bytes(bytes(raw))
    full, bare = ElfFile(built["pie"]), ElfFile(stripped)
    assert bare.sections == [] and bare.symbols() == []
    assert bare.eh_frame_hdr_addr == full.eh_frame_hdr_addr
    assert bare.eh_frame_addr == full.eh_frame_addr
    assert bare.eh_frame[:len(full.eh_frame)] == full.eh_frame
    assert bare.build_id == full.build_id  # from the PT_NOTE segment


# --- check_program ------------------------------------------------------------------------

def _elf_header(cls=2, data=1, machine=62, e_type=2):
    ident = b"\x7fELF" + bytes([cls, data, 1]) + bytes(9)
    return ident + struct.pack("<HHI", e_type, machine, 1) + bytes(64 - 24)


def _write_exec(path, content: bytes):
    path.write_bytes(content)
    path.chmod(0o755)
    return str(path)


def test_check_program_returns_absolute_path(built, monkeypatch):
    monkeypatch.chdir(os.path.dirname(built["pie"]))
    assert check_program("./pie") == built["pie"]
    assert check_program(built["pie"]) == built["pie"]


def test_check_program_searches_path_for_bare_names(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    found = check_program("true")
    assert os.path.isabs(found) and os.path.basename(found) == "true"
    assert found == shutil.which("true")


def test_check_program_falls_back_to_the_current_directory(built, monkeypatch):
    monkeypatch.chdir(os.path.dirname(built["pie"]))
    assert check_program("nopie") == built["nopie"]


def test_check_program_prefers_path_to_the_current_directory(tmp_path, built, monkeypatch):
    # As execvp and libdebug 0.9: PATH first, the current directory only as
    # a fallback.
    _write_exec(tmp_path / "true", open(built["nopie"], "rb").read())
    monkeypatch.chdir(tmp_path)
    assert check_program("true") == shutil.which("true")
    assert program_location("true") == shutil.which("true")
    assert program_location("./true") == str(tmp_path / "true")
    assert program_location("~/x") == os.path.expanduser("~/x")
    assert program_location("no_such_program_xyz") == "no_such_program_xyz"


def test_check_program_takes_scripts_and_checks_their_interpreter(tmp_path):
    script = _write_exec(tmp_path / "script.sh", b"#!/bin/sh\necho hi\n")
    assert check_program(script) == script
    with pytest.raises(FileNotFoundError, match="interpreter '/no/such/sh' does not exist"):
        check_program(_write_exec(tmp_path / "bad.sh", b"#!/no/such/sh -e\n"))
    with pytest.raises(PermissionError, match="interpreter '/etc/passwd' is not executable"):
        check_program(_write_exec(tmp_path / "bad2.sh", b"#! /etc/passwd\n"))


@pytest.mark.parametrize("head, expected", [
    (b"#!/bin/sh\n", ["/bin/sh"]),
    (b"#! /bin/sh -e -x\nexit\n", ["/bin/sh", "-e -x"]),
    (b"#!/usr/bin/env  python3 \n", ["/usr/bin/env", "python3"]),
    (b"#!\n", None),
    (b"#!/bin/sh " + b"a" * 300, ["/bin/sh", "a" * 246]),  # the kernel reads 256 bytes
    (b"\x7fELF", None),
    (b"", None),
])
def test_shebang_table(head, expected):
    assert shebang(head) == expected


@given(st.binary(max_size=300))
def test_shebang_never_fails_and_names_a_word(head):
    got = shebang(head)
    if got is not None:
        assert head.startswith(b"#!") and 1 <= len(got) <= 2
        name = os.fsencode(got[0])
        assert name and not any(c in name for c in b" \t\n")


def test_check_program_missing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError, match="no_such_program_xyz"):
        check_program("no_such_program_xyz")
    with pytest.raises(FileNotFoundError):
        check_program(str(tmp_path / "missing"))
    with pytest.raises(FileNotFoundError):
        check_program("")


def test_check_program_directory_and_not_executable(tmp_path, built):
    with pytest.raises(PermissionError, match="directory"):
        check_program(str(tmp_path))
    copy = tmp_path / "noexec"
    copy.write_bytes(open(built["pie"], "rb").read())
    copy.chmod(0o644)
    with pytest.raises(PermissionError, match="not executable"):
        check_program(str(copy))


def test_check_program_not_elf(tmp_path):
    with pytest.raises(ValueError, match="not an ELF"):
        check_program(_write_exec(tmp_path / "junk", b"just some text\n"))
    with pytest.raises(ValueError, match="empty"):
        check_program(_write_exec(tmp_path / "empty", b""))


def test_check_program_wrong_architecture(tmp_path):
    with pytest.raises(ValueError, match="32-bit ARM"):
        check_program(_write_exec(tmp_path / "arm32", _elf_header(cls=1, machine=40)))
    # i386 is debugged (a 32-bit process on x86-64), but only a whole header:
    # its program header entry size (e_phentsize, at byte 42 of ELF32) must be 32.
    with pytest.raises(ValueError, match="program header size is not 32"):
        check_program(_write_exec(tmp_path / "i386", _elf_header(cls=1, machine=3)))
    i386 = bytearray(_elf_header(cls=1, machine=3))
    struct.pack_into("<H", i386, 42, 32)
    assert check_program(_write_exec(tmp_path / "i386ok", bytes(i386))) == str(tmp_path / "i386ok")
    with pytest.raises(ValueError, match="AArch64"):
        check_program(_write_exec(tmp_path / "arm", _elf_header(machine=183)))
    with pytest.raises(ValueError, match="big-endian"):
        check_program(_write_exec(tmp_path / "be", _elf_header(data=2)))


def test_check_program_object_file(built):
    os.chmod(built["object"], 0o755)
    with pytest.raises(ValueError, match="relocatable"):
        check_program(built["object"])


def test_check_program_type_error():
    with pytest.raises(TypeError):
        check_program(42)


def test_check_program_accepts_pathlike(built):
    import pathlib
    assert check_program(pathlib.Path(built["pie"])) == built["pie"]
