"""Who wrote what (issue 21, item 4): run(attribute_output=True) attributes
every byte of stdout and stderr to the process (and thread) that wrote it.

Target: tests/targets/output_writers.c: a parent and three forked children,
two writer threads each, interleaved messages of 20..200 bytes and of
70000 bytes (more than PIPE_BUF and a pty's buffer), written with write,
writev and sendfile, through fds 1 and 2, dup2'd and F_DUPFD'd copies, a
re-opened pty and an fd received over a unix socket. Every message names
its writer, so each record can be checked against the pid and tid tether
gives it. An untraced run on ptys writes the same bytes, but large writes
there interleave (a pty takes a sendfile or writev page by page), so it is
compared byte for byte as a multiset, and each writer's messages with what
the program's rule says they are."""
import collections
import os
import re
import select
import subprocess
import time
import tty

import pytest

from tether import debugger
from tether.commlink.pipes import PipeClosedError
from procutil import shutdown

NCHILD, ROUNDS, LARGE = 3, 30, 70000
MESSAGE = re.compile(rb"<w(\d\d):(\d\d\d):(\d{6})>")


def split_messages(data: bytes) -> list:
    """Whole messages (writer, seq, bytes) of one writer's or one stream's
    bytes; AssertionError if anything else is there."""
    out, pos = [], 0
    while pos < len(data):
        m = MESSAGE.match(data, pos)
        assert m, f"no message header at byte {pos}: {data[pos:pos + 40]!r}"
        writer, seq, length = int(m[1]), int(m[2]), int(m[3])
        body = data[pos:pos + length]
        assert len(body) == length and body.endswith(b"\n"), f"message {writer}:{seq} cut"
        filler = body[m.end() - pos:-1]
        assert filler == bytes([ord("A") + writer]) * len(filler), f"message {writer}:{seq} mixed"
        out.append((writer, seq, body))
        pos += length
    return out


def by_writer(messages) -> dict:
    found: dict = {}
    for writer, seq, body in messages:
        found.setdefault(writer, []).append((seq, body))
    return found


def expected(writer: int, stream: str) -> list:
    """The (seq, message) list writer `writer` writes to `stream` (the rule
    of output_writers.c)."""
    out = []
    for seq in range(ROUNDS):
        if (seq % 4 == 3) != (stream == "stderr"):
            continue
        length = LARGE if seq % 10 == 9 else 20 + (seq * 37 + writer * 11) % 181
        head = b"<w%02d:%03d:%06d>" % (writer, seq, length)
        out.append((seq, head + bytes([ord("A") + writer]) * (length - len(head) - 1) + b"\n"))
    return out


def untraced_output(path: str) -> tuple:
    """(exit code, stdout, stderr) of an untraced run on raw ptys, as the
    PipeManager gives them."""
    ends = [os.openpty(), os.openpty()]
    for _, slave in ends:
        tty.setraw(slave)
    proc = subprocess.Popen([path], stdin=subprocess.DEVNULL, stdout=ends[0][1], stderr=ends[1][1])
    for _, slave in ends:
        os.close(slave)
    got = {master: bytearray() for master, _ in ends}
    live = set(got)
    deadline = time.monotonic() + 60
    while live and time.monotonic() < deadline:
        ready, _, _ = select.select(list(live), [], [], 1)
        for fd in ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                chunk = b""   # EIO: every slave end closed
            if chunk:
                got[fd] += chunk
            else:
                live.discard(fd)
    for master in got:
        os.close(master)
    return proc.wait(timeout=30), bytes(got[ends[0][0]]), bytes(got[ends[1][0]])


def receive_all(io) -> tuple:
    """Read stdout, then stderr, to their ends (the program runs meanwhile)."""
    streams = []
    for receive in (io.recv, io.recverr):
        data = bytearray()
        while True:
            try:
                data += receive(65536, timeout=20)
            except PipeClosedError:
                break
        streams.append(bytes(data))
    return tuple(streams)


def start(target, **settings):
    d = debugger([target("output_writers")], **settings)
    io = d.run(attribute_output=True)
    d.on_fork(lambda parent, child: child.cont())   # every child runs (the hook is inherited)
    return d, io


def check_attribution(d, io, out: bytes, err: bytes, reference) -> None:
    records = io.output_records()
    # Nothing lost, nothing added, and the records in the order of the streams.
    assert b"".join(r.data for r in records if r.stream == "stdout") == out
    assert b"".join(r.data for r in records if r.stream == "stderr") == err
    assert all(r.pid is not None for r in records), "bytes no write accounted for"
    # Each record is one writer's: its thread's bytes are that writer's messages.
    pids = [d.pid] + [c.pid for c in d.children]
    assert len(pids) == NCHILD + 1
    writer_of_tid: dict = {}
    for r in records:
        for writer, _, _ in split_messages(r.data) if MESSAGE.match(r.data) else []:
            assert writer_of_tid.setdefault(r.tid, writer) == writer, "two writers on one tid"
    for r in records:
        writer = writer_of_tid[r.tid]
        assert r.pid == pids[writer // 2], f"writer {writer}'s bytes given to pid {r.pid}"
        assert (r.tid == r.pid) == (writer % 2 == 0), "main thread / second thread mixed up"
    # Each writer's messages, whole and in order; the same bytes as untraced.
    code, ref_out, ref_err = reference
    assert code == 0
    for stream, ref in (("stdout", ref_out), ("stderr", ref_err)):
        mine = b"".join(r.data for r in records if r.stream == stream)
        assert by_writer(split_messages(mine)) == \
            {w: expected(w, stream) for w in range(2 * (NCHILD + 1))}
        assert len(mine) == len(ref) and collections.Counter(mine) == collections.Counter(ref)
    assert len(writer_of_tid) == 2 * (NCHILD + 1)


@pytest.fixture(scope="module")
def reference(target):
    return untraced_output(target("output_writers"))


@pytest.mark.timeout(120)
@pytest.mark.parametrize("syscall_filter", [None, ["getpid"]], ids=["syscall-stops", "seccomp"])
def test_every_byte_goes_to_the_process_that_wrote_it(target, reference, syscall_filter):
    d, io = start(target, syscall_filter=syscall_filter)
    try:
        d.cont()
        out, err = receive_all(io)
        d.wait()
        assert d.exit_code == 0
        assert all(c.exit_code == 0 for c in d.children)
        check_attribution(d, io, out, err, reference)
    finally:
        shutdown(d)


@pytest.mark.timeout(120)
def test_by_process_reads_one_process_output(target, reference):
    d, io = start(target)
    try:
        d.cont()
        # A child's own stdout, line by line, while everyone writes.
        first, early = None, bytearray()
        while first is None:
            if d.children:
                first = d.children[0]
            else:
                early += io.recv(65536, timeout=1)
        view = io.by_process(first)
        lines = [view.recvline(drop=False, timeout=20) for _ in range(5)]
        mine = split_messages(b"".join(lines))
        assert {w // 2 for w, _, _ in mine} == {1}
        # stderr of the parent, by pid, to its end.
        err = bytearray()
        parent_view = io.by_process(d.pid)
        while True:
            try:
                err += parent_view.recverr(65536, timeout=20)
            except PipeClosedError:
                break
        messages = split_messages(bytes(err))
        assert {w for w, _, _ in messages} == {0, 1}
        assert by_writer(messages) == {0: expected(0, "stderr"), 1: expected(1, "stderr")}
        d.wait()
        # The view's reads take nothing from the PipeManager's own stream.
        out, err_all = receive_all(io)
        assert b"".join(r.data for r in io.output_records(stream="stdout")) == early + out
        assert io.output_records(pid=d.pid, stream="stderr")[0].data in err_all
        everything = io.output_records()
        assert io.pop_output_records() == everything and io.output_records() == []
        with pytest.raises(PipeClosedError):   # a view made after the pop: nothing, and the end
            io.by_process(d.pid).recv(timeout=0.1)
    finally:
        shutdown(d)


@pytest.mark.timeout(120)
def test_a_stopped_process_does_not_hold_up_the_others(target, reference):
    # The parent stops at a breakpoint (an all-stop, maybe with a thread in
    # a write); its children write on and end meanwhile.
    d, io = start(target)
    try:
        bp = d.breakpoint("message", file="binary")
        d.cont()
        d.wait()
        assert d.regs.rip == bp.address
        bp.disable()
        deadline = time.monotonic() + 60
        out, err = bytearray(), bytearray()
        while not (len(d.children) == NCHILD and all(c.dead for c in d.children)):
            assert time.monotonic() < deadline, "children held up by the stopped parent"
            out += io.recv(65536, timeout=0.2)
            err += io.recverr(65536, timeout=0.01)
        d.cont()
        rest_out, rest_err = receive_all(io)
        d.wait()
        assert d.exit_code == 0
        check_attribution(d, io, bytes(out) + rest_out, bytes(err) + rest_err, reference)
    finally:
        shutdown(d)


@pytest.mark.timeout(60)
def test_off_by_default_and_refused_without_pipes(target):
    d = debugger([target("output_writers")])
    try:
        io = d.run()
        assert not io.attributing
        assert not d.control.process.trace_syscalls   # no syscall stop at all
        with pytest.raises(RuntimeError, match="attribute_output"):
            io.output_records()
        with pytest.raises(RuntimeError, match="attribute_output"):
            io.by_process(d.pid)
        with pytest.raises(ValueError, match="redirect_pipes"):
            d.run(redirect_pipes=False, attribute_output=True)
        with pytest.raises(TypeError):
            d.run(attribute_output="yes")
        d.follow_children = False
        with pytest.raises(ValueError, match="follow_children"):
            d.run(attribute_output=True)
    finally:
        shutdown(d)


@pytest.mark.timeout(120)
def test_cli_output_by_process(target, tmp_path):
    # `tether trace --output-by-process`: the program's output still reaches
    # tether's stdout/stderr whole, and each write is an "output" event of
    # the pid and tid that made it.
    import json
    import sys
    events = tmp_path / "events.jsonl"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    done = subprocess.run([sys.executable, "-m", "tether", "trace", "--output-by-process",
                           "--json", "-s", "20", "-o", str(events), "--", target("output_writers")],
                          capture_output=True, timeout=100, env=env, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr[-2000:]
    rows = [json.loads(line) for line in events.read_text().splitlines()]
    outputs = [r for r in rows if r["kind"] == "output"]
    start = next(r for r in rows if r["kind"] == "start")
    children = {r["details"]["child"] for r in rows
                if r["kind"] == "fork" and r["pid"] == start["pid"]}
    # (the CLI reports forks in the order it hears of them: the child
    # each process index is, is learnt from its writes, one to one)
    process_of: dict = {start["pid"]: 0}
    # The bytes: every message of every writer, whole (stream order is the records').
    for stream, data in (("stdout", done.stdout), ("stderr", done.stderr)):
        assert by_writer(split_messages(data)) == \
            {w: expected(w, stream) for w in range(2 * (NCHILD + 1))}
        assert sum(r["details"]["bytes"] for r in outputs if r["details"]["stream"] == stream) \
            == len(data)
    assert len(outputs) == 2 * (NCHILD + 1) * ROUNDS   # one per message (each written whole)
    for r in outputs:
        m = MESSAGE.match(r["details"]["text"][1:].encode())
        writer = int(m[1])
        assert r["pid"] == start["pid"] or r["pid"] in children
        assert process_of.setdefault(r["pid"], writer // 2) == writer // 2
        assert (r["tid"] == r["pid"]) == (writer % 2 == 0)
    assert sorted(process_of.values()) == list(range(NCHILD + 1))


@pytest.mark.timeout(60)
def test_a_writer_killed_inside_its_write_gets_what_it_wrote(target):
    # The parent's thread is killed (its process's exit_group) while its
    # 1 MiB write waits for room in the pty: no exit stop says how much it
    # wrote. The next writer (the child) finds it dead: what reached the
    # stream is the thread's, the child's line its own.
    d = debugger([target("output_lost")])
    try:
        io = d.run(attribute_output=True)
        d.on_fork(lambda parent, child: child.cont())
        d.cont()
        d.wait()
        assert d.exit_code == 0
        child = d.children[0]
        out, _ = receive_all(io)
        child.wait()
        assert child.exit_code == 0
        assert out.endswith(b"child after\n") and set(out[:-12]) <= {ord("P")}
        records = io.output_records(stream="stdout")
        assert b"".join(r.data for r in records) == out
        assert records[-1] == (child.pid, child.pid, "stdout", b"child after\n")
        assert all(r.pid == d.pid and r.tid != d.pid for r in records[:-1])
    finally:
        shutdown(d)
