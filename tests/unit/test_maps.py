"""Parsing /proc/<pid>/maps and the addressing modes (tether.memory)."""
import os
import subprocess
import time

import pytest

from tether.memory.addressing import backing_file_of, base_of, maps_of, resolve_address
from tether.memory.maps import (MemoryMap, MemoryMapList, format_maps, parse_maps,
                                program_file, read_maps, strip_deleted)

LIBC = "/usr/lib/x86_64-linux-gnu/libc.so.6"
PROG = "/home/user/my prog/server"

# A realistic maps text with the awkward cases: a path with spaces, a deleted
# file, anonymous maps (with the kernel's trailing space), special names, a
# shared mapping and a library whose name contains "libc".
MAPS_TEXT = f"""\
555555554000-555555555000 r--p 00000000 08:01 1001                       {PROG}
555555555000-555555556000 r-xp 00001000 08:01 1001                       {PROG}
555555556000-555555557000 r--p 00002000 08:01 1001                       {PROG}
555555557000-555555559000 rw-p 00002000 08:01 1001                       {PROG}
555555559000-55555557a000 rw-p 00000000 00:00 0                          [heap]
7ffff7d80000-7ffff7d83000 rw-p 00000000 00:00 0 
7ffff7d83000-7ffff7da9000 r--p 00000000 08:01 2002                       {LIBC}
7ffff7da9000-7ffff7eff000 r-xp 00026000 08:01 2002                       {LIBC}
7ffff7eff000-7ffff7f52000 r--p 0017c000 08:01 2002                       {LIBC}
7ffff7f60000-7ffff7f70000 r-xp 00010000 08:01 3003                       /usr/lib/x86_64-linux-gnu/libcrypto.so.3
7ffff7f80000-7ffff7f81000 rw-s 00000000 00:05 4004                       /memfd:shared buffer (deleted)
7ffff7f90000-7ffff7f91000 r-xp 00000000 08:01 5005                       /tmp/old plugin.so (deleted)
7ffff7fc1000-7ffff7fc5000 r--p 00000000 00:00 0                          [vvar]
7ffff7fc5000-7ffff7fc7000 r-xp 00000000 00:00 0                          [vdso]
7ffff7fc7000-7ffff7fc8000 r--p 00000000 08:01 6006                       /usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2
7ffff7fc8000-7ffff7fef000 r-xp 00001000 08:01 6006                       /usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2
7ffffffde000-7ffffffff000 rw-p 00000000 00:00 0                          [stack]
ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]
"""


@pytest.fixture
def maps():
    return parse_maps(MAPS_TEXT, binary_path=PROG)


# --- parse_maps ------------------------------------------------------------------

def test_parse_fields_of_first_line(maps):
    m = maps[0]
    assert (m.start, m.end, m.permissions, m.size, m.offset, m.backing_file) == (
        0x555555554000, 0x555555555000, "r--p", 0x1000, 0, PROG)
    assert len(maps) == 18


def test_parse_names_with_spaces_deleted_and_special(maps):
    names = [m.backing_file for m in maps]
    assert PROG in names  # spaces kept
    assert "/memfd:shared buffer (deleted)" in names
    assert "/tmp/old plugin.so (deleted)" in names
    for special in ("[heap]", "[stack]", "[vdso]", "[vvar]", "[vsyscall]"):
        assert special in names


def test_anonymous_map_is_named_by_its_start(maps):
    # libdebug's name for it: anon_<start in hex>
    anon = [m for m in maps if m.start == 0x7FFFF7D80000][0]
    assert anon.backing_file == "anon_7ffff7d80000"
    assert anon.is_anonymous and not anon.is_file_backed
    assert maps.filter("anon_7ffff7d80000") == [anon]
    assert not any(m.is_anonymous for m in maps if m.backing_file.startswith(("/", "[")))


def test_permissions_properties(maps):
    text = maps.filter(0x555555555000)[0]
    assert text.is_readable and text.is_executable and not text.is_writable
    data = maps.filter(0x555555557000)[0]
    assert data.is_writable and not data.is_executable
    vsys = maps.filter("vsyscall")[0]
    assert vsys.is_executable and not vsys.is_readable
    shared = maps.filter("memfd")[0]
    assert not shared.is_private


def test_contains_is_half_open(maps):
    m = maps[0]
    assert m.start in m
    assert m.end - 1 in m
    assert m.end not in m
    assert m.start - 1 not in m
    assert "x" not in m


def test_memory_map_is_frozen(maps):
    with pytest.raises(Exception):
        maps[0].start = 0


def test_parse_offset_and_size_in_hex(maps):
    m = maps.filter(0x7FFFF7DA9000)[0]
    assert m.offset == 0x26000
    assert m.size == 0x7FFFF7EFF000 - 0x7FFFF7DA9000


def test_parse_rejects_garbage():
    with pytest.raises(ValueError, match="not a /proc"):
        parse_maps("hello world\n")
    with pytest.raises(TypeError):
        parse_maps(42)


def test_parse_empty_text():
    assert parse_maps("") == []


def test_strip_deleted():
    assert strip_deleted("/tmp/a (deleted)") == "/tmp/a"
    assert strip_deleted("/tmp/a") == "/tmp/a"


def test_parse_real_maps_of_this_process():
    maps = read_maps("self")
    assert maps.filter("[stack]")
    libs = {m.backing_file for m in maps if m.is_file_backed}
    assert any("python" in os.path.basename(name) or "libpython" in name for name in libs)
    # Every address of our own stack variable frame is inside some map.
    assert maps.filter(id(maps))


def test_parse_maps_of_native_process_with_space_in_name(tmp_path):
    """A program in a directory whose name has spaces, read from its maps."""
    folder = tmp_path / "dir with  spaces"
    folder.mkdir()
    exe = folder / "sleeper"
    exe.write_bytes(open("/bin/sleep", "rb").read())
    exe.chmod(0o755)
    proc = subprocess.Popen([str(exe), "5"])
    try:
        deadline = time.monotonic() + 10   # (until the exec is done, however loaded the machine)
        while True:
            maps = read_maps(proc.pid)
            if maps.filter(str(exe)) or time.monotonic() > deadline:
                break
            time.sleep(0.005)
        own = maps.filter(str(exe))
        assert own and all(m.backing_file == str(exe) for m in own)
    finally:
        proc.kill()
        proc.wait()


# --- MemoryMapList.filter ----------------------------------------------------------

def test_filter_by_address(maps):
    found = maps.filter(0x7FFFF7DA9123)
    assert isinstance(found, MemoryMapList)
    assert [m.start for m in found] == [0x7FFFF7DA9000]
    assert maps.filter(0x1000) == []


def test_filter_by_name_substring(maps):
    assert len(maps.filter("libc.so.6")) == 3
    assert len(maps.filter("libc")) == 4  # libcrypto contains "libc" too
    assert len(maps.filter("stack")) == 1
    assert len(maps.filter(LIBC)) == 3


def test_filter_binary_uses_binary_path(maps):
    found = maps.filter("binary")
    assert len(found) == 4 and all(m.backing_file == PROG for m in found)


def test_filter_binary_without_path_is_first_file():
    maps = parse_maps(MAPS_TEXT)
    assert [m.backing_file for m in maps.filter("binary")] == [PROG] * 4


def test_filter_bad_types(maps):
    with pytest.raises(TypeError):
        maps.filter(1.5)
    with pytest.raises(TypeError):
        maps.filter(True)
    with pytest.raises(ValueError):
        maps.filter("")


def test_slice_keeps_type(maps):
    part = maps[1:3]
    assert isinstance(part, MemoryMapList) and len(part) == 2
    assert part.binary_path == PROG


def test_format_maps(maps):
    text = format_maps(maps)
    lines = text.splitlines()
    assert len(lines) == len(maps) + 1
    assert "0x555555554000" in lines[1] and "r--p" in lines[1] and PROG in lines[1]
    assert lines[6].rstrip().endswith("anon_7ffff7d80000")  # anonymous


def test_repr_is_hex(maps):
    assert "start=0x555555554000" in repr(maps[0])


# --- program_file -------------------------------------------------------------------

def test_program_file_by_realpath_and_basename(maps, tmp_path):
    assert program_file(maps, PROG) == PROG
    assert program_file(maps, "/elsewhere/server") == PROG  # same basename
    assert program_file(maps, "/elsewhere/other") is None
    assert program_file(maps, None) == PROG


def test_program_file_through_symlink(tmp_path):
    real = tmp_path / "real_prog"
    real.write_text("x")
    link = tmp_path / "link_prog"
    link.symlink_to(real)
    maps = parse_maps(f"400000-401000 r-xp 00000000 08:01 1 {real}\n")
    assert program_file(maps, str(link)) == str(real)


# --- addressing modes ---------------------------------------------------------------

def test_absolute_is_unchanged(maps):
    assert resolve_address(0x1234, "absolute", maps, PROG) == 0x1234
    assert resolve_address(0x7FFFF7DA9000, "absolute", maps, PROG) == 0x7FFFF7DA9000


def test_binary_is_relative_to_binary_base(maps):
    assert resolve_address(0x1139, "binary", maps, PROG) == 0x555555555139


def test_binary_keeps_addresses_at_or_above_base(maps):
    assert resolve_address(0x555555555139, "binary", maps, PROG) == 0x555555555139


def test_hybrid_mapped_address_is_absolute(maps):
    assert resolve_address(0x7FFFF7DA9010, "hybrid", maps, PROG) == 0x7FFFF7DA9010


def test_hybrid_unmapped_address_is_binary_relative(maps):
    assert resolve_address(0x1139, "hybrid", maps, PROG) == 0x555555555139


def test_library_relative(maps):
    assert resolve_address(0x10, "libc", maps, PROG) == 0x7FFFF7D83010
    assert resolve_address(0x10, "libc.so.6", maps, PROG) == 0x7FFFF7D83010
    assert resolve_address(0x10, "ld", maps, PROG) == 0x7FFFF7FC7010
    assert resolve_address(0x10, "crypto", maps, PROG) == 0x7FFFF7F60010
    assert resolve_address(0x10, "stack", maps, PROG) == 0x7FFFFFFDE010
    assert resolve_address(0x10, LIBC, maps, PROG) == 0x7FFFF7D83010


def test_library_name_prefers_whole_name_component(maps):
    # "libc" also occurs in libcrypto.so.3, but libc.so.6 is the better match.
    assert backing_file_of("libc", maps, PROG) == LIBC
    assert backing_file_of("libcrypto", maps, PROG).endswith("libcrypto.so.3")


def test_deleted_library_matches_without_mark(maps):
    assert backing_file_of("plugin", maps, PROG) == "/tmp/old plugin.so"
    assert base_of("old plugin.so", maps, PROG) == 0x7FFFF7F90000


def test_unknown_library_names_it(maps):
    with pytest.raises(ValueError, match="libfoo"):
        resolve_address(0x10, "libfoo", maps, PROG)


def test_ambiguous_library_names_the_candidates():
    maps = parse_maps(
        "7f0000000000-7f0000001000 r-xp 00000000 08:01 1 /usr/lib/libfoo1.so\n"
        "7f0000010000-7f0000011000 r-xp 00000000 08:01 2 /usr/lib/libfoo2.so\n")
    with pytest.raises(ValueError, match="ambiguous.*libfoo1.*libfoo2"):
        base_of("foo", maps, None)
    assert base_of("libfoo2", maps, None) == 0x7F0000010000


def test_binary_missing_from_maps():
    maps = parse_maps("7f0000000000-7f0000001000 r-xp 00000000 08:01 1 /usr/lib/libx.so\n")
    with pytest.raises(ValueError, match="not in the process"):
        resolve_address(0x10, "binary", maps, "/nowhere/prog")


def test_base_of_modes(maps):
    assert base_of("absolute", maps, PROG) == 0
    assert base_of("binary", maps, PROG) == 0x555555554000
    assert base_of("hybrid", maps, PROG) == 0x555555554000
    assert base_of("libc", maps, PROG) == 0x7FFFF7D83000
    assert [m.start for m in maps_of("ld", maps, PROG)] == [0x7FFFF7FC7000, 0x7FFFF7FC8000]


def test_resolve_address_bad_input(maps):
    with pytest.raises(TypeError):
        resolve_address("0x10", "binary", maps, PROG)
    with pytest.raises(TypeError):
        resolve_address(0x10, None, maps, PROG)
    with pytest.raises(ValueError):
        resolve_address(-1, "absolute", maps, PROG)
    with pytest.raises(ValueError):
        resolve_address(0x10, "", maps, PROG)


def test_non_pie_binary_relative_and_absolute():
    maps = parse_maps(
        "00400000-00401000 r--p 00000000 08:01 7 /opt/nopie\n"
        "00401000-00402000 r-xp 00001000 08:01 7 /opt/nopie\n")
    # An address from the disassembly of a non-PIE program is already absolute.
    assert resolve_address(0x401136, "binary", maps, "/opt/nopie") == 0x401136
    assert resolve_address(0x1136, "binary", maps, "/opt/nopie") == 0x401136
    assert resolve_address(0x1136, "hybrid", maps, "/opt/nopie") == 0x401136


def test_memory_map_constructor_roundtrip():
    m = MemoryMap(0x1000, 0x2000, "rw-p", 0x1000, 0, "")
    assert m.is_writable and 0x1800 in m
