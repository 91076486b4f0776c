# The C extension is the only code that calls ptrace/waitid; everything else is Python.
from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "tether._native",
            sources=["src/tether/_native.c"],
            extra_compile_args=["-O2", "-Wall"],
        )
    ]
)
