"""libdebug 0.9's behaviour, part 2 (issue 15, themes 4, 7, 10, 12 and
post-mortem registers), on tests/targets/conform.c. Each test states what a
libdebug script sees; libdebug 0.9.0 was run on the same program to learn it.

Stepping and breakpoints: step_until with and without a step limit, finish
in both modes meeting a breakpoint, step then cont, breakpoints disabled at
creation, file= addressing, what a callback may read, watchpoint callbacks.
Memory: find, find_pointers, telescope, libc's debug-file symbols. Maps:
equality and filtering. Processes: several Debuggers at once, threads that
ended. Post-mortem registers at a multi-threaded process's exit."""
import os

import pytest

from tether import debugger


@pytest.fixture
def conform(launch):
    """conform(*args, **kwargs) -> a started Debugger of conform.c."""
    def start(*args, **kwargs):
        d = launch("conform", *args, **kwargs)
        d.run()
        return d
    return start


def at_c_fn(d):
    """Run to c_fn's entry; -> the return address into main."""
    d.breakpoint("c_fn")
    d.cont()
    d.wait()
    return int.from_bytes(d.memory[d.regs.rsp, 8, "absolute"], "little")


def word(d, address):
    return int.from_bytes(d.memory[address, 8, "absolute"], "little")


# ------------------------------------------------------------ stepping

@pytest.mark.timeout(30)
def test_finish_in_step_mode_stops_at_a_breakpoint_on_the_way(conform):
    d = conform()
    back_in_main = at_c_fn(d)
    a = d.breakpoint("a_fn")
    d.finish(heuristic="step-mode")
    # c_fn calls b_fn, which calls a_fn: the breakpoint there ends it, as a
    # stop at its address, without a hit (it did not trigger).
    assert d.regs.rip == a.address
    assert a.hit_count == 0 and not a.hit_on(d)
    # Then each finish returns one frame, to the instruction after the call.
    d.finish(heuristic="step-mode")
    assert d.regs.rip == d.resolve_symbol("b_fn") + 0x18
    d.finish(heuristic="step-mode")
    assert d.regs.rip == d.resolve_symbol("c_fn") + 0x18
    d.finish(heuristic="step-mode")
    assert d.regs.rip == back_in_main
    assert not d.running and not d.dead


@pytest.mark.timeout(30)
def test_finish_by_backtrace_meets_breakpoints_as_hits(conform):
    d = conform()
    at_c_fn(d)
    a = d.breakpoint("a_fn")
    d.finish()
    assert d.regs.rip == a.address and a.hit_count == 1 and a.hit_on(d)


@pytest.mark.timeout(30)
def test_finish_onto_a_breakpoint_at_the_return_address(conform):
    d = conform()
    back_in_main = at_c_fn(d)
    ret = d.breakpoint(back_in_main)
    d.finish(heuristic="backtrace")
    assert d.regs.rip == back_in_main
    assert ret.hit_count == 1 and ret.hit_on(d)
    d.step()
    assert not d.running and not d.dead


@pytest.mark.timeout(30)
def test_step_until_reaches_its_address_and_clears_the_hit(conform):
    d = conform()
    d.breakpoint("c_fn")
    d.cont()
    d.wait()
    bp = d.breakpoints[d.resolve_symbol("c_fn")]
    assert bp.hit_on(d)
    d.step_until("b_fn")
    assert d.regs.rip == d.resolve_symbol("b_fn")
    assert bp.hit_count == 1 and not bp.hit_on(d)


@pytest.mark.timeout(30)
def test_step_until_with_a_limit_passes_breakpoints_silently(conform):
    d = conform()
    at_c_fn(d)
    c = d.resolve_symbol("c_fn")
    # c_fn: push rbp (+0), mov rbp,rsp (+1), sub rsp (+4), mov (+8)...
    soft = d.breakpoint(c + 4)
    hard = d.breakpoint(c + 1, hardware=True)
    d.su("a_fn", max_steps=3)
    assert d.regs.rip == c + 8       # three instructions, none held back
    assert soft.hit_count == 0 and hard.hit_count == 0
    assert not soft.hit_on(d) and not hard.hit_on(d)
    d.step_until("a_fn")
    assert d.regs.rip == d.resolve_symbol("a_fn")
    assert soft.hit_count == 0


@pytest.mark.timeout(30)
def test_a_step_onto_a_hardware_breakpoint_stays_there_as_libdebugs(conform):
    # libdebug's step() from a hardware execute breakpoint's address is held
    # by it: the same address after the step, then on.
    d = conform()
    at_c_fn(d)
    c = d.resolve_symbol("c_fn")
    d.breakpoint(c + 1, hardware=True)
    seen = []
    for _ in range(3):
        d.step()
        seen.append(d.regs.rip - c)
    assert seen == [1, 1, 4]


@pytest.mark.timeout(30)
@pytest.mark.parametrize("hardware", [False, True])
def test_step_then_cont_keeps_breakpoints(conform, hardware):
    d = conform()
    first = d.breakpoint("c_fn", hardware=hardware)
    second = d.breakpoint("a_fn", hardware=hardware)
    d.cont()
    d.wait()
    assert first.hit_on(d) and not second.hit_on(d)
    d.step()
    assert not first.hit_on(d) and not second.hit_on(d) and first.hit_count == 1
    d.step()
    d.cont()
    d.wait()
    assert d.regs.rip == second.address
    assert second.hit_on(d) and not first.hit_on(d) and second.hit_count == 1


@pytest.mark.timeout(30)
def test_a_breakpoint_disabled_at_creation(conform):
    d = conform()
    off = d.breakpoint("a_fn")
    off.disable()
    on = d.breakpoint("loop_fn")
    assert not off.enabled and off.address in d.breakpoints
    assert d.memory["a_fn", 1] != b"\xcc"
    d.cont()
    d.wait()
    assert d.regs.rip == on.address and off.hit_count == 0
    off.enable()
    assert d.memory["a_fn", 1] != b"\xcc"  # reads never show tether's int3


@pytest.mark.timeout(30)
def test_breakpoints_by_file(conform, target):
    d = conform()
    a_fn = d.resolve_symbol("a_fn")
    offset = a_fn - d.maps.filter("binary")[0].start
    path = target("conform")
    assert d.breakpoint(offset, file="binary").address == a_fn
    assert d.breakpoint(offset).address == a_fn                  # hybrid
    assert d.breakpoint(offset, file=os.path.basename(path)).address == a_fn
    assert d.breakpoint(offset, file=path).address == a_fn
    assert d.breakpoint(a_fn, file="absolute").address == a_fn
    assert d.breakpoint("a_fn", file="binary").address == a_fn
    puts = d.breakpoint("puts", file="libc")
    assert puts.address == d.resolve_symbol("puts", "libc")
    assert d.breakpoint(offset).symbol == hex(a_fn)
    assert puts.symbol == "puts"
    with pytest.raises(ValueError):
        d.breakpoint(0x10, file="no-such-file")
    with pytest.raises(ValueError):
        d.breakpoint(0x10, file="absolute")


@pytest.mark.timeout(30)
def test_what_a_breakpoint_callback_reads(conform):
    d = conform()
    seen = []

    def callback(t, bp):
        seen.append({
            "pid": t.pid, "tid": t.thread_id, "rdi": t.regs.rdi,
            "memory": t.memory["greeting", 5], "at": t.instruction_pointer == bp.address,
            "hits": bp.hit_count, "hit_on": bp.hit_on(t),
            "debugger_memory": d.memory["greeting", 5], "debugger_rdi": d.regs.rdi})

    bp = d.breakpoint("a_fn", callback=callback)
    d.cont()
    d.wait()
    assert d.dead and bp.hit_count == 1
    assert seen == [{"pid": d.pid, "tid": d.pid, "rdi": 1, "memory": b"Hello", "at": True,
                     "hits": 1, "hit_on": True, "debugger_memory": b"Hello",
                     "debugger_rdi": 1}]


@pytest.mark.timeout(30)
def test_watchpoint_callbacks_see_each_write(conform):
    d = conform()
    loop_fn = d.resolve_symbol("loop_fn")
    seen = []

    def callback(t, wp):
        value = int.from_bytes(t.memory["watched", 8], "little")
        seen.append((t.instruction_pointer - loop_fn, wp.hit_count, value))

    wp = d.watchpoint("watched", condition="w", length=8, callback=callback)
    d.cont()
    d.wait()
    # After each write (a trap: rip is past the writing instruction).
    # libdebug counts a 4th hit at the exit (a stale debug status register
    # read at its exit stop); there is no 4th write.
    assert seen == [(0x24, 1, 0), (0x24, 2, 1), (0x24, 3, 3)]
    assert wp.hit_count == 3


@pytest.mark.timeout(30)
def test_a_read_write_watchpoint_stops_at_every_access(conform):
    d = conform()
    loop_fn = d.resolve_symbol("loop_fn")
    wp = d.wp("watched", condition="rw", length=8)
    stops = []
    while True:
        d.cont()
        d.wait()
        if d.dead:
            break
        stops.append((d.regs.rip - loop_fn, wp.hit_count, wp.hit_on(d)))
    assert stops == [(0x1a, 1, True), (0x24, 2, True), (0x1a, 3, True), (0x24, 4, True),
                     (0x1a, 5, True), (0x24, 6, True), (0x35, 7, True)]


# ------------------------------------------------------------ memory

@pytest.mark.timeout(30)
def test_find_values(conform):
    d = conform()
    at_c_fn(d)
    g = d.resolve_symbol("greeting")
    mem = d.memory
    assert g in mem.find("Hello, tether")
    assert mem.find(b"Hello", file="binary") == [g]
    binary_base = d.maps.filter("binary")[0].start
    assert mem.find(b"Hello", file="binary", start=g - binary_base) == [g]  # offset in the file
    assert mem.find(b"Hello, tether", start=g)[0] == g
    assert g in mem.find(b"Hello, tether", end=g + 20)
    assert mem.find(b"l", start=g, end=g + 14) == [g + 2, g + 3]
    # Overlapping occurrences count: "!\0" then the NUL padding.
    assert len(mem.find(b"\x00\x00", start=g + 14, end=g + 18)) >= 1
    assert len(mem.find(b"heapdata", file="heap")) == 1
    # An int is one byte, as libdebug reads it.
    assert g in mem.find(ord("H"), start=g, end=g + 1)
    with pytest.raises(OverflowError):
        mem.find(0x4142)
    with pytest.raises(ValueError):
        mem.find(b"x", file="no-such-file")


@pytest.mark.timeout(30)
def test_find_pointers(conform):
    d = conform()
    at_c_fn(d)
    g, pg, ppg = (d.resolve_symbol(n) for n in ("greeting", "p_greeting", "pp_greeting"))
    heap_block = word(d, d.resolve_symbol("heap_block"))
    mem = d.memory
    inside = mem.find_pointers("binary", "binary")
    assert (pg, g) in inside and (ppg, pg) in inside
    assert (heap_block, g) in mem.find_pointers("heap", "binary")
    assert any(p == heap_block for _, p in mem.find_pointers("binary", "heap"))
    # An address names the map that contains it.
    assert (pg, g) in mem.find_pointers(pg, g)
    assert (heap_block, g) in mem.find_pointers(heap_block, "binary")
    base = d.maps.filter("binary")[0].start
    assert all((a - base) % 8 == 0 for a, _ in mem.find_pointers("binary", "binary", step=8))
    assert mem.find_pointers("ALL", "heap") == mem.find_pointers("*", "heap") \
        == mem.find_pointers(-1, "heap") == mem.find_pointers("all", "heap")
    assert mem.find_pointers("stack", "libc")
    with pytest.raises(ValueError):
        mem.find_pointers("no-such-file", "binary")
    with pytest.raises(ValueError):
        mem.find_pointers("binary", "no-such-file")


@pytest.mark.timeout(30)
def test_telescope(conform):
    d = conform()
    at_c_fn(d)
    g, pg, ppg, loop = (d.resolve_symbol(n) for n in
                        ("greeting", "p_greeting", "pp_greeting", "loop_a"))
    mem = d.memory
    text = int.from_bytes(b"Hello, t", "little")
    assert mem.telescope(ppg) == [ppg, pg, g, "Hello, tether!"]
    assert mem.telescope(ppg, min_str_len=-1) == [ppg, pg, g, text]
    assert mem.telescope(pg, max_str_len=5) == [pg, g, "Hello"]
    assert mem.telescope(pg, min_str_len=20) == [pg, g, text]  # 14 printable bytes only
    assert mem.telescope(loop, max_depth=3) == [loop] * 4      # a loop goes to max_depth
    watched = d.resolve_symbol("watched")
    assert mem.telescope(watched) == [watched, 0]              # 0 is not readable
    short = mem.telescope(ppg, max_depth=2)
    assert short[:2] == [ppg, pg] and len(short) == 3
    for bad in ({"max_depth": 0}, {"min_str_len": -2}, {"max_str_len": 0},
                {"min_str_len": 10, "max_str_len": 5}):
        with pytest.raises(ValueError):
            mem.telescope(pg, **bad)
    with pytest.raises(ValueError):
        mem.telescope(0x10)


@pytest.mark.timeout(60)
def test_libc_debug_file_symbols(conform):
    # main_arena and _int_malloc are only in libc's separate debug file.
    d = conform()
    at_c_fn(d)
    arena = d.resolve_symbol("main_arena", "libc")
    assert arena > 0 and d.symbols.filter("main_arena")
    assert len(d.memory["main_arena", 8, "libc"]) == 8
    assert d.breakpoint("_int_malloc", file="libc").address > 0
    with pytest.raises(ValueError):
        d.resolve_symbol("main_arena")  # hybrid: the binary's symbols only


# ------------------------------------------------------------ maps

@pytest.mark.timeout(30)
def test_maps_api_and_equality(conform, target):
    d = conform()
    maps = d.maps
    assert type(maps).__name__ == "MemoryMapList"
    assert d.maps == d.maps and d.maps[0] == d.maps[0]
    real = os.path.realpath(target("conform"))
    assert {m.backing_file for m in maps.filter("binary")} == {real}
    assert {m.backing_file for m in maps.filter("conform")} == {real}
    assert all(m.base == m.start for m in maps.filter("libc"))
    assert len(maps.filter(d.resolve_symbol("main"))) == 1
    assert len(maps.filter("no-such-file")) == 0
    anonymous = [m for m in maps if not m.backing_file.startswith(("/", "["))]
    assert anonymous and all(m.backing_file == f"anon_{m.start:x}" for m in anonymous)
    assert maps.filter(anonymous[0].backing_file) == [anonymous[0]]
    with pytest.raises(TypeError):
        maps.filter(1.5)
    m = maps[0]
    assert [type(getattr(m, f)) for f in ("start", "end", "permissions", "size", "offset",
                                          "backing_file")] == [int, int, str, int, int, str]
    snap = d.create_snapshot("writable")
    # A snapshot's map equals the live one it was taken from (content aside).
    assert list(snap.maps) == list(d.maps)
    assert all(live == saved for live, saved in zip(d.maps, snap.maps))
    assert len({*d.maps, *snap.maps}) == len(d.maps)


# ------------------------------------------------------------ processes and threads

@pytest.mark.timeout(60)
def test_several_debuggers_at_once(target):
    ds = [debugger([target("conform")]) for _ in range(3)]
    try:
        for d in ds:
            d.run()
        bps = [d.breakpoint("a_fn") for d in ds]
        for d in ds:
            d.cont()
        for d in ds:
            d.wait()
        assert [bp.hit_count for bp in bps] == [1, 1, 1]
        assert all(bp.hit_on(d) for bp, d in zip(bps, ds))
        for d in ds:
            d.cont()
        for d in ds:
            d.wait()
        assert [(d.dead, d.exit_code) for d in ds] == [(True, 0)] * 3
    finally:
        for d in ds:
            d.terminate()


@pytest.mark.timeout(30)
def test_threads_that_ended_and_post_mortem_registers(conform):
    d = conform("threads")
    d.cont()
    d.wait()
    assert d.dead and d.exit_code == 0
    assert len(d.threads) == 3
    assert [t.dead for t in d.threads] == [True] * 3
    assert [t.exit_code for t in d.threads] == [0, 0, 0]
    # The main thread's registers at its exit (exit_group), as libdebug
    # keeps them; memory is gone.
    assert d.syscall_number == 231 and d.regs.rip > 0 and d.instruction_pointer == d.regs.rip
    with pytest.raises(RuntimeError):
        d.memory[d.regs.rip, 1, "absolute"]


# ------------------------------------------------------------ from libdebug's callback and memory tests

@pytest.mark.timeout(30)
def test_a_callback_writes_memory_through_an_open_slice(conform):
    d = conform()
    seen = {}

    def callback(t, bp):
        g = d.resolve_symbol("greeting")
        seen["ids"] = (t.process_id == d.process_id == t.pid, t.tid == t.thread_id)
        t.memory[g + 7:] = b"TETHER"          # [start:] writes len(data) bytes
        seen["after"] = t.memory[g, 14]
        seen["at"] = t.instruction_pointer - bp.address
        d.step()                              # the Debugger's step, from the callback
        seen["stepped"] = t.instruction_pointer - bp.address

    d.breakpoint("a_fn", callback=callback)
    d.cont()
    d.wait()
    assert seen == {"ids": (True, True), "after": b"Hello, TETHER!", "at": 0, "stepped": 1}


@pytest.mark.timeout(30)
def test_memory_index_errors_are_libdebugs_types(conform):
    d = conform()
    g = d.resolve_symbol("greeting")
    with pytest.raises(TypeError):
        d.memory[g:]                           # a read needs an end
    with pytest.raises(TypeError):
        d.memory[:g]
    with pytest.raises(TypeError):
        d.memory[0x10:, "binary"]
    with pytest.raises(TypeError):
        d.memory[0x10, 8, "binary", 1]
    with pytest.raises(TypeError):
        d.memory[1.5]
    with pytest.raises(TypeError):
        d.memory[g] = "text"
    with pytest.raises(ValueError):
        d.memory[0x1000, -1, "binary"]
    with pytest.raises(ValueError):
        d.memory[0x10, 8, "absolute"]
    assert d.memory[0x1000, 0, "binary"] == b""
    assert d.memory[0x0:0x4, "binary"] == b"\x7fELF"


@pytest.mark.timeout(60)
def test_main_arena_points_into_the_heap(conform):
    # libdebug's memory test reads main_arena (only in libc's debug file)
    # and finds the heap's chunks there.
    d = conform()
    at_c_fn(d)
    arena = d.memory["main_arena", 0x800, "libc"]
    heap = d.maps.filter("heap")
    words = [int.from_bytes(arena[i:i + 8], "little") for i in range(0, len(arena), 8)]
    assert any(heap[0].start <= w < heap[-1].end for w in words)


# ------------------------------------------------------------ from libdebug's multiprocessing tests

@pytest.mark.timeout(60)
@pytest.mark.parametrize("hardware", [False, True])
def test_a_breakpoint_after_fork_and_the_childs_debugger(launch, hardware):
    d = launch("mp_input", 1)
    r = d.run()
    offset = d.resolve_symbol("after_fork") - d.maps[0].start
    bp = d.bp(offset, file="binary", hardware=hardware)
    d.cont()
    d.wait()
    assert bp.hit_on(d) and len(d.children) == 1
    child = d.children[0]
    assert len(child.breakpoints) == 0           # a child starts with none
    child.cont()
    d.cont()
    r.sendline(b"Io_no")
    assert r.recvline() == b"Enter your input: You entered: Io_no"
    child.wait()
    d.wait()
    assert (d.dead, child.dead, d.exit_code, child.exit_code) == (True, True, 0, 0)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("hardware", [False, True])
def test_breakpoints_down_a_chain_of_forks(launch, hardware):
    d = launch("mp_input", 4)
    r = d.run()
    offset = d.resolve_symbol("after_fork") - d.maps[0].start
    bp = d.bp(offset, file="binary", hardware=hardware)
    d.cont()
    d.wait()
    assert bp.hit_on(d) and len(d.children) == 1
    d.cont()
    chain = [d]
    for depth in range(1, 4):
        child = chain[-1].children[0]
        # The child starts stopped just after its fork; its breakpoints are
        # its own. (In libdebug the first step() of a new child runs on to
        # the next breakpoint; here it is one instruction, so the child's own
        # after_fork(0) is the first hit and its fork's the second.)
        cbp = child.bp(offset, file="binary", hardware=hardware)
        child.step()
        child.cont()
        child.wait()
        assert cbp.hit_on(child) and child.regs.rdi == 0 and cbp.hit_count == 1
        child.cont()
        child.wait()
        assert cbp.hit_on(child) and not cbp.hit_on(chain[-1]) and cbp.hit_count == 2
        assert len(child.children) == 1 and all(len(p.children) == 1 for p in chain)
        child.cont()
        chain.append(child)
    last = chain[-1].children[0]
    last.cont()
    r.sendline(b"Io_no")
    assert r.recvline() == b"Enter your input: You entered: Io_no"
    for p in [last] + chain[::-1]:
        p.wait()
    assert [p.exit_code for p in chain + [last]] == [0] * 5


# ------------------------------------------------------------ from libdebug's snapshot tests

def _numeric_registers(regs):
    out = {}
    for name in dir(regs):
        try:
            value = getattr(regs, name)
        except Exception:
            continue
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            out[name] = value
    return out


def _same_registers(saved, live):
    want = _numeric_registers(live)
    got = {name: getattr(saved, name, None) for name in want}
    # (NaN compares unequal to itself: compared as text)
    return {n: v for n, v in want.items() if repr(got[n]) != repr(v)}


@pytest.mark.timeout(60)
@pytest.mark.parametrize("level", ["base", "writable", "full"])
def test_thread_snapshots_as_libdebug_checks_them(conform, level, tmp_path):
    d = conform()
    thread = d.threads[0]
    snap = thread.create_snapshot(level=level, name="_start_snapshot")
    path = str(tmp_path / "snap.json")
    snap.save(path)
    restored = d.load_snapshot(path)
    for s in (snap, restored):
        assert (s.name, s.level, s.thread_id, s.arch) == ("_start_snapshot", level, thread.tid, d.arch)
        assert _same_registers(s.regs, d.regs) == {}
        assert all(s.maps[i] == m for i, m in enumerate(d.maps))
        if level == "base":
            with pytest.raises(ValueError):
                s.memory[0x0, 0x1000, "binary"]
            with pytest.raises(ValueError):
                s.backtrace()
            continue
        for m in d.maps:
            try:
                live = d.memory[m.start:m.end, "absolute"]
            except (OSError, OverflowError, ValueError):
                continue  # [vvar] and the like
            if level == "full" or "w" in m.permissions:
                assert s.memory[m.start:m.end, "absolute"] == live
            else:
                with pytest.raises(ValueError):
                    s.memory[m.start:m.end, "absolute"]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("level", ["base", "full"])
def test_process_snapshots_as_libdebug_checks_them(conform, level, tmp_path):
    d = conform("threads")
    d.breakpoint("a_fn")
    d.cont()
    d.wait()
    snap = d.create_snapshot(level=level, name="_p")
    path = str(tmp_path / "snap.json")
    snap.save(path)
    restored = d.load_snapshot(path)
    for s in (snap, restored):
        assert (s.name, s.level, s.arch, s.process_id) == ("_p", level, d.arch, d.pid)
        assert [t.tid for t in s.threads] == [t.tid for t in d.threads]
        assert _same_registers(s.regs, d.regs) == {}
        assert [_same_registers(st.regs, t.regs) for st, t in zip(s.threads, d.threads)] \
            == [{}] * len(d.threads)
        assert all(s.maps[i] == m for i, m in enumerate(d.maps))
    if level == "full":
        live = d.backtrace()
        assert snap.backtrace() == live
        # Loaded without reading the mapped files (no CFI): the frames up to
        # main come from the frame-pointer chain, from a_fn's first
        # instruction on, as libdebug's backtrace gives them.
        main = d.resolve_symbol("main")
        frames = restored.backtrace()
        assert frames == live[:len(frames)]
        assert any(main <= f < main + 0x200 for f in frames)


@pytest.mark.timeout(30)
@pytest.mark.parametrize("by", ["name", "address"])
def test_find_pointers_from_the_heap_into_the_stack(launch, by):
    # libdebug's find_pointers test: the heap's three pointers to the stack,
    # in address order, as the program itself prints them.
    d = launch("pointer_slots")
    r = d.run()
    d.bp("done", hardware=True)
    d.cont()
    d.wait()
    if by == "name":
        found = d.mem.find_pointers("heap", "stack")
    else:
        found = d.mem.find_pointers(d.maps.filter("heap")[0].start, d.maps.filter("stack")[0].start)
    printed = [tuple(int(x, 16) for x in r.recvline().split()) for _ in range(3)]
    assert found == printed
    d.cont()
    d.wait()
    assert d.exit_code == 0


@pytest.mark.timeout(60)
@pytest.mark.parametrize("hardware", [False, True])
def test_a_breakpoint_after_fork_without_following_children(launch, hardware):
    d = launch("mp_input", 1, follow_children=False)
    r = d.run()
    bp = d.bp("after_fork", hardware=hardware)
    d.cont()
    d.wait()
    assert bp.hit_on(d) and d.regs.rdi > 0 and d.children == []
    d.cont()
    # The child runs free, our int3 gone from its copy of the memory: it
    # passes its own after_fork and reads its input.
    r.sendline(b"free")
    assert r.recvline() == b"Enter your input: You entered: free"
    d.wait()
    assert d.dead and d.exit_code == 0 and bp.hit_count == 1


@pytest.mark.timeout(30)
def test_next_steps_over_calls_and_stops_at_breakpoints_inside(conform):
    d = conform()
    at_c_fn(d)
    c = d.resolve_symbol("c_fn")
    seen = []
    for _ in range(8):
        d.next()
        seen.append(d.regs.rip - c)
    # ... mov rdi (+0x10), call b_fn (+0x13) taken as one, then on.
    assert seen == [0x1, 0x4, 0x8, 0xc, 0x10, 0x13, 0x18, 0x1c]
    d.kill()
    d.run()
    at_c_fn(d)
    a = d.breakpoint("a_fn")
    for _ in range(7):
        d.ni()
    # The call to b_fn is cut short by the breakpoint in a_fn: a hit.
    assert d.regs.rip == a.address and a.hit_count == 1 and a.hit_on(d)
    d.next()
    assert d.regs.rip == a.address + 1 and a.hit_count == 1


@pytest.mark.timeout(60)
def test_a_wait4_handler_runs_each_child_to_its_end(launch):
    # Issue 15, theme 12: a parent's wait4 handler drives the child's
    # Debugger (cont, wait, terminate) while the parent sits in the syscall.
    d = launch("mp_fork", 3)
    d.run()
    seen = []

    def on_wait4(t, handler):
        for child in d.children:
            if not child.dead:
                child.cont()
                child.wait()
                seen.append((child.dead, child.exit_code))
                child.terminate()

    handler = d.handle_syscall("wait4", on_enter=on_wait4)
    d.cont()
    d.wait()
    assert seen == [(True, 3)]
    assert (d.dead, d.exit_code, handler.hit_count) == (True, 43, 1)


@pytest.mark.timeout(60)
def test_a_diffs_maps_as_libdebug_lists_them(conform):
    d = conform()
    d.breakpoint("loop_fn")
    d.cont()
    d.wait()
    before = d.create_snapshot(level="writable")
    d.finish()
    after = d.create_snapshot(level="writable")
    maps = before.diff(after).maps
    # Every map once, in order, with its two states.
    assert [x.old_map_state for x in maps] == list(before.maps)
    assert [x.new_map_state for x in maps] == list(after.maps)
    changed = [x for x in maps if x.has_changed]
    # loop_fn wrote `watched` and `seen` (one changed byte each: 3 and 3),
    # and the stack moved.
    data = [x for x in changed if x.old_map_state.backing_file == before.maps[0].backing_file]
    assert len(data) == 1
    start = data[0].old_map_state.start
    watched, seen = d.resolve_symbol("watched") - start, d.resolve_symbol("seen") - start
    assert data[0].content_diff == [slice(watched, watched + 1), slice(seen, seen + 1)]
    assert any(x.old_map_state.backing_file == "[stack]" for x in changed)
    unchanged = next(x for x in maps if not x.has_changed and "r-x" in x.old_map_state.permissions)
    with pytest.raises(ValueError):
        unchanged.content_diff   # not captured at level "writable"
    assert len(maps.filter(d.resolve_symbol("watched"))) == 1
    assert len(maps.filter("libc")) == len(d.maps.filter("libc"))
    assert not maps      # (tether's truth: no map was added, removed or reshaped)
