"""Where resolve_position and resolve_symbol used to live: they are in
tether.symbols.position (position resolution needs the symbols, which sit
above tether.memory). This module only re-exports them for the code that
still imports them from here; import them from tether.symbols.position."""
from ..symbols.position import resolve_position, resolve_symbol

__all__ = ["resolve_position", "resolve_symbol"]
