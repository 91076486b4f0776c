"""C++ symbol names as people write them: "_ZN2ns3addEii" is "ns::add(int, int)".

The demangler is the C++ runtime's own, abi::__cxa_demangle of libstdc++
(the one g++ programs and c++filt share, maintained with the compiler),
called through ctypes. No Python package is needed, nothing is loaded
until the first mangled name, and a name that is not mangled ("_Z" is the
Itanium C++ ABI's prefix) costs one startswith: C programs pay nothing.
Results are kept (a bounded cache), so a name is demangled once.

A name that cannot be demangled (not valid, or no libstdc++ on the
machine) is returned as it is. A symbol-version suffix ("@GLIBCXX_3.4") is
kept after the demangled name, as readelf shows it.
"""
from __future__ import annotations

import functools
import threading

__all__ = ["demangle", "is_mangled"]

_lock = threading.Lock()
_runtime: list = []   # [(__cxa_demangle, free)] once loaded, [None] if unavailable


def is_mangled(name: str) -> bool:
    """Whether `name` looks like an Itanium C++ ABI mangled name."""
    return name.startswith("_Z")


def _load():
    with _lock:
        if not _runtime:
            _runtime.append(_open_runtime())
        return _runtime[0]


def _open_runtime():
    import ctypes  # (here: only C++ names need it, and every start-up would pay its import)
    try:
        libc = ctypes.CDLL(None)
        try:
            cxx = ctypes.CDLL("libstdc++.so.6")  # its soname since GCC 3.4
        except OSError:
            # (imported here: it brings subprocess, and it is needed only if the soname fails)
            from ctypes.util import find_library
            cxx = ctypes.CDLL(find_library("stdc++") or "libstdc++.so")
    except OSError:
        return None
    # char *__cxa_demangle(const char *mangled, char *buf, size_t *len, int *status):
    # with buf NULL the result is malloc'ed, and ours to free. (Looked up by
    # its C name through a prototype: a Python attribute of that name would
    # read as a private one.)
    prototype = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p,
                                 ctypes.c_void_p, ctypes.POINTER(ctypes.c_int))
    try:
        cxa_demangle = prototype(("__cxa_demangle", cxx))
    except AttributeError:
        return None
    free = libc.free
    free.restype = None
    free.argtypes = [ctypes.c_void_p]
    return cxa_demangle, free


@functools.lru_cache(maxsize=1 << 16)
def _demangled(name: str) -> str:
    runtime = _load()
    if runtime is None:
        return name
    cxa_demangle, free = runtime
    import ctypes  # (loaded by _open_runtime already)
    base, at, version = name.partition("@")
    status = ctypes.c_int(0)
    try:
        raw = base.encode("utf-8")
    except UnicodeEncodeError:
        return name
    if b"\0" in raw:
        return name
    result = cxa_demangle(raw, None, None, ctypes.byref(status))
    if not result:
        return name
    try:
        text = ctypes.string_at(result).decode("utf-8", "replace")
    finally:
        free(result)
    if status.value != 0:
        return name
    return text + at + version


def demangle(name: str) -> str:
    """The demangled form of a C++ symbol name; any other name as it is."""
    if not name.startswith("_Z"):
        return name
    return _demangled(name)
