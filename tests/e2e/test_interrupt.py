"""Interruption (issue 18): SIGINT, SIGTERM and SIGKILL at every step of every
journaled mutating command, at the step's start (its boundary: delivered
the moment the journal shows it running) and, where the step waits, in the
middle of its wait (the simulator's clock paused while the step runs, so
the process is waiting on AKS or the cluster), then `resume` to done (make
check runs covering_cases(), FAULT_MATRIX=full all of them); two processes on one
pool (the second refused, naming the first); the journal truncated,
corrupted, from a newer version, or deleted while the operation runs (a
clear error naming the file; `status` still answers).

No sleeps decide anything: the journal file and the simulator's clock say
when; the polls below only wait for them."""

import json
import os
import signal
import subprocess
import time

import pytest

import faultmatrix as fm

SIGNALS = {"SIGINT": signal.SIGINT, "SIGTERM": signal.SIGTERM, "SIGKILL": signal.SIGKILL}
JOURNALED = [c for c, spec in fm.COMMANDS.items() if spec.get("journal", True)]


def _steps(cmd):
    return [s["name"] for s in fm.COMMANDS[cmd]["steps"]]


WHERE = ("start", "wait")


def waits(cmd, step):
    """Whether the step waits (on an AKS operation, the node watch, pods)."""
    st = next(s for s in fm.COMMANDS[cmd]["steps"] if s["name"] == step)
    return bool(st.get("poll") or st.get("watch") or st.get("waits"))


def cases():
    """Every journaled step of every command x every signal, at the step's
    start (delivered the moment the journal shows it running) and, where
    the step waits, mid-wait (the simulator's clock paused while the step
    runs, then a request of the process seen: it is waiting on AKS or the
    cluster). A step that never waits has no middle to be caught in."""
    return [(cmd, step, sig, where) for cmd in JOURNALED for step in _steps(cmd)
            for where in WHERE if where == "start" or waits(cmd, step) for sig in SIGNALS]


def covering_cases(all_cases=None):
    """A subset of cases() in which every step meets a signal (mid-wait
    where it waits) and every (signal, where) pair meets some step, the
    signals rotated over the steps: what `make check` runs; FAULT_MATRIX=full
    (`make soak`) runs them all."""
    all_cases = cases() if all_cases is None else all_cases
    sigs = list(SIGNALS)
    turn = {"start": 0, "wait": 0}
    chosen = []
    for cmd, step in dict.fromkeys(c[:2] for c in all_cases):
        where = "wait" if (cmd, step, sigs[0], "wait") in all_cases else "start"
        chosen.append((cmd, step, sigs[turn[where] % len(sigs)], where))
        turn[where] += 1
    missing = [c for c in all_cases if c[2:] not in {x[2:] for x in chosen}]
    for c in missing:
        if c[2:] not in {x[2:] for x in chosen}:
            chosen.append(c)
    return chosen


CASES = cases() if os.environ.get("FAULT_MATRIX") == "full" else covering_cases()


def start(sim, home, cmd, scenario=None, argv=None):
    env = fm.helpers.make_env(sim, home)
    env["XDG_STATE_HOME"] = os.path.join(home, ".local", "state")
    argv = [fm.helpers.plugin_bin(), *(argv or fm.COMMANDS[cmd]["argv"]), "-v=9"]
    # files, not pipes: -v=9 writes more than a pipe holds while nobody reads
    out = open(home + ".stdout", "w+")
    err = open(home + ".stderr", "w+")
    proc = subprocess.Popen(argv, env=env, stdout=out, stderr=err, text=True)
    proc.files = (out, err)
    return env, proc


def finish(proc, timeout=120):
    """Waits for the process; returns its (stdout, stderr)."""
    proc.wait(timeout=timeout)
    texts = []
    for fh in proc.files:
        fh.seek(0)
        texts.append(fh.read())
        fh.close()
    return texts


def wait_for(pred, proc=None, limit=120.0):
    """Polls pred() until it holds (or the process ended); no timing asserted."""
    end = time.time() + limit
    while time.time() < end:
        v = pred()
        if v:
            return v
        if proc is not None and proc.poll() is not None:
            return pred()
        time.sleep(0.005)
    return pred()


def step_running(home, step):
    running = fm.running_step(home)
    return running is not None and running.startswith(step)


def resume(env):
    return subprocess.run([fm.helpers.plugin_bin(), "resume", "-v=9"], env=env,
                          capture_output=True, text=True, timeout=180)


def make(make_sim, cmd):
    spec = fm.COMMANDS[cmd]
    sim = make_sim(spec["scenario"]())
    if spec.get("setup"):
        spec["setup"](sim)
    return sim


@pytest.mark.parametrize("case", CASES, ids=["/".join(c) for c in CASES])
def test_signal_then_resume(make_sim, bin_path, tmp_path, case):
    cmd, step, sig, where = case
    sim = make(make_sim, cmd)
    home = str(tmp_path / "home")
    env, proc = start(sim, home, cmd)
    reached = wait_for(lambda: step_running(home, step), proc)
    if where == "wait" and reached:
        sim.clock.pause()
        # in its wait: a request (a poll, the watch, a read) once time stood
        seen = len(sim.requests.snapshot())
        wait_for(lambda: len(sim.requests.snapshot()) > seen, proc, limit=5.0)
    try:
        if proc.poll() is None:
            proc.send_signal(SIGNALS[sig])
        out, err = finish(proc)
    finally:
        if where == "wait" and reached:
            sim.clock.resume()
    assert reached or proc.returncode == 0, "step %s never ran:\n%s" % (step, err[-2000:])
    if proc.returncode != 0:
        if sig == "SIGKILL":
            assert proc.returncode == -signal.SIGKILL
        else:
            # the handler ran: exit 130, a line saying how to go on
            assert proc.returncode == 130, err[-2000:]
            assert "kubectl azlinux resume" in err
        doc = fm.journal_json(home)
        assert doc is not None and doc["state"] != "Succeeded"
        r = resume(env)
        assert r.returncode == 0, "\n".join(fm.diagnostics(r.stderr))[-2000:]
    assert fm.COMMANDS[cmd]["done"](sim)
    assert not any(fm.safety(sim).values()), fm.safety(sim)
    assert fm.unsolicited_412s(sim, 0) == 0
    assert not fm.check_files_and_secrets(sim, home, [("stderr", err), ("stdout", out)])


def _writes(sim):
    """ARM writes so far (token requests left out)."""
    return len([r for r in sim.find(server="azure") if r["method"] in ("PUT", "POST", "DELETE")
                and "/providers/Microsoft.ContainerService/" in r["path"]])


# each command that takes a pool's lock, and the step at which the first
# process waits on AKS while the second starts
SECOND = {"migrate-in-place": "update-pool", "upgrade-node-image": "node-image",
          "add-pool": "create-pool"}


def test_the_check_subset_meets_every_step_and_every_signal():
    full = cases()
    subset = covering_cases(full)
    every_step = [(c, s) for c in JOURNALED for s in _steps(c)]
    assert len(full) == len(SIGNALS) * (len(every_step) + sum(waits(*x) for x in every_step))
    assert {(c, s) for c, s, _, w in full if w == "wait"} == {x for x in every_step if waits(*x)}
    assert set(subset) <= set(full) and len(set(subset)) == len(subset)
    assert {c[:2] for c in subset} == {c[:2] for c in full}
    assert {c[2:] for c in subset} == {c[2:] for c in full}


def _refused_while_first_waits(sim, home, env, first, step, argv):
    """Runs argv while first waits on AKS in step (its write sent, the clock
    paused): refused with one line naming first (id, kind, step, pid),
    having sent no write and journaled nothing; returns that line."""
    assert wait_for(lambda: step_running(home, step) and _writes(sim), first)
    sim.clock.pause()
    try:
        sent = _writes(sim)
        second = subprocess.run([fm.helpers.plugin_bin(), *argv], env=env,
                                capture_output=True, text=True, timeout=60)
        assert _writes(sim) == sent, "the second process sent a write"
    finally:
        sim.clock.resume()
    doc = fm.journal_json(home)
    assert second.returncode == 1, second.stderr
    errors = [l for l in fm.diagnostics(second.stderr) if l.startswith("error: ")]
    # one line naming the first: its id, what it runs (kind, step), its pid
    assert len(errors) == 1, second.stderr
    line = errors[0]
    assert "is busy: operation %s (%s, step 1 of " % (doc["id"], doc["kind"]) in line, line
    assert ": %s" % step in line and "(pid %d on " % first.pid in line, line
    assert len(fm.journals(home)) == 1, "the second process journaled an operation"
    return line


@pytest.mark.parametrize("cmd", sorted(SECOND))
def test_second_process_on_the_pool_is_refused_naming_the_first(make_sim, bin_path, tmp_path,
                                                                cmd):
    sim = make(make_sim, cmd)
    home = str(tmp_path / "home")
    env, first = start(sim, home, cmd)
    line = _refused_while_first_waits(sim, home, env, first, SECOND[cmd],
                                      fm.COMMANDS[cmd]["argv"])
    assert ": %s)" % SECOND[cmd] in line, line
    out, err = finish(first)
    assert first.returncode == 0, err[-2000:]
    assert fm.COMMANDS[cmd]["done"](sim)


UPGRADE_ALL = ["upgrade", "--all", "--kubernetes-version", "1.33", "--max-surge", "1", "--yes"]
MIGRATE = fm.COMMANDS["migrate-in-place"]["argv"]
# (first, the step it waits in, second, what the refusal says of the first)
CLUSTER_AND_POOL = {
    "migrate-while-upgrade-all": (UPGRADE_ALL, "control-plane", MIGRATE,
                                  "node pool work of cluster %s is busy", "on the whole cluster"),
    "upgrade-all-while-migrate": (MIGRATE, "update-pool", UPGRADE_ALL,
                                  "cluster %s is busy", "on node pool work"),
}


@pytest.mark.parametrize("case", sorted(CLUSTER_AND_POOL))
def test_cluster_and_pool_operations_refuse_each_other(make_sim, bin_path, tmp_path, case):
    """An operation on the whole cluster (upgrade --all) and one on a pool
    (migrate) never run at once: the second is refused by the lock, naming
    the first, before its preflight (which would see the first's work in
    Azure and not say whose it is)."""
    first_argv, step, second_argv, subject, where = CLUSTER_AND_POOL[case]
    sim = make_sim(fm.migrate_scenario())
    home = str(tmp_path / "home")
    env, first = start(sim, home, None, argv=first_argv)
    line = _refused_while_first_waits(sim, home, env, first, step, second_argv)
    assert subject % fm.NAME in line and ") %s has run since " % where in line, line
    out, err = finish(first, timeout=300)
    assert first.returncode == 0, err[-2000:]
    assert not any(fm.safety(sim).values()), fm.safety(sim)


def _kill_mid_operation(make_sim, tmp_path):
    cmd = "migrate-side-by-side"
    sim = make(make_sim, cmd)
    home = str(tmp_path / "home")
    env, proc = start(sim, home, cmd)
    assert wait_for(lambda: step_running(home, "drain"), proc)
    proc.kill()
    finish(proc)
    path = fm.journals(home)[-1]
    return sim, env, home, path


DAMAGE = {
    "truncated": lambda data: data[:len(data) // 2],
    "corrupted": lambda data: b"\x00\xff{not json" + data[10:],
    "newer-version": lambda data: json.dumps(dict(json.loads(data), version=99)).encode(),
    "empty": lambda data: b"",
}


@pytest.mark.parametrize("how", sorted(DAMAGE))
def test_damaged_journal_is_named_and_status_still_answers(make_sim, bin_path, tmp_path, how):
    sim, env, home, path = _kill_mid_operation(make_sim, tmp_path)
    with open(path, "rb") as fh:
        data = fh.read()
    with open(path, "wb") as fh:
        fh.write(DAMAGE[how](data))
    r = subprocess.run([bin_path, "resume"], env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode != 0
    errors = [l for l in fm.diagnostics(r.stderr) if l.startswith("error: ")]
    assert len(errors) == 1 and path in errors[0], r.stderr
    if how == "newer-version":
        assert "version" in errors[0]
    # status still answers, naming the damaged file, and the cluster is
    # unharmed (the old pool cordoned, its replacement Ready)
    s = subprocess.run([bin_path, "status"], env=env, capture_output=True, text=True,
                       timeout=60)
    assert path in s.stderr + s.stdout or os.path.basename(path)[:-5] in s.stdout, \
        s.stdout + s.stderr
    assert not any(fm.safety(sim).values())


def test_journal_deleted_mid_operation(make_sim, bin_path, tmp_path):
    cmd = "migrate-side-by-side"
    sim = make(make_sim, cmd)
    home = str(tmp_path / "home")
    env, proc = start(sim, home, cmd)
    # drain: a step that waits (cordon is over before a poll may see it)
    assert wait_for(lambda: step_running(home, "drain"), proc)
    sim.clock.pause()
    path = fm.journals(home)[-1]
    os.unlink(path)
    sim.clock.resume()
    out, err = finish(proc, timeout=180)
    lines = fm.diagnostics(err)
    if proc.returncode != 0:
        errors = [l for l in lines if l.startswith("error: ")]
        assert errors and path in errors[0], err[-2000:]
    s = subprocess.run([bin_path, "status"], env=env, capture_output=True, text=True,
                       timeout=60)
    assert s.returncode in (0, 1), s.stderr
    assert not any(fm.safety(sim).values())
    # whatever the journal, no pool was deleted before its replacement was Ready
    assert any(n.startswith("workazl") for n in fm.pools(sim))
