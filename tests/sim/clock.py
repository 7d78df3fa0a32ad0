"""The simulator's clock: every simulated delay comes from here.

A Clock runs simulated time at `scale` simulated seconds per wall second
(Scenario.time_scale; 600 = one simulated minute per 100 ms of wall time),
from the wall time it was made at. Grace periods, start and readiness
delays, drain timeouts, soak times and Retry-After all count simulated
seconds on it, so a 20-node roll takes seconds of wall time in a test.

Controls for tests (sim.clock, also state.clock on each cluster):

    clock.now()                     simulated epoch seconds (a float)
    clock.pause() / clock.resume()  stop / restart the flow of time
    clock.step(600)                 advance 10 simulated minutes at once,
                                    firing every timer due on the way in
                                    order, each at its due time; returns
                                    the number fired. Never call it while
                                    holding a K8sState's lock.
    clock.set_scale(60)             change the speed from now on
    clock.fail("reimage", times=1, message=...)
                                    the next checkpoint("reimage") raises
                                    StepFailed (a name is an fnmatch pattern;
                                    when= a predicate on the checkpoint's
                                    keyword arguments)

For the engines (roller, controllers, Kubernetes side):

    clock.call_later(30, fn, name=...)  fn() 30 simulated seconds from now,
    clock.call_at(t, fn)                on the clock's thread or in step();
                                        returns a Timer (timer.cancel())
    clock.sleep(30) / clock.sleep_until(t)
                                        block the calling thread until then
                                        (False if the clock stopped first)
    clock.checkpoint(name, **ctx)       where a step may be made to fail
    clock.wall(seconds)                 a simulated duration in wall seconds
    clock.retry_after(seconds)          a Retry-After header's value for a
                                        simulated wait (whole wall seconds,
                                        at least 1)

Timer callbacks run one at a time, in due order, on the clock's thread
(while time flows) or in the thread calling step(); they take the locks
they need themselves. An exception in one is printed and does not stop
the others.
"""

import fnmatch
import heapq
import itertools
import math
import threading
import time
import traceback


class StepFailed(Exception):
    """A step a test made fail with Clock.fail()."""

    def __init__(self, name, message):
        super().__init__(message)
        self.name = name
        self.message = message


class Timer:
    """A scheduled callback; cancel() stops it from firing."""

    def __init__(self, due, seq, fn, name):
        self.due = due
        self.seq = seq
        self.fn = fn
        self.name = name
        self.cancelled = False
        self.fired = False

    def cancel(self):
        self.cancelled = True

    def __lt__(self, other):
        return (self.due, self.seq) < (other.due, other.seq)

    def __repr__(self):
        return "Timer(%r, due=%.3f%s)" % (self.name, self.due,
                                          ", cancelled" if self.cancelled else "")


class _Failure:
    def __init__(self, pattern, times, message, when):
        self.pattern = pattern
        self.remaining = times          # None: every matching checkpoint
        self.message = message
        self.when = when
        self.hits = 0


class Clock:
    """Simulated time at `scale` simulated seconds per wall second."""

    # How long the timer thread sleeps at most before it looks again (wall s).
    _POLL = 0.5

    def __init__(self, scale=1.0, start=None, paused=False):
        if scale <= 0:
            raise ValueError("a clock's scale must be positive, not %r" % scale)
        self._cond = threading.Condition(threading.RLock())
        self._fire_lock = threading.RLock()     # timers fire one at a time, in order
        self._scale = float(scale)
        self._base_sim = time.time() if start is None else float(start)
        self._base_wall = time.monotonic()
        self._paused = paused
        self._timers = []                       # heap of Timer
        self._seq = itertools.count()
        self._failures = []
        self._stopped = False
        self._thread = None
        self.fired = 0                          # timers fired so far

    # --- time -------------------------------------------------------------

    @property
    def scale(self):
        return self._scale

    @property
    def paused(self):
        return self._paused

    def now(self):
        """Simulated epoch seconds."""
        with self._cond:
            return self._now()

    def _now(self):
        if self._paused:
            return self._base_sim
        return self._base_sim + (time.monotonic() - self._base_wall) * self._scale

    def _rebase(self):
        self._base_sim = self._now()
        self._base_wall = time.monotonic()

    def pause(self):
        """Stop time; only step() moves it until resume()."""
        with self._cond:
            self._rebase()
            self._paused = True
            self._cond.notify_all()

    def resume(self):
        with self._cond:
            self._base_wall = time.monotonic()
            self._paused = False
            self._cond.notify_all()

    def set_scale(self, scale):
        if scale <= 0:
            raise ValueError("a clock's scale must be positive, not %r" % scale)
        with self._cond:
            self._rebase()
            self._scale = float(scale)
            self._cond.notify_all()

    def wall(self, seconds):
        """A simulated duration in wall seconds at the current scale."""
        return seconds / self._scale

    def retry_after(self, seconds):
        """Retry-After for a simulated wait: whole wall seconds, at least 1."""
        return max(1, int(math.ceil(self.wall(seconds))))

    def step(self, seconds):
        """Advance simulated time by `seconds`, firing each timer due on the
        way at its due time (timers they schedule within the step fire too).
        Returns how many timers fired. Works paused or running."""
        if seconds < 0:
            raise ValueError("the clock does not go back (step of %r)" % seconds)
        fired = 0
        with self._fire_lock:
            with self._cond:
                target = self._now() + seconds
            while True:
                with self._cond:
                    timer = self._pop_due(target)
                    if timer is None:
                        # Time may have flowed meanwhile: never move it back.
                        self._base_sim += max(0.0, target - self._now())
                        self._cond.notify_all()
                        break
                    if timer.due > self._now():
                        self._base_sim += timer.due - self._now()
                    self._cond.notify_all()
                self._fire(timer)
                fired += 1
        return fired

    # --- timers -----------------------------------------------------------

    def call_at(self, t, fn, name=None):
        """fn() once the clock reaches simulated time t; returns the Timer."""
        with self._cond:
            timer = Timer(float(t), next(self._seq), fn, name or getattr(fn, "__name__", "?"))
            heapq.heappush(self._timers, timer)
            self._cond.notify_all()
        return timer

    def call_later(self, seconds, fn, name=None):
        """fn() `seconds` simulated seconds from now; returns the Timer."""
        with self._cond:
            return self.call_at(self._now() + max(0.0, seconds), fn, name)

    def reached(self, t):
        """Whether simulated time t has come and every timer due before it
        has fired. A deadline tested this way is never beaten by work that
        was due before it but runs late on a loaded machine (the replacement
        pod that would have become Ready in time)."""
        with self._cond:
            return self._now() >= t and not any(
                not timer.cancelled and timer.due < t for timer in self._timers)

    def pending(self, name=None):
        """Live timers (optionally those named `name`, an fnmatch pattern), by due time."""
        with self._cond:
            return sorted(t for t in self._timers if not t.cancelled
                          and (name is None or fnmatch.fnmatchcase(t.name, name)))

    def _pop_due(self, until):
        while self._timers and self._timers[0].cancelled:
            heapq.heappop(self._timers)
        if self._timers and self._timers[0].due <= until:
            return heapq.heappop(self._timers)
        return None

    def _fire(self, timer):
        if timer.cancelled:
            return
        timer.fired = True
        self.fired += 1
        try:
            timer.fn()
        except Exception:               # one engine's bug must not stop the clock
            traceback.print_exc()

    def start(self):
        """Start the thread that fires timers as time flows (idempotent)."""
        with self._cond:
            if self._thread is None:
                self._stopped = False
                self._thread = threading.Thread(target=self._run, name="sim-clock",
                                                daemon=True)
                self._thread.start()
        return self

    def stop(self):
        """Stop the timer thread and wake every sleeper (they return False)."""
        with self._cond:
            self._stopped = True
            thread, self._thread = self._thread, None
            self._cond.notify_all()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=2)

    def _run(self):
        while True:
            with self._fire_lock:
                with self._cond:
                    if self._stopped:
                        return
                    timer = self._pop_due(self._now())
                if timer is not None:
                    self._fire(timer)
                    continue
            with self._cond:
                if self._stopped:
                    return
                self._cond.wait(self._wait_for())

    def _wait_for(self):
        """Wall seconds until the next timer is due (capped), None when paused and idle."""
        if self._paused:
            return None                 # step(), resume() and call_at() notify
        if not self._timers:
            return self._POLL
        return min(self._POLL, max(0.0, self.wall(self._timers[0].due - self._now())))

    # --- sleeping -----------------------------------------------------------

    def sleep_until(self, t):
        """Block until simulated time t; False if the clock stopped first."""
        with self._cond:
            while not self._stopped:
                left = t - self._now()
                if left <= 0:
                    return True
                self._cond.wait(None if self._paused else min(self._POLL, self.wall(left)))
            return False

    def sleep(self, seconds):
        with self._cond:
            t = self._now() + seconds
        return self.sleep_until(t)

    # --- failures -----------------------------------------------------------

    def fail(self, pattern, times=1, message=None, when=None):
        """Make the next `times` checkpoints named like `pattern` (fnmatch)
        raise StepFailed (times=None: all of them); `when(**ctx)` narrows it.
        Returns the failure; its `hits` counts the steps it failed."""
        failure = _Failure(pattern, times, message, when)
        with self._cond:
            self._failures.append(failure)
        return failure

    def clear_failures(self):
        with self._cond:
            self._failures.clear()

    def checkpoint(self, name, **ctx):
        """Raise StepFailed if a test armed a failure for this step."""
        with self._cond:
            for failure in self._failures:
                if failure.remaining == 0 or not fnmatch.fnmatchcase(name, failure.pattern):
                    continue
                if failure.when is not None and not failure.when(**ctx):
                    continue
                failure.hits += 1
                if failure.remaining is not None:
                    failure.remaining -= 1
                raise StepFailed(name, failure.message or "simulated failure of step %s" % name)
