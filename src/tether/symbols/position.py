"""What a user's "position" means: an int address in an addressing mode, or a
symbol expression ("main+0x10"). Shared by the live Debugger and snapshots.

It needs both the addressing modes (tether.memory.addressing) and the
symbols, so it lives here, above tether.memory."""
from ..memory.addressing import resolve_address
from .symbol_list import resolve_symbol_expression


def resolve_symbol(symbol, symbols, maps, file: str = "hybrid") -> int:
    if not isinstance(symbol, str):
        raise TypeError(f"symbol must be a str, not {type(symbol).__name__}")
    return resolve_symbol_expression(symbol, symbols, maps, file)


def resolve_position(position, file: str, get_maps, get_symbols, binary_path) -> int:
    """get_maps()/get_symbols() are called only when needed (reading the
    maps of a live process costs system calls)."""
    if not isinstance(file, str):
        raise TypeError(f"file must be a str, not {type(file).__name__}")
    if isinstance(position, str):
        return resolve_symbol(position, get_symbols(), get_maps(), file)
    if isinstance(position, bool) or not isinstance(position, int):
        raise TypeError(f"an address must be an int or a symbol string, not {type(position).__name__}")
    if position < 0:
        raise ValueError(f"address {position:#x} is negative")
    if file == "absolute":
        return position
    return resolve_address(position, file, get_maps(), binary_path())
