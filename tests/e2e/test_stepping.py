"""End-to-end stepping tests (issue 3): step(), step_until() by symbol and
address with max_steps, finish() with both heuristics, next() over a call,
and the short aliases. Target: tests/targets/basic.c, where f() calls g(i)
for i = 0, 1, 2 from a single call site and g(x) returns 2x+1."""

import pytest

from tether import debugger
from procutil import load_base, nm_offsets, shutdown


class Basic:
    def __init__(self, path, **kwargs):
        self.d = debugger([path], **kwargs)
        self.io = self.d.run()
        nm = nm_offsets(path)
        base = load_base(self.d.pid, path)
        self.addr = {name: base + nm[name] for name in ("f", "g", "main", "g_calls")}

    def g_calls(self):
        return int.from_bytes(self.d.memory[self.addr["g_calls"], 8, "absolute"], "little")

    def return_address(self):
        """At a function's first instruction, the return address is at [rsp]."""
        return int.from_bytes(self.d.memory[self.d.regs.rsp, 8, "absolute"], "little")

    def finish_program(self):
        self.d.cont()
        out = self.io.recvuntil(b"done\n", timeout=15)
        self.d.wait()
        assert b"f=9\n" in out
        assert self.d.dead and self.d.exit_code == 7

    def close(self):
        shutdown(self.d)


@pytest.fixture
def basic(target):
    made = []

    def start(**kwargs):
        b = Basic(target("basic"), **kwargs)
        made.append(b)
        return b

    yield start
    for b in made:
        b.close()


def stop_at(b, symbol):
    bp = b.d.breakpoint(symbol)
    b.d.cont()
    b.d.wait()
    assert b.d.regs.rip == b.addr[symbol]
    bp.disable()
    return bp


@pytest.mark.timeout(30)
def test_step_executes_one_instruction(basic):
    b = basic()
    stop_at(b, "g")
    d = b.d
    assert d.memory[b.addr["g"], 4, "absolute"] == b"\x55\x48\x89\xe5"  # push rbp; mov rsp,rbp
    rsp = d.regs.rsp
    d.step()
    assert d.regs.rip == b.addr["g"] + 1
    assert d.regs.rsp == rsp - 8
    d.step()
    assert d.regs.rip == b.addr["g"] + 4
    assert d.regs.rbp == d.regs.rsp
    b.finish_program()


@pytest.mark.timeout(30)
def test_step_into_a_call(basic):
    b = basic()
    stop_at(b, "g")
    ret = b.return_address()
    call_site = ret - 5
    assert b.d.memory[call_site, 1, "absolute"] == b"\xe8"  # call rel32
    bp_call = b.d.breakpoint(call_site, file="absolute")
    b.d.cont()
    b.d.wait()
    assert b.d.regs.rip == call_site
    bp_call.disable()
    b.d.step()
    assert b.d.regs.rip == b.addr["g"]
    assert b.return_address() == ret
    b.finish_program()


@pytest.mark.timeout(30)
def test_step_until_symbol_and_address(basic):
    b = basic()
    stop_at(b, "f")
    b.d.step_until("g", max_steps=10000)
    assert b.d.regs.rip == b.addr["g"]
    assert b.g_calls() == 0
    # By absolute address: the return address of this g call.
    ret = b.return_address()
    b.d.step_until(ret, max_steps=10000, file="absolute")
    assert b.d.regs.rip == ret
    assert b.g_calls() == 1
    b.finish_program()


@pytest.mark.timeout(40)
def test_step_until_stops_after_max_steps(basic):
    # Same program without ASLR twice: three step() calls and
    # step_until(..., max_steps=3) must end at the same instruction.
    first = basic(aslr=False)
    stop_at(first, "f")
    for _ in range(3):
        first.d.step()
    after_three = first.d.regs.rip
    first.close()

    second = basic(aslr=False)
    stop_at(second, "f")
    second.d.step_until("g", max_steps=3)
    assert second.d.regs.rip == after_three != second.addr["g"]
    second.finish_program()


@pytest.mark.timeout(30)
@pytest.mark.parametrize("heuristic", ["backtrace", "step-mode"])
def test_finish_returns_to_the_caller(basic, heuristic):
    b = basic()
    bp = b.d.breakpoint("g")
    for call in range(3):
        b.d.cont()
        b.d.wait()
        assert b.d.regs.rip == bp.address
        ret = b.return_address()
        b.d.finish(heuristic=heuristic)
        assert b.d.regs.rip == ret
        assert b.d.regs.rax == 2 * call + 1  # g(call)
        assert b.g_calls() == call + 1
    bp.disable()
    b.finish_program()


@pytest.mark.timeout(30)
@pytest.mark.parametrize("heuristic", ["backtrace", "step-mode"])
def test_finish_from_the_middle_of_a_function(basic, heuristic):
    b = basic()
    stop_at(b, "g")
    ret = b.return_address()
    b.d.step()
    b.d.step()  # now past the prologue: [rsp] is the saved rbp
    b.d.finish(heuristic=heuristic)
    assert b.d.regs.rip == ret
    assert b.d.regs.rax == 1
    b.finish_program()


@pytest.mark.timeout(30)
def test_next_steps_over_a_call(basic):
    b = basic()
    stop_at(b, "g")  # first call, g(0)
    ret = b.return_address()
    call_site = ret - 5
    assert b.d.memory[call_site, 1, "absolute"] == b"\xe8"
    bp_call = b.d.breakpoint(call_site, file="absolute")
    b.d.cont()
    b.d.wait()  # the second iteration reaches the call site
    assert b.d.regs.rip == call_site
    bp_call.disable()
    assert b.g_calls() == 1
    b.d.next()
    assert b.d.regs.rip == ret
    assert b.g_calls() == 2  # g(1) ran entirely
    assert b.d.regs.rax == 3
    b.finish_program()


@pytest.mark.timeout(30)
def test_next_on_a_plain_instruction_is_a_step(basic):
    b = basic()
    stop_at(b, "g")
    b.d.next()
    assert b.d.regs.rip == b.addr["g"] + 1
    b.finish_program()


@pytest.mark.timeout(30)
def test_short_aliases(basic):
    b = basic()
    d = b.d
    bp = d.bp("g")
    d.c()
    d.w()
    assert d.regs.rip == bp.address
    ret = b.return_address()
    d.si()
    assert d.regs.rip == b.addr["g"] + 1
    d.fin()
    assert d.regs.rip == ret
    d.c()
    d.w()
    d.su(ret, max_steps=10000)
    assert d.regs.rip == ret
    bp.disable()
    b.finish_program()
