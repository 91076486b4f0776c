"""What every mixin of the Debugger reads: the two attributes the composed
class sets (debugger.py). Declared here so that a type checker knows them in
each mixin on its own."""
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from ..memory.view import MemoryView
    from .control import ProcessControl

# A user's callback: what it receives depends on the event (see each method).
Callback = Callable[..., Any]


class FacadeBase:
    """The state of one Debugger: its ProcessControl and its MemoryView."""
    _ctl: "ProcessControl"
    _memory: "MemoryView"
    # (a property of SettingsMixin, which LifeMixin reads)
    path: "str | None"
