"""End-to-end tests for snapshots (issue 6): levels, registers (FP/vector
included), memory indexing, backtraces, diffs, save/load, thread snapshots
and tree snapshots.

Targets: tests/targets/snap_state.c (between first_stop() and second_stop()
it changes `counter`, 16 bytes of a heap buffer, rdi/xmm0 and maps a page at
0x100000000000) and tests/targets/snap_tree.c (a parent and a child that
sets `value` to 42 between two calls of child_point())."""
import gzip
import json
import struct

import pytest

from tether import debugger
from tether.snapshots.diff import Diff, TreeDiff
from tether.snapshots.memory import MemoryNotCapturedError
from tether.snapshots.snapshot import ProcessSnapshot, ThreadSnapshot, TreeSnapshot, tree_snapshot

NEW_PAGE = 0x100000000000
HEAP_CHANGE = b"changed by test!"


def double_bits(x):
    return struct.unpack("<Q", struct.pack("<d", x))[0]


def file_bytes_at(path, vaddr, size):
    """Bytes the ELF file's PT_LOAD segments put at file address `vaddr`
    (ELF64: e_phoff at 32, e_phentsize/e_phnum at 54/56; in a program header
    p_type at 0, then p_offset, p_vaddr, p_paddr, p_filesz at 8.. 32)."""
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
    raise AssertionError(f"{vaddr:#x} is in no PT_LOAD segment of {path}")


def symbol_offset(path, name):
    import subprocess
    out = subprocess.run(["nm", path], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2] == name:
            return int(parts[0], 16)
    raise AssertionError(f"{name} not in {path}")


def kill_tree(d):
    for x in [d] + list(d.descendants):
        try:
            x.terminate()
        except Exception:  # already dead or detached: nothing to clean
            pass


@pytest.fixture
def launch(target):
    made = []

    def _launch(name, **kwargs):
        d = debugger([target(name)], **kwargs)
        made.append(d)
        return d

    yield _launch
    for d in made:
        kill_tree(d)


@pytest.fixture
def state(launch):
    """snap_state stopped at first_stop(), with breakpoints on both stops.
    Returns (debugger, path of the program)."""
    d = launch("snap_state", aslr=False)
    d.run(redirect_pipes=False)
    first = d.breakpoint("first_stop", file="binary")
    second = d.breakpoint("second_stop", file="binary")
    d.cont()
    d.wait()
    assert first.hit_on(d) and not second.hit_on(d)
    return d, d.path


def go_to_second(d):
    d.cont()
    d.wait()
    assert d.regs.rip == d.resolve_symbol("second_stop", "binary")


# --- levels ------------------------------------------------------------------------------

def test_base_snapshot_has_registers_and_maps_but_no_memory(state):
    d, _ = state
    snap = d.create_snapshot()
    assert isinstance(snap, ProcessSnapshot)
    assert snap.level == "base" and snap.name is None and snap.pid == d.pid
    assert snap.regs.rdi == 0x1111
    assert snap.regs.rip == d.regs.rip == d.resolve_symbol("first_stop", "binary")
    assert snap.regs.xmm0 & (2**64 - 1) == double_bits(1.5)   # FP/vector registers too
    assert snap.regs.edi == 0x1111 and snap.regs.di == 0x1111  # sub-registers
    assert [(m.start, m.end, m.permissions) for m in snap.maps] == \
        [(m.start, m.end, m.permissions) for m in d.maps]
    with pytest.raises(ValueError, match="'base' snapshot holds registers and maps but no memory"):
        snap.memory["counter", 8, "binary"]
    with pytest.raises(ValueError, match="no stack contents"):
        snap.backtrace()
    with pytest.raises(RuntimeError, match="read-only"):
        snap.regs.rax = 1


def test_writable_snapshot_holds_writable_maps_only(state):
    d, path = state
    heap_buffer = d.regs.rsi
    snap = d.create_snapshot("writable", "w1")
    assert snap.level == "writable" and snap.name == "w1"
    assert snap.memory["counter", 8, "binary"] == struct.pack("<q", 7)
    assert snap.memory[heap_buffer, 256, "absolute"] == b"A" * 256
    assert snap.memory[heap_buffer:heap_buffer + 4] == b"AAAA"        # slices
    assert snap.memory[heap_buffer] == b"A"                           # one byte
    assert snap.mem["counter"] == b"\x07"                             # symbol string, alias
    heap = snap.maps.filter("[heap]")[0]
    assert heap.content is not None and len(heap.content) == heap.size
    code = [m for m in snap.maps if m.is_executable and m.backing_file == path][0]
    assert code.content is None
    with pytest.raises(MemoryNotCapturedError, match="not writable.*use level='full'"):
        snap.memory["first_stop", 4, "binary"]
    with pytest.raises(ValueError, match="not mapped when the snapshot was taken"):
        snap.memory[0x10, 1, "absolute"]
    with pytest.raises(RuntimeError, match="read-only"):
        snap.memory[heap_buffer, 1, "absolute"] = b"B"
    # The snapshot is a copy: the live process changing later does not touch it.
    d.memory[heap_buffer, 1, "absolute"] = b"Z"
    assert snap.memory[heap_buffer, 1, "absolute"] == b"A"


def test_full_snapshot_holds_code_without_tethers_int3_and_records_skipped_maps(state):
    d, path = state
    snap = d.create_snapshot("full")
    offset = symbol_offset(path, "second_stop")
    # A breakpoint is installed at second_stop: the snapshot shows the program's byte.
    assert d.breakpoints[d.resolve_symbol("second_stop", "binary")].enabled
    assert snap.memory["second_stop", 16, "binary"] == file_bytes_at(path, offset, 16)
    assert snap.memory["printf", 4, "libc"] == d.memory["printf", 4, "libc"]
    skipped = {m.backing_file: reason for m, reason in snap.skipped_maps}
    assert "[vvar]" in skipped and "kernel page" in skipped["[vvar]"]
    vvar = snap.maps.filter("[vvar]")[0]
    with pytest.raises(ValueError, match=r"\[vvar\].*was not captured"):
        snap.memory[vvar.start, 8, "absolute"]
    readable = [m for m in snap.maps if m.is_readable and m.start not in
                {s.start for s, _ in snap.skipped_maps}]
    assert readable and all(m.content is not None for m in readable)


def test_snapshot_levels_and_names_are_checked(state):
    d, _ = state
    with pytest.raises(ValueError, match="level"):
        d.create_snapshot("everything")
    with pytest.raises(TypeError, match="level"):
        d.create_snapshot(2)
    with pytest.raises(TypeError, match="name"):
        d.create_snapshot("base", 5)
    with pytest.raises(ValueError, match="level"):
        d.threads[0].create_snapshot("partial")


def test_snapshot_ids_count_up_and_pending_register_writes_are_included(state):
    d, _ = state
    a = d.create_snapshot()
    d.regs.rax = 0x5A5A
    b = d.create_snapshot()
    assert b.snapshot_id == a.snapshot_id + 1
    assert b.regs.rax == 0x5A5A
    assert a.regs.rax != 0x5A5A


def test_backtrace_over_the_saved_stack(state, capsys):
    d, _ = state
    snap = d.create_snapshot("writable")
    frames = snap.backtrace(as_symbols=True)
    assert frames[0] == "first_stop"
    assert frames[1].startswith("main+")
    assert snap.backtrace() == d.backtrace()
    snap.pprint_backtrace()
    out = capsys.readouterr().out
    assert "first_stop" in out and "main+" in out


def test_pretty_printers(state, capsys):
    d, _ = state
    snap = d.create_snapshot("writable")
    snap.pprint_registers()
    out = capsys.readouterr().out
    assert "rdi      0x0000000000001111" in out
    snap.pprint_registers_all()
    out = capsys.readouterr().out
    assert "xmm0" in out or "ymm0" in out
    snap.pprint_maps()
    assert "[heap]" in capsys.readouterr().out
    snap.pprint_memory("counter", "counter+0x8", "binary")
    out = capsys.readouterr().out
    assert "07 00 00 00 00 00 00 00" in out


# --- thread snapshots --------------------------------------------------------------------

def test_thread_snapshot(state):
    d, _ = state
    thread = d.threads[0]
    snap = thread.create_snapshot("writable", "t")
    assert isinstance(snap, ThreadSnapshot)
    assert snap.tid == thread.tid and snap.pid == d.pid and snap.name == "t"
    assert snap.regs.rip == thread.regs.rip
    assert snap.memory["counter", 8, "binary"] == struct.pack("<q", 7)
    assert snap.backtrace(as_symbols=True)[0] == "first_stop"
    go_to_second(d)
    later = thread.create_snapshot("writable")
    diff = snap.diff(later)
    assert diff.registers[thread.tid]["rdi"] == (0x1111, 0x2222)
    with pytest.raises(TypeError, match="ThreadSnapshot can only be diffed with another ThreadSnapshot"):
        snap.diff(d.create_snapshot())
    # A thread of a process snapshot is a ThreadSnapshot too.
    assert snap.diff(d.create_snapshot().threads[0]).registers[thread.tid]["rip"][1] == \
        d.resolve_symbol("second_stop", "binary")


# --- diffs -------------------------------------------------------------------------------

def test_diff_between_two_breakpoints(state, capsys):
    d, _ = state
    heap_buffer = d.regs.rsi
    before = d.create_snapshot("writable")
    go_to_second(d)
    after = d.create_snapshot("full")
    diff = before.diff(after)
    assert isinstance(diff, Diff)
    assert diff.level == "writable"  # the lower of the two levels

    regs = diff.registers[d.pid]
    assert regs["rdi"] == (0x1111, 0x2222)
    assert regs["rip"] == (d.resolve_symbol("first_stop", "binary"),
                           d.resolve_symbol("second_stop", "binary"))
    assert diff.regs.rdi.has_changed and diff.regs.rdi.new_value == 0x2222
    assert diff.regs.xmm0.old_value & (2**64 - 1) == double_bits(1.5)
    assert diff.regs.xmm0.new_value & (2**64 - 1) == double_bits(2.5)
    assert not diff.regs.rbp.has_changed  # same frame depth

    assert [m.start for m in diff.maps.added] == [NEW_PAGE]
    assert diff.maps.removed == []

    counter = d.resolve_symbol("counter", "binary")
    by_file = {m.backing_file: ranges for m, ranges in diff.memory.items()}
    heap_ranges = by_file["[heap]"]
    assert [(r.start, r.old, r.new) for r in heap_ranges] == \
        [(heap_buffer + 32, b"A" * 16, HEAP_CHANGE)]
    binary_ranges = by_file[d.path]
    hit = [r for r in binary_ranges if r.start <= counter < r.end]
    assert len(hit) == 1
    r = hit[0]
    assert r.old[counter - r.start:counter - r.start + 2] == b"\x07\x00"
    assert r.new[counter - r.start:counter - r.start + 2] == b"\x34\x12"
    # The new page is an added map, not a memory change of an existing one.
    assert all(m.start != NEW_PAGE for m in diff.memory)
    assert diff.has_changes

    diff.pprint_registers()
    out = capsys.readouterr().out
    assert "rdi" in out and "0x1111 -> 0x2222" in out
    diff.pprint_maps()
    assert "+ MemoryMap(start=0x100000000000" in capsys.readouterr().out
    diff.pprint_memory()
    out = capsys.readouterr().out
    assert "[heap]" in out and HEAP_CHANGE.hex(" ") in out


def test_diff_of_the_same_state_is_empty_and_base_diff_has_no_memory(state):
    d, _ = state
    a = d.create_snapshot("full")
    b = d.create_snapshot("full")
    diff = a.diff(b)
    assert not diff.has_changes
    assert diff.registers == {} and diff.memory == {} and not diff.maps
    base = d.create_snapshot("base")
    with pytest.raises(ValueError, match="'base' level"):
        a.diff(base).memory
    with pytest.raises(TypeError, match="ProcessSnapshot can only be diffed"):
        a.diff(a.threads[0])
    with pytest.raises(TypeError):
        a.diff("snapshot")


# --- save / load -------------------------------------------------------------------------

@pytest.mark.parametrize("filename", ["snap.json", "snap.json.gz"])
def test_save_and_load_round_trip(state, tmp_path, filename):
    d, _ = state
    before = d.create_snapshot("writable", "before")
    go_to_second(d)
    after = d.create_snapshot("full")
    p1, p2 = tmp_path / ("1" + filename), tmp_path / ("2" + filename)
    before.save(str(p1))
    after.save(p2)
    raw = p1.read_bytes()
    assert (raw[:2] == b"\x1f\x8b") == filename.endswith(".gz")
    doc = json.loads(gzip.decompress(raw) if filename.endswith(".gz") else raw)
    assert doc["kind"] == "process" and doc["snapshot"]["level"] == "writable"

    l1, l2 = d.load_snapshot(str(p1), read_mapped_files=True), d.load_snapshot(p2)
    assert isinstance(l1, ProcessSnapshot)
    assert (l1.level, l1.name, l1.pid, l1.snapshot_id) == ("writable", "before", d.pid, before.snapshot_id)
    assert [t.tid for t in l1.threads] == [t.tid for t in before.threads]
    assert l1.regs.rdi == 0x1111 and l1.regs.xmm0 == before.regs.xmm0
    assert list(l1.maps) == list(before.maps)
    assert l1.memory["counter", 8, "binary"] == before.memory["counter", 8, "binary"]
    assert l2.memory[after.regs.rip, 8, "absolute"] == after.memory["second_stop", 8, "binary"]
    assert l2.skipped_maps == after.skipped_maps
    assert not before.diff(l1).has_changes and not after.diff(l2).has_changes
    live, loaded = before.diff(after), l1.diff(l2)
    assert loaded.registers == live.registers
    assert [m.start for m in loaded.maps.added] == [NEW_PAGE]
    assert {m.start: [(r.start, r.old, r.new) for r in rs] for m, rs in loaded.memory.items()} == \
        {m.start: [(r.start, r.old, r.new) for r in rs] for m, rs in live.memory.items()}
    assert l1.backtrace(as_symbols=True)[0] == "first_stop"
    # Without read_mapped_files, the files the maps name are never opened:
    # no symbols, and the message says how to get them.
    assert len(l2.symbols) == 0
    with pytest.raises(ValueError, match="read_mapped_files=True"):
        l2.resolve_symbol("first_stop", "binary")


def test_thread_snapshot_round_trip(state, tmp_path):
    d, _ = state
    snap = d.threads[0].create_snapshot("base", "th")
    snap.save(tmp_path / "t.json")
    loaded = d.load_snapshot(tmp_path / "t.json")
    assert isinstance(loaded, ThreadSnapshot)
    assert (loaded.tid, loaded.name, loaded.level) == (snap.tid, "th", "base")
    assert not snap.diff(loaded).has_changes


def test_load_rejects_a_corrupted_file(state, tmp_path):
    d, _ = state
    good = tmp_path / "good.json"
    d.create_snapshot("writable").save(good)
    text = good.read_text()
    (tmp_path / "cut.json").write_text(text[: len(text) // 2])
    with pytest.raises(ValueError, match="bad JSON"):
        d.load_snapshot(tmp_path / "cut.json")
    doc = json.loads(text)
    doc["snapshot"]["memory"][0]["data"] = doc["snapshot"]["memory"][0]["data"][:-8]
    (tmp_path / "short.json").write_text(json.dumps(doc))
    with pytest.raises(ValueError, match="memory\\[0\\].data holds .* bytes, the map is"):
        d.load_snapshot(tmp_path / "short.json")


# --- the mp_snap scope rule and tree snapshots ---------------------------------------------

def test_tree_snapshot_tells_which_process_changed_what(launch):
    d = launch("snap_tree")
    d.run(redirect_pipes=False)
    d.breakpoint("parent_point", file="binary")
    d.cont()
    d.wait()
    assert len(d.children) == 1
    child = d.children[0]
    child_bp = child.breakpoint("child_point", file="binary")
    child.cont()
    child.wait()
    assert child_bp.hit_on(child) and child.regs.rdi == 1

    first = tree_snapshot(d, "writable")
    assert isinstance(first, TreeSnapshot)
    assert first.pids == [d.pid, child.pid]
    assert first.parent_of(child.pid) == d.pid and first.children_of(d.pid) == [child.pid]
    assert first.process(child.pid).memory["value", 8, "binary"] == bytes(8)
    assert first.process(d.pid).regs.rdi == child.pid

    child.cont()
    child.wait()
    assert child.regs.rdi == 2
    second = tree_snapshot(d, "writable")
    diff = first.diff(second)
    assert isinstance(diff, TreeDiff)
    assert diff.changed == [child.pid]            # the parent did not run
    assert not diff.processes[d.pid].has_changes
    cdiff = diff.processes[child.pid]
    assert cdiff.registers[child.pid]["rdi"] == (1, 2)
    value = child.resolve_symbol("value", "binary")
    ranges = [r for rs in cdiff.memory.values() for r in rs if r.start <= value < r.end]
    assert len(ranges) == 1 and ranges[0].new[value - ranges[0].start] == 42
    assert f"process {child.pid}:" in diff.format() and "memory" in diff.format()
    with pytest.raises(TypeError, match="TreeSnapshot"):
        first.diff(second.process(d.pid))

    # A running process is stopped for the snapshot and resumed afterwards.
    d.cont()  # the parent blocks in waitpid(): the child is stopped at a breakpoint
    third = tree_snapshot(d, "base")
    assert third.pids == [d.pid, child.pid]
    assert d.running
    child_bp.disable()
    child.cont()
    d.wait()
    assert d.exit_code == 0


def test_tree_snapshot_round_trip(launch, tmp_path):
    d = launch("snap_tree")
    d.run(redirect_pipes=False)
    d.breakpoint("parent_point", file="binary")
    d.cont()
    d.wait()
    child = d.children[0]
    tree = tree_snapshot(d, "writable", "t1")
    tree.save(tmp_path / "tree.json.gz")
    loaded = d.load_snapshot(tmp_path / "tree.json.gz")
    assert isinstance(loaded, TreeSnapshot)
    assert loaded.pids == tree.pids and loaded.name == "t1" and loaded.level == "writable"
    assert loaded.parent_of(child.pid) == d.pid
    assert not tree.diff(loaded).has_changes
    child.cont()
    d.cont()
    d.wait()
    assert d.exit_code == 0
