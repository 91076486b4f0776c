"""Traced programs that map hostile files, and programs whose ELF header is
corrupt where the kernel does not look (issue 18, items 3 and 4)."""
import os
import shutil
import struct
import subprocess
import sys
import textwrap

import pytest

from tether import debugger
from tether.symbols.elf import ElfFile

LIBC = "/usr/lib/x86_64-linux-gnu/libc.so.6"
GIB = 1 << 30

# Runs in a fresh interpreter, so that its peak RSS (ru_maxrss) is tether's
# alone: the traced program maps the files given, tether stops it and loads
# every symbol and unwind table of its maps.
RSS_SCRIPT = textwrap.dedent("""
    import resource, sys
    from tether import debugger
    start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    d = debugger(sys.argv[1:], kill_on_exit=True)
    d.run(redirect_pipes=False)
    try:
        d.breakpoint("mapped", file="binary")
        d.cont()
        d.wait()
        names = {s.backing_file for s in d.symbols}
        frames = d.backtrace(as_symbols=True)
        d.create_snapshot("base").symbols
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(start, peak, frames[0], len(names), flush=True)
    finally:
        d.kill()
""")


def test_symbol_loading_of_a_process_mapping_1gib_files_stays_small(target, tmp_path):
    data = tmp_path / "data.bin"       # 1 GiB of nothing: not ELF
    with open(data, "wb") as f:
        f.truncate(GIB)
    lib = tmp_path / "libpadded.so"    # a real ELF file padded with a 1 GiB hole
    shutil.copyfile(LIBC, lib)
    with open(lib, "r+b") as f:
        f.truncate(GIB)
    out = subprocess.run([sys.executable, "-c", RSS_SCRIPT, target("map_file"), str(data), str(lib)],
                         capture_output=True, text=True, timeout=50)
    assert out.returncode == 0, out.stderr
    start_kib, peak_kib, frame0, files = out.stdout.split()
    assert frame0 == "mapped" and int(files) >= 3  # the program, libc, libpadded.so
    # Reading either file whole would add 1 GiB; tether's own tables are a few MiB.
    assert int(peak_kib) - int(start_kib) < 128 * 1024


def _corrupt(src, dest, section_headers: bool):
    """A copy of `src` whose e_ident class, byte order and version bytes lie
    (and, with section_headers, whose section header table is garbage): the
    kernel still runs it (fs/binfmt_elf.c checks none of these)."""
    raw = bytearray(open(src, "rb").read())
    raw[4], raw[5], raw[6] = 1, 2, 0       # "32-bit", "big-endian", version 0
    if section_headers:
        struct.pack_into("<Q", raw, 0x28, 2 ** 63)   # e_shoff far past the end
        struct.pack_into("<HHH", raw, 0x3A, 1, 0xFFFF, 0xFFFE)  # shentsize, shnum, shstrndx
    with open(dest, "wb") as f:
        f.write(raw)
    os.chmod(dest, 0o755)
    return str(dest)


@pytest.mark.parametrize("section_headers", [False, True], ids=["ident", "ident+sections"])
def test_a_program_with_a_corrupt_header_the_kernel_runs_is_debuggable(target, tmp_path,
                                                                       section_headers):
    original = target("basic")
    path = _corrupt(original, tmp_path / "corrupt", section_headers)
    assert subprocess.run([path], capture_output=True, timeout=10).returncode == 7
    g = {s.name: s.value for s in ElfFile(original).symbols()}["g"]
    d = debugger([path])
    try:
        d.run(redirect_pipes=False)
        bp = d.breakpoint(g, file="binary")  # by offset: works without section headers
        d.cont()
        d.wait()
        assert bp.hit_count == 1 and d.regs.rip == bp.address
        names = {s.name for s in d.symbols}
        assert ("g" in names) != section_headers   # a program without sections has no symbols
        assert "malloc" in names                    # the other files' symbols are there
        assert len(d.backtrace()) >= 3              # g <- f <- main, from PT_GNU_EH_FRAME
        if not section_headers:
            g_name, f_name, main_name = d.backtrace(as_symbols=True)[:3]
            assert g_name == "g" and f_name.startswith("f+") and main_name.startswith("main+")
        bp.disable()
        d.cont()
        d.wait()
        assert d.exit_code == 7
    finally:
        d.kill()


def test_the_cli_event_log_is_never_written_through_a_symlink(target, tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("precious")
    link = tmp_path / "trace.log"
    link.symlink_to(victim)
    r = subprocess.run([sys.executable, "-m", "tether", "trace", "-o", str(link), "--", target("basic")],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and "is a symlink" in r.stderr
    assert victim.read_text() == "precious"
    real = tmp_path / "real.log"
    r = subprocess.run([sys.executable, "-m", "tether", "trace", "-o", str(real), "--", target("basic")],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 7 and "exit" in real.read_text()
