/*
 * module.c: the module tether._native — its method table and PyInit only.
 * The functions live in the other files of this directory, by job; see
 * native.h for the list and for how the files are built.
 */
#include "native.h"

static PyMethodDef methods[] = {
    {"ptrace", py_ptrace, METH_VARARGS, "ptrace(request, pid, addr=0, data=0) -> int"},
    {"peekdata", py_peekdata, METH_VARARGS, "peekdata(pid, addr) -> word"},
    {"pokedata", py_pokedata, METH_VARARGS, "pokedata(pid, addr, word)"},
    {"peekuser", py_peekuser, METH_VARARGS, "peekuser(pid, offset) -> word"},
    {"pokeuser", py_pokeuser, METH_VARARGS, "pokeuser(pid, offset, word)"},
    {"emulate", py_emulate, METH_VARARGS, "emulate(gpr, code) -> None | (length, push_address, push_value)"},
    {"insn_length", py_insn_length, METH_O, "insn_length(code) -> length of the x86-64 instruction at code[0], 0 if unknown"},
    {"displace_plan", py_displace_plan, METH_O, "displace_plan(code) -> None | (length, slot_code, scratch_register)"},
    {"move_fault_address", py_move_fault_address, METH_VARARGS, "move_fault_address(tid, low, high, delta) -> bool"},
    {"resume_over", (PyCFunction)(void (*)(void))py_resume_over, METH_FASTCALL, "resume_over(tid, request, gpr, code) -> bool"},
    {"resume", (PyCFunction)(void (*)(void))py_resume, METH_FASTCALL, "resume(tid, request, sig, gpr=None)"},
    {"getregs", py_getregs, METH_VARARGS, "getregs(tid) -> bytearray"},
    {"setregs", py_setregs, METH_VARARGS, "setregs(tid, buffer)"},
    {"getxstate", py_getxstate, METH_VARARGS, "getxstate(tid) -> bytearray"},
    {"setxstate", py_setxstate, METH_VARARGS, "setxstate(tid, buffer)"},
    {"geteventmsg", py_geteventmsg, METH_VARARGS, "geteventmsg(tid) -> int"},
    {"getsiginfo", py_getsiginfo, METH_VARARGS, "getsiginfo(tid) -> (signo, code, pid, status)"},
    {"syscall_stop", py_syscall_stop, METH_O, "syscall_stop(tid) -> entry: syscall number; exit: -1; other: -2"},
    {"get_syscall_info", py_get_syscall_info, METH_O, "get_syscall_info(tid) -> tuple"},
    {"tracer_thread_init", py_tracer_thread_init, METH_VARARGS, "install and block the wake signal"},
    {"same_vm", py_same_vm, METH_VARARGS, "same_vm(pid1, pid2) -> bool (kcmp KCMP_VM)"},
    {"clone_event", py_clone_event, METH_O, "clone_event(tid) -> (new_tid, makes_thread 1/0/-1)"},
    {"trap_regs", py_trap_regs, METH_O, "trap_regs(tid) -> (bytearray, address): registers after an int3, rip on it"},
    {"wait_event", (PyCFunction)(void (*)(void))py_wait_event, METH_FASTCALL, "wait_event(block=True, notify=False) -> (pid, status) | None"},
    {"generation", py_generation, METH_NOARGS, "generation() -> int"},
    {"kick", py_kick, METH_NOARGS, "kick(): wake the tracer thread for a queued command"},
    {"notify", py_notify, METH_NOARGS, "notify(): wake the user's waiting threads"},
    {"wait_generation", py_wait_generation, METH_VARARGS, "wait_generation(seen, timeout=-1, kick=False) -> bool"},
    {"wait_pid", py_wait_pid, METH_VARARGS, "wait_pid(pid, nohang=False) -> (pid, status)"},
    {"read_memory", (PyCFunction)(void (*)(void))py_read_memory, METH_FASTCALL, "read_memory(pid, addr, size[, installed]) -> bytes"},
    {"write_mem_file", (PyCFunction)(void (*)(void))py_write_mem_file, METH_FASTCALL, "write_mem_file(fd, data, addr) -> int"},
    {"spawn", py_spawn, METH_VARARGS, "spawn(...) -> (pid, stack_address, stack_size)"},
    {"wake_after", py_wake_after, METH_VARARGS, "wake_after(seconds): interrupt the tracer's wait then (0: disarm)"},
    {"free_stack", py_free_stack, METH_VARARGS, "free_stack(address, size)"},
    {"tgkill", py_tgkill, METH_VARARGS, "tgkill(tgid, tid, sig)"},
    {"gettid", py_gettid, METH_NOARGS, "gettid() -> int"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "tether._native", NULL, -1, methods};

/* Besides the functions: GPR_LAYOUT and GPR_SIZE, the register buffer's
 * layout (gpr_layout.c). */
PyMODINIT_FUNC PyInit__native(void)
{
    PyObject *m = PyModule_Create(&module);
    if (m && add_gpr_layout(m) < 0)
        Py_CLEAR(m);
    return m;
}
