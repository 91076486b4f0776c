"""End-to-end memory tests (issue 2): reads and writes by address, with
size and addressing mode, slices, symbol strings, find(), a 16 MiB read,
unmapped addresses, maps and symbols, backtrace and the pretty printers.
Target: tests/targets/memory_target.c."""
import os
import struct
import subprocess

import pytest

from tether import debugger
from tether.errors import MemoryAccessError
from procutil import shutdown


BIG = 16 << 20


def nm_table(path):
    """{symbol: (st_value, st_size)} of the file's symbol table, via nm -S."""
    out = subprocess.run(["nm", "-S", path], capture_output=True, text=True, check=True).stdout
    table = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 4:
            table[parts[3]] = (int(parts[0], 16), int(parts[1], 16))
        elif len(parts) == 3:
            table[parts[2]] = (int(parts[0], 16), 0)
    return table


def nm_offsets(path):
    """{symbol: st_value}."""
    return {name: value for name, (value, _) in nm_table(path).items()}


def file_bytes_at(path, vaddr, size):
    """Bytes of the file that the ELF PT_LOAD segments map at `vaddr`
    (ELF64: e_phoff at 32, e_phentsize at 54, e_phnum at 56; in a program
    header p_type at 0, p_offset at 8, p_vaddr at 16, p_filesz at 32)."""
    with open(path, "rb") as f:
        elf = f.read()
    phoff, = struct.unpack_from("<Q", elf, 32)
    phentsize, phnum = struct.unpack_from("<HH", elf, 54)
    for i in range(phnum):
        p_type, = struct.unpack_from("<I", elf, phoff + i * phentsize)
        p_offset, p_vaddr, _, p_filesz = struct.unpack_from("<QQQQ", elf, phoff + i * phentsize + 8)
        if p_type == 1 and p_vaddr <= vaddr < p_vaddr + p_filesz:
            start = p_offset + vaddr - p_vaddr
            return elf[start:start + size]
    raise AssertionError(f"{vaddr:#x} is not in a PT_LOAD segment")


def load_base(pid, path):
    real = os.path.realpath(path)
    starts = []
    with open(f"/proc/{pid}/maps") as f:
        for line in f:
            fields = line.split(None, 5)
            if len(fields) > 5 and fields[5].strip() == real:
                starts.append(int(fields[0].split("-")[0], 16))
    return min(starts)


def expected_static():
    # memory_target.c: byte i = (i*7 + (i >> 12)) & 0xff. Within a 4096-byte
    # block j the term 7*4096*j vanishes mod 256, so block j is the block-0
    # pattern shifted by j.
    block0 = bytes((7 * k) & 0xFF for k in range(4096))
    tables = [bytes((x + j) & 0xFF for x in range(256)) for j in range(256)]
    return b"".join(block0.translate(tables[j & 0xFF]) for j in range(BIG // 4096))


def expected_heap():
    # memory_target.c: byte i = (i ^ (i >> 8)) & 0xff, i.e. for 256-byte
    # block h: low byte XOR (h & 0xff).
    blocks = [bytes(x ^ h for x in range(256)) for h in range(256)]
    return b"".join(blocks[h & 0xFF] for h in range(BIG // 256))


def assert_same_bytes(actual, expected):
    assert len(actual) == len(expected)
    if actual != expected:
        first = next(i for i in range(len(expected)) if actual[i] != expected[i])
        pytest.fail(f"memory differs first at offset {first:#x}: "
                    f"{actual[first:first + 8].hex()} != {expected[first:first + 8].hex()}")


class Ctx:
    def __init__(self, d, io, path, base, nm):
        self.d, self.io, self.path, self.base, self.nm = d, io, path, base, nm

    def addr(self, symbol):
        return self.base + self.nm[symbol]


@pytest.fixture
def mem(target):
    """memory_target stopped at checkpoint()."""
    path = target("memory_target")
    d = debugger([path])
    try:
        io = d.run()
        bp = d.breakpoint("checkpoint", file="binary")
        d.cont()
        d.wait()
        ctx = Ctx(d, io, path, load_base(d.pid, path), nm_offsets(path))
        assert d.regs.rip == ctx.addr("checkpoint") == bp.address
        yield ctx
    finally:
        shutdown(d)


def finish(ctx):
    ctx.d.cont()
    out = ctx.io.recvuntil(b"sum=", timeout=20) + ctx.io.recvline(timeout=10)
    ctx.d.wait()
    assert ctx.d.exit_code == 0
    return dict(line.split("=", 1) for line in out.decode().splitlines())


@pytest.mark.timeout(30)
def test_read_by_address_size_and_mode(mem):
    d = mem.d
    greeting = mem.addr("greeting")
    assert d.memory[greeting, 19] == b"Hello tether memory"
    assert d.memory[greeting, 19, "absolute"] == b"Hello tether memory"
    # "binary": the address is an offset from the binary's load base.
    assert d.memory[mem.nm["greeting"], 19, "binary"] == b"Hello tether memory"
    # A bare address reads one byte.
    assert d.memory[greeting] == b"H"
    assert d.memory[mem.addr("magic"), 8] == (0x1122334455667788).to_bytes(8, "little")


@pytest.mark.timeout(30)
def test_read_by_slice_and_symbol_strings(mem):
    d = mem.d
    greeting = mem.addr("greeting")
    assert d.memory[greeting:greeting + 5] == b"Hello"
    assert d.memory["greeting", 5] == b"Hello"
    assert d.memory["greeting+6", 6] == b"tether"
    assert d.memory["greeting+0x6", 6, "binary"] == b"tether"
    assert d.memory["magic", 8] == (0x1122334455667788).to_bytes(8, "little")


@pytest.mark.timeout(30)
def test_writes_are_seen_by_the_program(mem):
    d = mem.d
    greeting = mem.addr("greeting")
    d.memory[greeting] = b"J"
    d.memory[greeting + 6:greeting + 12] = b"TETHER"
    d.memory["greeting+0xd", 6] = b"MEMORY"
    d.memory["magic", 8] = (0xDEADBEEF).to_bytes(8, "little")
    d.memory[mem.nm["big_static"], 4, "binary"] = b"\xaa\xbb\xcc\xdd"
    assert d.memory[greeting, 19] == b"Jello TETHER MEMORY"
    printed = finish(mem)
    assert printed["greeting"] == "Jello TETHER MEMORY"
    assert printed["magic"] == "00000000deadbeef"
    assert printed["big0"] == "aabbccdd"


@pytest.mark.timeout(30)
def test_absolute_writes_are_seen_by_the_program(mem):
    # The scripted form d.memory[address, size, "absolute"] = bytes, which a
    # stopped process takes straight from the script's thread.
    d = mem.d
    d.memory[mem.addr("magic"), 8, "absolute"] = (0x1234ABCD).to_bytes(8, "little")
    d.memory[mem.addr("greeting"), 5, "absolute"] = b"Howdy"
    assert d.memory[mem.addr("greeting"), 5, "absolute"] == b"Howdy"
    printed = finish(mem)
    assert printed["magic"] == "000000001234abcd"
    assert printed["greeting"].startswith("Howdy")


def raw_bytes(pid, address, size):
    """The bytes really in memory, tether's int3s included."""
    with open(f"/proc/{pid}/mem", "rb") as f:
        f.seek(address)
        return f.read(size)


@pytest.mark.timeout(30)
def test_writes_over_and_next_to_a_breakpoint_keep_it_armed(mem):
    # A write over an armed breakpoint (or over the instruction bytes after
    # it) goes the careful way: the int3 stays in memory, the written byte is
    # the one it stands for, and a read shows the written bytes.
    d = mem.d
    code = mem.addr("checkpoint")
    original = d.memory[code, 8, "absolute"]
    assert raw_bytes(d.pid, code, 1) == b"\xcc"
    d.memory[code, 8, "absolute"] = original
    d.memory[code + 1, 4, "absolute"] = original[1:5]
    d.memory[code - 4, 4, "absolute"] = d.memory[code - 4, 4, "absolute"]
    assert raw_bytes(d.pid, code, 8) == b"\xcc" + original[1:]
    assert d.memory[code, 8, "absolute"] == original
    assert finish(mem)["magic"]   # (the program still runs through it)


@pytest.mark.timeout(30)
def test_writes_of_the_wrong_type_or_length_raise_and_write_nothing(mem):
    d = mem.d
    greeting = mem.addr("greeting")
    before = d.memory[greeting, 19]
    with pytest.raises(TypeError, match="int"):
        d.memory[greeting, 5] = 5          # not five zero bytes
    with pytest.raises(TypeError, match="to_bytes"):
        d.memory[greeting] = 0x41
    with pytest.raises(TypeError, match="list"):
        d.memory[greeting, 2] = [0x41, 0x42]
    with pytest.raises(TypeError, match="str"):
        d.memory[greeting, 2] = "AB"
    with pytest.raises(ValueError, match="3 bytes into a 5-byte range"):
        d.memory[greeting, 5] = b"abc"
    assert d.memory[greeting, 19] == before
    d.memory[greeting, 2] = bytearray(b"AB")     # bytes-like values are fine
    d.memory[greeting + 2, 1] = memoryview(b"C")
    assert d.memory[greeting, 3] == b"ABC"


@pytest.mark.timeout(30)
def test_write_then_read_code_bytes(mem):
    # Reading code under a software breakpoint shows the original bytes.
    d = mem.d
    code = mem.addr("checkpoint")
    assert d.memory[code, 4] == file_bytes_at(mem.path, mem.nm["checkpoint"], 4)
    assert d.memory[code, 4] != b"\xcc" + file_bytes_at(mem.path, mem.nm["checkpoint"] + 1, 3)


@pytest.mark.timeout(30)
def test_find(mem):
    d = mem.d
    needle = mem.addr("needle")
    hits = d.memory.find(b"N33DLE-in-the-haystack")
    assert needle in hits
    hits = d.memory.find(b"N33DLE-in-the-haystack", file="binary")
    assert hits == [needle]
    assert d.memory.find("N33DLE-in-the-haystack-4242", file="binary") == [needle]
    assert d.memory.find(b"no such string \x01\x02\x03", file="binary") == []
    # Bounded search: only [start, end).
    assert d.memory.find(b"N33DLE", start=needle, end=needle + 32) == [needle]
    assert d.memory.find(b"N33DLE", start=needle + 1, end=needle + 32) == []


@pytest.mark.timeout(60)
def test_16_mib_read_of_static_buffer(mem):
    data = mem.d.memory[mem.addr("big_static"), BIG, "absolute"]
    assert_same_bytes(data, expected_static())


@pytest.mark.timeout(60)
def test_16_mib_read_of_heap_buffer(mem):
    pointer = int.from_bytes(mem.d.memory["big_heap", 8], "little")
    assert pointer != 0
    data = mem.d.memory[pointer, BIG, "absolute"]
    assert_same_bytes(data, expected_heap())


@pytest.mark.timeout(60)
def test_16_mib_read_with_fast_memory(target):
    path = target("memory_target")
    d = debugger([path], fast_memory=True)
    try:
        d.run()
        assert d.fast_memory is True
        d.breakpoint("checkpoint", file="binary")
        d.cont()
        d.wait()
        addr = load_base(d.pid, path) + nm_offsets(path)["big_static"]
        assert_same_bytes(d.memory[addr, BIG, "absolute"], expected_static())
    finally:
        shutdown(d)


@pytest.mark.timeout(30)
def test_unmapped_address_raises_and_debugger_still_works(mem):
    d = mem.d
    with pytest.raises((ValueError, OSError)):
        d.memory[0x10, 8, "absolute"]
    with pytest.raises((ValueError, OSError)):
        d.memory[0x10, 8, "absolute"] = b"\x00" * 8
    # A read that starts mapped and runs past the end of the mapping either
    # fails or returns only the mapped bytes (libdebug does the latter); it
    # never invents bytes for the unmapped part.
    stack = [m for m in d.maps if "stack" in m.backing_file][0]
    try:
        partial = d.memory[stack.end - 4, 4096, "absolute"]
    except (ValueError, OSError):
        pass
    else:
        assert len(partial) == 4
    assert d.memory["greeting", 5] == b"Hello"
    assert finish(mem)["greeting"] == "Hello tether memory"


@pytest.mark.timeout(30)
def test_maps_and_filter(mem):
    d = mem.d
    real = os.path.realpath(mem.path)
    binary_maps = d.maps.filter("binary")
    assert binary_maps and all(m.backing_file == real for m in binary_maps)
    assert min(m.start for m in binary_maps) == mem.base
    assert binary_maps[0].base == binary_maps[0].start
    libc_maps = d.maps.filter("libc")
    assert libc_maps and all("libc" in m.backing_file for m in libc_maps)
    rip_maps = d.maps.filter(d.regs.rip)
    assert len(rip_maps) == 1
    m = rip_maps[0]
    assert m.start <= d.regs.rip < m.end and "x" in m.permissions
    assert m.size == m.end - m.start
    # The listing agrees with /proc.
    with open(f"/proc/{d.pid}/maps") as f:
        proc_starts = {int(line.split("-")[0], 16) for line in f}
    assert {m.start for m in d.maps} == proc_starts


@pytest.mark.timeout(30)
def test_symbols_and_filter(mem):
    d = mem.d
    named = [s for s in d.symbols.filter("checkpoint") if s.name == "checkpoint"]
    assert named
    sym = named[0]
    # libdebug reports symbol addresses relative to their file; accept the
    # relative or the absolute form, but it must be this symbol.
    assert sym.start in (mem.nm["checkpoint"], mem.addr("checkpoint"))
    assert sym.end > sym.start
    # Lookup by address inside the function.
    inside = [s.name for s in d.symbols.filter(mem.addr("checkpoint") + 1)]
    assert "checkpoint" in inside
    # libc symbols are there too.
    assert any(s.name == "printf" for s in d.symbols.filter("printf"))


@pytest.mark.timeout(30)
def test_backtrace_names_the_call_chain(mem):
    d = mem.d
    names = [frame.split("+")[0] for frame in d.backtrace(as_symbols=True)]
    assert names[:4] == ["checkpoint", "inner_fn", "outer_fn", "main"]
    addresses = d.backtrace()
    assert addresses[0] == d.regs.rip
    # The next frames are return addresses inside inner_fn and outer_fn.
    table = nm_table(mem.path)
    for frame, name in ((1, "inner_fn"), (2, "outer_fn"), (3, "main")):
        value, size = table[name]
        assert mem.base + value < addresses[frame] < mem.base + value + size, name


@pytest.mark.timeout(30)
def test_backtrace_in_basic_names_g_f_main(target):
    # basic.c has float/long variables: their DWARF base types must not be
    # mistaken for functions when naming frames.
    d = debugger([target("basic")])
    try:
        d.run()
        d.breakpoint("g")
        d.cont()
        d.wait()
        names = [frame.split("+")[0] for frame in d.backtrace(as_symbols=True)]
        assert names[:3] == ["g", "f", "main"]
        # One step into g (after `push rbp`) the chain is the same.
        d.step()
        names = [frame.split("+")[0] for frame in d.backtrace(as_symbols=True)]
        assert names[:3] == ["g", "f", "main"]
    finally:
        shutdown(d)


@pytest.mark.timeout(30)
def test_pretty_printers_print(mem, capsys):
    d = mem.d
    d.pprint_registers()
    out = capsys.readouterr().out
    assert "rip" in out and "rax" in out
    d.pprint_registers_all()
    assert "xmm0" in capsys.readouterr().out
    d.pprint_maps()
    out = capsys.readouterr().out
    assert os.path.basename(mem.path) in out and "libc" in out
    d.pprint_backtrace()
    out = capsys.readouterr().out
    assert "checkpoint" in out and "main" in out
    greeting = mem.addr("greeting")
    d.pprint_memory(greeting, greeting + 32)
    out = capsys.readouterr().out
    assert out.strip()
    assert "48 65 6c 6c 6f" in out.lower() or "48656c6c6f" in out.lower() or "Hello" in out
    # Nothing above changed the program.
    assert finish(mem)["greeting"] == "Hello tether memory"


@pytest.mark.timeout(30)
@pytest.mark.parametrize("address,size", [
    (0xFFFFFFFFFF600000, 8),      # [vsyscall]
    (0xFFFFFFFF81000000, 8),      # kernel text
    (1 << 40, 8),                 # unmapped user space
    (0x7FFFFFFFF000 - 4, 8),      # straddles the end of user space
    ((1 << 64) - 4, 8),           # past the end of the address space
    (0x1000, 1 << 40),            # a length no mapping could hold
])
def test_unreadable_addresses_raise_naming_address_and_length(mem, address, size):
    d = mem.d
    for access in (lambda: d.memory[address, size, "absolute"],
                   lambda: d.memory.read(address, size),
                   lambda: d.memory[address:address + size, "absolute"]):
        with pytest.raises(MemoryAccessError) as info:
            access()
        assert f"{size} bytes at {address:#x}" in str(info.value)
    if size < 64:
        with pytest.raises(MemoryAccessError) as info:
            d.memory[address, size, "absolute"] = b"\xcc" * size
        assert f"{size} bytes at {address:#x}" in str(info.value)
    # The debugger stays usable and the program runs on to its normal end.
    assert d.regs.rip == mem.addr("checkpoint")
    finish(mem)
