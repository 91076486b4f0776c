"""The seccomp-bpf program that makes only chosen system calls stop a tracee
(what strace --seccomp-bpf does; seccomp(2), "SECCOMP_SET_MODE_FILTER").

For an x86-64 system call whose number is in the set it returns
SECCOMP_RET_TRACE: the tracer (which set PTRACE_O_TRACESECCOMP) gets a
PTRACE_EVENT_SECCOMP stop at the call's entry. Every other call is
SECCOMP_RET_ALLOW: it runs without stopping the tracee, which the tracer
resumes with PTRACE_CONT. The calls of a 32-bit process (int 0x80,
sysenter: seccomp_data.arch is AUDIT_ARCH_I386, and the numbers are the i386
table's) are checked against a second set, `i386_numbers`: the filter is
kept across exec, so one filter serves a process tree that runs programs of
both. Calls of any other ABI (x32) are allowed.

Pure: returns the bytes of the struct sock_filter array (8 bytes each: u16
code, u8 jt, u8 jf, u32 k, <linux/filter.h>); native code installs them.
`run_program` interprets such a program, for the tests."""
from __future__ import annotations

import struct

__all__ = ["seccomp_program", "run_program", "RET_ALLOW", "RET_TRACE", "AUDIT_ARCH_X86_64",
           "AUDIT_ARCH_I386", "MAX_INSTRUCTIONS"]

# <linux/bpf_common.h>
_LD_W_ABS = 0x00 | 0x00 | 0x20      # BPF_LD | BPF_W | BPF_ABS
_JEQ_K = 0x05 | 0x10 | 0x00         # BPF_JMP | BPF_JEQ | BPF_K
_RET_K = 0x06 | 0x00                # BPF_RET | BPF_K
_JA = 0x05 | 0x00                   # BPF_JMP | BPF_JA: pc += k (32 bits: no 8-bit limit)
# <linux/seccomp.h>: struct seccomp_data { int nr; __u32 arch; ... }
_NR_OFFSET, _ARCH_OFFSET = 0, 4
RET_ALLOW = 0x7FFF0000
RET_TRACE = 0x7FF00000
# <linux/audit.h>: EM_X86_64 | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE
AUDIT_ARCH_X86_64 = 0xC000003E
AUDIT_ARCH_I386 = 0x40000003        # EM_386 | __AUDIT_ARCH_LE
MAX_INSTRUCTIONS = 4096             # BPF_MAXINSNS

_INSN = struct.Struct("<HBBI")


def _checks(numbers) -> list:
    """Load the call's number, then one compare-and-return pair per number
    (a jump of 0 or 1: no jump offset can overflow its 8 bits however long
    the list is), then allow."""
    wanted = sorted({int(n) for n in numbers})
    if any(n < 0 or n >= 1 << 30 for n in wanted):
        raise ValueError("syscall numbers are in 0..2**30-1")
    code = [(_LD_W_ABS, 0, 0, _NR_OFFSET)]
    for n in wanted:
        code.append((_JEQ_K, 0, 1, n))       # equal: fall into the RET_TRACE
        code.append((_RET_K, 0, 0, RET_TRACE))
    code.append((_RET_K, 0, 0, RET_ALLOW))
    return code


def seccomp_program(numbers, i386_numbers=()) -> bytes:
    """The filter for the x86-64 syscall numbers `numbers` and the i386
    ones `i386_numbers` (iterables of ints)."""
    x86_64, i386 = _checks(numbers), _checks(i386_numbers)
    code = [
        (_LD_W_ABS, 0, 0, _ARCH_OFFSET),
        (_JEQ_K, 0, 1, AUDIT_ARCH_I386),     # i386: fall into the jump to its checks
        (_JA, 0, 0, 2 + len(x86_64)),
        (_JEQ_K, 1, 0, AUDIT_ARCH_X86_64),   # x86-64: skip the next instruction
        (_RET_K, 0, 0, RET_ALLOW),
    ] + x86_64 + i386
    if len(code) > MAX_INSTRUCTIONS:
        raise ValueError(f"too many syscalls for one filter ({(len(code) - 9) // 2})")
    return b"".join(_INSN.pack(*insn) for insn in code)


def run_program(program: bytes, nr: int, arch: int = AUDIT_ARCH_X86_64) -> int:
    """What the kernel's BPF interpreter returns for a call `nr` of `arch`
    (only the instructions seccomp_program emits)."""
    insns = [_INSN.unpack_from(program, i) for i in range(0, len(program), _INSN.size)]
    data = {_NR_OFFSET: nr & 0xFFFFFFFF, _ARCH_OFFSET: arch}
    acc, pc = 0, 0
    for _ in range(len(insns) + 1):
        code, jt, jf, k = insns[pc]
        if code == _LD_W_ABS:
            acc = data[k]
            pc += 1
        elif code == _JEQ_K:
            pc += 1 + (jt if acc == k else jf)
        elif code == _JA:
            pc += 1 + k
        elif code == _RET_K:
            return k
        else:
            raise ValueError(f"instruction {code:#x} at {pc} is not one of ours")
    raise ValueError("the program does not return")
