# The C extension is the only code that calls ptrace/waitid; everything else is Python.
# Its source is split by job under src/tether/native/ (native.h says how the
# files share code); each .c is its own translation unit.
from setuptools import Extension, setup

NATIVE = "src/tether/native/"

setup(
    ext_modules=[
        Extension(
            "tether._native",
            sources=[NATIVE + name for name in (
                "module.c", "ptrace_calls.c", "emulate.c", "clone_sniff.c", "wait_loop.c",
                "handoff.c", "wake.c", "memory.c", "spawn.c", "process.c", "gpr_layout.c",
                "seccomp_filter.c", "displaced.c",
            )],
            depends=[NATIVE + "native.h"],
            extra_compile_args=["-O2", "-Wall"],
        )
    ]
)
