"""The hex dumps of pprint_memory (tether.memory.hexdump)."""
import re

import pytest
from hypothesis import given, strategies as st

from tether.memory.hexdump import check_word_size, diff_lines, dump_lines

DATA = bytes(range(0x41, 0x41 + 20))  # "ABCDEFGHIJKLMNOPQRST"


def test_bytes_mode_groups_by_word():
    assert dump_lines(0x1000, DATA) == [
        "0x0000000000001000  41 42 43 44 45 46 47 48  49 4a 4b 4c 4d 4e 4f 50  ABCDEFGHIJKLMNOP",
        "0x0000000000001010  51 52 53 54                                       QRST",
    ]


def test_integer_mode_shows_little_endian_words():
    assert dump_lines(0x1000, DATA, integer_mode=True) == [
        "0x0000000000001000  0x4847464544434241 0x504f4e4d4c4b4a49  ABCDEFGHIJKLMNOP",
        "0x0000000000001010  0x54535251                             QRST",
    ]
    # (A short line is padded to a full line's width.)
    assert dump_lines(0, DATA[:8], 4, True)[0].split() == ["0x0000000000000000", "0x44434241",
                                                          "0x48474645", "ABCDEFGH"]
    assert dump_lines(0, DATA[:4], 2, True)[0].split() == ["0x0000000000000000", "0x4241", "0x4443", "ABCD"]


def test_a_word_longer_than_a_line_gets_a_line():
    lines = dump_lines(0, bytes(64), 32, True)
    assert len(lines) == 2 and "0x" + "00" * 32 in lines[0]


def test_diff_shows_changed_lines_twice():
    new = DATA[:3] + b"X" + DATA[4:]
    assert diff_lines(0x1000, DATA, new) == [
        "- 0x0000000000001000  41 42 43 44 45 46 47 48  49 4a 4b 4c 4d 4e 4f 50  ABCDEFGHIJKLMNOP",
        "+ 0x0000000000001000  41 42 43 58 45 46 47 48  49 4a 4b 4c 4d 4e 4f 50  ABCXEFGHIJKLMNOP",
        "  0x0000000000001010  51 52 53 54                                       QRST",
    ]


@pytest.mark.parametrize("bad,error", [(0, ValueError), (65, ValueError), (-8, ValueError),
                                       (True, TypeError), (8.0, TypeError), ("8", TypeError)])
def test_bad_word_sizes_are_refused(bad, error):
    with pytest.raises(error, match="override_word_size"):
        check_word_size(bad)


# No space byte: the last double space of a line then starts its text column.
_NO_SPACE = st.lists(st.integers(0, 255).filter(lambda b: b != 0x20), max_size=200).map(bytes)


@given(_NO_SPACE, st.sampled_from([1, 2, 4, 8, 16]), st.integers(0, 2 ** 48))
def test_the_dump_holds_every_byte_at_its_address(data, word_size, address):
    """Read back from the text: each line's address and hex give the data."""
    rebuilt = b""
    for line in dump_lines(address, data, word_size):
        addr, rest = line.split("  ", 1)
        assert int(addr, 16) == address + len(rebuilt)
        hex_part = rest[:rest.rindex("  ")]
        rebuilt += bytes.fromhex(hex_part.replace(" ", ""))
    assert rebuilt == data


@given(st.binary(min_size=1, max_size=200), st.sampled_from([1, 2, 4, 8]))
def test_integer_mode_words_are_the_little_endian_values(data, word_size):
    values = []
    for line in dump_lines(0, data, word_size, integer_mode=True):
        values += [int(w, 16) for w in re.findall(r"0x[0-9a-f]+", line.split("  ", 1)[1])]
    words = [data[i:i + word_size] for i in range(0, len(data), word_size)]
    assert values == [int.from_bytes(w, "little") for w in words]
