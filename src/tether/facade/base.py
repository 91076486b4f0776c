"""What every mixin of the Debugger reads: the two attributes the composed
class sets (debugger.py). Declared here so that a type checker knows them in
each mixin on its own."""
from __future__ import annotations

from collections.abc import Callable

TYPE_CHECKING = False   # (typing.TYPE_CHECKING without importing typing: ~8 ms at start-up)
if TYPE_CHECKING:
    from ..memory.view import MemoryView
    from .control import ProcessControl

# A user's callback: what it receives depends on the event (see each method).
Callback = Callable[..., object]


class FacadeBase:
    """The state of one Debugger: its ProcessControl and its MemoryView."""
    _ctl: ProcessControl
    _memory: MemoryView
    # (a property of SettingsMixin, which LifeMixin reads)
    path: str | None
