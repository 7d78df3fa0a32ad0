"""Progress for waits over a second: plain timestamped lines on stderr when
stderr is not a terminal, a live line rewritten in place on a terminal, and
nothing at all for a wait that ends sooner. Data on stdout is untouched."""

import os
import pty
import re
import select
import subprocess

import helpers
from sim import scenario as scenarios

STAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"


def slow_fleet(make_sim, env, contexts=4, latency_ms=400):
    s = make_sim(scenarios.fleet_scenario(contexts, 2))
    s.latency_ms = latency_ms  # each context takes several round trips: > 1 s in all
    return s, helpers.make_env(s, env["HOME"])


def test_slow_fleet_prints_timestamped_progress(make_sim, env, run):
    s, e = slow_fleet(make_sim, env)
    r = run("pools", "--all-contexts", env=e)
    assert r.returncode == 0, r.stderr
    lines = r.stderr.splitlines()
    progress = [l for l in lines if re.match(STAMP + " ", l)]
    assert progress, r.stderr
    assert all(re.match(STAMP + r" (inspecting 4 contexts|inspected \d of 4 contexts \(\S+\))$", l)
               for l in progress), progress
    assert any(l.endswith(" inspected 4 of 4 contexts (%s)" % l.split("(")[-1][:-1])
               for l in progress)
    assert "\r" not in r.stderr and "\033" not in r.stderr
    # the table on stdout is the same with or without progress
    s.latency_ms = 0
    fast = run("pools", "--all-contexts", env=e)
    assert fast.stdout == r.stdout


def test_fast_command_prints_no_progress(sim, env, run):
    r = run("pools", env=env)
    assert r.returncode == 0, r.stderr
    assert not re.search(STAMP, r.stderr), r.stderr
    assert "inspect" not in r.stderr


def run_on_terminal(argv, env, timeout=60):
    """Runs argv with stdout and stderr on a pseudo-terminal; returns what it wrote."""
    master, slave = pty.openpty()
    p = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=slave, stderr=slave)
    os.close(slave)
    out = b""
    while True:
        ready, _, _ = select.select([master], [], [], timeout)
        if not ready:
            p.kill()
            raise AssertionError("no output for %ss: %r" % (timeout, out))
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        out += chunk
    os.close(master)
    assert p.wait(timeout) == 0, out
    return out.decode()


def test_terminal_gets_a_live_line_that_is_erased(make_sim, env, bin_path):
    _, e = slow_fleet(make_sim, env)
    e = dict(e, TERM="xterm", NO_COLOR="1")
    out = run_on_terminal([bin_path, "pools", "--all-contexts"], e)
    assert "\r\033[Kinspected 1 of 4 contexts" in out, repr(out)
    assert "\r\033[Kinspected 4 of 4 contexts" in out, repr(out)
    assert not re.search(STAMP, out)
    # the live line is erased before the table, which starts on a clean line
    table_start = out.index("CONTEXT")
    assert out[:table_start].endswith("\r\033[K"), repr(out[:table_start][-80:])


def test_slow_single_context_names_it(sim, env, run):
    sim.latency_ms = 400  # token, cluster, pools, profiles...: well over a second
    r = run("pools", env=env)
    assert r.returncode == 0, r.stderr
    progress = [l for l in r.stderr.splitlines() if re.match(STAMP + " ", l)]
    assert progress == [progress[0]] and progress[0].endswith(
        " inspecting context %s" % sim.clusters[0].name), r.stderr


# --- a migration's live block ------------------------------------------------

SGR = re.compile(r"\033\[[0-9;]*m")     # a colour or attribute


def slow_migration(make_sim, env):
    from test_migrate import SLOW, mig_scenario
    s = make_sim(mig_scenario(scale=SLOW))
    return s, helpers.make_env(s, env["HOME"])


def test_migrate_on_a_terminal_redraws_its_live_line(make_sim, env, bin_path):
    """On a terminal the migration keeps one status line (pool, step, AKS's
    state and percent, nodes on the target, elapsed) rewritten in place with
    \\r and erase-line, the news above it; NO_COLOR: no colour anywhere."""
    s, e = slow_migration(make_sim, env)
    e = dict(e, TERM="xterm", NO_COLOR="1")
    out = run_on_terminal([bin_path, "migrate", "work", "--yes"], e, timeout=120)
    live = re.findall(r"\r\033\[K(work: [^\r\n]*)", out)
    assert len(set(live)) >= 2, repr(out[-2000:])           # redrawn as it goes
    assert any(re.match(r"work: update-pool, AKS InProgress( \d+%)?, \d/4 nodes on Azure Linux 3\.0, "
                        r"\dm\d\ds elapsed", l) for l in live), live
    assert any(l.startswith("work: verify") for l in live), live
    assert re.search(r"\r\033\[K" + STAMP + " step verify: done", out)   # news erase it first
    assert not SGR.search(out), repr(SGR.findall(out))
    # the before/after on a line of its own: the live line erased first
    assert re.search(r"(\n|\r\033\[K)Verified: pool work\r?\n", out), repr(out[-600:])
    assert cluster_of_sim(s).k8s.safety.counts() == {
        "pdb_violations": 0, "lost_pods": 0, "no_ready_system_node": 0}


def test_migrate_without_a_terminal_prints_timestamped_lines(make_sim, env, run):
    s, e = slow_migration(make_sim, env)
    r = run("migrate", "work", "--yes", env=e, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "\r" not in r.stderr and "\033" not in r.stderr
    progress = [l for l in r.stderr.splitlines() if re.match(STAMP + " ", l)]
    assert STAMP and any(l.endswith(" step update-pool: started") for l in progress), r.stderr
    assert any(re.search(r" node aks-work-\S+: Ready, Azure Linux 3\.0 ", l) for l in progress)
    assert not any("elapsed" in l for l in r.stderr.splitlines())    # no live line


def cluster_of_sim(s):
    from test_migrate import NAME
    return s.cluster(NAME)
