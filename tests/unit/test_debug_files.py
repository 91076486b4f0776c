"""Separate debug files and MiniDebugInfo (tether.symbols.debug_files), on
programs whose symbols were split off with objcopy as distributions do."""
import lzma
import os
import shutil
import subprocess

import pytest
from hypothesis import given, strategies as st

from tether.symbols import debug_files
from tether.symbols.debug_files import (build_id_candidates, debuglink, debuglink_candidates,
                                        file_symbols, find_debug_file, mini_debug_info)
from tether.symbols.elf import ElfFile

LIBC = "/usr/lib/x86_64-linux-gnu/libc.so.6"
HIDDEN = "compare_ints"  # a static function of split_debug.c


def _names(symbols):
    return {s.name for s in symbols}


def _objcopy(*args):
    subprocess.run(["objcopy", *map(str, args)], check=True)


@pytest.fixture
def split(target, tmp_path):
    """split_debug stripped of every symbol (prog) and its debug file
    (prog.debug, linked from prog by .gnu_debuglink)."""
    prog, debug = tmp_path / "prog", tmp_path / "prog.debug"
    shutil.copy(target("split_debug"), prog)
    _objcopy("--only-keep-debug", prog, debug)
    _objcopy("--strip-all", prog)
    _objcopy(f"--add-gnu-debuglink={debug}", prog)
    return prog, debug


def test_a_stripped_program_alone_lacks_the_static_function(split):
    prog, _ = split
    assert HIDDEN not in _names(ElfFile(prog).symbols())
    assert HIDDEN not in _names(file_symbols(ElfFile(prog), level=1))


def test_debuglink_next_to_the_program_gives_its_symbols(split):
    prog, debug = split
    elf = ElfFile(prog)
    assert debuglink(elf)[0] == "prog.debug"
    assert find_debug_file(elf, []).path == str(debug)
    names = _names(file_symbols(elf, level=3))
    assert {HIDDEN, "sort_some", "calls", "main"} <= names


def test_debuglink_in_the_dot_debug_subdirectory(split):
    prog, debug = split
    (prog.parent / ".debug").mkdir()
    debug.rename(prog.parent / ".debug" / "prog.debug")
    assert find_debug_file(ElfFile(prog), []).path == str(prog.parent / ".debug" / "prog.debug")


def test_debuglink_under_a_debug_directory_followed_by_the_programs_directory(split, tmp_path):
    prog, debug = split
    root = tmp_path / "debugroot"
    place = root / str(prog.parent).lstrip("/")
    place.mkdir(parents=True)
    debug.rename(place / "prog.debug")
    assert find_debug_file(ElfFile(prog), []) is None
    assert find_debug_file(ElfFile(prog), [str(root)]).path == str(place / "prog.debug")


def test_a_debug_file_with_another_crc_is_ignored(split):
    prog, debug = split
    with open(debug, "ab") as f:
        f.write(b"another build")
    assert find_debug_file(ElfFile(prog), []) is None
    assert HIDDEN not in _names(file_symbols(ElfFile(prog), level=5))


def test_build_id_directory_finds_the_debug_file(split, tmp_path):
    prog, debug = split
    elf = ElfFile(prog)
    build_id = elf.build_id
    assert build_id
    # No debuglink this time: only the build id can find it.
    _objcopy("--remove-section=.gnu_debuglink", prog)
    elf = ElfFile(prog)
    assert debuglink(elf) is None
    root = tmp_path / "debugroot"
    place = root / ".build-id" / build_id[:2]
    place.mkdir(parents=True)
    debug.rename(place / f"{build_id[2:]}.debug")
    assert find_debug_file(elf, [str(root)]).path == str(place / f"{build_id[2:]}.debug")
    with debug_files_directories([str(root)]):
        assert HIDDEN in _names(file_symbols(elf))


def test_a_build_id_file_of_another_build_is_ignored(split, tmp_path, target):
    prog, _ = split
    _objcopy("--remove-section=.gnu_debuglink", prog)
    elf = ElfFile(prog)
    root = tmp_path / "debugroot"
    place = root / ".build-id" / elf.build_id[:2]
    place.mkdir(parents=True)
    shutil.copy(target("basic"), place / f"{elf.build_id[2:]}.debug")  # another build id
    assert find_debug_file(elf, [str(root)]) is None


class debug_files_directories:
    """Temporarily set settings.debug_directories."""

    def __init__(self, dirs):
        self.dirs = dirs

    def __enter__(self):
        self.old = debug_files.settings.debug_directories
        debug_files.settings.debug_directories = self.dirs

    def __exit__(self, *exc):
        debug_files.settings.debug_directories = self.old


def _with_debugdata(prog, payload, tmp_path):
    blob = tmp_path / "debugdata.xz"
    blob.write_bytes(payload)
    _objcopy(f"--add-section=.gnu_debugdata={blob}", prog)


def test_minidebuginfo_gives_the_static_functions(split, tmp_path):
    prog, debug = split
    _objcopy("--remove-section=.gnu_debuglink", prog)
    # Fedora's recipe, in short: the symbol table of the debug file, xz-compressed.
    mini = tmp_path / "mini"
    _objcopy("--strip-debug", "--remove-section=.gdb_index", debug, mini)
    _with_debugdata(prog, lzma.compress(mini.read_bytes(), format=lzma.FORMAT_XZ), tmp_path)
    elf = ElfFile(prog)
    assert HIDDEN in _names(mini_debug_info(elf).symbols())
    assert HIDDEN in _names(file_symbols(elf, level=2))
    assert HIDDEN not in _names(file_symbols(elf, level=1))


@pytest.mark.parametrize("payload", [b"", b"not xz at all", lzma.compress(b"not an ELF file"),
                                     lzma.compress(b"\x7fELF" + bytes(60))[:-9]],
                         ids=["empty", "garbage", "not-elf", "truncated"])
def test_broken_minidebuginfo_adds_nothing(split, tmp_path, payload):
    prog, _ = split
    _objcopy("--remove-section=.gnu_debuglink", prog)
    if payload:
        _with_debugdata(prog, payload, tmp_path)
    elf = ElfFile(prog)
    assert mini_debug_info(elf) is None
    assert _names(file_symbols(elf, level=2)) == _names(elf.symbols())


def test_a_minidebuginfo_bomb_stops_at_the_bound(split, tmp_path, monkeypatch):
    prog, _ = split
    _objcopy("--remove-section=.gnu_debuglink", prog)
    _with_debugdata(prog, lzma.compress(bytes(8 << 20), format=lzma.FORMAT_XZ), tmp_path)
    monkeypatch.setattr(debug_files, "MAX_DEBUGDATA", 1 << 20)
    assert mini_debug_info(ElfFile(prog)) is None


def test_libc_debug_file_gives_its_internal_symbols():
    """Debian's libc6-dbg (installed by .ci/run): found by build id."""
    elf = ElfFile(LIBC)
    debug = find_debug_file(elf, ["/usr/lib/debug"])
    assert debug is not None and debug.build_id == elf.build_id
    names = _names(file_symbols(elf, level=5))
    assert "main_arena" in names and "main_arena" not in _names(elf.symbols())
    assert any(n.startswith("msort_with_tmp") for n in names)


def test_level_zero_means_no_symbols():
    assert file_symbols(ElfFile(LIBC), level=0) == []


# --- pure logic: names and paths --------------------------------------------


@given(st.binary(max_size=64))
def test_build_id_candidates_only_for_hex_ids(raw):
    text = raw.decode("latin-1")
    paths = build_id_candidates(text, ["/d"])
    if paths:
        assert all(c in "0123456789abcdef" for c in text) and len(text) >= 4
        assert paths == [f"/d/.build-id/{text[:2]}/{text[2:]}.debug"]


def test_build_id_candidates_table():
    assert build_id_candidates("abcdef12", ["/a", "/b"]) == [
        "/a/.build-id/ab/cdef12.debug", "/b/.build-id/ab/cdef12.debug"]
    for bad in (None, "", "abc", "ABCDEF", "ab/../cd", "xyzw"):
        assert build_id_candidates(bad, ["/a"]) == []


def test_debuglink_candidates_are_gdbs():
    assert debuglink_candidates("/usr/bin/prog", "prog.debug", ["/usr/lib/debug"]) == [
        "/usr/bin/prog.debug", "/usr/bin/.debug/prog.debug", "/usr/lib/debug/usr/bin/prog.debug"]


class _Section:
    def __init__(self, data):
        self.size = len(data)


class _FakeElf:
    """Only what debuglink() reads."""

    def __init__(self, data):
        self.data = data

    def section(self, name):
        return _Section(self.data) if self.data is not None else None

    def section_data(self, name):
        return self.data


@pytest.mark.parametrize("data,expected", [
    (b"prog.debug\0\0\x01\x02\x03\x04", ("prog.debug", 0x04030201)),
    (b"abc\0\x01\x00\x00\x00", ("abc", 1)),
    (b"../../etc/shadow\0\0\0\0\0\0\0\0", None),
    (b"dir/file\0\0\0\0\0\0\0\0", None),
    (b"..\0\0\0\0\0\0", None),
    (b"\0\0\0\0\0\0\0\0", None),
    (b"prog.debug\0\0\x01\x02", None),  # CRC cut off
    (b"no terminator", None),
    (b"", None),
    (None, None),
])
def test_debuglink_parsing(data, expected):
    assert debuglink(_FakeElf(data)) == expected


@given(st.binary(max_size=300))
def test_debuglink_never_raises_and_never_names_a_path(data):
    found = debuglink(_FakeElf(data))
    if found is not None:
        name, crc = found
        assert "/" not in name and name not in (".", "..") and 0 <= crc < 2 ** 32


def test_crc_is_zlibs_crc32_as_binutils_writes_it(split):
    """objcopy wrote the CRC; find_debug_file accepted it above, and here the
    value itself is checked against the file."""
    import zlib
    prog, debug = split
    assert debuglink(ElfFile(prog))[1] == zlib.crc32(debug.read_bytes())
    assert os.path.getsize(debug) > 0


def test_libc_debug_file_symbols_agree_with_pyelftools():
    """The oracle: pyelftools reads the same .symtab of libc's debug file
    (the same filter: defined, non-zero, no section/file/TLS symbols)."""
    from elftools.elf.elffile import ELFFile
    debug = find_debug_file(ElfFile(LIBC), ["/usr/lib/debug"])
    expected = set()
    with open(debug.path, "rb") as f:
        for sym in ELFFile(f).get_section_by_name(".symtab").iter_symbols():
            if (sym["st_shndx"] in ("SHN_UNDEF", "SHN_ABS") or not sym["st_value"] or not sym.name
                    or sym["st_info"]["type"] in ("STT_SECTION", "STT_FILE", "STT_TLS")):
                continue
            binding = {"STB_LOCAL": "local", "STB_WEAK": "weak"}.get(sym["st_info"]["bind"], "global")
            expected.add((sym.name.split("@@")[0], sym["st_value"], binding))
    assert len(expected) > 5000
    mine = {(s.name, s.value, s.binding) for s in debug.symbols()}
    # One entry per (name, address): a name both local and global there
    # (memcpy) is kept once, as the global one.
    assert {(n, v) for n, v, _ in mine} == {(n, v) for n, v, _ in expected}
    assert mine <= expected
    both = {(n, v) for n, v, b in expected if b == "local"} & {(n, v) for n, v, b in expected if b != "local"}
    assert both and all((n, v, "local") not in mine for n, v in both)
