"""Execute a breakpoint's displaced instruction without single-stepping it.

Stepping over an int3 costs a second ptrace stop, and the usual way (lift the
int3, step, put it back) opens a window in which other threads run through
the breakpoint unseen. Function prologues start with a handful of simple
instructions that touch no flags; for those we do what the CPU would do,
straight into the thread's registers and stack, and the int3 stays armed.
Anything else returns False and the caller single-steps."""

# Index of each register in struct user_regs_struct (8-byte slots).
_PUSH_SLOT = (10, 11, 12, 5, 19, 4, 13, 14)          # rax rcx rdx rbx rsp rbp rsi rdi
_PUSH_SLOT_REX_B = (9, 8, 7, 6, 3, 2, 1, 0)          # r8 .. r15
_RIP, _RSP, _RBP = 16 * 8, 19 * 8, 4 * 8
_ENDBR64 = b"\xf3\x0f\x1e\xfa"
_MOV_RBP_RSP = b"\x48\x89\xe5"


def _get(gpr, offset):
    return int.from_bytes(gpr[offset:offset + 8], "little")


def _set(gpr, offset, value):
    gpr[offset:offset + 8] = (value & 0xFFFFFFFFFFFFFFFF).to_bytes(8, "little")


def _push(task, gpr, mem, slot, length):
    value = _get(gpr, slot * 8)
    rsp = _get(gpr, _RSP) - 8
    mem.write(rsp, value.to_bytes(8, "little"))
    _set(gpr, _RSP, rsp)
    _set(gpr, _RIP, _get(gpr, _RIP) + length)
    task.gpr_dirty()
    return True


def emulate_displaced(task, code: bytes, mem) -> bool:
    """`code`: the bytes at rip with the original first byte restored."""
    gpr = task.gpr()
    first = code[0]
    if 0x50 <= first <= 0x57:
        return _push(task, gpr, mem, _PUSH_SLOT[first - 0x50], 1)
    if first == 0x41 and 0x50 <= code[1] <= 0x57:
        return _push(task, gpr, mem, _PUSH_SLOT_REX_B[code[1] - 0x50], 2)
    if code.startswith(_ENDBR64):
        _set(gpr, _RIP, _get(gpr, _RIP) + 4)
        task.gpr_dirty()
        return True
    if first == 0x90:
        _set(gpr, _RIP, _get(gpr, _RIP) + 1)
        task.gpr_dirty()
        return True
    if code.startswith(_MOV_RBP_RSP):
        _set(gpr, _RBP, _get(gpr, _RSP))
        _set(gpr, _RIP, _get(gpr, _RIP) + 3)
        task.gpr_dirty()
        return True
    return False
