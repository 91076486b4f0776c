"""Output attribution's bookkeeping (commlink/attribution.py, OutputLog):
the counts of returned writes, in order, matched with the bytes read from
each stream in whatever pieces they were read. Pure: no process here (the
end-to-end tests are tests/e2e/test_output_attribution.py)."""
from hypothesis import given, settings, strategies as st

from tether.commlink.attribution import OutputLog, OutputRecord


def test_a_count_takes_bytes_read_before_and_after_it():
    log = OutputLog()
    log.arrived("stdout", b"hel")            # read before the write's count came
    assert log.records == [] and log.waiting_for_a_count("stdout")
    log.owe("stdout", 10, 11, 5)
    assert log.records == []                 # 2 of its bytes still in the pty
    assert not log.waiting_for_a_count("stdout")
    log.arrived("stdout", b"lowor")
    assert log.records == [OutputRecord(10, 11, "stdout", b"hello")]
    log.owe("stdout", 20, 20, 3)
    assert log.records[-1] == OutputRecord(20, 20, "stdout", b"wor")


def test_streams_are_apart_and_records_keep_the_order_counts_came_in():
    log = OutputLog()
    log.owe("stderr", 1, 1, 2)
    log.owe("stdout", 2, 2, 1)
    log.arrived("stdout", b"o")
    log.arrived("stderr", b"ee")
    assert log.records == [OutputRecord(2, 2, "stdout", b"o"), OutputRecord(1, 1, "stderr", b"ee")]


def test_a_writer_lost_in_its_write_gets_what_the_earlier_writes_leave():
    log = OutputLog()
    log.owe("stdout", 1, 1, 2)
    log.arrived("stdout", b"abXYZ")          # (the caller read everything first)
    log.lost("stdout", 7, 8)
    assert log.records == [OutputRecord(1, 1, "stdout", b"ab"), OutputRecord(7, 8, "stdout", b"XYZ")]
    log.lost("stdout", 9, 9)                 # nothing left: no empty record
    assert len(log.records) == 2


def test_bytes_no_write_accounts_for_are_foreign_at_the_end():
    log = OutputLog()
    log.owe("stdout", 1, 1, 1)
    log.arrived("stdout", b"a-untraced-")
    log.ended("stdout")
    assert log.records == [OutputRecord(1, 1, "stdout", b"a"),
                           OutputRecord(None, None, "stdout", b"-untraced-")]


def test_a_share_is_made_from_the_records_then_kept_up_to_date():
    log = OutputLog()
    log.owe("stdout", 1, 1, 2)
    log.owe("stdout", 2, 2, 1)
    log.owe("stdout", 1, 1, 1)
    log.arrived("stdout", b"aabc")
    share = log.share(1, "stdout")
    assert share == b"aac"
    del share[:1]                            # a view received one byte
    log.owe("stdout", 1, 1, 2)
    log.arrived("stdout", b"dd")
    assert log.share(1, "stdout") == b"acdd"
    assert log.share(2, "stderr") == b""


WRITES = st.lists(st.tuples(st.integers(1, 4), st.sampled_from(["stdout", "stderr"]),
                            st.binary(min_size=0, max_size=40)), max_size=25)


@settings(max_examples=300, deadline=None)
@given(WRITES, st.data())
def test_records_are_the_writes_however_the_bytes_are_read(writes, data):
    # The writes of each stream return one after the other (tether gives the
    # stream to one writer at a time); their bytes are read in random pieces,
    # before or after their count is handed over, but never before the write
    # began (a read cannot see bytes of a write not yet made).
    log = OutputLog()
    streams = {name: b"".join(w[2] for w in writes if w[1] == name) for name in ("stdout", "stderr")}
    read = {name: 0 for name in streams}
    begun = {name: 0 for name in streams}   # bytes of the writes begun so far
    for pid, stream, payload in writes:
        begun[stream] += len(payload)
        for name in streams:
            # Some reads while this write is in the kernel (or before it).
            while read[name] < begun[name] and data.draw(st.booleans()):
                n = data.draw(st.integers(1, begun[name] - read[name]))
                log.arrived(name, streams[name][read[name]:read[name] + n])
                read[name] += n
        log.owe(stream, pid, pid + 100, len(payload))
    for name in streams:
        log.arrived(name, streams[name][read[name]:])
        log.ended(name)
    expected = [OutputRecord(pid, pid + 100, stream, payload) for pid, stream, payload in writes
                if payload]
    for name in streams:
        assert [r for r in log.records if r.stream == name] == \
            [r for r in expected if r.stream == name]
    assert all(r.pid is not None for r in log.records)


def test_quote_shows_bytes_as_strace_does():
    from tether.cli.output_relay import quote
    assert quote(b'a\n\t"\\\x00\xff', 32) == '"a\\n\\t\\"\\\\\\x00\\xff"'
    assert quote(b"abcdef", 3) == '"abc"...'
    assert quote(b"", 3) == '""'
