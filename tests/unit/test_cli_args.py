"""The `tether` command line without tracing anything: argument parsing, the
event line formats, the summary text, and how a command name is resolved."""
import json
import os
import stat

import pytest

from tether.cli.args import TraceOptions, UsageError, parse_args, split_double_dash, usage_text
from tether.cli.main import main
from tether.cli.output import Event, Printer, describe, format_text, wants_color
from tether.cli.summary import format_summary
from tether.cli.program import CommandError, resolve_command, script_interpreter


# ------------------------------------------------------------------ parsing
def test_program_after_double_dash_keeps_its_own_options():
    opts = parse_args(["trace", "--", "ls", "-l", "--color"])
    assert opts.command == "trace"
    assert opts.program == ["ls", "-l", "--color"]
    assert opts.color == "auto"  # --color after -- is the program's, not ours
    assert opts.syscalls is None and opts.breaks == [] and opts.follow is True


def test_program_without_double_dash_takes_everything_after_it():
    opts = parse_args(["trace", "--json", "./prog", "-x", "--json"])
    assert opts.json is True
    assert opts.program == ["./prog", "-x", "--json"]


def test_double_dash_after_the_program_belongs_to_the_program():
    assert parse_args(["trace", "./prog", "--", "-y"]).program == ["./prog", "--", "-y"]


def test_trace_all_means_every_syscall():
    assert parse_args(["trace", "-e", "trace=all", "--", "prog"]).syscalls == []
    assert parse_args(["trace", "--trace=all", "--", "prog"]).syscalls == []
    assert parse_args(["trace", "--", "prog"]).syscalls is None


def test_trace_set_with_names_and_numbers_in_number_order():
    opts = parse_args(["trace", "-e", "trace=write,openat,1", "--", "prog"])
    assert opts.syscalls == ["write", "openat"]  # 1 is write: listed once
    assert parse_args(["trace", "-e", "read", "--", "prog"]).syscalls == ["read"]  # bare SET


def test_unknown_syscall_name_is_a_usage_error():
    with pytest.raises(UsageError, match="frobnicate"):
        parse_args(["trace", "-e", "trace=write,frobnicate", "--", "prog"])


def test_s_is_the_string_size_never_a_syscall_list():
    assert parse_args(["trace", "-s", "100", "--", "prog"]).string_limit == 100
    assert parse_args(["trace", "-s100", "--", "prog"]).string_limit == 100
    assert parse_args(["trace", "--", "prog"]).string_limit == 32
    with pytest.raises(UsageError, match="-e trace=write,open"):
        parse_args(["trace", "-s", "write,open", "--", "prog"])
    with pytest.raises(UsageError, match="negative"):
        parse_args(["trace", "-s", "-1", "--", "prog"])


def test_strace_flags_keep_their_meaning():
    opts = parse_args(["trace", "-f", "-tt", "-T", "-y", "-v", "-C", "-o", "out", "--", "prog"])
    assert (opts.follow, opts.timestamps, opts.syscall_times, opts.decode_fds, opts.verbose,
            opts.count, opts.output) == (True, 2, True, True, True, "also", "out")
    assert parse_args(["trace", "-ttt", "--", "p"]).timestamps == 3
    assert parse_args(["trace", "-t", "--", "p"]).timestamps == 1
    counted = parse_args(["trace", "-c", "--", "p"])
    assert counted.count == "only" and counted.syscalls == []  # -c counts every call
    assert parse_args(["trace", "-c", "-e", "trace=read", "--", "p"]).syscalls == ["read"]
    assert parse_args(["trace", "--seccomp-bpf", "-e", "trace=read", "--", "p"]).seccomp
    assert not parse_args(["trace", "--no-seccomp-bpf", "--", "p"]).seccomp
    assert parse_args(["trace", "--timeline", "t.json", "--", "p"]).timeline == "t.json"


def test_signal_set():
    opts = parse_args(["trace", "-e", "signal=SIGUSR1,term", "--", "p"])
    assert opts.signals == frozenset({10, 15})
    opts = parse_args(["trace", "-e", "signal=!SIGCHLD", "--", "p"])
    assert 17 not in opts.signals and 10 in opts.signals
    assert parse_args(["trace", "-e", "signal=all", "--", "p"]).signals is None
    assert parse_args(["trace", "-e", "signal=none", "--", "p"]).signals == frozenset()
    with pytest.raises(UsageError, match="SIGFOO"):
        parse_args(["trace", "-e", "signal=SIGFOO", "--", "p"])


@pytest.mark.parametrize("args, flag", [
    (["-Z"], "-Z"), (["--frob"], "--frob"), (["-ff"], "-ff"), (["-e", "raw=all"], "raw="),
    (["--sec"], "--sec"),   # no abbreviations of long options
])
def test_unknown_or_unsupported_flags_are_named(args, flag):
    with pytest.raises(UsageError, match=flag):
        parse_args(["trace", *args, "--", "prog"])


def test_unknown_option_without_double_dash_is_named():
    with pytest.raises(UsageError, match="-Q"):
        parse_args(["trace", "-Q", "prog"])


def test_break_is_repeatable():
    opts = parse_args(["trace", "-b", "malloc", "--break", "free", "--", "prog"])
    assert opts.breaks == ["malloc", "free"]


def test_bad_symbol_name_is_a_usage_error():
    with pytest.raises(UsageError, match="symbol"):
        parse_args(["trace", "-b", "two words", "--", "prog"])


def test_attach_takes_a_positive_pid_and_no_program():
    assert parse_args(["trace", "-p", "1234"]).attach == 1234
    assert parse_args(["trace", "--attach", "77"]).program == []
    for bad in ("abc", "0", "-5", "12x"):
        with pytest.raises(UsageError):
            parse_args(["trace", "-p", bad])
    with pytest.raises(UsageError, match="not both"):
        parse_args(["trace", "-p", "1234", "--", "prog"])


def test_tree_goes_with_an_attach_that_follows():
    opts = parse_args(["trace", "-p", "1234", "--tree"])
    assert opts.attach == 1234 and opts.tree
    assert not parse_args(["trace", "-p", "1234"]).tree
    with pytest.raises(UsageError, match="--tree goes with -p"):
        parse_args(["trace", "--tree", "--", "prog"])
    with pytest.raises(UsageError, match="contradict"):
        parse_args(["trace", "-p", "1234", "--tree", "--no-follow"])


def test_missing_program_and_missing_command_are_usage_errors():
    with pytest.raises(UsageError, match="missing PROGRAM"):
        parse_args(["trace"])
    with pytest.raises(UsageError, match="missing PROGRAM"):
        parse_args(["trace", "-f", "--"])
    with pytest.raises(UsageError, match="missing command"):
        parse_args([])
    with pytest.raises(UsageError):
        parse_args(["frobnicate"])


def test_unknown_option_is_a_usage_error():
    with pytest.raises(UsageError, match="--bogus"):
        parse_args(["trace", "--bogus", "--", "prog"])


def test_other_options():
    opts = parse_args(["trace", "--no-follow", "-o", "out.txt", "--color", "never",
                       "--no-progress", "--", "prog"])
    assert opts == TraceOptions(command="trace", program=["prog"], follow=False, output="out.txt",
                                color="never", progress=False)
    with pytest.raises(UsageError):
        parse_args(["trace", "--color", "sometimes", "--", "prog"])


def test_demo_takes_trace_options_but_no_program():
    opts = parse_args(["demo", "-e", "trace=write", "-b", "work", "--json"])
    assert opts.command == "demo" and opts.program == []
    assert opts.syscalls == ["write"] and opts.breaks == ["work"] and opts.json
    with pytest.raises(UsageError):
        parse_args(["demo", "--", "ls"])
    with pytest.raises(UsageError):
        parse_args(["demo", "-p", "12"])


def test_split_double_dash():
    assert split_double_dash(["a", "--", "b", "--", "c"]) == (["a"], ["b", "--", "c"])
    assert split_double_dash(["a", "b"]) == (["a", "b"], None)


def test_usage_text_names_the_command():
    assert "tether trace [options] -- PROGRAM" in usage_text("trace")
    assert "tether demo" in usage_text("demo")
    assert usage_text(None).startswith("usage: tether")


# ------------------------------------------------------------------ main() on bad input
def test_main_usage_error_exits_2_with_usage_and_one_message(capsys):
    assert main(["trace"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: tether trace")
    assert err.strip().splitlines()[-1] == \
        "tether: missing PROGRAM to trace (tether trace [options] -- PROGRAM [ARGS...])"
    assert "Traceback" not in err


def test_main_without_arguments_exits_2(capsys):
    assert main([]) == 2
    assert "missing command" in capsys.readouterr().err


def test_main_help_and_version_exit_0(capsys):
    assert main(["--help"]) == 0
    assert "trace" in capsys.readouterr().out
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("tether ")
    assert main(["trace", "--help"]) == 0
    assert "--seccomp-bpf" in capsys.readouterr().out


def test_main_program_not_found_exits_127(capsys):
    assert main(["trace", "--", "no-such-program-tether-test"]) == 127
    err = capsys.readouterr().err
    assert err == "tether: no-such-program-tether-test: command not found\n"


def test_main_cannot_write_output_file_exits_1(capsys, tmp_path):
    out = tmp_path / "missing-dir" / "events.txt"
    assert main(["trace", "-o", str(out), "--", "/bin/true"]) == 1
    assert "cannot write to" in capsys.readouterr().err


# ------------------------------------------------------------------ resolving the program
def test_resolve_command_searches_path_only_for_bare_names(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "true").write_bytes(b"")  # in the current directory: a shell ignores it
    path, argv = resolve_command(["true", "x"])
    assert os.path.isabs(path) and path != str(tmp_path / "true")
    assert argv == ["true", "x"]


def test_resolve_command_statuses(tmp_path):
    with pytest.raises(CommandError) as e:
        resolve_command([str(tmp_path / "nothing")])
    assert e.value.status == 127
    plain = tmp_path / "plain.txt"
    plain.write_text("hello\n")
    with pytest.raises(CommandError) as e:
        resolve_command([str(plain)])
    assert e.value.status == 126 and "not executable" in str(e.value)
    plain.chmod(plain.stat().st_mode | stat.S_IXUSR)
    with pytest.raises(CommandError) as e:  # executable but neither ELF nor #! script
        resolve_command([str(plain)])
    assert e.value.status == 126
    with pytest.raises(CommandError) as e:
        resolve_command([str(tmp_path)])
    assert e.value.status == 126 and "directory" in str(e.value)


def test_scripts_run_as_they_are_and_a_bad_interpreter_is_126(tmp_path):
    script = tmp_path / "s.sh"
    script.write_text("#!/bin/sh -e\nexit 3\n")
    script.chmod(0o755)
    assert script_interpreter(str(script)) == ["/bin/sh", "-e"]
    path, argv = resolve_command([str(script), "a"])
    assert path == str(script)  # the kernel runs the interpreter, as for any exec
    assert argv == [str(script), "a"]
    bad = tmp_path / "bad.sh"
    bad.write_text("#!/no/such/interpreter\n")
    bad.chmod(0o755)
    with pytest.raises(CommandError) as e:
        resolve_command([str(bad)])
    assert e.value.status == 126
    assert str(e.value) == f"{bad}: bad interpreter /no/such/interpreter: no such file or directory"


# ------------------------------------------------------------------ event lines
def _event(kind, details=None, pid=10, tid=10, depth=0):
    return Event(1.5, pid, tid, 1, kind, details or {}, depth)


def test_event_text_lines():
    assert format_text(_event("fork", {"child": 11, "syscall": "clone"})) == \
        "   1.5000 10 fork -> child 11"
    assert format_text(_event("exec", {"path": "/bin/echo", "argv": ["echo", "a b"]}, depth=2)) == \
        "   1.5000     10 exec /bin/echo 'a b'"
    assert format_text(_event("thread", tid=12)) == "   1.5000 10/12 thread started"
    assert describe(_event("exit", {"code": 3})) == "exited 3"
    assert describe(_event("exit", {"signal": "SIGKILL"})) == "killed by SIGKILL"
    assert describe(_event("thread_exit", {"code": 0}, tid=12)) == "thread exited 0"
    assert describe(_event("signal", {"signal": "SIGUSR1", "number": 10})) == "signal SIGUSR1"
    assert describe(_event("syscall", {"text": "getpid() = 10"})) == "getpid() = 10"
    assert describe(_event("breakpoint", {"symbol": "f", "hits": 2})) == "breakpoint f (hit 2)"
    assert describe(_event("start", {"path": "/bin/ls", "argv": ["ls", "-l"]})) == "start ls -l"


def test_event_colour_only_when_asked():
    plain = format_text(_event("exit", {"code": 1}))
    assert "\x1b[" not in plain
    coloured = format_text(_event("exit", {"code": 1}), color=True)
    assert "\x1b[1;31m" in coloured  # a failure is red
    assert coloured.replace("\x1b[0m", "").count("exited 1") == 1


def test_event_json_has_exactly_the_documented_keys():
    line = _event("fork", {"child": 11}).to_json()
    obj = json.loads(line)
    assert obj == {"time": 1.5, "pid": 10, "tid": 10, "ppid": 1, "kind": "fork",
                   "details": {"child": 11}}


def test_wants_color(monkeypatch):
    class Tty:
        def isatty(self):
            return True
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert wants_color("auto", Tty()) is True
    assert wants_color("never", Tty()) is False
    assert wants_color("auto", object()) is False
    monkeypatch.setenv("NO_COLOR", "1")
    assert wants_color("auto", Tty()) is False
    assert wants_color("always", object()) is True


def test_printer_erases_the_progress_line_before_an_event():
    import io
    out = io.StringIO()
    p = Printer(out, progress=True)
    p.status("working")
    p.emit(_event("exit", {"code": 0}))
    text = out.getvalue()
    assert text.startswith("\r\x1b[Kworking\r\x1b[K")
    assert text.endswith("10 exited 0\n")
    quiet = io.StringIO()
    Printer(quiet, progress=False).status("working")
    assert quiet.getvalue() == ""


# ------------------------------------------------------------------ the summary text
def _summary():
    def proc(pid, ppid, status, threads=1, execs=(), hits=None):
        return {"pid": pid, "ppid": ppid, "path": "/bin/prog", "status": status,
                "threads": threads, "execs": list(execs), "breakpoints": hits or {},
                "syscalls": 0}
    return {"wall_time": 0.25, "process_count": 4, "thread_count": 6,
            "processes": [proc(10, 1, "exited 0", 3), proc(11, 10, "exited 5"),
                          proc(13, 11, "exited 7", execs=["/bin/prog"]),
                          proc(12, 10, "killed by SIGTERM")],
            "events": {"fork": 3, "exit": 4}, "syscalls": {},
            "breakpoints": {"f": {"10": 5, "11": 2, "13": 1, "12": 0}},
            "exit_status": 0, "interrupted": False}


def test_summary_text_draws_the_tree():
    text = format_summary(_summary(), unicode=False)
    lines = text.splitlines()
    assert lines[0] == "--- tether summary: 4 processes, 6 threads, 0.250 s wall time ---"
    assert lines[1].startswith("  10 /bin/prog")
    assert lines[2].startswith("  |-- 11 /bin/prog")
    assert lines[3].startswith("  |   `-- 13 /bin/prog")
    assert lines[4].startswith("  `-- 12 /bin/prog")
    assert "killed by SIGTERM" in lines[4] and "exec x1" in lines[3]
    assert "events: fork 3, exit 4" in text
    assert "breakpoint f: 8 hits (10: 5, 11: 2, 13: 1, 12: 0)" in text
    assert lines[-1] == "exit status 0"
    assert "├── 11" in format_summary(_summary(), unicode=True)


def test_output_by_process_is_off_unless_asked_and_needs_a_program():
    assert parse_args(["trace", "--", "prog"]).output_by_process is False
    assert parse_args(["trace", "--output-by-process", "--", "prog"]).output_by_process is True
    with pytest.raises(UsageError, match="--output-by-process needs a PROGRAM"):
        parse_args(["trace", "--output-by-process", "-p", "1"])
    with pytest.raises(UsageError, match="children followed"):
        parse_args(["trace", "--output-by-process", "--no-follow", "--", "prog"])
