"""kubectl azlinux migrate / add-pool / status / resume / abort on the
simulator, on a fast clock (a simulated minute in a few wall milliseconds):
the plan and preflight, in-place and side-by-side moves followed to the end
and checked against the cluster model (every node on the target OS, the
pool's osSKU), the journal, interruption and resumption, and the
simulator's safety counters at zero throughout."""

import json
import re
import os
import signal
import subprocess
import threading
import time

import pytest

import helpers
from sim import scenario as scenarios

SCALE = 6000            # simulated seconds per wall second
SUB = scenarios.DEMO_SUBSCRIPTION
RG = "mig-rg"
NAME = "mig-aks"
SAFE = {"pdb_violations": 0, "lost_pods": 0, "no_ready_system_node": 0}


def mig_scenario(work_sku="Ubuntu", work_image=scenarios.UBUNTU2204_IMAGE, work_nodes=4,
                 k8s=None, system_sku="AzureLinux", system_image=scenarios.AZL3_IMAGE,
                 scale=SCALE, **work):
    kw = {"k8s_version": k8s} if k8s else {}
    pools = [scenarios.Pool("system", mode="System", count=3, zones=["1", "2", "3"],
                            os_sku=system_sku, node_image_version=system_image),
             scenarios.Pool("work", os_sku=work_sku, node_image_version=work_image,
                            count=work_nodes, zones=["1", "2", "3"], **kw, **work)]
    cluster = scenarios.Cluster(NAME, RG, SUB, location="eastus", pools=pools,
                                node_os_upgrade_channel="None")
    return scenarios.Scenario([cluster], name="mig", time_scale=scale)


@pytest.fixture
def msim(make_sim, tmp_path):
    s = make_sim(mig_scenario())
    return s, helpers.make_env(s, tmp_path / "home")


def cluster_of(sim):
    return sim.cluster(NAME)


def safety(sim):
    return cluster_of(sim).k8s.safety.counts()


def pool_nodes(sim, pool):
    return cluster_of(sim).k8s.pool_nodes(pool)


def node_os(node):
    return node["status"]["nodeInfo"]["osImage"]


def migrate(run, e, *args, timeout=120):
    return run("migrate", *args, env=e, timeout=timeout)


def report(r):
    assert r.stdout, r.stderr
    return json.loads(r.stdout)["operation"]


def test_in_place_ubuntu_to_azure_linux(msim, run):
    sim, e = msim
    before = sorted(n["metadata"]["name"] for n in pool_nodes(sim, "work"))
    r = migrate(run, e, "work", "--yes", "-o", "json")
    assert r.returncode == 0, r.stderr
    op = report(r)
    assert op["kind"] == "migrate" and op["state"] == "Succeeded"
    assert op["strategy"] == "in-place" and op["newPool"] is None
    assert op["from"]["osSku"] == "Ubuntu" and op["to"]["osSku"] == "AzureLinux"
    assert [s["state"] for s in op["steps"]] == ["done", "done"]
    assert len(op["nodes"]) == 4 and all(n["ready"] for n in op["nodes"])
    assert all(n["osVersion"] == "3.0" for n in op["nodes"])
    nodes = pool_nodes(sim, "work")
    assert sorted(n["metadata"]["name"] for n in nodes) == before
    assert all("Azure Linux 3.0" in node_os(n) for n in nodes)
    assert cluster_of(sim).pool("work").os_sku == "AzureLinux"
    assert safety(sim) == SAFE
    # the PUT carried If-Match and left nodeImageVersion out (the simulator
    # would have refused it otherwise); one PUT only
    puts = sim.find(method="PUT", path_prefix=cluster_of(sim).id + "/agentPools/work")
    assert len(puts) == 1 and puts[0]["status"] == 200
    # the node watch fed the progress
    assert "node aks-work-" in r.stderr and "Azure Linux 3.0" in r.stderr


def image_of(node):
    return node["metadata"]["labels"]["kubernetes.azure.com/node-image-version"]


@pytest.mark.parametrize("strategy", ["in-place", "side-by-side"])
def test_end_verification_prints_before_and_after(msim, run, strategy):
    sim, e = msim
    before = image_of(pool_nodes(sim, "work")[0])
    r = migrate(run, e, "work", "--strategy", strategy, "--yes", timeout=180)
    assert r.returncode == 0, r.stderr
    pool = "work" if strategy == "in-place" else "workazl"
    after = sorted({image_of(n) for n in pool_nodes(sim, pool)})
    assert before.startswith("AKSUbuntu-") and after[0].startswith("AKSAzureLinux-")
    k8s = cluster_of(sim).pool(pool).k8s_version
    block = r.stdout[r.stdout.index("Verified: pool work"):].splitlines()
    assert block[0] == "Verified: pool work" + ("" if pool == "work" else " moved to pool workazl")
    assert block[1:4] == [
        "  before:   Ubuntu 22.04 (osSKU Ubuntu), node image %s, Kubernetes %s" % (before, k8s),
        "  after:    Azure Linux 3.0 (osSKU AzureLinux), node image %s, Kubernetes %s" % (
            ", ".join(after), k8s),
        "  nodes:    4/4 Ready on Azure Linux 3.0"], block
    assert safety(sim) == SAFE


def test_verify_names_the_node_left_behind(msim, run):
    """A node NotReady once AKS's change ended: verify fails naming it, and
    no before/after claims a move that is not done."""
    sim, e = msim
    k, hit = cluster_of(sim).k8s, []

    def not_ready_at_the_end(req):
        pool = cluster_of(sim).pool("work")
        if hit or pool.os_sku != "AzureLinux" or pool.provisioning_state != "Succeeded":
            return
        hit.append(pool_nodes(sim, "work")[-1]["metadata"]["name"])
        k.set_ready(hit[0], False)

    sim.faults.add(server="azure", method="GET", times=None, then=not_ready_at_the_end)
    r = migrate(run, e, "work", "--yes")
    assert r.returncode == 1 and hit, r.stderr
    assert ("verify: nodes of pool work not Ready on AzureLinux 3.0: %s (Azure Linux 3.0, NotReady)"
            % hit[0]) in r.stderr
    assert "Verified:" not in r.stdout
    assert [x["state"] for x in journal(e)["steps"]] == ["done", "failed"]


def pool_path(sim, pool):
    return cluster_of(sim).id + "/agentPools/" + pool


def writes(sim, method, pool):
    return [r for r in sim.find(method=method, path_prefix=pool_path(sim, pool))
            if r["path"].rstrip("/").endswith("/agentPools/" + pool)]


def journal_dir(e):
    state = e.get("XDG_STATE_HOME") or os.path.join(e["HOME"], ".local", "state")
    return os.path.join(state, "kubectl-azlinux", "operations")


def journal_files(e):
    d = journal_dir(e)
    if not os.path.isdir(d):
        return []
    return sorted(os.path.join(d, f) for f in os.listdir(d) if f.endswith(".json"))


def journal(e, i=-1):
    with open(journal_files(e)[i]) as f:
        return json.load(f)


def assert_nothing_written(sim, pool="work"):
    for method in ("PUT", "POST", "DELETE"):
        assert writes(sim, method, pool) == [], method


@pytest.mark.parametrize("sku,image", [("AzureLinux", scenarios.AZL2_IMAGE),
                                       ("CBLMariner", scenarios.MARINER2_IMAGE)])
def test_azure_linux_2_moves_to_3_as_azurelinux3(make_sim, tmp_path, run, sku, image):
    sim = make_sim(mig_scenario(work_sku=sku, work_image=image, k8s="1.31.9"))
    e = helpers.make_env(sim, tmp_path / "home")
    assert {node_os(n) for n in pool_nodes(sim, "work")} == {"CBL-Mariner/Linux"}
    r = migrate(run, e, "work", "--dry-run")
    assert r.returncode == 0, r.stderr
    assert "osSKU AzureLinux3" in r.stdout and "Azure Linux 3.0" in r.stdout
    assert "Kubernetes 1.32+" in r.stdout            # the other way, named
    assert "before upgrading to 1.37" in r.stdout     # AzureLinux3 must be changed back
    assert_nothing_written(sim)
    r = migrate(run, e, "work", "--yes", "-o", "json")
    assert r.returncode == 0, r.stderr
    op = report(r)
    assert op["to"]["osSku"] == "AzureLinux3" and op["to"]["osVersion"] == "3.0"
    assert op["from"]["osSku"] == sku and op["from"]["osVersion"] == "2.0"
    assert {node_os(n) for n in pool_nodes(sim, "work")} == {"Microsoft Azure Linux 3.0"}
    assert cluster_of(sim).pool("work").os_sku == "AzureLinux3"
    assert safety(sim) == SAFE


def test_a_target_landing_on_2_0_is_refused(make_sim, tmp_path, run):
    sim = make_sim(mig_scenario(work_sku="CBLMariner", work_image=scenarios.MARINER2_IMAGE,
                                k8s="1.31.9"))
    e = helpers.make_env(sim, tmp_path / "home")
    r = migrate(run, e, "work", "--to", "AzureLinux", "--yes")
    assert r.returncode == 1
    assert "Azure Linux 2.0, which is retired" in r.stderr and "--to AzureLinux3" in r.stderr
    assert_nothing_written(sim)


def test_status_json_lists_the_journal(msim, run):
    sim, e = msim
    assert migrate(run, e, "work", "--yes").returncode == 0
    r = run("status", "-o", "json", env=e)
    assert r.returncode == 0, r.stderr
    ops = json.loads(r.stdout)["operations"]
    assert len(ops) == 1
    op = ops[0]
    assert set(op) == {"id", "kind", "context", "cluster", "pool", "strategy", "newPool", "from",
                       "to", "state", "preflight", "steps", "nodes", "error"}
    assert op["state"] == "Succeeded" and op["cluster"]["name"] == NAME
    assert {p["check"] for p in op["preflight"]} >= {"PoolState", "Target", "PDBs", "Quota"}
    assert all(s["startTime"] and s["endTime"] for s in op["steps"])
    one = json.loads(run("status", op["id"], "-o", "json", env=e).stdout)["operation"]
    assert one == op
    # the journal file holds no secret
    text = open(journal_files(e)[0]).read()
    assert "eyJ" not in text and "Bearer" not in text


def test_no_terminal_needs_yes(msim, run):
    sim, e = msim
    r = migrate(run, e, "work")
    assert r.returncode == 1 and "--yes" in r.stderr
    assert_nothing_written(sim)


def test_every_preflight_blocker_is_reported(msim, run):
    sim, e = msim
    c = cluster_of(sim)
    k = c.k8s
    work = pool_nodes(sim, "work")
    k.add_deployment("pay", "ledger", 2, nodes=work[:1])
    k.add_pdb("pay", "ledger", {"app": "ledger"}, min_available=2)      # no disruption
    k.add_deployment("shop", "web", 2, nodes=work[1:2])
    k.add_pdb("shop", "web", {"app": "web"}, min_available=1)
    k.add_pdb("shop", "web-extra", {"app": "web"}, min_available=1)     # two PDBs on a pod
    k.add_pdb("shop", "strict", {"app": "other"}, max_unavailable=0)    # UnsatisfiablePDB
    sim.capacity.set_quota("eastus", cores=30)                         # 28 used, 4 more needed
    r = migrate(run, e, "work", "--dry-run", "-o", "json")
    assert r.returncode == 4, r.stderr
    pre = report(r)["preflight"]
    blockers = {p["check"] for p in pre if p["severity"] == "blocker"}
    assert blockers == {"PDBBlocksDrain", "MultiplePDBs", "UnsatisfiablePDB", "Quota"}
    msg = {p["check"]: p["message"] for p in pre if p["severity"] == "blocker"}
    assert "pay/ledger" in msg["PDBBlocksDrain"] and "shop/strict" in msg["UnsatisfiablePDB"]
    r = migrate(run, e, "work", "--yes")
    assert r.returncode == 4 and "blockers: nothing was changed" in r.stderr
    assert_nothing_written(sim)
    assert journal_files(e) == []


def test_pool_state_blocker(make_sim, tmp_path, run):
    sim = make_sim(mig_scenario(provisioning_state="Failed"))
    e = helpers.make_env(sim, tmp_path / "home")
    r = migrate(run, e, "work", "--dry-run")
    assert r.returncode == 4
    assert "blocker  PoolState: pool work is Failed" in r.stdout


def test_forced_in_place_that_aks_refuses_is_refused(make_sim, tmp_path, run):
    sim = make_sim(mig_scenario(extra={"properties": {"workloadRuntime": "KataVmIsolation"}}))
    e = helpers.make_env(sim, tmp_path / "home")
    r = migrate(run, e, "work", "--strategy", "in-place", "--yes")
    assert r.returncode == 1 and "cannot change OS in place" in r.stderr
    assert_nothing_written(sim)


def test_409_from_a_concurrent_operation(msim, run):
    sim, e = msim
    sim.faults.add(server="azure", method="PUT", path_prefix=pool_path(sim, "work"), status=409,
                   body={"error": {"code": "OperationNotAllowed", "message":
                                   "Operation is not allowed: Another operation (Upgrading) is "
                                   "in progress, please wait for it to finish."}})
    r = migrate(run, e, "work", "--yes")
    assert r.returncode == 1
    assert "pool work is busy" in r.stderr and "OperationNotAllowed" in r.stderr
    j = journal(e)
    assert j["state"] == "Failed" and j["steps"][0]["state"] == "failed"
    assert cluster_of(sim).pool("work").os_sku == "Ubuntu"
    assert safety(sim) == SAFE


def ledger_replacement_never_ready(make_sim, tmp_path):
    """Two replicas on two nodes, one may go: the first eviction passes the
    preflight's look, the second waits for a replacement that never gets Ready."""
    sim = make_sim(mig_scenario(work_nodes=3))
    e = helpers.make_env(sim, tmp_path / "home")
    k = cluster_of(sim).k8s
    k.add_deployment("pay", "ledger", 2, nodes=pool_nodes(sim, "work")[:2])
    k.add_pdb("pay", "ledger", {"app": "ledger"}, min_available=1)
    k.delays["pod_ready"] = 10 ** 7
    return sim, e, k


def test_blocked_drain_names_node_pod_and_pdb(make_sim, tmp_path, run):
    sim, e, k = ledger_replacement_never_ready(make_sim, tmp_path)
    r = migrate(run, e, "work", "--yes", "--drain-timeout", "5", "-o", "json")
    assert r.returncode == 1
    assert "AKS could not drain node aks-work-" in r.stderr
    assert re.search(r"AKS could not drain node (aks-work-\S+): pod (\S+) is held by "
                     r"PodDisruptionBudget (\S+)\.", r.stderr)
    node, pod, pdb = re.search(r"Drain node (\S+) failed when evicting pod (\S+) failed.*"
                               r"blocked by pdb (\S+) ", r.stderr).groups()
    assert "AKS could not drain node %s: pod %s is held by PodDisruptionBudget %s." % (
        node, pod, pdb) in r.stderr
    assert "kubectl azlinux resume" in r.stderr and "upgrade-status-" in r.stderr
    op = report(r)
    assert op["state"] == "Failed" and op["steps"][0]["state"] == "failed"
    assert "UpgradeFailed" in op["error"]
    assert journal(e)["steps"][0]["error"].startswith("AKS could not drain node")
    assert safety(sim) == SAFE
    # the cause fixed (the replacement gets Ready), resume sends the change again
    k.delays["pod_ready"] = 30
    with k.lock:
        for pod in k.pods(namespace="pay"):
            pod["status"]["conditions"] = [{"type": "Ready", "status": "True"}]
    k.objects["poddisruptionbudgets"].clear()
    r = run("resume", "-o", "json", env=e, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "Failed: sending the change again to reconcile it" in r.stderr
    assert report(r)["state"] == "Succeeded"
    assert all("Azure Linux 3.0" in node_os(n) for n in pool_nodes(sim, "work"))
    assert safety(sim) == SAFE


def test_progress_names_the_pdb_an_aks_drain_waits_on(make_sim, tmp_path, run, bin_path):
    """An in-place move whose replacements never get Ready: AKS's drain of a
    node waits on a PDB; the progress names it (derived from the PDBs'
    status: Kubernetes records no event for the eviction's 429), the same
    PDB AKS names when it gives up after the drain timeout."""
    sim, e, k = ledger_replacement_never_ready(make_sim, tmp_path)

    def cordoned():
        return [n for n in pool_nodes(sim, "work") if n["spec"].get("unschedulable")]

    def pdb_reads():
        return [x for x in sim.find(method="GET") if x["path"].endswith("/poddisruptionbudgets")]

    sim.clock.pause()
    p = subprocess.Popen([bin_path, "migrate", "work", "--yes", "--drain-timeout", "30"], env=e,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        end = time.monotonic() + 60
        while not cordoned():
            assert p.poll() is None and time.monotonic() < end, p.communicate()[1][-3000:]
            sim.clock.step(5)
            time.sleep(0.01)
        reads = len(pdb_reads())
        while len(pdb_reads()) < reads + 2:        # two looks of the watch thread
            assert time.monotonic() < end
            time.sleep(0.1)
    finally:
        sim.clock.resume()
    out, err = p.communicate(timeout=120)
    assert p.returncode == 1, err                  # AKS gave up after the drain timeout
    said = re.findall(r"node (aks-work-\S+): waiting on PDB (\S+)/(\S+) \(healthy (\d+)/desired "
                      r"(\d+)\)", err)
    node, pdb = re.search(r"AKS could not drain node (\S+): pod \S+ is held by "
                          r"PodDisruptionBudget (\S+)\.", err).groups()
    assert any(n == node and name == pdb and int(h) <= int(d) for n, _, name, h, d in said), err
    assert safety(sim) == SAFE


# --- side by side ---------------------------------------------------------------

def test_side_by_side_of_the_only_system_pool(make_sim, tmp_path, run):
    sim = make_sim(mig_scenario(system_sku="Ubuntu", system_image=scenarios.UBUNTU2204_IMAGE))
    e = helpers.make_env(sim, tmp_path / "home")
    old = sorted(n["metadata"]["name"] for n in pool_nodes(sim, "system"))
    r = migrate(run, e, "system", "--strategy", "side-by-side", "--yes", "-o", "json",
                timeout=240)
    assert r.returncode == 0, r.stderr
    op = report(r)
    assert op["strategy"] == "side-by-side" and op["newPool"] == "systemazl"
    assert [s["name"] for s in op["steps"]] == ["create-pool", "wait-ready", "stop-autoscaler",
                                                "cordon", "drain", "delete-pool", "verify"]
    assert all(s["state"] == "done" for s in op["steps"])
    c = cluster_of(sim)
    assert [p.name for p in c.pools if p.name.startswith("system")] == ["systemazl"]
    assert c.pool("systemazl").mode == "System" and c.pool("systemazl").os_sku == "AzureLinux"
    assert pool_nodes(sim, "system") == []
    new = pool_nodes(sim, "systemazl")
    assert len(new) == 3 and all("Azure Linux 3.0" in node_os(n) for n in new)
    assert not set(old) & {n["metadata"]["name"] for n in new}
    # created once, with If-None-Match; the old pool deleted once
    assert len(writes(sim, "PUT", "systemazl")) == 1
    assert len(writes(sim, "DELETE", "system")) == 1
    assert safety(sim) == SAFE          # never without a Ready System node


def test_side_by_side_of_a_kata_pool_by_default(make_sim, tmp_path, run):
    sim = make_sim(mig_scenario(extra={"properties": {"workloadRuntime": "KataVmIsolation"}},
                                work_nodes=2))
    e = helpers.make_env(sim, tmp_path / "home")
    r = migrate(run, e, "work", "--dry-run")
    assert r.returncode in (0, 3), r.stdout + r.stderr
    assert "side by side: AKS cannot change the OS of this pool in place (Kata" in r.stdout
    assert "az aks nodepool add" in r.stdout and "--workload-runtime KataVmIsolation" in r.stdout
    r = migrate(run, e, "work", "--yes", "--new-pool", "workazl", "-o", "json", timeout=240)
    assert r.returncode == 0, r.stderr
    c = cluster_of(sim)
    assert "work" not in [p.name for p in c.pools]
    assert c.pool("workazl").extra["properties"].get("workloadRuntime") == "KataVmIsolation" \
        or report(r)["state"] == "Succeeded"
    assert all("Azure Linux 3.0" in node_os(n) for n in pool_nodes(sim, "workazl"))
    assert safety(sim) == SAFE


def test_add_pool_like_another(msim, run):
    sim, e = msim
    r = run("add-pool", "azlwork", "--like", "work", "--count", "2", "--yes", "-o", "json",
            env=e, timeout=120)
    assert r.returncode == 0, r.stderr
    op = report(r)
    assert op["kind"] == "add-pool" and op["state"] == "Succeeded"
    p = cluster_of(sim).pool("azlwork")
    assert (p.os_sku, p.count, p.vm_size, p.zones) == ("AzureLinux", 2, "Standard_D4ds_v5",
                                                       ["1", "2", "3"])
    assert len(pool_nodes(sim, "azlwork")) == 2
    assert cluster_of(sim).pool("work").os_sku == "Ubuntu"      # the old pool untouched


# --- interruption -----------------------------------------------------------------

SLOW = 150              # a 4-node roll takes a few wall seconds


class Proc:
    """The plugin in the background, its stderr read as it comes."""

    def __init__(self, bin_path, e, *args):
        self.p = subprocess.Popen([bin_path, *args], env=e, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        self.err = []

    def wait_for(self, text, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            line = self.p.stderr.readline()
            if not line:
                break
            self.err.append(line)
            if text in line:
                return line
        raise AssertionError("no %r in %s" % (text, "".join(self.err)))

    def finish(self, timeout=60):
        out, err = self.p.communicate(timeout=timeout)
        self.err.append(err)
        return self.p.returncode, out, "".join(self.err)


@pytest.fixture
def slow(make_sim, tmp_path):
    s = make_sim(mig_scenario(scale=SLOW))
    return s, helpers.make_env(s, tmp_path / "home")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_then_resume_reattaches(slow, run, bin_path, sig):
    sim, e = slow
    p = Proc(bin_path, e, "migrate", "work", "--yes")
    p.wait_for("AKS operation: InProgress")
    p.p.send_signal(sig)
    rc, out, err = p.finish()
    assert rc == 130, err
    op_id = re.search(r"Interrupted: operation (\S+) ", err).group(1)
    assert "kubectl azlinux resume %s    go on from step update-pool" % op_id in err
    j = journal(e)
    assert j["steps"][0]["state"] == "running" and j["steps"][0]["operation"]["statusUrl"]
    assert "operation" in j["steps"][0]
    st = json.loads(run("status", "-o", "json", env=e).stdout)["operations"][0]
    assert st["state"] == "Interrupted"
    live = run("status", "--live", env=e)
    assert live.returncode == 0, live.stderr
    row = [x for x in live.stdout.splitlines() if x.startswith(op_id)][0].split()
    assert row[5:7] == ["Interrupted", "update-pool"]
    assert row[7] in ("InProgress", "Succeeded")          # AKS's own state, asked live
    y = run("status", op_id, "-o", "yaml", env=e)
    assert y.returncode == 0 and "state: Interrupted" in y.stdout and "kind: migrate" in y.stdout
    r = run("resume", env=e, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "re-attached to the running ARM operation" in r.stderr
    assert len(writes(sim, "PUT", "work")) == 1         # not sent again
    assert journal(e)["state"] == "Succeeded"
    assert all("Azure Linux 3.0" in node_os(n) for n in pool_nodes(sim, "work"))
    assert safety(sim) == SAFE


@pytest.mark.parametrize("at", ["AKS operation: InProgress", "step verify: started"])
def test_sigkill_then_resume_finishes(slow, run, bin_path, at):
    sim, e = slow
    p = Proc(bin_path, e, "migrate", "work", "--yes")
    p.wait_for(at)
    p.p.kill()
    p.finish()
    st = json.loads(run("status", "-o", "json", env=e).stdout)["operations"][0]
    assert st["state"] == "Interrupted"
    r = run("resume", st["id"], "-o", "json", env=e, timeout=120)
    assert r.returncode == 0, r.stderr
    assert report(r)["state"] == "Succeeded"
    assert len(writes(sim, "PUT", "work")) == 1
    assert cluster_of(sim).pool("work").os_sku == "AzureLinux"
    assert safety(sim) == SAFE


def test_sigkill_before_the_handle_reached_the_journal(slow, run, bin_path):
    """The PUT got through, the journal has no handle: resume sees the osSKU
    changed and follows the pool's provisioningState, sending nothing."""
    sim, e = slow
    p = Proc(bin_path, e, "migrate", "work", "--yes")
    p.wait_for("AKS operation: InProgress")
    p.p.kill()
    p.finish()
    path = journal_files(e)[-1]
    j = json.load(open(path))
    j["steps"][0].pop("operation")
    json.dump(j, open(path, "w"))
    r = run("resume", env=e, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "the change was accepted before; following it" in r.stderr
    assert len(writes(sim, "PUT", "work")) == 1
    assert safety(sim) == SAFE


def test_abort_cancels_the_aks_operation(slow, run, bin_path):
    sim, e = slow
    p = Proc(bin_path, e, "migrate", "work", "--yes")
    p.wait_for("AKS operation: InProgress")
    p.p.send_signal(signal.SIGINT)
    assert p.finish()[0] == 130
    r = run("abort", "-o", "json", env=e, timeout=120)
    assert r.returncode == 0, r.stderr
    assert report(r)["state"] == "Canceled"
    aborts = [x for x in sim.find(method="POST", path_prefix=pool_path(sim, "work"))
              if x["path"].endswith("/abort")]
    assert len(aborts) == 1
    assert run("resume", env=e).returncode == 1          # nothing left to resume
    assert safety(sim) == SAFE


def test_abort_rolls_a_side_by_side_move_back(msim, run):
    sim, e = msim
    r = migrate(run, e, "work", "--strategy", "side-by-side", "--yes", "--no-wait")
    assert r.returncode == 0, r.stderr
    assert journal(e)["state"] == "InProgress"
    r = run("abort", env=e, timeout=120)
    assert r.returncode == 0, r.stderr
    names = [p.name for p in cluster_of(sim).pools]
    assert "workazl" not in names and "work" in names
    assert all(not n["spec"].get("unschedulable") for n in pool_nodes(sim, "work"))
    assert journal(e)["state"] == "Canceled"
    assert safety(sim) == SAFE


def unready_pods(sim, namespace):
    """The namespace's pods that are not Running and Ready."""
    bad = []
    for pod in cluster_of(sim).k8s.pods(namespace=namespace):
        conds = {c["type"]: c["status"] for c in pod["status"].get("conditions", [])}
        if pod["status"].get("phase") != "Running" or conds.get("Ready") != "True":
            bad.append("%s %s %s" % (pod["metadata"]["name"], pod["spec"].get("nodeName"),
                                     pod["status"].get("phase")))
    return bad


def test_abort_after_the_drain_began_moves_the_workloads_back(make_sim, tmp_path, run, bin_path):
    """Ctrl-C while the old pool drains (every old node cordoned, some pods
    moved), then abort: the old pool is uncordoned, the new one cordoned and
    drained back through the eviction API, and deleted only then; every pod
    ends Ready on the old pool, the counters at zero."""
    sc = mig_scenario(scale=SLOW, work_nodes=3)
    # a System pool kept to itself: the workloads go to the new pool
    sc.clusters[0].pools[0].node_taints = ["dedicated=system:NoSchedule"]
    sim = make_sim(sc)
    e = helpers.make_env(sim, tmp_path / "home")
    shop = len(cluster_of(sim).k8s.pods(namespace="shop"))
    assert shop and unready_pods(sim, "shop") == []
    p = Proc(bin_path, e, "migrate", "work", "--strategy", "side-by-side", "--yes")
    p.wait_for("draining aks-work-", timeout=120)
    p.wait_for("draining aks-work-", timeout=120)
    p.p.send_signal(signal.SIGINT)
    rc, _, err = p.finish(timeout=120)
    assert rc == 130, err
    steps = {x["name"]: x["state"] for x in journal(e)["steps"]}
    assert steps["cordon"] == "done" and steps["drain"] == "running", steps
    new_nodes = [n["metadata"]["name"] for n in pool_nodes(sim, "workazl")]
    moved = [x for x in cluster_of(sim).k8s.pods() if x["spec"].get("nodeName") in new_nodes
             and x["metadata"]["ownerReferences"][0]["kind"] != "DaemonSet"]
    assert moved, err                       # something had moved when it stopped
    aborted = time.time()
    r = run("abort", env=e, timeout=180)
    assert r.returncode == 0, r.stderr
    assert "moving its workloads back from workazl" in r.stderr
    names = [x.name for x in cluster_of(sim).pools]
    assert "workazl" not in names and "work" in names
    assert all(not n["spec"].get("unschedulable") for n in pool_nodes(sim, "work"))
    delete = writes(sim, "DELETE", "workazl")
    assert len(delete) == 1
    evictions = [x for x in sim.find(method="POST", path_prefix="/api/v1/namespaces/")
                 if x["path"].endswith("/eviction")]
    back = [x for x in evictions if x["start"] > aborted]
    assert back and back[-1]["t"] < delete[0]["start"]      # drained back, then deleted
    assert unready_pods(sim, "shop") == []
    assert len(cluster_of(sim).k8s.pods(namespace="shop")) == shop
    old_nodes = {n["metadata"]["name"] for n in pool_nodes(sim, "work")}
    assert {x["spec"]["nodeName"] for x in cluster_of(sim).k8s.pods(namespace="shop")} <= old_nodes
    assert journal(e)["state"] == "Canceled"
    assert safety(sim) == SAFE


def wait_pool_state(sim, pool, state="Succeeded", timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline and cluster_of(sim).pool(pool).provisioning_state != state:
        time.sleep(0.05)
    assert cluster_of(sim).pool(pool).provisioning_state == state


def test_a_pool_someone_else_created_is_never_adopted_nor_deleted(msim, run):
    """Between the plan and the create, someone else creates a real pool of
    the new pool's name: the PUT (If-None-Match: *) gets AKS's 412 and the
    move stops with one line naming the pool and what to do; resume does
    not adopt it (no write to it), abort does not delete it, and the old
    pool is left as it was."""
    from sim import armwrite
    sim, e = msim
    c = cluster_of(sim)
    sim.faults.add(method="PUT", path_prefix=pool_path(sim, "workazl"), times=1,
                   then=lambda req: armwrite.someone_else_creates(sim.arm, c, "workazl",
                                                                  like="work"))
    r = migrate(run, e, "work", "--strategy", "side-by-side", "--yes")
    assert r.returncode != 0
    line = ("pool workazl exists and this operation did not create it (someone else did): "
            "it is neither used nor deleted; abort (kubectl azlinux abort %s) and move pool "
            "work under another name (kubectl azlinux migrate work --new-pool NAME)"
            % journal(e)["id"])
    assert line in r.stderr, r.stderr
    puts = writes(sim, "PUT", "workazl")
    assert [x["status"] for x in puts] == [412]
    steps = {x["name"]: x["state"] for x in journal(e)["steps"]}
    assert steps["create-pool"] == "failed" and steps["wait-ready"] == "pending", steps
    wait_pool_state(sim, "workazl")
    r = run("resume", env=e, timeout=120)
    assert r.returncode != 0 and line in r.stderr, r.stderr
    r = run("abort", env=e, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "pool workazl was not created by this operation (someone else did): it is left " \
        "as it is" in r.stderr
    assert journal(e)["state"] == "Canceled"
    theirs = c.pool("workazl")
    assert theirs.provisioning_state == "Succeeded" and theirs.extra["tags"] == {
        "owner": "someone-else"}
    assert len(pool_nodes(sim, "workazl")) == c.pool("work").count
    assert len(writes(sim, "PUT", "workazl")) == 1 and writes(sim, "DELETE", "workazl") == []
    assert_nothing_written(sim, "work")
    assert safety(sim) == SAFE


def test_the_pool_we_created_carries_the_operation_tag(msim, run):
    """Our create proves ownership: the new pool carries the operation's
    id in its azlinux-operation tag, and the move goes to its end."""
    sim, e = msim
    r = migrate(run, e, "work", "--strategy", "side-by-side", "--yes", timeout=180)
    assert r.returncode == 0, r.stderr
    put = writes(sim, "PUT", "workazl")[0]
    assert put["status"] == 201 and not put["if_match"]
    assert json.loads(put["body"])["properties"]["tags"]["azlinux-operation"] == journal(e)["id"]
    assert cluster_of(sim).pool("workazl").extra["tags"] == {
        "azlinux-operation": journal(e)["id"]}
    assert safety(sim) == SAFE


def test_abort_after_stop_autoscaler_starts_the_old_autoscaler_again(make_sim, tmp_path, run):
    """A pool with the autoscaler on (min 2, max 6), moved side by side and
    stopped after stop-autoscaler (the cordon refused): abort uncordons it,
    starts its autoscaler again as journaled with a fresh GET and If-Match
    PUT, and deletes the new pool; the record keeps the rollback's handles
    apart from the steps'."""
    sim = make_sim(mig_scenario(autoscale=True, min_count=2, max_count=6))
    e = helpers.make_env(sim, tmp_path / "home")
    c = cluster_of(sim)
    sim.faults.add(method="PATCH", path_prefix="/api/v1/nodes/aks-work-",
                   status=403, times=None)
    r = migrate(run, e, "work", "--strategy", "side-by-side", "--yes", timeout=180)
    assert r.returncode != 0
    steps = {x["name"]: x["state"] for x in journal(e)["steps"]}
    assert steps["stop-autoscaler"] == "done" and steps["cordon"] == "failed", steps
    assert not c.pool("work").autoscale
    assert journal(e)["data"]["autoscaler"] == {"enableAutoScaling": True, "minCount": 2,
                                                "maxCount": 6}
    sim.faults.clear()
    before = len(writes(sim, "PUT", "work"))
    r = run("abort", env=e, timeout=180)
    assert r.returncode == 0, r.stderr
    assert "starting the autoscaler of work again (min 2, max 6)" in r.stderr
    work = c.pool("work")
    assert (work.autoscale, work.min_count, work.max_count) == (True, 2, 6)
    puts = writes(sim, "PUT", "work")[before:]
    assert len(puts) == 1 and puts[0]["status"] == 200 and puts[0]["if_match"]
    assert "workazl" not in [x.name for x in c.pools]
    j = journal(e)
    assert j["state"] == "Canceled"
    assert all("operation" not in x for x in j["steps"])
    assert set(j["data"].get("rollbackOperations", {})) <= {"restore-autoscaler", "delete-pool"}
    assert not any(j["data"].get("rollbackOperations", {}).values())
    assert safety(sim) == SAFE


def test_412_stops_resumably_and_resume_plans_the_step_again(msim, run, bin_path):
    """The pool changes between the plan and the confirmation: the fresh GET
    sees another eTag and nothing is PUT; the run stops with one line naming
    `kubectl azlinux resume ID`, the journal Failed at update-pool with the
    reason; resume reads the pool afresh, plans the step again and finishes
    with a PUT on the fresh eTag."""
    import pty
    sim, e = msim
    master, slave = pty.openpty()
    p = subprocess.Popen([bin_path, "migrate", "work"], env=e, stdin=slave,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    os.close(slave)
    deadline = time.time() + 30
    while time.time() < deadline and not writes(sim, "PUT", "work"):
        time.sleep(0.05)
        if any("/agentPools" in x["path"] for x in sim.find(method="GET")) and \
                p.poll() is None:
            break
    time.sleep(1.0)                                   # the prompt is up
    from sim import armwrite
    c = cluster_of(sim)
    with c.k8s.lock:
        armwrite.bump(c.pool("work"))                 # someone else changed the pool
    os.write(master, b"y\n")
    out, err = p.communicate(timeout=60)
    os.close(master)
    assert p.returncode == 1, err
    doc = journal(e)
    errors = [l for l in helpers.diagnostics(err).splitlines() if l.startswith("error: ")]
    assert len(errors) == 1, err
    assert "changed since the plan was made" in errors[0] and "nothing was sent" in errors[0]
    assert "kubectl azlinux resume %s" % doc["id"] in errors[0], errors[0]
    assert writes(sim, "PUT", "work") == []
    assert c.pool("work").os_sku == "Ubuntu"
    assert doc["state"] == "Failed"
    step = next(s for s in doc["steps"] if s["name"] == "update-pool")
    assert step["state"] == "failed" and "changed since the plan" in step["error"]
    assert doc["data"]["staleStep"] == "update-pool"
    # resume: a fresh GET, the step planned again, one PUT on that eTag
    r = run("resume", doc["id"], env=e, timeout=180)
    assert r.returncode == 0, r.stderr
    assert "planned again from a fresh read" in r.stderr
    puts = writes(sim, "PUT", "work")
    assert len(puts) == 1 and puts[0]["status"] in (200, 201), puts
    gets = [x for x in sim.find(server="azure", method="GET", path_prefix=pool_path(sim, "work"))
            if x["path"].rstrip("/").endswith("/agentPools/work") and x["t"] < puts[0]["start"]]
    assert puts[0]["if_match"] and gets, "the PUT went out without a fresh read"
    assert c.pool("work").os_sku == "AzureLinux"
    done = journal(e)
    assert done["state"] == "Succeeded" and "staleStep" not in done["data"]
    assert not [x for x in sim.find(server="azure") if x["status"] == 412]
    assert safety(sim) == SAFE


@pytest.mark.parametrize("at", ["step wait-ready: started", "step cordon: started",
                                "step drain: started", "step delete-pool: started"])
def test_side_by_side_sigkill_at_each_step_then_resume(make_sim, tmp_path, run, bin_path, at):
    sim = make_sim(mig_scenario(scale=SLOW, work_nodes=3))
    e = helpers.make_env(sim, tmp_path / "home")
    p = Proc(bin_path, e, "migrate", "work", "--strategy", "side-by-side", "--yes")
    p.wait_for(at)
    p.p.kill()
    p.finish()
    r = run("resume", "-o", "json", env=e, timeout=180)
    assert r.returncode == 0, r.stderr
    assert report(r)["state"] == "Succeeded"
    names = [x.name for x in cluster_of(sim).pools]
    assert "work" not in names and "workazl" in names
    assert len(writes(sim, "PUT", "workazl")) == 1          # never created twice
    assert len(writes(sim, "DELETE", "work")) <= 1
    assert len(pool_nodes(sim, "workazl")) == 3
    assert safety(sim) == SAFE


@pytest.mark.parametrize("when", ["before the answer", "while its operation runs"])
def test_side_by_side_sigkill_during_create_pool_then_resume(make_sim, tmp_path, run, bin_path,
                                                             when):
    """SIGKILL once the new pool's PUT (If-None-Match: *) was sent: before its
    answer came back (no handle in the journal: resume finds the pool being
    created and follows it), or while AKS's create runs (resume re-attaches).
    The pool is created once and the move finishes."""
    sim = make_sim(mig_scenario(scale=SLOW, work_nodes=3))
    e = helpers.make_env(sim, tmp_path / "home")
    sent, procs = [], []

    def kill_before_the_answer(req):
        sent.append(req.headers.get("If-None-Match"))
        if when == "before the answer":
            procs[0].p.kill()

    sim.faults.add(server="azure", method="PUT", path_prefix=pool_path(sim, "workazl"), times=1,
                   then=kill_before_the_answer)
    procs.append(Proc(bin_path, e, "migrate", "work", "--strategy", "side-by-side", "--yes"))
    if when == "while its operation runs":
        procs[0].wait_for("step create-pool: started")
        procs[0].wait_for("AKS operation: InProgress")
        procs[0].p.kill()
    rc, _, err = procs[0].finish()
    assert rc == -signal.SIGKILL, err
    assert sent == ["*"]
    j = journal(e)
    step = [x for x in j["steps"] if x["name"] == "create-pool"][0]
    assert step["state"] == "running"
    assert ("operation" in step) == (when == "while its operation runs"), step
    r = run("resume", "-o", "json", env=e, timeout=180)
    assert r.returncode == 0, r.stderr
    assert ("re-attached to the running ARM operation" in r.stderr) == (when != "before the answer")
    assert ("the change was accepted before; following it" in r.stderr) == (
        when == "before the answer")
    assert report(r)["state"] == "Succeeded"
    assert len(writes(sim, "PUT", "workazl")) == 1          # never created twice
    names = [x.name for x in cluster_of(sim).pools]
    assert "work" not in names and "workazl" in names
    assert len(pool_nodes(sim, "workazl")) == 3
    assert safety(sim) == SAFE


def test_side_by_side_canary_first(msim, run):
    sim, e = msim
    r = migrate(run, e, "work", "--strategy", "side-by-side", "--canary", "--yes", "-o", "json",
                timeout=180)
    assert r.returncode == 0, r.stderr
    assert "canary node of workazl Ready on the target: adding the rest" in r.stderr
    puts = writes(sim, "PUT", "workazl")
    assert [x["status"] for x in puts] == [201, 200]       # one node, then the rest
    assert cluster_of(sim).pool("workazl").count == 4
    assert safety(sim) == SAFE


def node_lists(sim, since, until):
    """Node lists (not watches) the plugin began in [since, until]."""
    return [r for r in sim.find(method="GET", path_prefix="/api/v1/nodes")
            if r["server"] != "azure" and r["path"] == "/api/v1/nodes"
            and not r["query"].get("watch") and since <= r["start"] <= until]


def flap_a_new_node(sim, wall_s=3):
    """Once AKS's create of workazl has ended, one of its nodes goes NotReady
    for wall_s; returns the times (wall) it went and came back."""
    k, seen = cluster_of(sim).k8s, {}

    def ready_later(name):
        time.sleep(wall_s)
        seen["ready"] = time.time()
        k.set_ready(name, True)

    def not_ready_at_the_end(req):
        pool = next((p for p in cluster_of(sim).pools if p.name == "workazl"), None)
        if seen or pool is None or pool.provisioning_state != "Succeeded":
            return
        name = pool_nodes(sim, "workazl")[0]["metadata"]["name"]
        seen["not_ready"] = time.time()
        k.set_ready(name, False)
        threading.Thread(target=ready_later, args=(name,), daemon=True).start()

    sim.faults.add(server="azure", method="GET", times=None, then=not_ready_at_the_end)
    return seen


def test_wait_ready_waits_on_the_node_watch(msim, run):
    """A node of the new pool goes NotReady as AKS's create ends: wait-ready
    waits for it on the node watch, listing no nodes meanwhile, and goes on
    as soon as the watch shows it Ready again."""
    sim, e = msim
    seen = flap_a_new_node(sim)
    r = migrate(run, e, "work", "--strategy", "side-by-side", "--yes", "-o", "json", timeout=180)
    assert r.returncode == 0, r.stderr
    assert "ready" in seen, r.stderr
    assert report(r)["state"] == "Succeeded"
    # the next step's first request: after the node came back, and at once
    nxt = min(x["start"] for x in writes(sim, "GET", "work") if x["start"] > seen["not_ready"])
    assert seen["ready"] <= nxt <= seen["ready"] + 1.5, (seen, nxt)   # a 2 s poll: up to 2
    assert node_lists(sim, seen["not_ready"], seen["ready"]) == []
    assert safety(sim) == SAFE


def test_wait_ready_lists_once_the_node_watch_gave_up(msim, run):
    """The watch refused (403: no reconnect cures it): wait-ready lists the
    nodes instead, every 2 s, and still waits for the node to come back."""
    sim, e = msim
    refused = sim.faults.add(method="GET", path_prefix="/api/v1/nodes", status=403,
                             times=None, match=lambda req: req.q("watch") == "1")
    seen = flap_a_new_node(sim)
    r = migrate(run, e, "work", "--strategy", "side-by-side", "--yes", "-o", "json", timeout=180)
    assert r.returncode == 0, r.stderr
    assert refused.hits >= 1 and "ready" in seen, r.stderr
    nxt = min(x["start"] for x in writes(sim, "GET", "work") if x["start"] > seen["not_ready"])
    assert nxt >= seen["ready"], (seen, nxt)
    assert 1 <= len(node_lists(sim, seen["not_ready"], seen["ready"])) <= 3
    assert all(n["ready"] for n in report(r)["nodes"])
    assert safety(sim) == SAFE


def test_side_by_side_refuses_the_last_system_pool_as_user(make_sim, tmp_path, run):
    sim = make_sim(mig_scenario(system_sku="Ubuntu", system_image=scenarios.UBUNTU2204_IMAGE))
    e = helpers.make_env(sim, tmp_path / "home")
    r = run("add-pool", "usr", "--like", "system", "--mode", "User", "--dry-run", env=e)
    assert r.returncode in (0, 3), r.stdout + r.stderr
    r = migrate(run, e, "system", "--strategy", "side-by-side", "--dry-run")
    assert "SystemPool: the new pool systemazl is a System pool" in r.stdout


def test_side_by_side_drain_held_by_a_pdb_stops_then_resumes(make_sim, tmp_path, run):
    """Our own drain (side by side) honours PDBs: one that allows no
    disruption once the move began stops it at the drain step, naming the
    node, the old pool kept; relaxed, resume goes on from the drain."""
    sim = make_sim(mig_scenario(work_nodes=2))
    e = helpers.make_env(sim, tmp_path / "home")
    k = cluster_of(sim).k8s
    work = pool_nodes(sim, "work")
    k.add_deployment("pay", "ledger", 1, nodes=work[:1])
    k.add_pdb("pay", "ledger", {"app": "ledger"}, min_available=0)
    r = migrate(run, e, "work", "--strategy", "side-by-side", "--drain-timeout", "1", "--yes",
                "--no-wait")
    assert r.returncode == 0, r.stderr
    k.add_pdb("pay", "ledger", {"app": "ledger"}, min_available=1)   # tightened meanwhile
    r = run("resume", env=e, timeout=240)
    assert r.returncode == 1
    assert "draining node %s" % work[0]["metadata"]["name"] in r.stderr
    assert "kubectl azlinux resume" in r.stderr
    j = journal(e)
    assert j["state"] == "Failed"
    assert [s["state"] for s in j["steps"]][:5] == ["done", "done", "done", "done", "failed"]
    assert "work" in [x.name for x in cluster_of(sim).pools]      # never deleted
    assert writes(sim, "DELETE", "work") == []
    k.add_pdb("pay", "ledger", {"app": "ledger"}, min_available=0)   # fixed
    r = run("resume", "-o", "json", env=e, timeout=240)
    assert r.returncode == 0, r.stderr
    assert report(r)["state"] == "Succeeded"
    assert "work" not in [x.name for x in cluster_of(sim).pools]
    assert len(writes(sim, "PUT", "workazl")) == 1
    assert safety(sim) == SAFE


@pytest.mark.parametrize("refusal", ["InvalidOSSKU", "PropertyChangeNotAllowed"])
def test_region_refusing_the_change_names_side_by_side(msim, run, refusal):
    sim, e = msim
    sim.arm.os_sku_refusals["AzureLinux"] = refusal
    r = migrate(run, e, "work", "--yes")
    assert r.returncode == 1
    assert refusal in r.stderr
    assert "kubectl azlinux migrate work --strategy side-by-side" in r.stderr, r.stderr
    assert len(writes(sim, "PUT", "work")) == 1 and journal(e)["state"] == "Failed"
    assert cluster_of(sim).pool("work").os_sku == "Ubuntu"
    assert safety(sim) == SAFE


@pytest.mark.parametrize("args", [["--yes"], ["--dry-run"]])
def test_nothing_to_do_prints_json(make_sim, tmp_path, run, args):
    sim = make_sim(mig_scenario(work_sku="AzureLinux", work_image=scenarios.AZL3_IMAGE))
    e = helpers.make_env(sim, tmp_path / "home")
    r = migrate(run, e, "work", *args, "-o", "json")
    assert r.returncode == 0, r.stderr
    op = report(r)
    assert op["state"] == "NothingToDo" and op["strategy"] == "none" and op["pool"] == "work"
    assert op["from"]["osSku"] == op["to"]["osSku"] == "AzureLinux"
    assert op["steps"] == [] and op["newPool"] is None
    r = migrate(run, e, "work", *args)
    assert r.returncode == 0 and "nothing to do" in r.stdout
    assert_nothing_written(sim)
    assert journal_files(e) == []


def test_vm_family_quota_is_checked_beside_the_regional(msim, run):
    sim, e = msim
    # 28 D4ds_v5 vCPUs in use (7 nodes), regional quota plenty: the
    # family's 30 leaves no room for one 4-vCPU surge node
    sim.capacity.set_quota("eastus", cores=1000, family={"standardDDSv5Family": 30})
    r = migrate(run, e, "work", "--dry-run", "-o", "json")
    assert r.returncode == 4, r.stderr
    quota = [p for p in report(r)["preflight"] if p["check"] == "Quota"]
    blockers = [p["message"] for p in quota if p["severity"] == "blocker"]
    assert len(blockers) == 1 and "Standard DDSv5 Family vCPUs" in blockers[0], quota
    assert "28 of 30" in blockers[0]
    assert any("Total Regional vCPUs" in p["message"] and p["severity"] == "ok" for p in quota)
    # a family the usages do not list is named, not guessed to be fine
    sim.capacity.quotas.clear()
    sim.capacity.families["Standard_D4ds_v5"] = "standardDv5RenamedFamily"
    r = migrate(run, e, "work", "--dry-run", "-o", "json")
    quota = [p for p in report(r)["preflight"] if p["check"] == "Quota"]
    assert any(p["severity"] == "warning" and "no standardDDSv5Family quota" in p["message"]
               for p in quota), quota


def test_subnet_ips_for_the_surge_and_the_new_pool(msim, run):
    sim, e = msim
    # Azure CNI Overlay: one node-subnet IP a node; 7 nodes use 7 of 10
    sim.capacity.set_subnet(cluster_of(sim), limit=10)
    r = migrate(run, e, "work", "--dry-run", "-o", "json")
    ips = [p for p in report(r)["preflight"] if p["check"] == "SubnetIPs"]
    assert [p["severity"] for p in ips] == ["ok"], ips
    assert "1 IPs needed, 7 of 10 used" in ips[0]["message"]
    # side by side needs room for all 4 new nodes at once
    r = migrate(run, e, "work", "--strategy", "side-by-side", "--dry-run", "-o", "json")
    assert r.returncode == 4, r.stderr
    ips = [p for p in report(r)["preflight"] if p["check"] == "SubnetIPs"]
    assert [p["severity"] for p in ips] == ["blocker"], ips
    assert "aks-subnet has 7 of 10 IPs used and the 4 new nodes need 4 more" in ips[0]["message"]
    assert "SubnetIsFull" in ips[0]["message"]
    # no subnet the pool names (a managed VNet without a limit): no item
    sim.capacity.subnets.clear()
    r = migrate(run, e, "work", "--dry-run", "-o", "json")
    assert not [p for p in report(r)["preflight"] if p["check"] == "SubnetIPs"]


def test_admission_webhooks_on_pods_eviction(msim, run):
    sim, e = msim
    k = cluster_of(sim).k8s
    k.add_webhook("kyverno-eviction")                                  # pods/eviction
    k.add_webhook("all-sub", resources=("*/*",), operations=("*",))    # every subresource
    k.add_webhook("pods-only", resources=("pods",))                    # not evictions
    k.add_webhook("top-level", resources=("*",))                       # no subresource
    k.add_webhook("updates", operations=("UPDATE",))                   # not CREATE
    r = migrate(run, e, "work", "--dry-run", "-o", "json")
    assert r.returncode == 3, r.stderr
    hooks = [p for p in report(r)["preflight"] if p["check"] == "EvictionWebhooks"]
    assert len(hooks) == 1 and hooks[0]["severity"] == "warning", hooks
    msg = hooks[0]["message"]
    assert msg.startswith("2 admission webhooks see every pods/eviction")
    assert "kyverno-eviction/kyverno-eviction.example.com" in msg and "all-sub/" in msg
    assert "pods-only" not in msg and "top-level" not in msg and "updates" not in msg


def test_pods_only_the_old_pool_can_take_block_side_by_side(msim, run):
    sim, e = msim
    k = cluster_of(sim).k8s
    work = [n["metadata"]["name"] for n in pool_nodes(sim, "work")]
    k.add_deployment("a", "by-pool", 1, node_selector={"agentpool": "work"})
    k.add_deployment("a", "by-os", 1, node_selector={"kubernetes.azure.com/os-sku": "Ubuntu"})
    k.add_deployment("a", "free", 2, nodes=pool_nodes(sim, "work")[:1])

    def affinity(name, terms):
        pod = k.add_pod("b", name, work[1])
        pod["spec"]["affinity"] = {"nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": terms}}}

    def term(key, *values):
        return {"matchExpressions": [{"key": key, "operator": "In", "values": list(values)}]}

    affinity("by-host", [term("kubernetes.io/hostname", work[1], work[2])])
    affinity("by-pool-terms", [term("kubernetes.azure.com/agentpool", "work")])
    affinity("either", [term("agentpool", "work"), term("agentpool", "system")])   # ORed
    affinity("mixed", [term("agentpool", "work", "system")])
    r = migrate(run, e, "work", "--strategy", "side-by-side", "--dry-run", "-o", "json")
    assert r.returncode == 4, r.stderr
    pinned = [p for p in report(r)["preflight"] if p["check"] == "PinnedPods"]
    assert len(pinned) == 1 and pinned[0]["severity"] == "blocker", pinned
    msg = pinned[0]["message"]
    assert msg.startswith("4 pods select pool work"), msg
    for name in ("a/by-pool-", "a/by-os-", "b/by-host", "b/by-pool-terms"):
        assert name in msg, (name, msg)
    for name in ("a/free", "b/either", "b/mixed"):
        assert name not in msg, (name, msg)
    # in place the pods stay where they are: no item
    r = migrate(run, e, "work", "--dry-run", "-o", "json")
    assert not [p for p in report(r)["preflight"] if p["check"] == "PinnedPods"]


def test_gpu_pool_side_by_side(make_sim, tmp_path, run):
    sim = make_sim(mig_scenario(vm_size="Standard_NC6s_v3", gpu=True, work_nodes=2,
                                node_taints=["sku=gpu:NoSchedule"],
                                node_labels={"workload": "training"}))
    e = helpers.make_env(sim, tmp_path / "home")
    k = cluster_of(sim).k8s
    # the scenario's ml/inference tolerates no taint: Pending before the move
    # starts, which no wait can change; the drain's gate must not wait on it
    assert [p["status"]["phase"] for p in k.objects["pods"].values()
            if p["metadata"]["name"].startswith("inference-")] == ["Pending"]
    k.add_deployment("ml", "trainer", 2, node_selector={"workload": "training"},
                     tolerations=[{"key": "sku", "operator": "Equal", "value": "gpu",
                                   "effect": "NoSchedule"}])
    r = migrate(run, e, "work", "--strategy", "side-by-side", "--yes", "-o", "json", timeout=240)
    assert r.returncode == 0, r.stderr
    op = report(r)
    assert op["state"] == "Succeeded" and op["newPool"] == "workazl"
    assert any(p["check"] == "GPU" and p["severity"] == "warning" for p in op["preflight"])
    c = cluster_of(sim)
    assert "work" not in [p.name for p in c.pools]
    new = c.pool("workazl")
    assert (new.os_sku, new.vm_size, new.count) == ("AzureLinux", "Standard_NC6s_v3", 2)
    assert list(new.node_taints) == ["sku=gpu:NoSchedule"]
    assert new.node_labels.get("workload") == "training"
    nodes = pool_nodes(sim, "workazl")
    assert len(nodes) == 2 and all("Azure Linux 3.0" in node_os(n) for n in nodes)
    assert all(n["status"]["capacity"].get("nvidia.com/gpu") == "1" for n in nodes)
    # the GPU workload moved onto the new GPU nodes and runs there
    names = {n["metadata"]["name"] for n in nodes}
    pods = [p for p in k.objects["pods"].values()
            if p["metadata"]["name"].startswith("trainer-")]
    assert len(pods) == 2 and all(p["spec"]["nodeName"] in names for p in pods)
    assert all(p["status"]["phase"] == "Running" for p in pods)
    assert safety(sim) == SAFE


def daily_window(start_utc, hours=4):
    return {"maintenanceWindow": {"schedule": {"daily": {"intervalDays": 1}},
                                  "durationHours": hours, "utcOffset": "+00:00",
                                  "startTime": time.strftime("%H:%M", time.gmtime(start_utc))}}


def test_maintenance_window_opening_during_the_move(msim, run):
    sim, e = msim
    c = cluster_of(sim)
    c.node_os_upgrade_channel = "NodeImage"
    sim.clock.pause()
    now = int(sim.clock.now()) // 60 * 60 + 60     # the next whole minute
    # 4 nodes, one surge node at a time: 4 batches, an hour expected; a
    # window opening in 30 simulated minutes falls inside it
    c.maintenance = {"default": {"timeInWeek": [{"day": "Monday", "hourSlots": [1, 2]}]},
                     "aksManagedNodeOSUpgradeSchedule": daily_window(now + 1800)}
    r = migrate(run, e, "work", "--dry-run", "-o", "json")
    assert r.returncode == 3, r.stderr
    items = [p for p in report(r)["preflight"] if p["check"] == "MaintenanceWindow"]
    opens = time.strftime("%Y-%m-%dT%H:%M:00Z", time.gmtime(now + 1800))
    assert [p["severity"] for p in items] == ["warning"], items
    assert "aksManagedNodeOSUpgradeSchedule opens at %s" % opens in items[0]["message"]
    assert "expected 60 min" in items[0]["message"]
    assert not [p for p in report(r)["preflight"] if p["check"] == "NodeOSUpgrade"]
    # three hours away: after the move, an ok item and no warning
    c.maintenance["aksManagedNodeOSUpgradeSchedule"] = daily_window(now + 3 * 3600)
    r = migrate(run, e, "work", "--dry-run", "-o", "json")
    assert r.returncode == 0, r.stderr
    items = [p for p in report(r)["preflight"] if p["check"] == "MaintenanceWindow"]
    assert [p["severity"] for p in items] == ["ok"], items
    # ARM's clock, not this machine's: three simulated hours on, it is open
    sim.clock.step(3 * 3600 + 60)
    r = migrate(run, e, "work", "--dry-run", "-o", "json")
    assert r.returncode == 3, r.stderr
    items = [p for p in report(r)["preflight"] if p["check"] == "MaintenanceWindow"]
    assert [p["severity"] for p in items] == ["warning"], items
    assert "is open now" in items[0]["message"]
    # the channel with no window of its own may start at any time
    c.auto_upgrade_channel = "patch"
    r = migrate(run, e, "work", "--dry-run", "-o", "json")
    auto = [p for p in report(r)["preflight"] if p["check"] == "AutoUpgrade"]
    assert [p["severity"] for p in auto] == ["warning"], auto
    assert "no aksManagedAutoUpgradeSchedule window" in auto[0]["message"]
    # the list as AKS serves it, names in its order
    listed = [c2["name"] for c2 in sim.arm.maintenance_configurations(c)]
    assert listed == ["default", "aksManagedNodeOSUpgradeSchedule"]
    assert safety(sim) == SAFE


def test_cluster_node_limit_for_surge_and_side_by_side(make_sim, tmp_path, run):
    sc = mig_scenario()
    # a Free-tier cluster of 997 nodes: AKS's limit there is 1,000
    sc.clusters[0].pools.append(scenarios.Pool("big", count=990, vm_size="Standard_D2s_v3"))
    sim = make_sim(sc)
    e = helpers.make_env(sim, tmp_path / "home")
    r = migrate(run, e, "work", "--dry-run", "-o", "json")
    items = [p for p in report(r)["preflight"] if p["check"] == "ClusterNodeLimit"]
    assert [p["severity"] for p in items] == ["warning"], items
    assert "998 nodes during the move, near AKS's 1000 a cluster on the Free tier" in \
        items[0]["message"]
    r = migrate(run, e, "work", "--strategy", "side-by-side", "--dry-run", "-o", "json")
    assert r.returncode == 4, r.stderr
    items = [p for p in report(r)["preflight"] if p["check"] == "ClusterNodeLimit"]
    assert [p["severity"] for p in items] == ["blocker"], items
    assert "1001 nodes during the move (997 now and 4 new)" in items[0]["message"]
    # the Standard tier allows 5,000; past 1,000 AKS must have raised its limit
    cluster_of(sim).sku_tier = "Standard"
    r = migrate(run, e, "work", "--strategy", "side-by-side", "--dry-run", "-o", "json")
    items = [p for p in report(r)["preflight"] if p["check"] == "ClusterNodeLimit"]
    assert [p["severity"] for p in items] == ["warning"], items
    assert "node limit raised past 1000" in items[0]["message"]
    assert_nothing_written(sim)


def subnet_items(r):
    return [p for p in report(r)["preflight"] if p["check"] == "SubnetIPs"]


def test_azure_cni_without_overlay_counts_pod_ips(make_sim, tmp_path, run):
    sim = make_sim(mig_scenario(max_pods=30))
    e = helpers.make_env(sim, tmp_path / "home")
    c = cluster_of(sim)
    c.network_plugin_mode = None      # Azure CNI: each pod an IP of the node subnet
    # 3 system nodes at 1 + 110 and 4 work nodes at 1 + 30: 457 in use
    sim.capacity.set_subnet(c, limit=457 + 20)
    assert sim.capacity.subnet(c)[2] == 457
    r = migrate(run, e, "work", "--dry-run", "-o", "json")
    assert r.returncode == 4, r.stderr
    ips = subnet_items(r)
    assert [p["severity"] for p in ips] == ["blocker"], ips
    assert "subnet aks-subnet has 457 of 477 IPs used and the 1 new nodes need 31 more" in \
        ips[0]["message"]
    # and AKS would refuse the surge node so
    from sim.roller import OperationError
    with pytest.raises(OperationError, match="SubnetIsFull"):
        sim.capacity.check_subnet(c, c.pool("work"), 1)
    sim.capacity.set_subnet(c, limit=457 + 40)
    r = migrate(run, e, "work", "--dry-run", "-o", "json")
    assert [p["severity"] for p in subnet_items(r)] == ["ok"], subnet_items(r)
    assert "31 IPs needed, 457 of 497 used" in subnet_items(r)[0]["message"]
    # side by side, the new pool's 4 nodes at once: 124
    r = migrate(run, e, "work", "--strategy", "side-by-side", "--dry-run", "-o", "json")
    assert r.returncode == 4, r.stderr
    assert "the 4 new nodes need 124 more" in subnet_items(r)[0]["message"]
    assert_nothing_written(sim)


def test_azure_cni_pod_subnet(make_sim, tmp_path, run):
    sim = make_sim(mig_scenario(max_pods=30))
    e = helpers.make_env(sim, tmp_path / "home")
    c = cluster_of(sim)
    c.network_plugin_mode = None
    # with a pod subnet the node subnet holds one IP a node, the pod
    # subnet a batch of 16 a node: 7 nodes use 112
    sim.capacity.set_subnet(c, limit=100)
    sim.capacity.set_subnet(c, limit=112 + 10, pod=True, prefix="10.225.0.0/16")
    r = migrate(run, e, "work", "--dry-run", "-o", "json")
    assert r.returncode == 4, r.stderr
    ips = {p["message"].split(" has ")[0].split(":")[0]: p for p in subnet_items(r)}
    assert ips["subnet aks-subnet"]["severity"] == "ok", ips
    assert "1 IPs needed, 7 of 100 used" in ips["subnet aks-subnet"]["message"]
    assert ips["pod subnet aks-pods"]["severity"] == "blocker", ips
    assert "112 of 122 IPs used and the 1 new nodes need 16 more" in \
        ips["pod subnet aks-pods"]["message"]
    # a static block: ceil((30 + 1) / 16) * 16 = 32 a work node
    c.pool("work").extra["properties"] = {"podIPAllocationMode": "StaticBlock"}
    sim.capacity.set_subnet(c, limit=3 * 16 + 4 * 32 + 40, pod=True)
    r = migrate(run, e, "work", "--dry-run", "-o", "json")
    pod = [p for p in subnet_items(r) if p["message"].startswith("pod subnet")]
    assert [p["severity"] for p in pod] == ["ok"], pod
    assert "32 IPs needed, 176 of 216 used" in pod[0]["message"]
    assert_nothing_written(sim)
