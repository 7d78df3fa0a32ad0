"""The write path end to end: core/arm's requests and core/lro's operations
against the simulator's ARM writes (tests/sim/armwrite.py), through the
hidden debug command `kubectl azlinux __arm`. PUT, POST and DELETE are
followed to completion on a fast clock; the pool's eTag is honoured (412),
a running operation refuses another (409 busy), a failed operation is one
line, and an operation saved in one process is aborted and waited for in
others."""

import json

import pytest

import helpers
from sim import scenario as scenarios

SCALE = 6000            # simulated seconds per wall second
SUB = scenarios.DEMO_SUBSCRIPTION
RG = "write-rg"
NAME = "write-aks"
API = "2026-10-01"


def write_scenario():
    pools = [scenarios.Pool("system", mode="System", count=3, zones=["1", "2", "3"]),
             scenarios.Pool("work", os_sku="Ubuntu", node_image_version=scenarios.UBUNTU2204_IMAGE,
                            count=4, zones=["1", "2", "3"])]
    cluster = scenarios.Cluster(NAME, RG, SUB, location="eastus", pools=pools)
    return scenarios.Scenario([cluster], name="write", time_scale=SCALE)


@pytest.fixture
def wsim(make_sim, tmp_path):
    s = make_sim(write_scenario())
    return s, helpers.make_env(s, tmp_path / "home")


def pool_path(sim, pool):
    return "%s/agentPools/%s" % (sim.cluster(NAME).id, pool)


def arm(run, e, *args, timeout=60):
    return run("__arm", *args, env=e, timeout=timeout)


def outcome(r):
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def current_etag(run, e, sim, pool):
    got = outcome(arm(run, e, "GET", pool_path(sim, pool)))
    assert got["operation"]["status"] == "Succeeded"
    return got["result"]["properties"]["eTag"]


def errors(r):
    """stderr without the progress lines."""
    return [x for x in helpers.diagnostics(r.stderr).strip().splitlines()
            if not x.startswith("operation ")]


def writes(sim, method, path):
    return [r for r in sim.find(server="azure") if r["method"] == method and r["path"] == path]


def test_put_os_sku_change_runs_to_completion(wsim, run):
    s, e = wsim
    path = pool_path(s, "work")
    etag = current_etag(run, e, s, "work")
    r = arm(run, e, "--wait", "--if-match", etag,
            "--body", json.dumps({"properties": {"osSKU": "AzureLinux"}}), "PUT", path)
    got = outcome(r)
    assert got["operation"]["status"] == "Succeeded"
    assert got["operation"]["statusVia"] == "azure-async-operation"
    assert "/operations/" in got["operation"]["statusUrl"]
    assert got["result"]["properties"]["osSKU"] == "AzureLinux"
    assert got["result"]["properties"]["provisioningState"] == "Succeeded"
    # the eTag moved, and the final one is what the operation reports
    assert got["operation"]["eTag"] not in ("", etag)
    assert got["operation"]["eTag"] == current_etag(run, e, s, "work")
    # one PUT, with the precondition; polls of the status resource; the pool
    put = writes(s, "PUT", path)
    assert len(put) == 1
    polls = [x for x in s.find(server="azure") if "/operations/" in x["path"]]
    assert polls and all(x["method"] == "GET" for x in polls)
    assert r.stderr.splitlines()[0] == "operation InProgress"
    assert r.stderr.splitlines()[-1].startswith("operation Succeeded")
    # the nodes really are Azure Linux now
    for node in s.cluster(NAME).k8s.pool_nodes("work"):
        assert node["metadata"]["labels"]["kubernetes.azure.com/os-sku"] == "AzureLinux"


def test_stale_etag_is_refused_with_412(wsim, run):
    s, e = wsim
    path = pool_path(s, "work")
    r = arm(run, e, "--wait", "--if-match", '"stale"',
            "--body", json.dumps({"properties": {"count": 5}}), "PUT", path)
    assert r.returncode == 1
    lines = helpers.diagnostics(r.stderr).strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: PUT %s: PreconditionFailed: " % path)
    assert "(HTTP 412, correlation id " in lines[0]
    assert lines[0].endswith(": the resource changed since it was read; read it again and retry")
    assert len(writes(s, "PUT", path)) == 1          # not repeated
    assert s.cluster(NAME).pools[1].count == 4


def test_second_write_while_one_runs_is_busy(wsim, run):
    s, e = wsim
    path = pool_path(s, "work")
    s.clock.pause()
    try:
        first = outcome(arm(run, e, "--body", json.dumps({"properties": {"osSKU": "AzureLinux"}}),
                            "PUT", path))
        assert first["operation"]["status"] == "InProgress"
        r = arm(run, e, "--body", json.dumps({"properties": {"count": 5}}), "PUT", path)
    finally:
        s.clock.resume()
    assert r.returncode == 1
    msg = helpers.diagnostics(r.stderr).strip()
    assert msg.startswith("error: PUT %s: OperationNotAllowed: Operation is not allowed: "
                          "Another agentpool operation (Upgrading) is in progress" % path)
    assert msg.endswith("another operation is in progress; wait for it to finish or abort it")
    assert len(writes(s, "PUT", path)) == 2


def test_post_node_image_upgrade_final_state_via_location(wsim, run):
    s, e = wsim
    new = "AKSUbuntu-2204gen2containerd-202608.14.0"
    s.arm.latest_images["AKSUbuntu-2204gen2containerd"] = new
    path = pool_path(s, "work") + "/upgradeNodeImageVersion"
    got = outcome(arm(run, e, "--wait", "--final-state-via", "location", "POST", path))
    assert got["operation"]["status"] == "Succeeded"
    assert got["operation"]["resource"] == pool_path(s, "work")
    assert got["operation"]["finalStateVia"] == "location"
    assert got["result"]["properties"]["nodeImageVersion"] == new
    # the result came from the Location URL, not from a GET of the pool
    assert [x for x in s.find(server="azure") if "/operationresults/" in x["path"]]
    assert not [x for x in s.find(server="azure")
                if x["method"] == "GET" and x["path"] == pool_path(s, "work")]
    assert len(writes(s, "POST", path)) == 1


def test_delete_pool_runs_until_it_is_gone(wsim, run):
    s, e = wsim
    path = pool_path(s, "work")
    got = outcome(arm(run, e, "--wait", "--query", "ignore-pod-disruption-budget=true",
                      "DELETE", path))
    assert got["operation"]["status"] == "Succeeded"
    assert got["result"] is None
    assert [p.name for p in s.cluster(NAME).pools] == ["system"]
    assert writes(s, "DELETE", path)[0]["query"]["ignore-pod-disruption-budget"] == ["true"]
    r = arm(run, e, "GET", path)
    assert r.returncode == 1
    assert "(HTTP 404" in r.stderr


def test_failed_operation_is_one_line(wsim, run):
    s, e = wsim
    s.clock.fail("reimage", message="simulated VMSS reimage failure")
    path = pool_path(s, "work")
    r = arm(run, e, "--wait", "--body", json.dumps({"properties": {"osSKU": "AzureLinux"}}),
            "PUT", path)
    assert r.returncode == 1
    lines = errors(r)
    assert len(lines) == 1
    assert lines[0].startswith("error: PUT %s: the operation failed: UpgradeFailed: simulated "
                               "VMSS reimage failure (correlation id " % path)


def test_saved_operation_is_aborted_and_waited_for_in_other_processes(wsim, run, tmp_path):
    s, e = wsim
    path = pool_path(s, "work")
    state = tmp_path / "op.json"
    s.clock.pause()
    try:
        begun = outcome(arm(run, e, "--save-state", str(state),
                            "--body", json.dumps({"properties": {"osSKU": "AzureLinux"}}),
                            "PUT", path))
        saved = json.loads(state.read_text())
        assert saved == begun["operation"]
        assert saved["status"] == "InProgress" and saved["method"] == "PUT"
        assert saved["resource"] == path
        assert "token" not in state.read_text().lower()
        s.clock.step(30)
        aborted = outcome(arm(run, e, "--resume", str(state), "--abort"))
        assert aborted["operation"]["status"] == "Canceling"
        assert len(writes(s, "POST", path + "/abort")) == 1
        s.clock.step(1)
    finally:
        s.clock.resume()
    r = arm(run, e, "--resume", str(state), "--wait")
    assert r.returncode == 1
    assert errors(r) == [l for l in errors(r) if l.startswith(
        "error: PUT %s: the operation was canceled" % path)] != []
    assert s.cluster(NAME).pools[1].provisioning_state == "Canceled"
    # nothing runs now: a second abort is refused as too late
    r = arm(run, e, "--resume", str(state), "--abort")
    assert r.returncode == 1
    assert "ended before it could be aborted" in r.stderr


def test_hidden_from_help_and_completion(run):
    assert "__arm" not in run("help").stdout
    r = run("__complete", "__")
    assert "__arm" not in r.stdout


def test_throttled_put_is_sent_again_after_retry_after(wsim, run):
    # the AKS RP's PUT AgentPool bucket (aks-api.md §3.2), one token deep
    # and refilled every 200 simulated minutes (2 s here): the second PUT
    # is throttled, and a 429 is retried whatever the method
    s, e = wsim
    s.arm.put_pool_throttle = {"size": 1, "per_minute": 0.005}
    path = pool_path(s, "extra")
    body = json.dumps({"properties": {"count": 1, "vmSize": "Standard_D4ds_v5",
                                      "osType": "Linux", "osSKU": "AzureLinux", "mode": "User"}})
    assert outcome(arm(run, e, "--wait", "--body", body, "PUT", path))["operation"][
        "status"] == "Succeeded"
    s.clear_log()
    got = outcome(arm(run, e, "--wait", "--body", body, "PUT", path))
    assert got["operation"]["status"] == "Succeeded"
    assert [x["status"] for x in writes(s, "PUT", path)] == [429, 200]


def test_post_action_is_not_sent_twice_after_a_5xx(wsim, run):
    s, e = wsim
    path = pool_path(s, "work") + "/upgradeNodeImageVersion"
    s.faults.add(server="azure", method="POST", path_prefix=path, status=500)
    r = arm(run, e, "--wait", "POST", path)
    assert r.returncode == 1
    assert [x["status"] for x in writes(s, "POST", path)] == [500]
    assert errors(r)[0].startswith("error: POST %s: " % path)
    assert "(HTTP 500" in errors(r)[0] and "attempts" not in errors(r)[0]
    # a GET of the same pool is retried through the same fault
    s.faults.add(server="azure", method="GET", path_prefix=pool_path(s, "work"), status=503)
    assert outcome(arm(run, e, "GET", pool_path(s, "work")))["operation"]["status"] == "Succeeded"
    assert [x["status"] for x in writes(s, "GET", pool_path(s, "work"))] == [503, 200]
