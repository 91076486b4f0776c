"""The pure parts of the gdb migration (facade/gdb_launch.py): the gdb
commands recreating tether's breakpoints, the command file, the terminal."""
import ast

import pytest

from tether.facade.gdb_launch import command_file_text, detect_terminal, gdb_breakpoint_commands
from tether.state.stopping_events import Breakpoint


def bp(address, hardware=False, condition="x", length=1, enabled=True):
    b = Breakpoint(address, None, hardware, condition, length, None, None)
    b.enabled = enabled
    return b


@pytest.mark.parametrize("point, command", [
    (bp(0x401000), "break *0x401000"),
    (bp(0x401000, hardware=True), "hbreak *0x401000"),
    (bp(0x404010, True, "w", 8), "watch *(long *) 0x404010"),
    (bp(0x404010, True, "w", 4), "watch *(int *) 0x404010"),
    (bp(0x404010, True, "rw", 2), "awatch *(short *) 0x404010"),
    (bp(0x404010, True, "rw", 1), "awatch *(char *) 0x404010"),
])
def test_each_kind_of_breakpoint_becomes_its_gdb_command(point, command):
    assert gdb_breakpoint_commands([point]) == [command]


def test_disabled_breakpoints_are_not_migrated():
    assert gdb_breakpoint_commands([bp(0x1000, enabled=False), bp(0x2000)]) == ["break *0x2000"]


def test_the_command_file_names_the_process_and_ends_with_the_breakpoints():
    text = command_file_text(4321, "/tmp/tether-gdb-x'y", ["break *0x1000"])
    assert text.endswith("break *0x1000\n")
    python = text[text.index("python\n") + 7:text.index("\nend\n")]
    ast.parse(python)  # (valid Python, whatever the directory's name)
    assert "_tether_pid, _tether_marks = 4321, " + repr("/tmp/tether-gdb-x'y") in python
    for hook in ("define hook-detach", "define hook-quit"):
        assert hook in text


def test_a_configured_terminal_is_used_as_given():
    assert detect_terminal(["tmux", "splitw", "-h"]) == ["tmux", "splitw", "-h"]


def test_no_terminal_without_a_display_or_tmux(monkeypatch):
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "TMUX"):
        monkeypatch.delenv(name, raising=False)
    assert detect_terminal([]) == []
