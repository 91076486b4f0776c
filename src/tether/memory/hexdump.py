"""Memory as text: the hex dumps of pprint_memory (a Debugger's, a
snapshot's) and of a Diff's pprint_memory, in one place.

A line shows 16 bytes (or one word, if a word is longer) from its address:
the bytes in hex, grouped by word size, then their printable characters.
In integer mode each word is shown as one little-endian hex integer (the
value a `mov` of that size would load; x86-64 is little-endian), so a
pointer reads as a pointer. A last, shorter word shows what there is.
"""
from __future__ import annotations

__all__ = ["DEFAULT_WORD_SIZE", "check_word_size", "dump_lines", "diff_lines"]

DEFAULT_WORD_SIZE = 8  # x86-64's general registers: libdebug's default word
_LINE = 16
_MAX_WORD = 64          # a zmm register; anything larger is surely a mistake


def check_word_size(word_size) -> int:
    """`word_size` (None: the default) as a valid int, else ValueError/TypeError."""
    if word_size is None:
        return DEFAULT_WORD_SIZE
    if isinstance(word_size, bool) or not isinstance(word_size, int):
        raise TypeError(f"override_word_size must be an int, not {type(word_size).__name__}")
    if not 1 <= word_size <= _MAX_WORD:
        raise ValueError(f"override_word_size must be from 1 to {_MAX_WORD}, not {word_size}")
    return word_size


def _words(chunk: bytes, word_size: int, integer_mode: bool) -> str:
    words = [chunk[i:i + word_size] for i in range(0, len(chunk), word_size)]
    if integer_mode:
        return " ".join(f"0x{int.from_bytes(w, 'little'):0{2 * len(w)}x}" for w in words)
    return "  ".join(w.hex(" ") for w in words)


def _width(line_bytes: int, word_size: int, integer_mode: bool) -> int:
    """Characters of a full line's hex part (shorter lines are padded to it)."""
    return len(_words(bytes(line_bytes), word_size, integer_mode))


def _line_bytes(word_size: int) -> int:
    return max(_LINE - _LINE % word_size, word_size) if word_size <= _LINE else word_size


def _text(chunk: bytes) -> str:
    return "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)


def dump_lines(address: int, data: bytes, word_size: int = DEFAULT_WORD_SIZE,
               integer_mode: bool = False) -> list[str]:
    """The hex dump of `data`, which starts at `address`, one str a line."""
    step = _line_bytes(word_size)
    width = _width(step, word_size, integer_mode)
    out = []
    for off in range(0, len(data), step):
        chunk = data[off:off + step]
        out.append(f"{address + off:#018x}  {_words(chunk, word_size, integer_mode):<{width}}  {_text(chunk)}")
    return out


def diff_lines(address: int, old: bytes, new: bytes, word_size: int = DEFAULT_WORD_SIZE,
               integer_mode: bool = False) -> list[str]:
    """Two dumps of the same addresses side by side, as a unified diff does:
    a line whose bytes are the same once ("  "), a changed one twice, the
    old ("- ") before the new ("+ ")."""
    step = _line_bytes(word_size)
    out = []
    for off in range(0, max(len(old), len(new)), step):
        before, after = old[off:off + step], new[off:off + step]
        here = address + off
        if before == after:
            out += ["  " + line for line in dump_lines(here, after, word_size, integer_mode)]
        else:
            out += ["- " + line for line in dump_lines(here, before, word_size, integer_mode)]
            out += ["+ " + line for line in dump_lines(here, after, word_size, integer_mode)]
    return out
