"""x86-64 register views over the raw buffers the kernel hands to a tracer.

The runtime keeps, per thread, a *cache* object with this protocol:

    cache.gpr()          -> bytearray(216): struct user_regs_struct (PTRACE_GETREGS)
    cache.gpr_dirty()    -> the bytearray was modified in place; write it back before resuming
    cache.xstate()       -> bytearray: the XSAVE area (PTRACE_GETREGSET, NT_X86_XSTATE)
    cache.xstate_dirty() -> same, for the XSAVE area

`Registers(cache)` turns that into attributes (`regs.rax`, `regs.al = 1`, `regs.xmm0`...).
Every register is a class-level property built from a precomputed layout table, so a
read of `rip` costs one property call and one `struct.unpack_from`; the XSAVE area is
only asked for when a floating-point/vector register is touched.

Sources for the layouts: arch/x86/include/asm/user_64.h (user_regs_struct, user),
Intel SDM vol. 1 ch. 13 "Managing State Using the XSAVE Feature Set" (XSAVE area,
XSTATE_BV, init state) and arch/x86/include/asm/user.h (bytes 464..471 hold XCR0).
"""
from __future__ import annotations

import struct

from ... import _native
from .subregisters import SEGMENTS, SUBREGISTERS_64, subregister_layout

TYPE_CHECKING = False   # (typing.TYPE_CHECKING without importing typing: ~8 ms at start-up)
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "EFLAGS_OFFSET", "FULL_GPR_NAMES", "GPR_FIELDS", "GPR_OFFSETS", "GPR_SIZE", "ORIG_RAX_OFFSET",
    "RAX_OFFSET", "RIP_OFFSET", "RSP_OFFSET", "Registers", "SYSCALL_ARG_OFFSETS",
    "UnknownRegisterError", "format_registers", "frozen_registers", "register_class", "register_names",
]


class UnknownRegisterError(AttributeError, ValueError):
    """A register name that does not exist (or that this CPU/kernel does not provide).

    An AttributeError so that `hasattr(regs, "zmm0")` answers False, and a ValueError
    because it is a bad name given by the user."""


# --- general-purpose registers: struct user_regs_struct ------------------------------

# The layout of struct user_regs_struct (arch/x86/include/asm/user_64.h), defined
# once: by the kernel's header, which the C extension reads with offsetof and
# exports as _native.GPR_LAYOUT (field -> byte offset) and GPR_SIZE. Every offset
# below, and the C emulator's register slots, derive from it.
GPR_OFFSETS = dict(_native.GPR_LAYOUT)  # field -> byte offset
GPR_FIELDS = tuple(sorted(GPR_OFFSETS, key=GPR_OFFSETS.__getitem__))  # in struct order
GPR_SIZE = _native.GPR_SIZE  # 216

# Byte offsets in the buffer for code that reads or patches it directly (import these
# rather than writing the numbers).
RIP_OFFSET = GPR_OFFSETS["rip"]
RSP_OFFSET = GPR_OFFSETS["rsp"]
RAX_OFFSET = GPR_OFFSETS["rax"]
ORIG_RAX_OFFSET = GPR_OFFSETS["orig_rax"]  # the system call number at a syscall stop
EFLAGS_OFFSET = GPR_OFFSETS["eflags"]
# The six system call arguments, in order (the x86-64 syscall convention: r10, not rcx,
# holds the fourth, because the syscall instruction overwrites rcx).
SYSCALL_ARG_OFFSETS = tuple(GPR_OFFSETS[name] for name in ("rdi", "rsi", "rdx", "r10", "r8", "r9"))


# Display order: the full-width registers a person looks at first.
FULL_GPR_NAMES = (
    "rax", "rbx", "rcx", "rdx", "rdi", "rsi", "rbp", "rsp",
    "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
    "rip", "eflags", "cs", "ss", "ds", "es", "fs", "gs", "fs_base", "gs_base", "orig_rax",
)

_STRUCT_BY_SIZE = {8: struct.Struct("<Q"), 4: struct.Struct("<I"), 2: struct.Struct("<H"),
                   1: struct.Struct("<B")}
_U64 = _STRUCT_BY_SIZE[8]


def _build_gpr_layout() -> dict[str, tuple[int, int, int]]:
    """name -> (byte offset in user_regs_struct, bytes accessed, value width in bits).

    x86 is little-endian, so every sub-register is a byte-aligned slice of its full
    register: eax/ax/al start at the same byte, ah one byte later."""
    layout = {}
    for name in FULL_GPR_NAMES:
        bits = 16 if name in SEGMENTS else 64
        layout[name] = (GPR_OFFSETS[name], 8, bits)
    layout.update(subregister_layout(GPR_OFFSETS, SUBREGISTERS_64))
    layout["eip"] = (GPR_OFFSETS["rip"], 4, 32)
    return layout


GPR_LAYOUT = _build_gpr_layout()


# --- floating-point / vector registers: the XSAVE area --------------------------------

# XSAVE state-component numbers (bits of XCR0 and XSTATE_BV), SDM vol. 1 13.1.
X87, SSE, AVX, OPMASK, ZMM_HI256, HI16_ZMM = 0, 1, 2, 5, 6, 7

XSAVE_LEGACY_SIZE = 512       # the FXSAVE-compatible legacy region
XCR0_OFFSET = 464             # Linux puts XCR0 in the software-reserved bytes 464..471
XSTATE_BV_OFFSET = 512        # first u64 of the XSAVE header
XSAVE_HEADER_END = 576        # legacy region + 64-byte header

# Byte range of each component in the standard (non-compacted) format. The x87 range
# excludes MXCSR/MXCSR_MASK (bytes 24..31), which belong to SSE/AVX (SDM 13.5.2).
_COMPONENT_RANGES = {
    X87: ((0, 24), (32, 160)),
    SSE: ((160, 416),),
    AVX: ((576, 832),),
    OPMASK: ((1088, 1152),),
    ZMM_HI256: ((1152, 1664),),
    HI16_ZMM: ((1664, 2688),),
}
_COMPONENT_NAMES = {X87: "x87", SSE: "SSE", AVX: "AVX", OPMASK: "AVX-512 opmask",
                    ZMM_HI256: "AVX-512 ZMM_Hi256", HI16_ZMM: "AVX-512 Hi16_ZMM"}
_FCW_INIT = 0x037F  # x87 init state: FCW = 037FH, everything else 0 (SDM 13.6)


class _XRegister:
    """Where one FP/vector register lives in the XSAVE area.

    parts: (component, byte offset, byte count, bit shift in the value, init value);
    a register such as ymm3 is assembled from several components."""

    __slots__ = ("name", "parts", "bits", "components", "end", "gated")

    def __init__(self, name, parts, gated=True):
        self.name = name
        self.parts = tuple(parts)
        self.bits = sum(8 * size for _, _, size, _, _ in self.parts)
        self.components = 0
        for component, _, _, _, _ in self.parts:
            self.components |= 1 << component
        self.end = max(offset + size for _, offset, size, _, _ in self.parts)
        # MXCSR is saved whenever SSE or AVX is requested, whatever XSTATE_BV says
        # (SDM 13.7), so its bytes are meaningful even with the SSE bit clear.
        self.gated = gated


def _build_xstate_layout() -> dict[str, _XRegister]:
    regs = {}

    def add(name, *parts, gated=True):
        regs[name] = _XRegister(name, parts, gated)

    add("fcw", (X87, 0, 2, 0, _FCW_INIT))
    add("fsw", (X87, 2, 2, 0, 0))
    add("ftw", (X87, 4, 1, 0, 0))   # the abridged tag byte of FXSAVE: 1 bit per register
    add("mxcsr", (SSE, 24, 4, 0, 0), gated=False)
    for i in range(8):
        # ST(i) slots hold 80-bit values in 16-byte slots. mm_i is read as the low 64
        # bits of slot i: the architectural alias is physical register R_i, which is
        # slot i whenever TOP = 0, and every MMX instruction sets TOP = 0.
        add(f"st{i}", (X87, 32 + 16 * i, 10, 0, 0))
        add(f"mm{i}", (X87, 32 + 16 * i, 8, 0, 0))
    for i in range(16):
        xmm = (SSE, 160 + 16 * i, 16, 0, 0)
        ymm_high = (AVX, 576 + 16 * i, 16, 128, 0)
        add(f"xmm{i}", xmm)
        add(f"ymm{i}", xmm, ymm_high)
        add(f"zmm{i}", xmm, ymm_high, (ZMM_HI256, 1152 + 32 * i, 32, 256, 0))
    for i in range(16, 32):
        # Registers 16..31 live wholly in the Hi16_ZMM component; their xmm/ymm views
        # are its low 16/32 bytes.
        base = 1664 + 64 * (i - 16)
        add(f"xmm{i}", (HI16_ZMM, base, 16, 0, 0))
        add(f"ymm{i}", (HI16_ZMM, base, 32, 0, 0))
        add(f"zmm{i}", (HI16_ZMM, base, 64, 0, 0))
    for i in range(8):
        add(f"k{i}", (OPMASK, 1088 + 8 * i, 8, 0, 0))
    return regs


XSTATE_LAYOUT = _build_xstate_layout()



def _unknown(name: str, arch: str = "x86-64") -> UnknownRegisterError:
    examples = "'eax', 'ax', 'al', 'xmm0'" if arch == "i386" else "'rax', 'eax', 'al', 'xmm0'"
    return UnknownRegisterError(
        f"unknown {arch} register {name!r} (names are lower case, e.g. {examples}; "
        f"see the names of dir(regs))")


def _unsigned(name: str, value, bits: int) -> int:
    """Check a value written to a `bits`-wide register; return it as unsigned."""
    if type(value) is not int:
        if not isinstance(value, int):  # bool and IntEnum are ints and pass
            raise TypeError(f"register {name} takes an int, not {type(value).__name__}")
        value = int(value)
    if value < 0:
        # Negative values are stored two's-complement, like C would.
        if value < -(1 << (bits - 1)):
            raise ValueError(f"{value} does not fit in the {bits}-bit register {name}")
        return value + (1 << bits)
    if value >> bits:
        raise ValueError(f"{value:#x} does not fit in the {bits}-bit register {name}")
    return value


def _xstate_bv(buf) -> int:
    # A buffer without the XSAVE header (plain FXSAVE image) has valid legacy state.
    if len(buf) < XSAVE_HEADER_END:
        return (1 << X87) | (1 << SSE)
    return _U64.unpack_from(buf, XSTATE_BV_OFFSET)[0]


def _missing_reason(buf, reg: _XRegister) -> str | None:
    """Why `reg` is not available in this XSAVE buffer, or None if it is."""
    size = len(buf)
    if size == 0:
        return "no floating-point/vector state is available for this thread"
    if size >= XSAVE_HEADER_END:
        # XCR0 tells which components the kernel enabled; the buffer alone is not
        # enough (an AMD CPU without AVX-512 still has a buffer that covers the
        # opmask/ZMM_Hi256 offsets because its PKRU component sits beyond them).
        xcr0 = _U64.unpack_from(buf, XCR0_OFFSET)[0]
        absent = reg.components & ~xcr0 if xcr0 else 0
        if absent:
            names = [_COMPONENT_NAMES[c] for c in _COMPONENT_NAMES if absent >> c & 1]
            return f"the CPU/kernel does not provide {' and '.join(names)} state"
    if size < reg.end:
        return (f"the CPU/kernel does not provide it (XSAVE area is {size} bytes, "
                f"{reg.name} needs {reg.end})")
    return None


def _reset_component(buf, component: int) -> None:
    """Put a component in its init state before its first write.

    A component whose XSTATE_BV bit is clear is in init state and its bytes in the
    buffer are meaningless (SDM 13.6), so writing one register of it must not
    resurrect stale bytes in the others."""
    for start, end in _COMPONENT_RANGES[component]:
        buf[start:end] = bytes(end - start)
    if component == X87:
        _STRUCT_BY_SIZE[2].pack_into(buf, 0, _FCW_INIT)


# --- the Registers object ---------------------------------------------------------------

class X86Registers:
    """The registers of one thread, as attributes (`regs.rax`, `regs.ah = 1`...).

    The base of every x86 register class: register_class() makes one per
    register table (x86-64's here, i386's in arch/i386/registers.py), with
    one property per register installed on it."""

    __slots__ = ("_cache",)
    _cache: Any   # the thread's register cache (state/task.py) or a snapshot's
    # The table of the class made by register_class().
    arch_name = "x86-64"
    gpr_layout: dict = {}
    xstate_layout: dict = {}
    display_names: tuple = ()
    writers: dict = {}
    ip_name = "rip"
    sp_name = "rsp"

    def __init__(self, cache):
        object.__setattr__(self, "_cache", cache)

    def __setattr__(self, name: str, value: int) -> None:
        writer = self.writers.get(name)
        if writer is None:
            raise _unknown(name, self.arch_name)
        writer(self, value)

    def __getattr__(self, name: str) -> int:
        # Only reached when normal lookup failed (an unknown name, or a vector register
        # this CPU lacks); to type checkers it says every register reads as an int.
        if name.startswith("__"):
            raise AttributeError(name)  # copy/pickle probes: not a register
        reg = self.xstate_layout.get(name)
        if reg is not None:
            reason = _missing_reason(self._cache.xstate(), reg)
            if reason:
                raise UnknownRegisterError(f"register {name} is not available: {reason}")
        raise _unknown(name, self.arch_name)

    def __dir__(self):
        return register_names(self._cache, type(self)) + ["filter"]

    def __repr__(self):
        ip, sp = self.ip_name, self.sp_name
        return f"<Registers {ip}={getattr(self, ip):#x} {sp}={getattr(self, sp):#x}>"

    def filter(self, value) -> list[str]:
        """Names of the general registers, sub-registers included (rax, eax,
        ax, al, ah...), whose value equals `value`, as libdebug's filter
        answers: a value that fits in 8 bits finds every register whose low
        byte holds it. A negative value is compared as the two's complement
        of each register's width."""
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"filter() takes an int, not {type(value).__name__}")
        buf = self._cache.gpr()
        found = []
        for name, (offset, size, bits) in self.gpr_layout.items():
            want = value + (1 << bits) if -(1 << (bits - 1)) <= value < 0 else value
            if _STRUCT_BY_SIZE[size].unpack_from(buf, offset)[0] & ((1 << bits) - 1) == want:
                found.append(name)
        return found

    def _read_x(self, reg: _XRegister) -> int:
        buf = self._cache.xstate()
        reason = _missing_reason(buf, reg)
        if reason:
            raise UnknownRegisterError(f"register {reg.name} is not available: {reason}")
        present = _xstate_bv(buf)
        value = 0
        for component, offset, size, shift, init in reg.parts:
            if present >> component & 1 or not reg.gated:
                part = int.from_bytes(buf[offset:offset + size], "little")
            else:
                part = init  # component in init state: its bytes are meaningless
            value |= part << shift
        return value

    def _write_x(self, reg: _XRegister, value) -> None:
        value = _unsigned(reg.name, value, reg.bits)
        buf = self._cache.xstate()
        reason = _missing_reason(buf, reg)
        if reason:
            raise UnknownRegisterError(f"cannot write {reg.name}: {reason}")
        has_header = len(buf) >= XSAVE_HEADER_END
        present = _xstate_bv(buf)
        for component, offset, size, shift, _ in reg.parts:
            if not present >> component & 1:
                _reset_component(buf, component)
                present |= 1 << component
            part = (value >> shift) & ((1 << (8 * size)) - 1)
            buf[offset:offset + size] = part.to_bytes(size, "little")
        if has_header:
            # Setting the bit makes the kernel load our bytes instead of init state.
            _U64.pack_into(buf, XSTATE_BV_OFFSET, present)
        self._cache.xstate_dirty()


# What the kernel refuses in a register write (arch/x86/kernel/ptrace.c,
# putreg and set_segment_reg: -EIO at PTRACE_SETREGS, which tether only makes
# when the thread is resumed). Checked at the assignment instead, so the error
# names the register and the process stays usable.
def _user_space_top() -> int:
    """TASK_SIZE_MAX: the first address above user space (47-bit virtual
    addresses, or 56-bit with 5-level paging, la57)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return ((1 << 56) if " la57" in line else (1 << 47)) - 4096
    except OSError:
        pass
    return (1 << 47) - 4096


_USER_TOP = _user_space_top()


def _check_base(name: str, value: int) -> None:
    if value >= _USER_TOP:
        raise ValueError(f"{name} = {value:#x} is not a user-space address: the kernel refuses "
                         f"segment bases at or above {_USER_TOP:#x}")


def _check_selector(name: str, value: int) -> None:
    # A user segment selector is 0 (null) or has privilege level 3 in its low
    # two bits; cs and ss can't be null.
    if value and value & 3 != 3:
        raise ValueError(f"{name} = {value:#x} is not a user segment selector (its low two bits, the "
                         "privilege level, must be 3)")
    if not value and name in ("cs", "ss"):
        raise ValueError(f"{name} can't be the null selector 0")


_WRITE_CHECKS = {"fs_base": _check_base, "gs_base": _check_base,
                 **{name: _check_selector for name in SEGMENTS}}


def _install_gpr(cls, name: str, offset: int, size: int, bits: int) -> None:
    codec = _STRUCT_BY_SIZE[size]
    unpack, pack = codec.unpack_from, codec.pack_into

    def read(self):
        return unpack(self._cache.gpr(), offset)[0]

    if bits == 32 and size == 4 and offset % 8 == 0:
        # Like the CPU (and libdebug): writing a 32-bit register zero-extends
        # into the full 64-bit register; 16- and 8-bit writes merge.
        pack, size = _STRUCT_BY_SIZE[8].pack_into, 8

    check = _WRITE_CHECKS.get(name)
    if check is None:
        def write(self, value):
            # Fast path for the common case; anything else goes through the full check.
            if type(value) is not int or value < 0 or value >> bits:
                value = _unsigned(name, value, bits)
            cache = self._cache
            pack(cache.gpr(), offset, value)  # touches only this register's bytes
            cache.gpr_dirty()
    else:
        def write(self, value):
            value = _unsigned(name, value, bits)
            check(name, value)
            cache = self._cache
            pack(cache.gpr(), offset, value)
            cache.gpr_dirty()

    read.__name__ = write.__name__ = name
    setattr(cls, name, property(read, doc=f"{bits}-bit register {name}"))
    cls.writers[name] = write


def _install_xstate(cls, name: str, reg: _XRegister) -> None:
    if name.startswith("st"):
        # st0-7 are x87 80-bit floats: read and written as Python floats (as in
        # libdebug), converted through the C long double, which is the same
        # 80-bit format on x86-64.
        # (ctypes imported here, when one is used: some 1.5 ms of every start-up)
        def read(self):
            import ctypes
            raw = self._read_x(reg)
            return ctypes.c_longdouble.from_buffer_copy(raw.to_bytes(16, "little")).value

        def write(self, value):
            import ctypes
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TypeError(f"register {name} takes a float, not {type(value).__name__}")
            raw = int.from_bytes(bytes(ctypes.c_longdouble(value))[:10], "little")
            self._write_x(reg, raw)
    else:
        def read(self):
            return self._read_x(reg)

        def write(self, value):
            self._write_x(reg, value)

    read.__name__ = write.__name__ = name
    setattr(cls, name, property(read, doc=f"{reg.bits}-bit register {name}"))
    cls.writers[name] = write


def register_class(arch_name: str, gpr_layout: dict, xstate_layout: dict,
                   display_names: tuple, ip_name: str, sp_name: str) -> type:
    """A register class over the one buffer layout (struct user_regs_struct
    and the XSAVE area), with the names of one architecture's table:
    gpr_layout maps name -> (byte offset, bytes accessed, value width in
    bits), xstate_layout name -> _XRegister (a subset of XSTATE_LAYOUT);
    display_names are the registers format_registers shows."""
    cls = type("Registers", (X86Registers,), {
        "__slots__": (), "arch_name": arch_name, "gpr_layout": dict(gpr_layout),
        "xstate_layout": dict(xstate_layout), "display_names": tuple(display_names),
        "writers": {}, "ip_name": ip_name, "sp_name": sp_name,
        "__doc__": f"The registers of one {arch_name} thread, as attributes."})
    for name, (offset, size, bits) in gpr_layout.items():
        _install_gpr(cls, name, offset, size, bits)
    for name, reg in xstate_layout.items():
        _install_xstate(cls, name, reg)
    return cls


Registers = register_class("x86-64", GPR_LAYOUT, XSTATE_LAYOUT, FULL_GPR_NAMES, "rip", "rsp")


def register_names(cache=None, cls: type[X86Registers] = Registers) -> list[str]:
    """Every register name (of the class `cls`, x86-64's by default); with a
    cache, only those its XSAVE area provides."""
    if cache is None:
        return list(cls.gpr_layout) + list(cls.xstate_layout)
    buf = cache.xstate()
    return list(cls.gpr_layout) + [name for name, reg in cls.xstate_layout.items()
                                   if _missing_reason(buf, reg) is None]


# --- read-only snapshots ---------------------------------------------------------------

_READ_ONLY = "snapshot registers are read-only"


class _SnapshotCache:
    """A cache over copies of the buffers; it refuses to be marked dirty."""

    __slots__ = ("_gpr", "_xstate")

    def __init__(self, gpr: bytearray, xstate: bytearray):
        self._gpr = gpr
        self._xstate = xstate

    def gpr(self):
        return self._gpr

    def xstate(self):
        return self._xstate

    def gpr_dirty(self):
        raise RuntimeError(_READ_ONLY)

    def xstate_dirty(self):
        raise RuntimeError(_READ_ONLY)


_FROZEN: dict = {}


def _frozen_class(cls: type) -> type:
    """The read-only variant of a register class (made once per class)."""
    frozen = _FROZEN.get(cls)
    if frozen is None:
        def refuse(self, name, value):
            if name not in self.writers:
                raise _unknown(name, self.arch_name)
            raise RuntimeError(_READ_ONLY)

        def show(self):
            ip, sp = self.ip_name, self.sp_name
            return f"<snapshot Registers {ip}={getattr(self, ip):#x} {sp}={getattr(self, sp):#x}>"

        frozen = _FROZEN[cls] = type("Registers", (cls,), {
            "__slots__": (), "__setattr__": refuse, "__repr__": show})
    return frozen


def frozen_registers(gpr_bytes, xstate_bytes=None, cls: type = Registers) -> X86Registers:
    """Read-only registers over copies of saved buffers (for snapshots), with
    the names of the register class `cls` (x86-64's by default).

    xstate_bytes may be None when no FP/vector state was saved; reading such a
    register then raises UnknownRegisterError."""
    if not isinstance(gpr_bytes, (bytes, bytearray, memoryview)):
        raise TypeError(f"gpr_bytes must be bytes, not {type(gpr_bytes).__name__}")
    if len(gpr_bytes) != GPR_SIZE:
        raise ValueError(f"gpr_bytes must be {GPR_SIZE} bytes (user_regs_struct), "
                         f"got {len(gpr_bytes)}")
    if xstate_bytes is None:
        xstate_bytes = b""
    elif not isinstance(xstate_bytes, (bytes, bytearray, memoryview)):
        raise TypeError(f"xstate_bytes must be bytes or None, not {type(xstate_bytes).__name__}")
    return _frozen_class(cls)(_SnapshotCache(bytearray(gpr_bytes), bytearray(xstate_bytes)))


# --- pretty printing ---------------------------------------------------------------------

# EFLAGS bits worth naming (SDM vol. 1 3.4.3).
_EFLAGS_BITS = ((0, "CF"), (2, "PF"), (4, "AF"), (6, "ZF"), (7, "SF"), (8, "TF"),
                (9, "IF"), (10, "DF"), (11, "OF"))


def _eflags_text(value: int) -> str:
    return "[ " + " ".join(name for bit, name in _EFLAGS_BITS if value >> bit & 1) + " ]"


def format_registers(regs: X86Registers, include_fp: bool = False) -> str:
    """A table of register names and hex values; with include_fp, also the x87, SSE,
    AVX (and AVX-512 when present) state, showing each vector at its widest."""
    lines = []
    layout, xlayout = regs.gpr_layout, regs.xstate_layout
    for name in regs.display_names:
        bits = layout[name][2]
        value = getattr(regs, name)
        line = f"{name:<9}0x{value:0{bits // 4}x}"
        if name == "eflags":
            line += "  " + _eflags_text(value)
        lines.append(line)
    if include_fp:
        available = set(register_names(regs._cache, type(regs)))
        lines.append("")
        for name in ("fcw", "fsw", "ftw", "mxcsr"):
            reg = xlayout[name]
            if name in available:
                lines.append(f"{name:<9}0x{getattr(regs, name):0{reg.bits // 4}x}")
        for i in range(8):
            if f"st{i}" in available:
                lines.append(f"st{i:<7}{getattr(regs, f'st{i}')!r}")
        for prefix in ("xmm", "ymm", "zmm"):
            for i in range(32):
                name = f"{prefix}{i}"
                if name in available:
                    width = xlayout[name].bits // 4
                    lines.append(f"{name:<9}0x{getattr(regs, name):0{width}x}")
        for i in range(8):
            if f"k{i}" in available:
                lines.append(f"k{i:<8}0x{getattr(regs, f'k{i}'):016x}")
    return "\n".join(lines)
