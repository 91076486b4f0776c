"""Build tether's API reference (HTML) from its docstrings with pdoc.

    python docs/build_api.py OUTPUT_DIRECTORY

Every warning is an error (a docstring or annotation pdoc cannot read, a
module that fails to import): .ci/run builds it so that the reference
stays whole. The modules below are the public API; everything else is
internal.
"""
import sys
import warnings
from pathlib import Path

PUBLIC_MODULES = [
    "tether",                         # debugger(), Debugger, libcontext (pdoc adds
                                      # tether.debugger and tether.libcontext itself)
    "tether.thread_context",          # ThreadContext: a thread's registers, memory, stepping
    "tether.state.stopping_events",   # Breakpoint, SyscallHandler, SignalCatcher
    "tether.commlink.pipes",          # PipeManager: the program's stdin/stdout/stderr
    "tether.memory.maps",             # MemoryMap, MemoryMapList
    "tether.symbols.symbol_list",     # Symbol, SymbolList
    "tether.snapshots",
    "tether.errors",
]


def main(argv):
    if len(argv) != 2:
        sys.exit(__doc__)
    warnings.simplefilter("error")
    import pdoc  # after the filter: warnings at its import count too
    pdoc.pdoc(*PUBLIC_MODULES, output_directory=Path(argv[1]))
    print(f"API reference written to {argv[1]}/index.html")


if __name__ == "__main__":
    main(sys.argv)
