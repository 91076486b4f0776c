"""Debugger: the public face of ONE traced process (libdebug's API).

The class is assembled from the per-theme mixins of tether/facade/ (see its
__init__); each method checks its arguments and hands the work to the
process's ProcessControl (facade/control.py), which hands it to the tracer
thread. By default a command given while the process runs waits for it to
stop first; with auto_interrupt_on_command ("ASAP mode") it interrupts the
process instead, and the process stays stopped afterwards."""
from .config import Settings
from .facade.control import ProcessControl
from .facade.events import EventsMixin
from .facade.flow import FlowMixin
from .facade.gdb import GdbMixin
from .facade.inspection import InspectionMixin
from .facade.life import LifeMixin
from .facade.pretty import PrettyMixin
from .facade.settings import SettingsMixin, checked_env
from .facade.snapshots import SnapshotsMixin
from .runtime.tracer import get_tracer
from . import lifecycle


class Debugger(SettingsMixin, LifeMixin, FlowMixin, InspectionMixin, EventsMixin, PrettyMixin,
               SnapshotsMixin, GdbMixin):
    """One traced process: debugger() makes one, run() or attach() gives it a
    process. A followed child process gets a Debugger of its own (children)."""

    def __init__(self, argv, path=None, env=None, settings: Settings | None = None):
        # None: os.environ, copied only when `env` is read or set (a copy per
        # Debugger cost more than the rest of debugger()).
        ctl = ProcessControl(_facade_of, settings or Settings(), get_tracer(), path=path,
                             env=checked_env(env))
        self._ctl = ctl
        self._memory = ctl.memory
        ctl.debugger = self
        self.argv = argv
        lifecycle.register(self)

    @property
    def control(self) -> ProcessControl:
        """tether's internal interface to this Debugger's process (state
        checks, the tracer thread, maps and symbols), used by the memory view,
        thread contexts, snapshots and the CLI; scripts do not need it."""
        return self._ctl


def _facade_of(control: ProcessControl) -> Debugger:
    """The Debugger of a followed child's control (made at every followed
    fork: no __init__, no checks)."""
    dbg = Debugger.__new__(Debugger)
    dbg._ctl = control
    dbg._memory = control.memory
    control.debugger = dbg
    return dbg
