"""Debugger.gdb(), is_in_gdb, wait_for_gdb(): a process handed to gdb (run
here in batch mode, driven by a command file) and taken back where gdb left
it (docs/edge-cases.md §37)."""
import os
import pathlib
import re
import signal
import time

import pytest

from procutil import kill_tree, task_tids, tracer_of, wait_for
from tether import debugger

SRC = pathlib.Path(__file__).resolve().parents[2] / "src"


def gdb_script(tmp_path, body):
    """A gdb command file; what it writes with `report` lands in tmp_path/seen."""
    seen = tmp_path / "seen"
    path = tmp_path / "commands.gdb"
    path.write_text(body.replace("REPORT", str(seen)))
    return ["-nx", "-batch", "-x", str(path)], seen


def test_gdb_sees_our_breakpoint_and_we_see_its_changes(target, tmp_path):
    d = debugger([target("gdb_target")])
    try:
        io = d.run()
        bp = d.breakpoint("work", file="binary")
        io.sendline(b"1")
        d.cont()
        d.wait()
        assert d.regs.rip == bp.address and d.regs.rdi == 1
        # In gdb: continue from here (work(1) runs) to the migrated breakpoint
        # (work(2), once the script has sent "2"), note where gdb stopped,
        # change a register and a variable, and give the process back.
        args, seen = gdb_script(tmp_path, """
info breakpoints
continue
python open('REPORT', 'w').write('%d %d %d' % (int(gdb.parse_and_eval('$pc')), int(gdb.parse_and_eval('$rdi')), gdb.breakpoints()[0].hit_count))
set $rdi = 40
set var counter = 100
detach
""")
        event = d.gdb(open_in_new_process=False, blocking=False, gdb_args=args)
        assert d.is_in_gdb
        with pytest.raises(RuntimeError, match="wait_for_gdb"):
            d.regs.rip
        assert io.recvline() == b"1 1 0"  # (work(1) ran in gdb: the pipes work meanwhile)
        io.sendline(b"2")
        d.wait_for_gdb()
        assert not d.is_in_gdb and event.done
        pc, rdi, hits = map(int, seen.read_text().split())
        # gdb stopped on our breakpoint, in work(2): the call after the one
        # it was handed over in (gdb may count that one as a hit too).
        assert (pc, rdi) == (bp.address, 2) and hits >= 1
        assert tracer_of(d.pid) == d.control.tracer.thread.native_id
        # Back where gdb left it, with gdb's changes.
        assert d.regs.rip == bp.address and d.regs.rdi == 40
        assert int.from_bytes(d.memory["counter", 8, "binary"], "little") == 100
        assert bp.hit_count == 1  # (gdb's hit is gdb's)
        d.cont()  # work(40) here
        io.sendline(b"3")
        d.wait()  # our breakpoint is still in place
        assert bp.hit_count == 2 and d.regs.rdi == 3
        d.cont()
        assert io.recvline() == b"140 140 0"  # (0: no SIGCONT seen by the program)
        assert io.recvline() == b"143 143 0"
        io.close()
        d.wait()
        assert d.exit_code == 0
        with pytest.raises(RuntimeError, match="not in gdb"):
            d.wait_for_gdb()
    finally:
        kill_tree(d)


def test_one_process_of_a_tree_goes_to_gdb_while_the_rest_stays_traced(target, tmp_path):
    d = debugger([target("gdb_target"), "fork"])
    try:
        io = d.run()
        d.cont()
        wait_for(lambda: d.children, what="the fork")  # (the child starts stopped)
        child = d.children[0]
        bp = child.breakpoint("work", file="binary")
        io.sendline(b"5")
        child.cont()
        child.wait()
        assert child.regs.rdi == 5
        args, seen = gdb_script(tmp_path, """
python open('REPORT', 'w').write('%d' % int(gdb.parse_and_eval('$pc')))
set $rdi = 7
goback
""")
        child.gdb(migrate_breakpoints=False, open_in_new_process=False, gdb_args=args)  # blocking
        assert not child.is_in_gdb
        assert int(seen.read_text()) == bp.address
        tracer = d.control.tracer.thread.native_id
        assert tracer_of(d.pid) == tracer and tracer_of(child.pid) == tracer
        assert child.regs.rdi == 7
        child.cont()
        assert io.recvline() == b"7 7 0"
        io.close()
        child.wait()
        assert child.exit_code == 0
        d.wait()  # the parent, traced all along, reaped its child and exits with its code
        assert d.dead and d.exit_code == 0
    finally:
        kill_tree(d)


def test_gdb_refused_inside_a_callback_and_while_in_gdb(target, tmp_path):
    d = debugger([target("gdb_target")])
    try:
        io = d.run()
        errors = []

        def callback(t, bp):
            try:
                d.gdb(open_in_new_process=False)
            except RuntimeError as e:
                errors.append(str(e))

        d.breakpoint("work", file="binary", callback=callback)
        io.sendline(b"1")
        d.cont()
        assert io.recvline() == b"1 1 0"
        assert errors and "callback" in errors[0]
        d.interrupt()
        with pytest.raises(TypeError):
            d.gdb(gdb_args="-batch")
        assert not d.is_in_gdb
    finally:
        kill_tree(d)
    d = debugger([target("gdb_target")], syscall_filter=["read"])
    try:
        d.run()
        with pytest.raises(ValueError, match="ENOSYS"):
            d.gdb(open_in_new_process=False)
        assert not d.is_in_gdb and d.regs.rip  # still ours
    finally:
        kill_tree(d)


def test_hardware_breakpoints_and_watchpoints_go_to_gdb_and_come_back(target, tmp_path):
    d = debugger([target("gdb_target")])
    try:
        io = d.run()
        hw = d.breakpoint("work", file="binary", hardware=True)
        wp = d.watchpoint("counter", file="binary", condition="w", length=8)
        args, seen = gdb_script(tmp_path, """
python open('REPORT', 'w').write(gdb.execute('info breakpoints', to_string=True))
detach
""")
        d.gdb(open_in_new_process=False, gdb_args=args)
        listing = seen.read_text()
        assert f"{hw.address:#018x}" in listing and "hw breakpoint" in listing
        assert re.search(rf"hw watchpoint +keep y +\*\(long \*\) {wp.address:#x}\n", listing)
        io.sendline(b"4")
        d.cont()
        d.wait()
        assert d.regs.rip == hw.address and hw.hit_count == 1  # the debug registers are back
        d.cont()
        d.wait()
        assert wp.hit_count == 1
        d.cont()
        assert io.recvline() == b"4 4 0"
    finally:
        kill_tree(d)


def test_quitting_gdb_gives_the_process_back_where_it_stopped(target, tmp_path):
    # The batch run ends with the process still attached: gdb quits, which
    # detaches it (no `detach` command, so no hook-detach: gdb_exiting).
    d = debugger([target("gdb_target")])
    try:
        io = d.run()
        bp = d.breakpoint("work", file="binary")
        io.sendline(b"1")
        io.sendline(b"2")
        d.cont()
        d.wait()
        args, _ = gdb_script(tmp_path, "continue\n")
        d.gdb(open_in_new_process=False, gdb_args=args)
        assert d.regs.rip == bp.address and d.regs.rdi == 2  # where gdb's continue stopped
        d.cont()
        assert io.recvline() == b"1 1 0"
        assert io.recvline() == b"3 3 0"
    finally:
        kill_tree(d)


def test_gdb_in_a_new_terminal_from_libcontext(target, tmp_path):
    # A "terminal" that runs the command it is given where it is: the path
    # where gdb is not our child and its end is known from its marks.
    from tether import libcontext
    d = debugger([target("gdb_target")])
    try:
        io = d.run()
        bp = d.breakpoint("work", file="binary")
        io.sendline(b"6")
        d.cont()
        d.wait()
        args, seen = gdb_script(tmp_path, """
python open('REPORT', 'w').write('%d' % int(gdb.parse_and_eval('$rdi')))
set $rdi = 9
detach
""")
        with libcontext.tmp(terminal=["env"]):
            d.gdb(gdb_args=args)
        assert int(seen.read_text()) == 6
        assert d.regs.rip == bp.address and d.regs.rdi == 9
        d.cont()
        assert io.recvline() == b"9 9 0"
    finally:
        kill_tree(d)


def test_a_multithreaded_process_goes_to_gdb_and_comes_back_whole(target, tmp_path):
    # mt_attach: 4 threads call tick() every millisecond, and threads are born
    # and die every 100 us (some while in gdb).
    d = debugger([target("mt_attach")])
    try:
        d.run()
        d.cont()
        wait_for(lambda: len(task_tids(d.pid)) >= 6, what="mt_attach's threads")
        d.interrupt()
        bp = d.breakpoint("tick", file="binary")
        d.cont()
        d.wait()
        args, seen = gdb_script(tmp_path, """
continue
python open('REPORT', 'w').write('%d %d' % (int(gdb.parse_and_eval('$pc')), len(gdb.selected_inferior().threads())))
detach
""")
        d.gdb(open_in_new_process=False, gdb_args=args)
        pc, threads = map(int, seen.read_text().split())
        assert pc == bp.address and threads >= 6
        live = {t.tid for t in d.threads if not t.dead}
        assert live == task_tids(d.pid)  # threads born and ended in gdb accounted for
        hits = set()
        bp.disable()
        d.breakpoint("blip", file="binary", callback=lambda t, b: hits.add(t.tid))
        d.breakpoint("tick", file="binary", hardware=True, callback=lambda t, b: hits.add(t.tid))
        d.cont()
        wait_for(lambda: len(hits) >= 6, what="hits in every kind of thread")
        d.interrupt()
        assert not d.dead
    finally:
        kill_tree(d)


INTERACTIVE = """
import sys
from tether import debugger
d = debugger([sys.argv[1]])
io = d.run()
d.breakpoint("work", file="binary")
io.sendline(b"1")
d.cont()
d.wait()
d.gdb(open_in_new_process=False)   # no terminal to open: gdb runs in ours
print("BACK", d.regs.rdi, flush=True)
d.kill()
"""


def test_interactive_gdb_in_the_scripts_terminal(target, tmp_path):
    # A script on a terminal (a pty here): gdb takes the terminal, the user
    # types at its prompt, `goback` gives the process back to the script.
    import select
    import subprocess
    import sys
    script = tmp_path / "interactive.py"
    script.write_text(INTERACTIVE)
    env = dict(os.environ, PYTHONPATH=str(SRC), TERM="dumb")
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "TMUX"):
        env.pop(name, None)
    # (subprocess, not pty.fork: forking a multi-threaded process by hand is
    # deprecated; `setsid -c` makes the pty the script's controlling terminal)
    fd, slave = os.openpty()
    child = subprocess.Popen(["setsid", "-c", sys.executable, str(script), target("gdb_target")],
                             stdin=slave, stdout=slave, stderr=slave, env=env)
    os.close(slave)
    seen = b""

    def read_until(text, timeout=30.0):
        nonlocal seen
        deadline = time.monotonic() + timeout
        while text not in seen:
            left = deadline - time.monotonic()
            assert left > 0, f"{text!r} never came: {seen.decode(errors='replace')}"
            if select.select([fd], [], [], left)[0]:
                try:
                    seen += os.read(fd, 4096)
                except OSError:
                    break
        return seen

    try:
        read_until(b"(gdb) ")
        os.write(fd, b"print $rdi\n")
        read_until(b"= 1\r\n")
        os.write(fd, b"set $rdi = 77\n")
        os.write(fd, b"goback\n")
        read_until(b"BACK 77")
    finally:
        try:
            code = child.wait(timeout=30)
        finally:
            os.close(fd)
    assert code == 0, seen.decode(errors="replace")


def test_a_job_stopped_process_comes_back_job_stopped(target, tmp_path):
    d = debugger([target("gdb_target")])
    try:
        io = d.run()
        d.cont()
        io.sendline(b"0")
        assert io.recvline() == b"0 0 0"  # (its SIGCONT handler is installed: it waits in fgets)
        os.kill(d.pid, signal.SIGSTOP)
        d.wait()
        assert d.job_stopped
        args, _ = gdb_script(tmp_path, "detach\n")
        d.gdb(open_in_new_process=False, gdb_args=args)
        assert d.job_stopped  # still in its own job-control stop: not continued for it
        io.sendline(b"5")
        assert io.recvline(timeout=0.5, optional=True) == b""
        d.cont()  # fg: the one SIGCONT the program sees
        assert io.recvline() == b"5 5 1"
    finally:
        kill_tree(d)
