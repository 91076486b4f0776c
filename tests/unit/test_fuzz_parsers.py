"""Property-based fuzzing of the parsers that read untrusted bytes (issue 18):
the snapshot loader, the ELF reader (and the symbols and unwind tables read
through it), the CFA program and DWARF expression interpreters, and the
wait-status decoder.

The property is the same everywhere: whatever the bytes, the parser returns
or raises its own documented error (ValueError and its subclasses ElfError,
UnsafeFileError...; CfiError / UnknownValue for CFI), never another
exception, and never hangs (pytest-timeout) or allocates without bound (the
inputs are small and every count is capped). Example counts are kept low so
the whole file runs in a few seconds in CI."""
import base64
import gzip
import json
import os
import struct
import tempfile

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from tether.arch.amd64.registers import GPR_SIZE, format_registers
from tether.events.decode import Stop, decode, decoded
from tether.memory.maps import read_maps
from tether.snapshots.memory import SnapshotMap
from tether.snapshots.serialize import parse_snapshot
from tether.snapshots.snapshot import ProcessImage, ProcessSnapshot
from tether.symbols.cfa_program import Row, execute_cfa_program
from tether.symbols.cfi_errors import CfiError, UnknownValue
from tether.symbols.dwarf_expression import evaluate_expression
from tether.symbols.eh_frame import Cie, EhFrame
from tether.symbols.elf import ElfError, ElfFile
from tether.symbols.unwinder import Unwinder

# TETHER_FUZZ_EXAMPLES=5000 runs a longer hunt locally; CI keeps the default.
EXAMPLES = int(os.environ.get("TETHER_FUZZ_EXAMPLES", 150))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PAGE = 4096


# --- the snapshot loader --------------------------------------------------------------------

def _valid_document() -> dict:
    stack = bytearray(PAGE)
    struct.pack_into("<QQ", stack, 0x100, 0x7ff000 + 0x200, 0x400123)
    maps = [SnapshotMap(0x400000, 0x401000, "r-xp", PAGE, 0, "/nonexistent/prog", -1, None),
            SnapshotMap(0x7ff000, 0x800000, "rw-p", PAGE, 0, "[stack]", -1, bytes(stack))]
    regs = bytearray(GPR_SIZE)
    struct.pack_into("<Q", regs, 8 * 4, 0x7ff100)
    struct.pack_into("<Q", regs, 8 * 16, 0x400010)
    struct.pack_into("<Q", regs, 8 * 19, 0x7ff080)
    snap = ProcessSnapshot(ProcessImage(100, "writable", maps, {}, "/nonexistent/prog"),
                           [(100, bytes(regs), b"")], 0)
    with tempfile.TemporaryDirectory() as d:
        snap.save(os.path.join(d, "s.json"))
        with open(os.path.join(d, "s.json")) as f:
            return json.load(f)


VALID = _valid_document()

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2 ** 70, 2 ** 70) | st.floats(allow_nan=False)
    | st.text(max_size=20) | st.sampled_from(["r-xp", "base", "full", "amd64", "AAAA", "/dev/zero"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12)


def _paths(doc, prefix=()):
    yield prefix
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from _paths(v, prefix + (i,))


ALL_PATHS = [p for p in _paths(VALID) if p]


def _replaced(doc, path, value):
    doc = json.loads(json.dumps(doc))
    obj = doc
    for key in path[:-1]:
        obj = obj[key]
    obj[path[-1]] = value
    return doc


def _use(snap):
    """Touch what a user would: nothing may raise but a ValueError."""
    for s in getattr(snap, "processes", [snap]):
        list(s.maps)
        assert len(s.symbols) == 0
        for m in s.maps:
            try:
                s.memory[m.start, 8, "absolute"]
            except ValueError:
                pass
        if s.level != "base":
            frames = s.backtrace()
            assert 1 <= len(frames) <= 64


def _load(data: bytes):
    try:
        snap = parse_snapshot(data)
    except ValueError:
        return
    _use(snap)


@FUZZ
@given(path=st.sampled_from(ALL_PATHS), value=json_values, packed=st.booleans())
def test_snapshot_loader_on_documents_with_one_field_replaced(path, value, packed):
    data = json.dumps(_replaced(VALID, path, value)).encode()
    _load(gzip.compress(data, 1) if packed else data)


@FUZZ
@given(data=st.binary(max_size=300), packed=st.booleans())
def test_snapshot_loader_on_arbitrary_bytes(data, packed):
    _load(gzip.compress(data, 1) if packed else data)


@FUZZ
@given(cut=st.integers(0, 2000), flip=st.integers(0, 2000), bit=st.integers(0, 7))
def test_snapshot_loader_on_damaged_files(cut, flip, bit):
    raw = bytearray(gzip.compress(json.dumps(VALID).encode(), 1))
    if flip < len(raw):
        raw[flip] ^= 1 << bit
    _load(bytes(raw[:len(raw) - cut]))


@FUZZ
@given(gpr=st.binary(min_size=GPR_SIZE, max_size=GPR_SIZE),
       xstate=st.binary(min_size=512, max_size=1200) | st.binary(min_size=0, max_size=0),
       xcr0=st.integers(0, 2 ** 64 - 1), bv=st.integers(0, 2 ** 64 - 1))
def test_snapshot_loader_on_hostile_register_images(gpr, xstate, xcr0, bv):
    xstate = bytearray(xstate)
    if len(xstate) >= 576:  # the XSAVE header: which components exist, which are in use
        struct.pack_into("<Q", xstate, 464, xcr0)
        struct.pack_into("<Q", xstate, 512, bv)
    doc = json.loads(json.dumps(VALID))
    thread = doc["snapshot"]["threads"][0]
    thread["gpr"] = base64.b64encode(gpr).decode()
    thread["xstate"] = base64.b64encode(bytes(xstate)).decode()
    snap = parse_snapshot(json.dumps(doc).encode())
    regs = snap.regs
    for name in dir(regs):  # every register this XSAVE image claims to hold
        if name != "filter":
            getattr(regs, name)
    format_registers(regs, include_fp=True)
    assert not snap.diff(snap).has_changes


# --- the ELF reader, symbols and unwind tables -------------------------------------------------

def _vdso_image() -> bytes:
    """This process's [vdso]: a small real ELF with symbols, versions,
    .eh_frame and .eh_frame_hdr."""
    vdso = read_maps("self").filter("[vdso]")
    assert vdso, "no [vdso] mapped"
    with open("/proc/self/mem", "rb") as mem:
        mem.seek(vdso[0].start)
        return mem.read(vdso[0].size)


VDSO = _vdso_image()
_EHDR_FIELDS = [(4, 1), (5, 1), (6, 1), (16, 2), (18, 2), (24, 8), (32, 8), (40, 8), (54, 2),
                (56, 2), (58, 2), (60, 2), (62, 2)]
_SHOFF = struct.unpack_from("<Q", VDSO, 40)[0]
_SHNUM = struct.unpack_from("<H", VDSO, 60)[0]
# Fields of each section header: type, offset, size, link, info, entsize.
_SHDR_FIELDS = [(_SHOFF + 64 * i + off, size) for i in range(_SHNUM)
                for off, size in ((4, 4), (24, 8), (32, 8), (40, 4), (44, 4), (56, 8))]
extreme = st.sampled_from([0, 1, 0x7F, 0xFF, 0xFFFF, 0xFFFFFFFF, 2 ** 63, 2 ** 64 - 1, 56, 64])


@st.composite
def damaged_elf(draw):
    raw = bytearray(VDSO)
    for _ in range(draw(st.integers(1, 6))):
        if not raw:
            break
        choice = draw(st.integers(0, 2))
        if choice == 0:   # a header field set to an extreme value
            off, size = draw(st.sampled_from(_EHDR_FIELDS + _SHDR_FIELDS))
            value = draw(extreme) & ((1 << (8 * size)) - 1)
            raw[off:off + size] = value.to_bytes(size, "little")
        elif choice == 1:  # bytes overwritten anywhere
            off = draw(st.integers(0, len(raw) - 1))
            raw[off:off + 4] = draw(st.binary(min_size=1, max_size=4))
        else:              # the file cut short
            del raw[draw(st.integers(0, len(raw))):]
    return bytes(raw)


def _exercise(e: ElfFile) -> None:
    e.symbols()
    e.build_id, e.interpreter, e.executable_ranges  # noqa: B018 (touched for their errors)
    e.eh_frame, e.eh_frame_hdr, e.eh_frame_addr, e.eh_frame_hdr_addr  # noqa: B018
    e.bytes_at(e.entry_point, 16)
    for sec in e.sections[:8]:
        e.section_data(sec.name)
    eh = EhFrame(e)
    pcs = [s.value for s in e.symbols()[:8]] + [e.entry_point, 0, 2 ** 64 - 1]
    for pc in pcs:
        eh.find(pc)
    stack = {0x7000 + 8 * i: v for i, v in enumerate(pcs * 4)}
    unwinder = Unwinder([(0, e)])
    for pc in pcs[:4]:
        frames = unwinder.unwind(pc, 0x7000, 0x7010, stack.get)
        assert 1 <= len(frames) <= 64


@FUZZ
@given(data=damaged_elf())
def test_elf_reader_on_damaged_files(data):
    try:
        e = ElfFile.from_bytes(data, "fuzz")
    except ElfError:
        return
    _exercise(e)


@FUZZ
@given(body=st.binary(max_size=400))
def test_elf_reader_on_random_bytes_behind_a_valid_ident(body):
    try:
        e = ElfFile.from_bytes(VDSO[:16] + body, "fuzz")
    except ElfError:
        return
    _exercise(e)


def test_the_unmodified_vdso_parses():
    e = ElfFile.from_bytes(VDSO, "[vdso]")
    assert e.symbols() and EhFrame(e).find(e.symbols()[0].value) is not None


# --- CFA programs, DWARF expressions, .eh_frame entries ----------------------------------------

def _cie(code_align, data_align, fde_enc):
    cie = Cie()
    cie.code_align, cie.data_align, cie.ra_reg = code_align, data_align, 16
    cie.fde_enc, cie.lsda_enc, cie.has_z, cie.is_signal = fde_enc, 0xFF, True, False
    cie.instructions, cie.instructions_addr = b"", 0
    return cie


@FUZZ
@given(code=st.binary(max_size=200), code_align=st.integers(0, 16), data_align=st.integers(-16, 16),
       fde_enc=st.integers(0, 255), target=st.integers(0, 2 ** 64))
def test_cfa_programs(code, code_align, data_align, fde_enc, target):
    try:
        row = execute_cfa_program(code, _cie(code_align, data_align, fde_enc), Row(), 0, target, Row())
    except CfiError:
        return
    assert len(row.rules) <= 256


@FUZZ
@given(expr=st.binary(max_size=100), regs=st.dictionaries(st.integers(0, 40), st.integers(0, 2 ** 64 - 1),
                                                          max_size=5))
def test_dwarf_expressions(expr, regs):
    memory = {r: v for r, v in regs.items()}
    try:
        value = evaluate_expression(expr, regs, memory.get, [0x7000])
    except (CfiError, UnknownValue):
        return
    assert 0 <= value < 2 ** 64


def test_a_looping_expression_is_stopped():
    loop = b"\x2f\xfd\xff"  # DW_OP_skip -3: jumps back onto itself forever
    with pytest.raises(CfiError, match="more than 10000 steps"):
        evaluate_expression(loop, {}, lambda a: None)


class _RawElf:
    def __init__(self, data, hdr):
        self.eh_frame, self.eh_frame_addr = data, 0x1000
        self.eh_frame_hdr, self.eh_frame_hdr_addr = hdr, 0x800

    def section(self, name):
        return None


@FUZZ
@given(data=st.binary(max_size=300), hdr=st.none() | st.binary(max_size=60),
       offsets=st.lists(st.integers(-8, 300), max_size=4), pcs=st.lists(st.integers(0, 0x3000), max_size=4))
def test_eh_frame_entries(data, hdr, offsets, pcs):
    eh = EhFrame(_RawElf(data, hdr))
    for off in offsets:
        for parse in (eh.cie_at, eh.fde_at):
            try:
                parse(off)
            except CfiError:
                pass
    for pc in pcs:
        eh.find(pc)


# --- the wait-status decoder -------------------------------------------------------------------

@settings(max_examples=max(400, EXAMPLES), deadline=None)
@given(status=st.integers(0, 2 ** 31 - 1) | st.integers(0, 0xFFFFFF).map(lambda s: (s & ~0xFF) | 0x7F))
def test_wait_status_decoder_agrees_with_the_libc_macros(status):
    known = status in decoded
    try:
        kind, value = decode(status)
    except ValueError as e:
        if os.WIFSTOPPED(status):
            assert status >> 16 and "unknown ptrace event" in str(e)
        else:  # e.g. WIFCONTINUED's 0xffff, which only WCONTINUED (never used) reports
            assert not os.WIFEXITED(status) and not os.WIFSIGNALED(status)
            assert "not an exit, a death or a stop" in str(e)
        return
    try:
        _check_against_macros(status, kind, value)
    finally:
        if not known:  # decode() memoises at most 4096 statuses: keep room for real ones
            decoded.pop(status, None)


def _check_against_macros(status, kind, value):
    if os.WIFEXITED(status):
        assert (kind, value) == (Stop.EXITED, os.WEXITSTATUS(status))
    elif os.WIFSIGNALED(status):
        assert (kind, value) == (Stop.KILLED, os.WTERMSIG(status))
    else:
        assert os.WIFSTOPPED(status)
        sig = os.WSTOPSIG(status)
        syscall_stop = sig == 0x85 and not status >> 16  # SIGTRAP | 0x80: PTRACE_O_TRACESYSGOOD
        assert value == (5 if syscall_stop else sig)
        assert kind not in (Stop.EXITED, Stop.KILLED)
