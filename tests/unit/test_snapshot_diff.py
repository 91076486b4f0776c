"""Snapshot diffs, snapshot memory and the JSON format, on snapshots built
from raw bytes (no process is traced here)."""
import base64
import gzip
import json
import struct

import pytest
from hypothesis import given, settings, strategies as st

from tether.arch.amd64.registers import GPR_FIELDS, GPR_SIZE
from tether.snapshots.diff import ChangedRange, changed_ranges
from tether.snapshots.memory import MemoryNotCapturedError, SnapshotMap
from tether.snapshots.serialize import parse_snapshot
from tether.snapshots.snapshot import (ProcessImage, ProcessSnapshot, ThreadSnapshot, TreeSnapshot,
                                       load_snapshot)

PAGE = 4096
PROG = "/nonexistent/prog"


def gpr(**values):
    buf = bytearray(GPR_SIZE)
    for name, value in values.items():
        struct.pack_into("<Q", buf, 8 * GPR_FIELDS.index(name), value)
    return bytes(buf)


def xstate(xmm0=0):
    """A minimal XSAVE image: legacy region + header, x87 and SSE present."""
    buf = bytearray(576)
    struct.pack_into("<Q", buf, 464, 0b111)       # XCR0: x87, SSE, AVX
    struct.pack_into("<Q", buf, 512, 0b011)       # XSTATE_BV: x87 and SSE in use
    buf[160:176] = xmm0.to_bytes(16, "little")
    return bytes(buf)


def image(level="writable", contents=None, extra_maps=(), pid=100, skipped=None):
    """A process with a program map, a heap and a stack. `contents` maps a
    map start to its bytes (default: captured per level, zeros); `skipped`
    {map start: reason} are maps the level covers but that were not read."""
    maps = [(0x400000, 0x401000, "r-xp", PROG), (0x600000, 0x602000, "rw-p", "[heap]"),
            (0x7ff000, 0x800000, "rw-p", "[stack]")] + list(extra_maps)
    contents = dict(contents or {})
    out = []
    for start, end, perms, name in maps:
        data = contents.get(start)
        if start in (skipped or {}):
            data = None
        elif data is None and level != "base" and ("w" in perms or level == "full"):
            data = bytes(end - start)
        out.append(SnapshotMap(start, end, perms, end - start, 0, name, -1, data))
    return ProcessImage(pid, level, out, skipped or {}, PROG)


def process(level="writable", threads=None, contents=None, extra_maps=(), pid=100, sid=0):
    threads = threads or [(pid, gpr(rip=0x400010, rsp=0x7fff00), xstate())]
    return ProcessSnapshot(image(level, contents, extra_maps, pid), threads, sid)


# --- changed_ranges ----------------------------------------------------------------------

def test_changed_ranges_finds_maximal_runs():
    old = bytes(3 * PAGE)
    new = bytearray(old)
    new[5:8] = b"abc"
    new[20] = 1
    new[PAGE - 2:PAGE + 3] = b"XXXXX"  # crosses a page boundary: one range
    got = changed_ranges(old, bytes(new), 0x1000)
    assert got == [ChangedRange(0x1005, bytes(3), b"abc"), ChangedRange(0x1014, b"\0", b"\1"),
                   ChangedRange(0x1000 + PAGE - 2, bytes(5), b"XXXXX")]
    assert got[2].end == 0x1000 + PAGE + 3 and got[2].size == 5


def test_changed_ranges_edge_cases():
    assert changed_ranges(b"same", b"same") == []
    assert changed_ranges(b"", b"") == []
    # Different lengths: only the common part is compared.
    assert changed_ranges(b"abcd", b"abXdEXTRA") == [ChangedRange(2, b"c", b"X")]
    assert changed_ranges(b"\xff" * 10, b"\x00" * 10) == [ChangedRange(0, b"\xff" * 10, bytes(10))]
    with pytest.raises(TypeError):
        changed_ranges("text", b"text")


def test_changed_ranges_on_a_large_buffer():
    old = bytes(8 << 20)
    new = bytearray(old)
    new[(5 << 20) + 7] = 0x41
    new[-1] = 0x42
    assert [(r.start, r.new) for r in changed_ranges(old, bytes(new))] == \
        [((5 << 20) + 7, b"A"), ((8 << 20) - 1, b"B")]


def _expected_ranges(old: bytes, new: bytes, flipped: set, address: int) -> list:
    """The maximal runs of the offsets in `flipped` (the bytes that differ,
    known from how `new` was made), as ChangedRanges: the reference."""
    out: list = []
    for i in sorted(flipped):
        if out and out[-1][1] == i:
            out[-1][1] = i + 1
        else:
            out.append([i, i + 1])
    return [ChangedRange(address + lo, old[lo:hi], new[lo:hi]) for lo, hi in out]


_SIZE = (2 << 20) + 3 * PAGE + 5   # past two MiB blocks, not a whole page at the end
# Offsets near the MiB blocks' and the pages' edges, where the comparison
# goes from blocks to pages and a run may cross from one to the next.
_EDGES = [e + d for e in (0, PAGE, 1 << 20, 2 << 20, _SIZE - 1) for d in (-2, -1, 0, 1)
          if 0 <= e + d < _SIZE]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.one_of(st.sampled_from(_EDGES), st.integers(0, _SIZE - 1)),
                          st.integers(1, 9)), max_size=6),
       st.integers(0, 8))
def test_changed_ranges_finds_exactly_the_changed_runs(changes, shorter):
    """Runs anywhere (across a page or a MiB block's edge, at either end),
    buffers of different lengths: exactly the runs of the bytes changed."""
    old = bytes((i * 7) & 0xFF for i in range(256)) * (_SIZE // 256 + 1)
    old = old[:_SIZE]
    new = bytearray(old[:_SIZE - shorter])
    flipped: set = set()
    for at, length in changes:
        for i in range(at, min(at + length, len(new))):
            new[i] ^= 0x5A
            flipped ^= {i}   # (flipped twice: the same again)
    new = bytes(new)
    assert changed_ranges(old, new, 0x10000) == _expected_ranges(old, new, flipped, 0x10000)


# --- Diff --------------------------------------------------------------------------------

def test_register_diff_per_thread_including_vector_registers():
    a = process(threads=[(100, gpr(rip=0x400010, rax=1), xstate(xmm0=5)),
                         (101, gpr(rip=0x400020), xstate())])
    b = process(threads=[(100, gpr(rip=0x400010, rax=1), xstate(xmm0=5)),
                         (101, gpr(rip=0x400030, rcx=9), xstate(xmm0=7))])
    diff = a.diff(b)
    assert set(diff.registers) == {101}
    changes = diff.registers[101]
    assert changes["rip"] == (0x400020, 0x400030)
    assert changes["rcx"] == (0, 9)
    vector = [k for k in changes if k.endswith("mm0")]
    assert vector and changes[vector[0]] == (0, 7)
    assert "rax" not in changes
    assert diff.regs.rax.has_changed is False and diff.regs.rax.old_value == 1  # main thread
    assert diff.born_threads == [] and diff.dead_threads == []
    assert "thread 101" in diff.format_registers() and "0x400020 -> 0x400030" in diff.format_registers()


def test_born_and_dead_threads():
    a = process(threads=[(100, gpr(), xstate()), (101, gpr(), xstate())])
    b = process(threads=[(100, gpr(), xstate()), (102, gpr(), xstate())])
    diff = a.diff(b)
    assert [t.tid for t in diff.born_threads] == [102]
    assert [t.tid for t in diff.dead_threads] == [101]
    assert diff.has_changes
    # Two runs (different pids): threads pair up in order, main thread first.
    c = process(pid=200, threads=[(200, gpr(rax=3), xstate()), (201, gpr(), xstate())])
    diff = a.diff(c)
    assert diff.registers == {200: {"rax": (0, 3)}} and not diff.born_threads


def test_maps_and_memory_diff():
    heap_old = bytearray(2 * PAGE)
    heap_new = bytearray(heap_old)
    heap_new[PAGE + 10:PAGE + 14] = b"\xde\xad\xbe\xef"
    a = process(contents={0x600000: bytes(heap_old)}, extra_maps=[(0x900000, 0x901000, "rw-p", "")])
    b = process(contents={0x600000: bytes(heap_new)},
                extra_maps=[(0xa00000, 0xa01000, "rw-p", "")])
    diff = a.diff(b)
    assert [m.start for m in diff.maps.added] == [0xa00000]
    assert [m.start for m in diff.maps.removed] == [0x900000]
    assert diff.maps.changed == []
    assert {m.backing_file: rs for m, rs in diff.memory.items()} == \
        {"[heap]": [ChangedRange(0x600000 + PAGE + 10, bytes(4), b"\xde\xad\xbe\xef")]}
    assert "de ad be ef" in diff.format_memory()
    assert "+ MemoryMap(start=0xa00000" in diff.format_maps()
    assert "- MemoryMap(start=0x900000" in diff.format_maps()


def test_changed_map_permissions():
    a = process(extra_maps=[(0x900000, 0x902000, "rw-p", "")])
    b = process(extra_maps=[(0x900000, 0x901000, "r--p", "")])
    diff = a.diff(b)
    [(old, new)] = diff.maps.changed
    assert (old.permissions, new.permissions, new.end) == ("rw-p", "r--p", 0x901000)


def test_diff_level_is_the_lower_one():
    full = process("full")
    writable = process("writable")
    base = process("base")
    assert full.diff(writable).level == "writable"
    assert full.diff(writable).memory == {}
    assert writable.diff(base).level == "base"
    with pytest.raises(ValueError, match="'base' level"):
        writable.diff(base).memory


def test_diff_only_between_snapshots_of_the_same_kind():
    p = process()
    with pytest.raises(TypeError, match="ProcessSnapshot can only be diffed"):
        p.diff(p.threads[0])
    with pytest.raises(TypeError, match="ThreadSnapshot can only be diffed"):
        p.threads[0].diff(p)
    with pytest.raises(TypeError):
        p.diff(None)
    tree = TreeSnapshot([p], {100: ()}, "writable", 0)
    with pytest.raises(TypeError, match="TreeSnapshot can only be diffed"):
        tree.diff(p)


def test_tree_diff_matches_by_pid_or_by_place_in_the_tree():
    root_a, child_a = process(pid=100), process(pid=101, threads=[(101, gpr(rax=1), xstate())])
    root_b, child_b = process(pid=100), process(pid=101, threads=[(101, gpr(rax=2), xstate())])
    gone = process(pid=102)
    a = TreeSnapshot([root_a, child_a, gone], {100: (), 101: (0,), 102: (1,)}, "writable", 0)
    b = TreeSnapshot([root_b, child_b], {100: (), 101: (0,)}, "writable", 1)
    diff = a.diff(b)
    assert diff.changed == [101]
    assert diff.processes[101].registers == {101: {"rax": (1, 2)}}
    assert [p.pid for p in diff.gone] == [102] and diff.born == []
    assert "process 101: registers of thread(s) 101" in diff.format()
    # Another run: pids differ, the tree's shape pairs the processes.
    root_c = process(pid=500)
    child_c = process(pid=501, threads=[(501, gpr(rax=2), xstate())])
    c = TreeSnapshot([root_c, child_c], {500: (), 501: (0,)}, "writable", 2)
    diff = a.diff(c)
    assert diff.processes[501].registers == {501: {"rax": (1, 2)}}
    assert a.parent_of(101) == 100 and a.children_of(100) == [101, 102]


# --- snapshot memory ---------------------------------------------------------------------

def test_snapshot_memory_reads_across_adjacent_maps_and_explains_gaps():
    low = bytes(range(256)) * 16
    snap = process(contents={0x600000: low + low},
                   extra_maps=[(0x602000, 0x603000, "rw-p", "")])
    extra = snap.maps.filter(0x602000)[0]
    assert snap.memory[0x601ffe, 4, "absolute"] == low[-2:] + bytes(2)  # crosses into the next map
    assert extra.content == bytes(PAGE)
    with pytest.raises(MemoryNotCapturedError, match="not writable"):
        snap.memory[0x400000, 1, "absolute"]
    with pytest.raises(ValueError, match="0x603000 was not mapped"):
        snap.memory[0x602fff, 2, "absolute"]
    assert snap.memory[0x600000:0x600004] == bytes(range(4))
    assert snap.memory[0x600000, 0, "absolute"] == b""
    assert snap.memory.find(b"\x10\x11\x12", start=0x600000, end=0x601000) == \
        [0x600010 + 256 * i for i in range(16)]
    base = process("base")
    with pytest.raises(MemoryNotCapturedError, match="'base' snapshot"):
        base.memory[0x600000]
    full = ProcessSnapshot(image("full", skipped={0x400000: "reading it failed: boom"}),
                           [(100, gpr(), xstate())], 0)
    assert [(m.start, why) for m, why in full.skipped_maps] == [(0x400000, "reading it failed: boom")]
    assert full.memory[0x600000, 2, "absolute"] == bytes(2)
    with pytest.raises(MemoryNotCapturedError, match="was not captured: reading it failed: boom"):
        full.memory[0x400000, 1, "absolute"]


def test_snapshot_registers_are_read_only_copies():
    raw = bytearray(gpr(rax=5))
    snap = ProcessSnapshot(image(), [(100, bytes(raw), xstate())], 0)
    raw[80:88] = bytes(8)
    assert snap.regs.rax == 5
    with pytest.raises(RuntimeError, match="read-only"):
        snap.regs.rax = 1
    t = snap.threads[0]
    assert isinstance(t, ThreadSnapshot) and t.syscall_arg0 == 0 and t.instruction_pointer == 0


# --- JSON format -------------------------------------------------------------------------

def saved_doc(tmp_path, snap=None, name="s.json"):
    snap = snap or process(contents={0x600000: b"\x01" * (2 * PAGE)})
    path = tmp_path / name
    snap.save(path)
    return json.loads(path.read_text()), snap


def parse(doc):
    return parse_snapshot(json.dumps(doc).encode())


def test_round_trip_plain_and_gzip(tmp_path):
    snap = process(contents={0x600000: b"\x01" * (2 * PAGE)}, sid=7)
    snap.name = "named"
    for name in ("a.json", "a.json.gz"):
        snap.save(tmp_path / name)
        loaded = load_snapshot(str(tmp_path / name))
        assert (loaded.name, loaded.snapshot_id, loaded.level, loaded.pid) == ("named", 7, "writable", 100)
        assert loaded.memory[0x600000, 4, "absolute"] == b"\x01" * 4
        assert not snap.diff(loaded).has_changes
        assert list(loaded.maps) == list(snap.maps)
    assert (tmp_path / "a.json.gz").read_bytes()[:2] == b"\x1f\x8b"
    snap.save(tmp_path / "forced", compress=True)
    assert (tmp_path / "forced").read_bytes()[:2] == b"\x1f\x8b"
    thread = snap.threads[0]
    thread.save(tmp_path / "t.json")
    assert isinstance(load_snapshot(tmp_path / "t.json"), ThreadSnapshot)
    tree = TreeSnapshot([snap, process(pid=101)], {100: (), 101: (0,)}, "writable", 3, "tree")
    tree.save(tmp_path / "tree.json")
    loaded = load_snapshot(tmp_path / "tree.json")
    assert isinstance(loaded, TreeSnapshot) and loaded.pids == [100, 101] and loaded.name == "tree"
    assert not tree.diff(loaded).has_changes


def _set(doc, path, value):
    obj = doc
    for key in path[:-1]:
        obj = obj[key]
    obj[path[-1]] = value


def _b64(data):
    return base64.b64encode(data).decode()


@pytest.mark.parametrize("path, value, message", [
    (("format",), "other", "no \"format\""),
    (("version",), 2, "version 2 is not supported"),
    (("kind",), "core", "kind"),
    (("snapshot", "pid"), "100", "pid must be an integer"),
    (("snapshot", "pid"), -1, "out of range"),
    (("snapshot", "pid"), True, "must be an integer"),
    (("snapshot", "level"), "most", "level must be one of"),
    (("snapshot", "arch"), "aarch64", "not supported"),
    (("snapshot", "threads"), [], "threads is empty"),
    (("snapshot", "threads", 0, "gpr"), _b64(bytes(100)), "gpr holds 100 bytes"),
    (("snapshot", "threads", 0, "gpr"), "!!notbase64!!", "not valid base64"),
    (("snapshot", "threads", 0, "gpr"), _b64(bytes(10000)), "larger than 216 bytes"),
    (("snapshot", "threads", 0, "xstate"), _b64(bytes(10)), "less than the 512-byte"),
    (("snapshot", "threads", 0, "evil"), 1, "unknown field"),
    (("snapshot", "maps", 0, "permissions"), "rwxz", "not like 'r-xp'"),
    (("snapshot", "maps", 0, "start"), 0x400001, "page-aligned"),
    (("snapshot", "maps", 1, "start"), 0x400000, "overlaps"),
    (("snapshot", "maps", 0, "end"), 2 ** 70, "out of range"),
    (("snapshot", "memory", 0, "start"), 0x123000, "not the start of a map"),
    (("snapshot", "memory", 0, "data"), _b64(b"short"), "holds 5 bytes, the map is"),
    (("snapshot", "skipped"), [{"start": 1, "reason": "x"}], "not the start of a map"),
    (("snapshot", "tid"), 100, "tid must be null"),
    (("snapshot", "maps"), {"0": 1}, "maps must be a list"),
])
def test_hostile_or_corrupted_documents_raise_value_error(tmp_path, path, value, message):
    doc, _ = saved_doc(tmp_path)
    _set(doc, path, value)
    with pytest.raises(ValueError, match=message):
        parse(doc)


def test_hostile_files(tmp_path):
    doc, _ = saved_doc(tmp_path)
    doc["snapshot"]["level"] = "base"
    with pytest.raises(ValueError, match="must not hold memory"):
        parse(doc)
    doc, _ = saved_doc(tmp_path)
    doc["snapshot"]["memory"].append(dict(doc["snapshot"]["memory"][0]))
    with pytest.raises(ValueError, match="contents twice"):
        parse(doc)
    import pickle
    bad = {
        b"": "bad JSON",
        b"\x80\x04\x95" + pickle.dumps({"a": 1})[3:]: "not UTF-8|bad JSON",
        b'{"format": "tether-snapshot", "version": NaN}': "NaN is not valid",
        b'{"format": "tether-snapshot", "format": "tether-snapshot"}': "duplicate key",
        b"[" * 100000 + b"]" * 100000: "nested too deeply|no \"format\"",
        b"\x1f\x8bnot really gzip": "bad gzip",
        gzip.compress(b"[1, 2]"): "no \"format\"",
        b'"just a string"': "no \"format\"",
    }
    for data, message in bad.items():
        with pytest.raises(ValueError, match=message):
            parse_snapshot(data)
    (tmp_path / "cut.json").write_bytes((tmp_path / "s.json").read_bytes()[:200])
    with pytest.raises(ValueError, match="cut.json: not a snapshot file"):
        load_snapshot(tmp_path / "cut.json")
    with pytest.raises(TypeError):
        load_snapshot(42)
    with pytest.raises(TypeError):
        parse_snapshot("text")


def test_tree_documents_are_checked(tmp_path):
    tree = TreeSnapshot([process(pid=100), process(pid=101)], {100: (), 101: (0,)}, "writable", 0)
    tree.save(tmp_path / "t.json")
    doc = json.loads((tmp_path / "t.json").read_text())
    doc["tree"]["processes"][1]["path"] = []
    with pytest.raises(ValueError, match="two processes at tree path"):
        parse(doc)
    doc["tree"]["processes"][1]["path"] = [-1]
    with pytest.raises(ValueError, match="non-negative integers"):
        parse(doc)
    doc["tree"]["processes"][1]["path"] = [0]
    doc["tree"]["processes"][1]["process"]["level"] = "full"
    with pytest.raises(ValueError, match="differs from the tree's"):
        parse(doc)
    doc["tree"]["processes"][1]["process"]["level"] = "writable"
    doc["tree"]["processes"] = doc["tree"]["processes"][1:]
    with pytest.raises(ValueError, match="root process"):
        parse(doc)
