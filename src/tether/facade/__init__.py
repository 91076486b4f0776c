"""The public API's parts, by theme. tether/debugger.py assembles the
Debugger class from the mixins here; each public method is its docstring,
its argument checks and a hand-off to a component:

  control.py   ProcessControl: one Debugger's process as tether's own parts
               see it (state checks, the tracer thread, maps and symbols,
               stopping-event ownership); also the runtime's ProcessListener
  settings.py  the constructor's options, as properties
  life.py      run / attach / detach / kill / terminate; pid, exit status, threads
  flow.py      cont / wait / wait_any / interrupt / step / step_until / finish / next
  inspection.py registers, memory, syscall and signal views, maps, symbols, backtrace
  events.py    breakpoints, watchpoints, syscall handlers and hijacks, signal
               catchers, lifecycle hooks
  pretty.py    the pprint_* printers and the process tree
  snapshots.py create_snapshot / create_tree_snapshot / load_snapshot
  gdb.py       gdb / is_in_gdb / wait_for_gdb (gdb_launch.py: gdb's command
               file, the terminal, knowing when gdb is done)

The mixins keep no state of their own: everything lives on the Debugger's
ProcessControl (`self._ctl`) and its MemoryView (`self._memory`)."""
