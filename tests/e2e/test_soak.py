"""The soak (issue 18): seeded random faults from the fault matrix's table
(faultmatrix.py) over simulated migrations and upgrades of varied pools.

Each run picks a command (in-place or side-by-side migrate, node image or
Kubernetes upgrade), a pool size, and one or two (step, fault) pairs the
table allows; it must end done, or stopped and resumed to done (after someone else's
change too: resume plans the step again from a fresh read), with the safety counters at zero,
no write on a stale eTag and no secret written. `make soak` runs 200;
`make check` (through the e2e suite) runs SOAK_RUNS' default, 10. SOAK_SEED
replays a soak; the seed, the outcomes and the faults are printed."""

import collections
import os
import random
import time

import faultmatrix as fm

SOAK_COMMANDS = ("migrate-in-place", "migrate-side-by-side", "upgrade-node-image",
                 "upgrade-kubernetes")
SCENARIOS = {
    "migrate-in-place": fm.migrate_scenario,
    "migrate-side-by-side": fm.migrate_scenario,
    "upgrade-node-image": fm.azl_scenario,
    "upgrade-kubernetes": fm.azl_scenario,
}


def plan(seed, runs):
    """The soak's runs: (command, node count, [(step, fault), ...])."""
    rng = random.Random(seed)
    by_cmd = collections.defaultdict(list)
    for cmd, step, fault in fm.cases():
        by_cmd[cmd].append((step, fault))
    out = []
    for _ in range(runs):
        cmd = rng.choice(SOAK_COMMANDS)
        count = rng.choice((1, 2, 3)) if cmd != "migrate-side-by-side" else rng.choice((1, 2))
        picks = rng.sample(by_cmd[cmd], rng.choice((1, 2)))
        out.append((cmd, count, picks))
    return out


def test_soak(make_sim, bin_path, tmp_path, capsys):
    seed = int(os.environ.get("SOAK_SEED") or int(time.time()) % 100000)
    runs = int(os.environ.get("SOAK_RUNS") or 10)
    outcomes, faults, failures = collections.Counter(), collections.Counter(), []
    for i, (cmd, count, picks) in enumerate(plan(seed, runs)):
        (step, fault), more = picks[0], picks[1:]
        out = fm.run_case(make_sim, bin_path, str(tmp_path / ("home%d" % i)), cmd, step, fault,
                          scenario=SCENARIOS[cmd](count), more=more)
        # a fault that found no request of its class is no failure here: two
        # faults on one step may leave the second nothing to hit
        problems = [p for p in out.problems if not p.startswith("the fault was never injected")]
        outcomes[out.kind if not problems else "lost"] += 1
        for (s, f), hits in zip(picks, [out.hits] + out.extra_hits):
            faults["%s%s" % (f, "" if hits else " (not hit)")] += 1
        if problems:
            failures.append("run %d %s x%d %s: %s" % (i, cmd, count, picks, "; ".join(problems)))
        out.sim.stop()
    with capsys.disabled():
        print("\nsoak: seed %d, %d runs" % (seed, runs))
        print("soak outcomes: %s" % dict(sorted(outcomes.items())))
        print("soak faults: %s" % dict(sorted(faults.items())))
        for f in failures:
            print("soak LOST: " + f)
    assert not failures, "seed %d (SOAK_SEED=%d to replay):\n%s" % (seed, seed, "\n".join(failures))
