/*
 * gpr_layout.c: the general-register layout, exported to Python.
 *
 * _native.GPR_LAYOUT = {field name: byte offset} for every field of the
 * kernel's struct user_regs_struct (the PTRACE_GETREGS/SETREGS buffer), and
 * _native.GPR_SIZE = its size. The offsets come from offsetof() on the
 * kernel's header, as do the emulator's slots (GPR_SLOT, native.h), so the
 * C side has one layout; tests/unit/test_register_layout.py checks that
 * tether.arch.amd64.registers (the Python definition) agrees with it.
 */
#include "native.h"

/* Every field, in struct order. The checks below make the list complete:
   each field is 8 bytes and together they fill the struct. */
#define GPR_FIELD_LIST(X) \
    X(r15) X(r14) X(r13) X(r12) X(rbp) X(rbx) X(r11) X(r10) X(r9) X(r8) \
    X(rax) X(rcx) X(rdx) X(rsi) X(rdi) X(orig_rax) X(rip) X(cs) X(eflags) \
    X(rsp) X(ss) X(fs_base) X(gs_base) X(ds) X(es) X(fs) X(gs)

#define GPR_CHECK_SIZE(field) \
    _Static_assert(sizeof(((struct user_regs_struct *)0)->field) == 8, #field " is not 8 bytes");
GPR_FIELD_LIST(GPR_CHECK_SIZE)

#define GPR_COUNT(field) + 1
_Static_assert(8 * (0 GPR_FIELD_LIST(GPR_COUNT)) == sizeof(struct user_regs_struct),
               "GPR_FIELD_LIST does not cover struct user_regs_struct");

static const struct {
    const char *name;
    size_t offset;
} gpr_fields[] = {
#define GPR_ENTRY(field) {#field, offsetof(struct user_regs_struct, field)},
    GPR_FIELD_LIST(GPR_ENTRY)
};

/* Add GPR_LAYOUT and GPR_SIZE to the module; -1 with an exception set. */
int add_gpr_layout(PyObject *module)
{
    PyObject *layout = PyDict_New();
    if (!layout)
        return -1;
    for (size_t i = 0; i < sizeof gpr_fields / sizeof gpr_fields[0]; i++) {
        PyObject *offset = PyLong_FromSize_t(gpr_fields[i].offset);
        if (!offset || PyDict_SetItemString(layout, gpr_fields[i].name, offset) < 0) {
            Py_XDECREF(offset);
            Py_DECREF(layout);
            return -1;
        }
        Py_DECREF(offset);
    }
    int r = PyModule_AddObjectRef(module, "GPR_LAYOUT", layout);
    Py_DECREF(layout);
    if (r < 0)
        return -1;
    return PyModule_AddIntConstant(module, "GPR_SIZE", (long)sizeof(struct user_regs_struct));
}
