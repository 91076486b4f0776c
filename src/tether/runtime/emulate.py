"""Execute a breakpoint's displaced instruction without single-stepping it.

Stepping over an int3 costs a second ptrace stop, and the usual way (lift the
int3, step, put it back) opens a window in which other threads run through
the breakpoint unseen. Function entries start with a handful of simple
instructions; for those we do what the CPU would do, straight into the
thread's registers (and stack), and the int3 stays armed. Anything else
returns False and the caller runs it out of line (displaced.py) or
single-steps it.

Emulated (64-bit mode, as the first instruction at a breakpoint):
  push r64 (50+r, 41 50+r)          endbr64, nop
  mov r64, r64 (REX.W 89/8B, mod=11) mov r32, imm32 (B8+r, 41 B8+r)
  sub rsp, imm8/imm32 (48 83/81 EC)  test r64, r64 (REX.W 85, mod=11)
The decoding and register arithmetic (flags as the Intel SDM defines them
for SUB and TEST) are in C (native/emulate.c, emulate_insn): this runs at every hit.
"""
from .. import _native as native
from ..arch.amd64.registers import GPR_OFFSETS
from ..arch.amd64.registers import RIP_OFFSET as _RIP

# Slot (8-byte index) in struct user_regs_struct of register number 0..15 in
# the instruction encoding (rax rcx rdx rbx rsp rbp rsi rdi r8 .. r15),
# derived from the one layout (the C side derives its own with offsetof).
REG_SLOT = tuple(GPR_OFFSETS[name] // 8 for name in (
    "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
    "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"))
CF, PF, AF, ZF, SF, OF = 1 << 0, 1 << 2, 1 << 4, 1 << 6, 1 << 7, 1 << 11


def emulate(gpr: bytearray, code: bytes, push) -> int | None:
    """Apply the instruction at code[0] to `gpr` (rip is not moved);
    `push(address, value)` writes the stack. Returns its length, or None
    (and `gpr` unchanged) if it is not one we emulate."""
    done = native.emulate(gpr, code)
    if done is None:
        return None
    length, address, value = done
    if address is not None:
        push(address, value)
    return length


def emulate_displaced(task, code: bytes) -> bool:
    """`code`: the bytes at rip with the original first byte restored.
    Works on the register cache directly (unchanged when not emulated) and
    moves rip past the instruction."""
    gpr = task.gpr()
    # A push writes its word with one PTRACE_POKEDATA (ptrace writes any
    # address, aligned or not, even in read-only-mapped pages).
    length = emulate(gpr, code, lambda address, value: native.pokedata(task.tid, address, value))
    if length is None:
        return False
    rip = int.from_bytes(gpr[_RIP:_RIP + 8], "little") + length
    gpr[_RIP:_RIP + 8] = rip.to_bytes(8, "little")
    task.gpr_changed = True
    return True
