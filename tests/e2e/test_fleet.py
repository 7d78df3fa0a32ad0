"""The fleet: `pools` and `check` with --all-contexts and --contexts over a
20-cluster kubeconfig (two subscriptions, found through each cluster's
nodes) with some contexts broken in different ways: each failure on its own
row, the others complete, one summary line, and one ARM token for all."""

import json
import os
import subprocess
import sys
import time

import pytest

import helpers
from sim import entra
from sim import scenario as scenarios
from sim.front import H2Front
from test_arm import settle
from test_nodes import os_of, parse_table

N = 20
BROKEN = {"fleet-03": "no AKS cluster with API server",
          "fleet-07": "nodes is forbidden",
          "fleet-11": "AuthorizationFailed",
          "ghost": "context ghost: reading a node's providerID for its Azure subscription: "
                   "GET https://127.0.0.1:1/api/v1/nodes?limit=1: cannot connect"}


def ghost_kubeconfig(path):
    """A context whose API server does not answer."""
    with open(path, "w") as f:
        f.write("apiVersion: v1\nkind: Config\nclusters:\n- name: ghost\n  cluster:\n"
                "    server: https://127.0.0.1:1\n    insecure-skip-tls-verify: true\n"
                "contexts:\n- name: ghost\n  context:\n    cluster: ghost\n    user: ghost\n"
                "users:\n- name: ghost\n  user:\n    token: not-a-real-token\n")
    return path


@pytest.fixture
def fleet(make_sim, env, tmp_path):
    s = make_sim(scenarios.fleet_scenario(N, 3))
    e = helpers.make_env(s, env["HOME"])
    e["KUBECONFIG"] = s.kubeconfig + os.pathsep + ghost_kubeconfig(str(tmp_path / "ghost"))
    s.cluster("fleet-03").extra["in_arm"] = False
    s.faults.add(server="fleet-07", path_prefix="/api/v1/nodes", status=403, times=None,
                 body={"kind": "Status", "apiVersion": "v1", "status": "Failure",
                       "reason": "Forbidden", "code": 403,
                       "message": 'nodes is forbidden: User "masterclient" cannot list '
                                  'resource "nodes" in API group "" at the cluster scope'})
    s.faults.add(server="azure", path_prefix=s.cluster("fleet-11").id, status=403,
                 times=None, body={"error": {
                     "code": "AuthorizationFailed",
                     "message": "The client does not have authorization to perform action "
                                "'Microsoft.ContainerService/managedClusters/read'."}})
    return s, e


def healthy(s):
    return [c for c in s.clusters if c.name not in BROKEN]


def expected_summary(clusters, failed):
    by_os = {"2.0": 0, "3.0": 0, "22.04": 0, "24.04": 0}
    pools = 0
    for c in clusters:
        for p in c.pools:
            pools += 1
            by_os[os_of(p.node_image_version)[1]] += 1
    text = "%d clusters, %d pools: %d on Azure Linux 2.0 (retired), %d on Ubuntu, " \
           "%d on Azure Linux 3.0" % (len(clusters), pools, by_os["2.0"],
                                      by_os["22.04"] + by_os["24.04"], by_os["3.0"])
    if failed:
        text += "; %d contexts failed" % failed
    return text


def test_all_contexts_table(fleet, run):
    s, e = fleet
    r = run("pools", "--all-contexts", env=e)
    assert r.returncode == 1, r.stderr
    table, summary = r.stdout.rstrip("\n").split("\n\n")
    names, rows = parse_table(table)
    assert names[:2] == ["CONTEXT", "NAME"] and names[-1] == "FINDINGS"
    # kubeconfig order, every context present
    contexts = [c.name for c in s.clusters] + ["ghost"]
    seen = []
    for row in rows:
        if row["CONTEXT"] not in seen:
            seen.append(row["CONTEXT"])
    assert seen == contexts
    for row in rows:
        if row["CONTEXT"] in BROKEN:
            assert row["STATE"] == "Error"
            assert BROKEN[row["CONTEXT"]] in row["FINDINGS"]
            continue
        c = s.cluster(row["CONTEXT"])
        p = c.pool(row["NAME"])
        assert row["OS"] == os_of(p.node_image_version)[0]
        assert row["K8S"] == p.k8s_version
    assert sum(1 for r_ in rows if r_["STATE"] == "Error") == len(BROKEN)
    assert summary == expected_summary(healthy(s), len(BROKEN))


def test_one_token_for_the_whole_fleet(fleet, run):
    s, e = fleet
    before = len(s.entra.log)
    run("pools", "--all-contexts", "-o", "name", env=e)
    assert len(s.entra.log) - before == 1


def test_no_token_is_one_error(fleet, run):
    """Every context needs the one ARM token: without a credential the run
    fails once, saying why, instead of once per context."""
    s, e = fleet
    e = dict(e, AZLINUX_AUTH="env")
    del e["AZURE_CLIENT_ID"]
    r = run("pools", "--all-contexts", env=e)
    assert r.returncode == 1
    assert r.stdout == ""
    assert r.stderr.splitlines() == [
        "error: getting a token for Azure Resource Manager: credential source env "
        "(--auth/AZLINUX_AUTH): AZURE_CLIENT_ID not set"]


def test_refused_token_is_asked_for_once(fleet, run):
    s, e = fleet
    token_path = "/%s/oauth2/v2.0/token" % entra.DEFAULT_TENANT
    s.faults.add(path_prefix=token_path, status=401, times=None,
                 body={"error": "invalid_client",
                       "error_description": "AADSTS7000215: Invalid client secret."})
    before = s.count(server="azure", path_prefix=token_path)
    r = run("pools", "--all-contexts", env=e)
    assert r.returncode == 1 and r.stdout == ""
    [line] = r.stderr.splitlines()
    assert line.startswith("error: getting a token for Azure Resource Manager: ")
    assert "invalid_client" in line
    assert s.count(server="azure", path_prefix=token_path) - before == 1


def run_with_slow_token(fleet, run):
    """The fleet's log of a run whose token takes a second, and its token
    request."""
    s, e = fleet
    token_path = "/%s/oauth2/v2.0/token" % entra.DEFAULT_TENANT
    s.faults.add(path_prefix=token_path, latency_ms=1000, times=None)
    s.clear_log()
    r = run("pools", "--all-contexts", "-o", "name", env=e)
    assert r.stdout
    log = settle(s)
    [token] = [x for x in log if x["path"].startswith(token_path)]
    return log, token


def test_api_servers_are_reached_while_the_token_is_fetched(fleet, run):
    """The token is fetched beside the contexts' API-server connections, not
    before them: what needs no token does not wait for it."""
    log, token = run_with_slow_token(fleet, run)
    nodes = [x for x in log if x["path"].startswith("/api/v1/nodes")]
    assert nodes and min(x["start"] for x in nodes) < token["t"]


def test_arm_is_connected_while_the_token_is_fetched(fleet, run):
    """The ARM connection is opened beside the token's fetch (a HEAD of the
    endpoint, without the token), so its handshake is off the path of the
    first ARM requests."""
    s, e = fleet
    log, token = run_with_slow_token(fleet, run)
    [head] = [x for x in log if x["method"] == "HEAD"]
    assert head["server"] == "azure" and head["path"] == "/" and head["auth"] == "none"
    assert head["start"] < token["t"]
    # one context fetches its token only when it needs it, and opens ARM's
    # connection meanwhile too
    s.clear_log()
    r = run("pools", "--context", "fleet-01", "-o", "name", env=e)
    assert r.returncode == 0, r.stderr
    log = settle(s)
    [token] = [x for x in log if "/oauth2/" in x["path"]]
    [head] = [x for x in log if x["method"] == "HEAD"]
    assert head["path"] == "/" and head["start"] < token["t"]


def test_contexts_run_in_parallel(fleet, run):
    """The first context is slowed down; the last ones still finish first,
    which could not happen if contexts were inspected one after another."""
    s, e = fleet
    s.faults.add(server="fleet-01", path_prefix="/api/v1/nodes", latency_ms=1500, times=None)
    s.clear_log()
    run("pools", "--all-contexts", "-o", "name", env=e)
    log = settle(s)
    last_slow = max(i for i, r in enumerate(log) if r["server"] == "fleet-01")
    late = [i for i, r in enumerate(log) if r["server"] in ("fleet-19", "fleet-20")]
    assert late and max(late) < last_slow


def thread_nice_values(pid):
    """{tid: nice} of a running process's threads (field 19 of their stat)."""
    values = {}
    try:
        tids = os.listdir("/proc/%d/task" % pid)
    except FileNotFoundError:
        return values                       # it has ended
    for tid in tids:
        try:
            with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
                values[int(tid)] = int(f.read().rsplit(")", 1)[1].split()[16])
        except (FileNotFoundError, ProcessLookupError):
            pass                            # ended meanwhile
    return values


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="nice is per thread on Linux")
@pytest.mark.skipif(os.nice(0) > 9, reason="the tests run too low to go 10 steps lower")
def test_contexts_run_below_the_threads_they_share(fleet, bin_path):
    """A context's threads run 10 nice steps below the main thread and the
    shared ARM connection's, which every context waits on."""
    s, e = fleet
    base = os.nice(0)                       # what the child inherits
    s.faults.add(server="fleet-01", path_prefix="/api/v1/nodes", latency_ms=2000, times=None)
    p = subprocess.Popen([bin_path, "pools", "--all-contexts", "-o", "name"], env=e,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    values = {}
    try:
        deadline = time.monotonic() + 30    # fleet-01's worker waits 2 s for its nodes
        while (base + 10 not in values.values() and p.poll() is None
               and time.monotonic() < deadline):
            time.sleep(0.05)
            values = thread_nice_values(p.pid)
    finally:
        p.wait(timeout=60)
    assert values.pop(p.pid, None) == base
    assert base + 10 in values.values()     # fleet-01's worker and its node listing
    assert base in values.values()          # the ARM connection's


def test_contexts_share_one_arm_connection(make_sim, env, pki, tmp_path, run):
    """Over HTTP/2, as ARM speaks it, the ARM requests of every context are
    streams of one connection: no context pays for a TLS handshake of its
    own (bench: 17 connections for 25 contexts before)."""
    s = make_sim(scenarios.fleet_scenario(12, 3), latency_ms=20)
    os.makedirs(str(tmp_path / "front"))
    with H2Front(s, pki, str(tmp_path / "front")) as front:
        e = dict(helpers.make_env(s, env["HOME"]), **front.env())
        r = run("pools", "--all-contexts", "-o", "name", env=e)
        log = front.take_log()
    assert r.returncode == 0, r.stderr
    assert len(r.stdout.split()) == 12 * 3
    assert {alpn for alpn, _, _, _ in log} == {"h2"}
    arm = [(port, line) for _, port, _, line in log if "/oauth2/" not in line]
    # per context: the pool list, the cluster's profile and 3 pools' profiles
    assert len(arm) >= 12 * 5
    assert len({port for port, _ in arm}) == 1
    # the connection opened beside the token's fetch is the one they use
    assert arm[0][1].startswith("HEAD / ")


def test_named_contexts(fleet, run):
    s, e = fleet
    r = run("pools", "--contexts", "fleet-02,fleet-05", env=e)
    assert r.returncode == 0, r.stderr
    table, summary = r.stdout.rstrip("\n").split("\n\n")
    _, rows = parse_table(table)
    assert sorted({row["CONTEXT"] for row in rows}) == ["fleet-02", "fleet-05"]
    assert summary == expected_summary([s.cluster("fleet-02"), s.cluster("fleet-05")], 0)
    # an unknown name fails on its row only
    r = run("pools", "--contexts", "fleet-02,nosuch", "-o", "json", env=e)
    assert r.returncode == 1
    doc = json.loads(r.stdout)
    assert [c["context"] for c in doc["contexts"]] == ["fleet-02", "nosuch"]
    assert "nosuch" in doc["contexts"][1]["error"]
    assert doc["contexts"][0]["cluster"]["name"] == "fleet-02"


def test_fleet_json(fleet, run):
    s, e = fleet
    r = run("pools", "--all-contexts", "-o", "json", env=e)
    assert r.returncode == 1
    doc = json.loads(r.stdout)
    assert len(doc["contexts"]) == N + 1
    for item in doc["contexts"]:
        if item["context"] in BROKEN:
            assert BROKEN[item["context"]] in item["error"]
            assert "pools" not in item
            continue
        c = s.cluster(item["context"])
        assert item["cluster"]["subscription"] == c.subscription
        assert item["cluster"]["id"] == c.id
        assert [p["name"] for p in item["pools"]] == sorted(p.name for p in c.pools)
    sm = doc["summary"]
    good = healthy(s)
    assert (sm["contexts"], sm["failedContexts"], sm["clusters"], sm["pools"]) == (
        N + 1, len(BROKEN), len(good), 3 * len(good))


def test_fleet_check(fleet, run):
    s, e = fleet
    r = run("check", "--all-contexts", env=e)
    # some contexts could not be checked: the check failed
    assert r.returncode == 1
    lines = r.stdout.splitlines()
    for name, why in BROKEN.items():
        [line] = [x for x in lines if x.startswith("Context %s: " % name)]
        assert line.startswith("Context %s: error: " % name) and why in line
    assert lines[-1] == expected_summary(healthy(s), len(BROKEN))
    # the healthy ones alone have retired pools: errors
    good = ",".join(c.name for c in healthy(s)[:4])
    r = run("check", "--contexts", good, env=e)
    assert r.returncode == 4
    assert r.stdout.count("AzureLinux2Retired") == 4


def test_flag_conflicts(fleet, run):
    s, e = fleet
    for args, why in ((["--all-contexts", "--context", "fleet-01"], "--context cannot be used"),
                      (["--all-contexts", "--contexts", "a"], "cannot be used together"),
                      (["--all-contexts", "-g", "rg", "--name", "x"], "--name picks one cluster")):
        r = run("pools", *args, env=e)
        assert r.returncode == 1
        assert helpers.diagnostics(r.stderr).startswith("error: ") and why in r.stderr


def test_two_contexts_for_one_cluster_count_once(fleet, run, tmp_path):
    s, e = fleet
    c = s.cluster("fleet-02")
    alias = str(tmp_path / "alias")
    with open(alias, "w") as f:
        # an admin context next to the user one, as `az aks get-credentials --admin` adds
        f.write("apiVersion: v1\nkind: Config\ncontexts:\n- name: fleet-02-admin\n"
                "  context:\n    cluster: fleet-02\n    user: clusterUser_%s_fleet-02\n"
                % c.resource_group)
    e["KUBECONFIG"] = s.kubeconfig + os.pathsep + alias
    r = run("pools", "--contexts", "fleet-02,fleet-02-admin,fleet-04", env=e)
    assert r.returncode == 0, r.stderr
    table, summary = r.stdout.rstrip("\n").split("\n\n")
    _, rows = parse_table(table)
    assert [row["CONTEXT"] for row in rows].count("fleet-02-admin") == len(c.pools)
    assert summary == expected_summary([c, s.cluster("fleet-04")], 0)


@pytest.mark.parametrize("command", ["pools", "check"])
def test_all_contexts_of_an_empty_kubeconfig(command, run, env, tmp_path):
    """No contexts at all: one line naming the file and how to get one, exit 1."""
    empty = tmp_path / "empty-kubeconfig"
    empty.write_text("apiVersion: v1\nkind: Config\n")
    r = run(command, "--all-contexts", "--kubeconfig", str(empty), env=env)
    assert r.returncode == 1
    assert r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0] == ("error: no configuration has been provided: %s defines no contexts; "
                        "run az aks get-credentials or pass --kubeconfig" % empty)
