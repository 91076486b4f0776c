"""`tether trace -b SYMBOL`: a counting breakpoint on SYMBOL in every process,
planted as soon as the file that defines it is mapped.

At an exec stop only the program and the dynamic loader are mapped; the
libraries (libc's malloc, say) come later, mapped by the loader. The loader
calls `_dl_debug_state` (exported by glibc's ld.so for debuggers: the
r_debug "rendezvous" protocol of <link.h>) each time it has added or
removed libraries, after mapping them and before running their
constructors. So a symbol not found at the exec stop is looked for again at
each of those calls, by a breakpoint on `_dl_debug_state` itself; libraries
opened later with dlopen() are covered the same way.

A symbol that is never found in any process is reported in the summary."""

# glibc's loader hook (elf/dl-debug.c); also in musl's loader.
LOADER_HOOK = "_dl_debug_state"


class BreakPlanter:
    """Plants the -b breakpoints of one `tether trace` run (on the tracer
    thread, in lifecycle and breakpoint callbacks)."""

    def __init__(self, symbols, on_hit):
        self.symbols = list(symbols)
        self.on_hit = on_hit       # the breakpoints' callback(thread, bp)
        self.waiting = {}          # Debugger -> symbols not found in its image yet
        self.found = set()         # symbols planted in at least one process

    def plant(self, dbg) -> None:
        """A new image (the root at its start, a process after exec): plant
        what can be planted now; wait for the loader for the rest."""
        if not self.symbols:
            return
        self.waiting[dbg] = list(self.symbols)
        self._try(dbg)
        if self.waiting.get(dbg):
            try:
                dbg.breakpoint(LOADER_HOOK, callback=self._loader_hook, file="absolute")
            except ValueError:
                pass  # no dynamic loader (a static program): nothing more will appear

    def forget(self, dbg) -> None:
        self.waiting.pop(dbg, None)

    def _loader_hook(self, thread, bp) -> None:
        dbg = thread.debugger
        if self.waiting.get(dbg):
            self._try(dbg)

    def _try(self, dbg) -> None:
        still = []
        for symbol in self.waiting.get(dbg, ()):
            try:
                dbg.breakpoint(symbol, callback=self.on_hit, file="hybrid")
            except ValueError:
                still.append(symbol)   # not (yet) in any mapped file
            else:
                self.found.add(symbol)
        self.waiting[dbg] = still

    def never_found(self) -> list:
        return [s for s in self.symbols if s not in self.found]
