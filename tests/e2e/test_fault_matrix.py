"""The fault matrix (issue 18): every step of every mutating command (in-place
and side-by-side migrate, node image upgrade, Kubernetes upgrade with the
control plane, add-pool, drain) x every fault that can hit that step's
requests, generated from faultmatrix.COMMANDS and faultmatrix.FAULTS.

Each case runs the command at -v=9 with the fault armed at that step (for
journaled commands: only while the journal shows the step running) and must
end done, or stopped with a one-line message and a journal that `resume`
completes once the fault is cleared (a 412 from someone else's change:
the journal Failed at that step with the reason, the line naming
`kubectl azlinux resume ID`, which reads afresh, plans the step again and
finishes). Every case also
checks the safety counters (no PDB violation, no lost pod, always a Ready
System node), that no ARM write met a 412 the case did not cause, that no
secret is in any output or file, and that the tool's files are 0600 in
0700 directories.

The fault-free run of each command checks the table against the command:
every journaled step has its row, so a new step fails here until the table
has it (and then gets every fault's case for free)."""

import os

import pytest

import faultmatrix as fm

# make check runs a covering subset (every step, every fault); FAULT_MATRIX=full
# (make soak) runs every case.
CASES = fm.cases() if os.environ.get("FAULT_MATRIX") == "full" else fm.covering_cases()

# Cases that lose today, each naming the bug; strict, so a fix makes them
# fail here until the entry goes. (The drain cordon cases were fixed: a
# drain whose cordon fails evicts nothing and exits 1.)
KNOWN = {}


def _param(case):
    marks = [pytest.mark.xfail(strict=True, reason=KNOWN[case])] if case in KNOWN else []
    return pytest.param(case, id="/".join(case), marks=marks)


@pytest.mark.parametrize("cmd", sorted(fm.COMMANDS))
def test_fault_free_run_and_the_table_has_every_step(make_sim, bin_path, tmp_path, cmd):
    out = fm.run_case(make_sim, bin_path, str(tmp_path / "home"), cmd, None, None)
    assert out.kind == "done" and not out.problems, fm.dump(out)
    spec = fm.COMMANDS[cmd]
    if spec.get("journal", True):
        journal = fm.journal_json(str(tmp_path / "home"))
        assert journal and journal["state"] == "Succeeded"
        names = [s["name"] for s in journal["steps"]]
        table = [s["name"] for s in spec["steps"]]
        missing = [n for n in names if not any(n.startswith(t) for t in table)]
        assert not missing, "steps of %s with no row in faultmatrix.COMMANDS: %s" % (cmd, missing)


def test_every_command_and_fault_has_cases():
    assert {c[0] for c in CASES} == set(fm.COMMANDS)
    assert {c[2] for c in CASES} == set(fm.FAULTS)


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_fault(make_sim, bin_path, tmp_path, case):
    cmd, step, fault = case
    out = fm.run_case(make_sim, bin_path, str(tmp_path / "home"), cmd, step, fault)
    assert not out.problems, fm.dump(out)
    assert out.kind in ("done", "resumed")
    if out.kind != "done":
        assert out.message and "\n" not in out.message


def test_the_checks_see_a_leak_and_a_loose_mode(make_sim, tmp_path):
    """The matrix's secret and mode checks find what they look for."""
    sim = make_sim(fm.migrate_scenario())
    home = tmp_path / "home"
    state = home / ".local" / "state" / "kubectl-azlinux" / "operations"
    state.mkdir(parents=True, mode=0o700)
    for d in (home, home / ".local", home / ".local" / "state", state.parent):
        d.chmod(0o700)
    secret = sim.entra.default_secret
    (state / "x.json").write_text('{"steps": [], "note": "%s"}' % secret)
    (state / "x.json").chmod(0o600)
    problems = fm.check_files_and_secrets(sim, str(home), [("stderr", "Bearer " + secret)])
    assert any("in stderr" in p for p in problems)
    assert any(p.endswith("x.json") and "secret" in p for p in problems)
    (state / "x.json").write_text('{"steps": []}')
    (state / "x.json").chmod(0o644)
    problems = fm.check_files_and_secrets(sim, str(home), [])
    assert problems == ["%s has mode 644" % (state / "x.json")]


def test_the_check_subset_meets_every_step_and_every_fault():
    full = fm.cases()
    subset = fm.covering_cases(full)
    assert set(subset) <= set(full)
    assert {c[:2] for c in subset} == {c[:2] for c in full}
    assert {c[2] for c in subset} == {c[2] for c in full}
    assert {c for c in full if c[2] in fm.STALE} <= set(subset)
