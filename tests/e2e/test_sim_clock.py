"""The simulator's clock (tests/sim/clock.py): scaled time, pause and step,
timers fired in order at their due times, sleepers woken by a step, and
the failure hook the roller's steps go through."""

import threading
import time

import pytest

from sim import scenario as scenarios
from sim.clock import Clock, StepFailed


def test_scaled_time_runs_faster_than_the_wall():
    clock = Clock(scale=600)
    t0, w0 = clock.now(), time.monotonic()
    time.sleep(0.05)
    elapsed_sim, elapsed_wall = clock.now() - t0, time.monotonic() - w0
    # 600x: at least 600 times the wall time that certainly passed.
    assert elapsed_sim >= 600 * 0.05
    assert elapsed_sim <= 600 * elapsed_wall + 1
    assert clock.wall(60) == pytest.approx(0.1)
    assert clock.retry_after(60) == 1 and Clock(scale=1).retry_after(30) == 30


def test_pause_freezes_and_step_advances():
    clock = Clock(scale=1000)
    clock.pause()
    t = clock.now()
    time.sleep(0.02)
    assert clock.now() == t
    clock.step(90)
    assert clock.now() == pytest.approx(t + 90)
    clock.resume()
    time.sleep(0.02)
    assert clock.now() > t + 90
    with pytest.raises(ValueError):
        clock.step(-1)


def test_step_fires_timers_in_order_at_their_due_times():
    clock = Clock(scale=1, paused=True)
    t0 = clock.now()
    seen = []

    def at(label):
        seen.append((label, round(clock.now() - t0, 6)))

    clock.call_later(30, lambda: at("b"))
    clock.call_later(10, lambda: (at("a"), clock.call_later(5, lambda: at("a+5"))))
    late = clock.call_later(100, lambda: at("late"))
    gone = clock.call_later(20, lambda: at("cancelled"))
    gone.cancel()
    assert clock.step(60) == 3
    assert seen == [("a", 10), ("a+5", 15), ("b", 30)]
    assert [t.name for t in clock.pending()] == [late.name]
    assert clock.now() - t0 == pytest.approx(60)


def test_running_clock_fires_timers_on_its_thread():
    clock = Clock(scale=600).start()
    try:
        done = threading.Event()
        clock.call_later(60, done.set)             # 100 ms of wall time
        assert done.wait(5)
    finally:
        clock.stop()


def test_sleep_until_wakes_on_step_and_on_stop():
    clock = Clock(scale=1, paused=True)
    woke = []
    t = clock.now() + 3600
    thread = threading.Thread(target=lambda: woke.append(clock.sleep_until(t)))
    thread.start()
    time.sleep(0.05)
    assert woke == []
    clock.step(3600)
    thread.join(5)
    assert woke == [True]
    thread = threading.Thread(target=lambda: woke.append(clock.sleep(60)))
    thread.start()
    clock.stop()
    thread.join(5)
    assert woke == [True, False]


def test_fail_hook_fails_the_matching_step_only():
    clock = Clock()
    clock.checkpoint("reimage", node="n1")          # nothing armed
    failure = clock.fail("reimage", message="boom", when=lambda node, **_: node == "n2")
    clock.checkpoint("reimage", node="n1")
    clock.checkpoint("drain", node="n2")
    with pytest.raises(StepFailed) as e:
        clock.checkpoint("reimage", node="n2")
    assert e.value.name == "reimage" and str(e.value) == "boom" and failure.hits == 1
    clock.checkpoint("reimage", node="n2")          # times=1: used up
    clock.fail("surge*", times=None)
    for _ in range(3):
        with pytest.raises(StepFailed):
            clock.checkpoint("surge-add")


def test_sim_serves_on_the_scenarios_clock(make_sim):
    scenario = scenarios.demo_scenario()
    scenario.time_scale = 600
    sim = make_sim(scenario)
    k8s = sim.cluster("demo-aks").k8s
    assert k8s.clock is sim.clock and sim.clock.scale == 600
    sim.clock.pause()
    sim.clock.step(7200)
    with k8s.lock:
        pod = k8s.add_pod("default", "clocked", k8s.nodes()[0]["metadata"]["name"])
    # Objects made now carry the simulated time, two hours past the wall.
    from sim.k8s import parse_time
    assert parse_time(pod["metadata"]["creationTimestamp"]) >= time.time() + 7000


def test_a_deadline_is_reached_only_once_work_due_before_it_has_fired():
    # Timers not started: as if the machine were too loaded to run them.
    clock = Clock(scale=1000, start=1000.0, paused=True)
    fired = []
    clock.call_at(1005, lambda: fired.append("ready"))
    clock.call_at(1020, lambda: fired.append("later"))
    clock._base_sim = 1010.0        # time has passed the deadline at 1008 ...
    assert not clock.reached(1008)  # ... but the pod due Ready at 1005 has not
    clock.step(0)
    assert fired == ["ready"] and clock.reached(1008)
    assert not clock.reached(1030)  # not yet come
