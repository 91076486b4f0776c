"""What a callback may do with the processes (issue 17, items 3 and 4):
controlling the very process whose callback runs raises at once (as in
libdebug), interrupt() stops it after the callback, other Debuggers of the
tree can be driven; a callback that raises stops the process there, and
wait() raises the error at once, with its traceback."""
import pytest

from procutil import wait_for


class Boom(Exception):
    pass


@pytest.mark.timeout(60)
def test_controlling_its_own_process_from_a_callback_raises_at_once(launch):
    d = launch("basic")
    io = d.run()
    refused = {}

    def callback(t, bp):
        for name, call in (("cont", d.cont), ("wait", d.wait), ("kill", d.kill),
                           ("detach", d.detach), ("run", d.run), ("terminate", d.terminate),
                           ("wait_any", d.wait_any), ("thread cont", t.cont)):
            try:
                call()
            except RuntimeError as e:
                refused[name] = str(e)
    d.breakpoint("g", callback=callback)
    d.cont()
    d.wait(timeout=30)
    assert set(refused) == {"cont", "wait", "kill", "detach", "run", "terminate", "wait_any",
                            "thread cont"}
    assert all("callback" in m and str(d.pid) in m for m in refused.values())
    # Nothing of that happened: the program ran to its end as usual.
    assert d.dead and d.exit_code == 7
    assert b"f=9\n" in io.recvuntil(b"done\n", timeout=10)


@pytest.mark.timeout(60)
def test_step_from_a_callback_still_works(launch):
    d = launch("basic")
    d.run()
    steps = []

    def callback(t, bp):
        before = t.regs.rip
        t.step()
        steps.append(t.regs.rip != before)
    d.breakpoint("g", callback=callback)
    d.cont()
    d.wait(timeout=30)
    assert steps == [True, True, True] and d.exit_code == 7


@pytest.mark.timeout(60)
def test_interrupt_from_a_callback_stops_the_process_after_it(launch):
    d = launch("loop_calls", 1000000)
    d.run()
    bp = d.breakpoint("counted", callback=lambda t, b: d.interrupt() if b.hit_count == 5 else None)
    d.cont()
    d.wait(timeout=30)
    assert not d.dead and bp.hit_count == 5
    assert d.regs.rip == bp.address
    bp.disable()
    d.cont()
    d.wait(timeout=30)
    assert d.exit_code == 0


@pytest.mark.timeout(60)
def test_a_followed_child_is_driven_from_its_parents_callbacks(launch):
    d = launch("mp_fork", 3)
    d.run()
    seen = []

    def after_fork(t, bp):
        child = d.children[0]
        child.cont()
        child.wait(timeout=20)   # the events it waits for are handled meanwhile
        seen.append((child.dead, child.exit_code))
    d.breakpoint("parent_after_fork", callback=after_fork)
    d.cont()
    d.wait(timeout=30)
    assert seen == [(True, 3)]
    assert d.exit_code == 43


@pytest.mark.timeout(60)
def test_a_child_is_driven_from_an_on_fork_hook(launch):
    d = launch("mp_fork", 4)
    d.run()
    seen = []

    def on_fork(parent, child):
        bp = child.breakpoint("child_start")
        child.cont()
        child.wait(timeout=20)
        seen.append(bp.hit_count)
        child.cont()
        child.wait(timeout=20)
        seen.append(child.exit_code)
    d.on_fork(on_fork)
    d.cont()
    d.wait(timeout=30)
    assert seen == [1, 4] and d.exit_code == 44


@pytest.mark.timeout(60)
def test_a_raising_callback_stops_a_process_that_would_never_stop(launch):
    d = launch("spin", 0)     # ticks forever: no stop of its own ever comes
    d.run()

    def callback(t, bp):
        if bp.hit_count == 50:
            raise Boom("boom at the 50th tick")
    bp = d.breakpoint("tick", callback=callback)
    d.cont()
    with pytest.raises(Boom, match="50th tick") as info:
        d.wait(timeout=30)
    # The original traceback: it runs through the callback.
    assert any(entry.name == "callback" for entry in info.traceback)
    # Defined state: stopped where the callback failed, and usable.
    assert not d.running and not d.dead
    assert bp.hit_count == 50 and d.regs.rip == bp.address
    d.regs.rip  # raised once only
    d.cont()
    wait_for(lambda: bp.hit_count > 60, what="more ticks after the cont()")
    d.interrupt()
    d.kill()


@pytest.mark.timeout(60)
def test_a_raising_hook_stops_the_process_and_is_raised_by_the_next_command(launch):
    d = launch("mp_fork", 3)
    d.run()

    def on_fork(parent, child):
        child.cont()
        raise Boom("from on_fork")
    d.on_fork(on_fork)
    d.cont()
    with pytest.raises(Boom, match="from on_fork"):
        d.wait(timeout=30)
    assert not d.dead and not d.running
    d.cont()
    d.wait(timeout=30)
    assert d.exit_code == 43
