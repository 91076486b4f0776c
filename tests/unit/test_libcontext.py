"""libcontext: each setting does what it says, or is refused."""
import logging

import pytest

from tether import libcontext
from tether.symbols import debug_files


def test_sym_lvl_sets_the_symbol_search_level():
    assert libcontext.sym_lvl == 5
    with libcontext.tmp(sym_lvl=1):
        assert libcontext.sym_lvl == 1 and debug_files.settings.level == 1
    assert debug_files.settings.level == 5
    for bad in (-1, 6, "3", 2.0, True, None):
        with pytest.raises(ValueError, match="sym_lvl"):
            libcontext.sym_lvl = bad
    assert libcontext.sym_lvl == 5


def test_debug_file_directories():
    assert libcontext.debug_file_directories == ["/usr/lib/debug"]
    with libcontext.tmp(debug_file_directories="/opt/debug"):
        assert debug_files.settings.debug_directories == ["/opt/debug"]
    assert debug_files.settings.debug_directories == ["/usr/lib/debug"]
    with pytest.raises(ValueError, match="absolute"):
        libcontext.debug_file_directories = ["relative/dir"]


def test_tmp_refuses_unknown_and_read_only_settings_and_changes_nothing():
    with pytest.raises(ValueError, match="no setting 'nope'"):
        with libcontext.tmp(sym_lvl=2, nope=1):
            pass
    assert libcontext.sym_lvl == 5
    with pytest.raises(ValueError, match="read-only"):
        libcontext.update(platform="i386")
    with pytest.raises(ValueError, match="no setting"):
        libcontext.update(_loggers={})


def test_a_bad_value_inside_tmp_restores_the_others():
    with pytest.raises(ValueError):
        with libcontext.tmp(sym_lvl=2, general_logger="LOUD"):
            pass
    assert libcontext.sym_lvl == 5 and libcontext.general_logger == "SILENT"


def test_platform_and_arch():
    assert libcontext.platform == "amd64"
    with pytest.raises(AttributeError):
        libcontext.platform = "i386"
    libcontext.arch = "i686"
    assert libcontext.arch == "i386"
    libcontext.arch = "x86_64"
    assert libcontext.arch == "amd64"
    for bad in ("aarch64", "armv7", 3):
        with pytest.raises(ValueError, match="amd64"):
            libcontext.arch = bad
    assert libcontext.arch == "amd64"


def test_terminal_is_normalised_to_a_list():
    with libcontext.tmp(terminal="tmux"):
        assert libcontext.terminal == ["tmux"]
    assert libcontext.terminal == []
    with pytest.raises(ValueError):
        libcontext.terminal = [1, 2]


def test_tether_is_silent_by_default(capsys):
    logging.getLogger("tether.runtime.test").warning("nobody should see this")
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""


@pytest.mark.parametrize("setting,logger,level", [
    ("general_logger", "tether.facade", "INFO"),
    ("debugger_logger", "tether.runtime.x", "DEBUG"),
    ("pipe_logger", "tether.commlink.pipes", "DEBUG"),
])
def test_logger_settings_print_their_part_to_stderr(setting, logger, level, capsys):
    with libcontext.tmp(**{setting: level}):
        logging.getLogger(logger).log(getattr(logging, level), "seen %d", 1)
        logging.getLogger(logger).debug("detail") if level == "INFO" else None
    logging.getLogger(logger).log(getattr(logging, level), "after")
    err = capsys.readouterr().err
    assert f"[{logger}] seen 1" in err
    assert "after" not in err and "detail" not in err
    assert libcontext.general_logger == libcontext.debugger_logger == libcontext.pipe_logger == "SILENT"


def test_logger_settings_refuse_unknown_levels():
    with pytest.raises(ValueError, match="DEBUG, SILENT"):
        libcontext.pipe_logger = "INFO"
    with pytest.raises(ValueError, match="general_logger"):
        libcontext.general_logger = "debug"
