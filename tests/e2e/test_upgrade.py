"""`kubectl azlinux upgrade` end to end on the simulator's clock: node
images (one pool, all with one current), Kubernetes (the control plane
alone, control plane and pools, two minors in two steps, an Azure Linux 2.0
pool coming back on 3.0), the node OS channel, every refusal of the
preflight, a blocked drain, 409 and 412, and the safety counters at zero."""

import datetime
import json
import pathlib
import re
import signal
import subprocess
import time

import pytest

import helpers
from sim import scenario as scenarios

SCALE = 6000            # simulated seconds per wall second: a minute in 10 ms
SUB = scenarios.DEMO_SUBSCRIPTION
RG = "up-rg"
NAME = "up-aks"
NEW_AZL3 = "AKSAzureLinux-V3gen2-202608.14.0"
EXIT_WARNINGS, EXIT_BLOCKED = 3, 4


def up_scenario(k8s="1.32.6", pools=None, **cluster):
    pools = pools or [
        scenarios.Pool("system", mode="System", count=2, k8s_version=k8s),
        scenarios.Pool("work", count=3, k8s_version=k8s),
    ]
    c = scenarios.Cluster(NAME, RG, SUB, location="eastus", k8s_version=k8s, pools=pools,
                          **cluster)
    return scenarios.Scenario([c], name="up", time_scale=SCALE)


@pytest.fixture
def make_up(make_sim, tmp_path):
    def make(*args, **kwargs):
        s = make_sim(up_scenario(*args, **kwargs))
        return s, helpers.make_env(s, tmp_path / "home")
    return make


def upgrade(run, e, *args, timeout=120):
    return run("upgrade", *args, env=e, timeout=timeout)


def pool(sim, name):
    return next(p for p in sim.cluster(NAME).pools if p.name == name)


def requests(sim, method, suffix):
    return [r for r in sim.find(server="azure")
            if r["method"] == method and r["path"].endswith(suffix)]


def safe(sim):
    counts = sim.cluster(NAME).k8s.safety.counts()
    assert not any(counts.values()), counts


def report(r):
    return json.loads(r.stdout)["operation"]


def pool_nodes(sim, name):
    return [n for n in sim.cluster(NAME).k8s.nodes()
            if n["metadata"]["labels"].get("kubernetes.azure.com/agentpool") == name]


def images(sim, name):
    return {n["metadata"]["labels"]["kubernetes.azure.com/node-image-version"]
            for n in pool_nodes(sim, name)}


def kubelets(sim, name):
    return {n["status"]["nodeInfo"]["kubeletVersion"] for n in pool_nodes(sim, name)}


def test_node_image_of_one_pool(make_up, run):
    s, e = make_up()
    s.arm.latest_images["AKSAzureLinux-V3gen2"] = NEW_AZL3
    r = upgrade(run, e, "work", "--node-image", "--yes")
    assert r.returncode == 0, r.stderr
    assert "node-image work %s" % NEW_AZL3 in r.stdout
    assert "Verified:" in r.stdout
    assert pool(s, "work").node_image_version == NEW_AZL3
    assert images(s, "work") == {NEW_AZL3}
    assert pool(s, "system").node_image_version == scenarios.AZL3_IMAGE
    assert len(requests(s, "POST", "/agentPools/work/upgradeNodeImageVersion")) == 1
    assert not requests(s, "POST", "/agentPools/system/upgradeNodeImageVersion")
    safe(s)


def test_node_image_of_all_with_one_current(make_up, run):
    pools = [scenarios.Pool("system", mode="System", count=2),
             scenarios.Pool("work", count=2),
             scenarios.Pool("ubu", os_sku="Ubuntu", node_image_version=scenarios.UBUNTU2204_IMAGE,
                            count=2)]
    s, e = make_up(pools=pools)
    s.arm.latest_images["AKSAzureLinux-V3gen2"] = NEW_AZL3
    r = upgrade(run, e, "--all", "--node-image", "--yes", "-o", "json")
    assert r.returncode == 0, r.stderr
    op = report(r)
    assert op["kind"] == "upgrade-node-image"
    assert op["state"] == "Succeeded"
    # System pools first; the Ubuntu pool, on its latest image, skipped and said so
    assert [x["pool"] for x in op["steps"]] == ["system", "work", None]
    assert op["steps"][-1]["name"] == "verify"
    assert {x["state"] for x in op["steps"]} == {"done"}
    assert op["id"] and op["error"] is None
    assert {n["nodeImageVersion"] for n in op["nodes"]} == {NEW_AZL3}
    assert {n["pool"] for n in op["nodes"]} == {"system", "work"}
    assert op["skipped"] == [{"pool": "ubu", "reason": "already on the latest node image %s"
                              % scenarios.UBUNTU2204_IMAGE}]
    assert images(s, "system") == images(s, "work") == {NEW_AZL3}
    assert not requests(s, "POST", "/agentPools/ubu/upgradeNodeImageVersion")
    safe(s)


def test_node_image_all_current_is_nothing_to_do(make_up, run):
    s, e = make_up()
    r = upgrade(run, e, "--all", "--node-image", "--yes")
    assert r.returncode == 0, r.stderr
    assert "nothing to do" in r.stdout
    assert "skipped: pool work, already on the latest node image" in r.stdout
    assert not requests(s, "POST", "/upgradeNodeImageVersion")


def image_days_old(prefix, days):
    """A node image name published `days` ago (UTC), as AKS names them."""
    d = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=days)
    return "%s-%s.%02d.0" % (prefix, d.strftime("%Y%m"), d.day)


def test_node_images_older_than_aks_supports(make_up, run):
    azl3, ubu = "AKSAzureLinux-V3gen2", "AKSUbuntu-2204gen2containerd"
    old, recent = image_days_old(azl3, 120), image_days_old(ubu, 10)
    pools = [scenarios.Pool("system", mode="System", count=2, node_image_version=old),
             scenarios.Pool("ubu", os_sku="Ubuntu", node_image_version=recent, count=2)]
    s, e = make_up(pools=pools)
    s.arm.latest_images[azl3] = old            # AKS offers nothing newer: skipped, still old

    def findings():
        r = upgrade(run, e, "--all", "--node-image", "--dry-run", "-o", "json")
        return r, [f for f in report(r)["preflight"] if f["check"] == "NodeImageUnsupported"]

    r, found = findings()
    assert r.returncode == EXIT_WARNINGS, r.stderr
    assert [(f["severity"], f["message"].split(",")[0]) for f in found] == [
        ("warning", "pool system stays on node image %s" % old)]
    assert "120 days old" in found[0]["message"] and "older than 90 days" in found[0]["message"]
    # a newer image offered: this upgrade replaces the old one, said, not a warning
    s.arm.latest_images[azl3] = image_days_old(azl3, 3)
    r, found = findings()
    assert r.returncode == 0, r.stderr
    assert [f["severity"] for f in found] == ["ok"]
    assert "pool system runs node image %s, 120 days old" % old in found[0]["message"]
    assert "this upgrade replaces it" in found[0]["message"]
    no_writes(s)


def test_control_plane_only(make_up, run):
    s, e = make_up()
    r = upgrade(run, e, "--kubernetes-version", "1.33", "--control-plane-only", "--yes")
    assert r.returncode == 0, r.stderr
    # "1.33" is the newest 1.33 patch AKS offers
    assert "1. control-plane 1.33.3 from 1.32.6" in r.stdout
    assert s.arm.current_version(s.cluster(NAME)) == "1.33.3"
    assert pool(s, "work").k8s_version == "1.32.6"
    assert kubelets(s, "work") == {"v1.32.6"}
    puts = requests(s, "PUT", "/managedClusters/" + NAME)
    assert len(puts) == 1 and puts[0]["if_match"]
    assert not requests(s, "PUT", "/agentPools/work")
    safe(s)


def test_control_plane_and_pools(make_up, run):
    s, e = make_up()
    r = upgrade(run, e, "--all", "--kubernetes-version", "1.33", "--max-surge", "1", "--yes",
                "-o", "json")
    assert r.returncode == 0, r.stderr
    op = report(r)
    assert op["kind"] == "upgrade-kubernetes"
    assert [x["name"] for x in op["steps"]] == [
        "control-plane 1.33.3", "pool system 1.33.3", "pool work 1.33.3", "verify"]
    # migrate's keys
    assert {"id", "kind", "context", "cluster", "pool", "strategy", "newPool", "from", "to",
            "state", "preflight", "steps", "nodes", "error"} <= set(op)
    assert op["from"]["kubernetesVersion"] == "1.32.6"
    assert op["to"]["kubernetesVersion"] == "1.33.3"
    assert {n["kubeletVersion"] for n in op["nodes"]} == {"v1.33.3"}
    status = json.loads(run("status", op["id"], "-o", "json", env=e).stdout)["operation"]
    assert status["state"] == "Succeeded" and status["to"] == op["to"]
    # one report (ops.h's) for the run and for status: the plan's steps, target, skipped
    assert status == op
    assert op["target"] == "1.33" and op["skipped"] == [] and op["pool"] is None
    assert [(x["pool"], x["to"]) for x in op["steps"]] == [
        (None, "1.33.3"), ("system", "1.33.3"), ("work", "1.33.3"), (None, None)]
    assert any(f["check"] == "UpgradeSettingsPersist" for f in op["preflight"])
    assert s.arm.current_version(s.cluster(NAME)) == "1.33.3"
    for name in ("system", "work"):
        assert pool(s, name).k8s_version == "1.33.3"
        assert kubelets(s, name) == {"v1.33.3"}
        # the setting given went into the pool, with the same PUT
        put = requests(s, "PUT", "/agentPools/" + name)
        assert len(put) == 1
        body = json.loads(put[0]["body"])
        assert body["properties"]["upgradeSettings"]["maxSurge"] == "1"
        assert "nodeImageVersion" not in body["properties"]
        assert put[0]["if_match"]
    safe(s)


def test_two_minors_in_two_steps(make_up, run):
    s, e = make_up(k8s="1.32.6")
    r = upgrade(run, e, "--all", "--kubernetes-version", "1.34", "--yes", "-o", "json")
    assert r.returncode == 0, r.stderr
    steps = [x["name"] for x in report(r)["steps"]]
    assert steps == ["control-plane 1.33.3", "pool system 1.33.3", "pool work 1.33.3",
                     "control-plane 1.34", "pool system 1.34", "pool work 1.34", "verify"]
    assert s.arm.current_version(s.cluster(NAME)) == "1.34.1"
    assert kubelets(s, "work") == {"v1.34.1"}
    cps = [json.loads(x["body"])["properties"]["kubernetesVersion"]
           for x in requests(s, "PUT", "/managedClusters/" + NAME)]
    assert cps == ["1.33.3", "1.34"]
    safe(s)


def test_azure_linux_2_pool_comes_back_on_3(make_up, run):
    pools = [scenarios.Pool("system", mode="System", count=2, k8s_version="1.31.10",
                            node_image_version=scenarios.AZL2_IMAGE),
             scenarios.Pool("old", count=2, k8s_version="1.31.10",
                            node_image_version=scenarios.AZL2_IMAGE)]
    s, e = make_up(k8s="1.31.10", pools=pools)
    r = upgrade(run, e, "--all", "--kubernetes-version", "1.32", "--yes")
    assert r.returncode == 0, r.stderr
    assert "moves the nodes from Azure Linux 2.0 to 3.0" in r.stdout
    assert "aks-old-" in r.stdout and "(Azure Linux 2.0" not in r.stdout
    for n in pool_nodes(s, "old"):
        assert n["status"]["nodeInfo"]["osImage"] == "Microsoft Azure Linux 3.0"
    safe(s)


def test_dry_run_changes_nothing(make_up, run):
    s, e = make_up()
    s.arm.latest_images["AKSAzureLinux-V3gen2"] = NEW_AZL3
    r = upgrade(run, e, "--all", "--node-image", "--dry-run", "-o", "json")
    assert r.returncode == 0, r.stderr
    op = report(r)
    assert op["state"] == "Planned"
    assert [x["state"] for x in op["steps"]] == ["pending", "pending"]
    no_writes(s)


# ---- refusals ----

def refused(r, code):
    assert r.returncode == EXIT_BLOCKED, (r.stdout, r.stderr)
    assert "blocker  %s:" % code in r.stdout, r.stdout
    assert "nothing was changed" in r.stderr


def no_writes(sim):
    assert not [x for x in sim.find(server="azure") if x["method"] in ("PUT", "POST")
                and x["path"].startswith("/subscriptions/")]


def test_refuses_a_version_not_offered(make_up, run):
    s, e = make_up()
    refused(upgrade(run, e, "--all", "--kubernetes-version", "1.33.9", "--yes"),
            "TargetNotOffered")
    no_writes(s)


def test_refuses_a_minor_it_cannot_reach(make_up, run):
    s, e = make_up()
    s.cluster(NAME).extra["upgrades"] = []
    refused(upgrade(run, e, "--all", "--kubernetes-version", "1.34", "--yes"), "TargetNotOffered")
    no_writes(s)


def test_skew_four_minors_behind_blocks(make_up, run):
    pools = [scenarios.Pool("system", mode="System", count=2, k8s_version="1.32.6"),
             scenarios.Pool("lag", count=2, k8s_version="1.29.15")]
    s, e = make_up(pools=pools)
    r = upgrade(run, e, "--kubernetes-version", "1.33", "--control-plane-only", "--yes")
    refused(r, "VersionSkew")
    assert "pool lag on 1.29.15 would fall 4 minors behind" in r.stdout
    no_writes(s)


def test_skew_three_minors_behind_warns(make_up, run):
    pools = [scenarios.Pool("system", mode="System", count=2, k8s_version="1.32.6"),
             scenarios.Pool("lag", count=2, k8s_version="1.30.14")]
    s, e = make_up(pools=pools)
    r = upgrade(run, e, "--kubernetes-version", "1.33", "--control-plane-only", "--dry-run")
    assert r.returncode == EXIT_WARNINGS, r.stderr
    assert "warning  VersionSkew: pool lag on 1.30.14 would be 3 minors behind" in r.stdout
    assert "speaks of two" in r.stdout
    no_writes(s)


def test_auto_upgrade_forbids_control_plane_only(make_up, run):
    s, e = make_up(auto_upgrade_channel="stable")
    refused(upgrade(run, e, "--kubernetes-version", "1.33", "--control-plane-only", "--yes"),
            "ClusterAutoUpgrade")
    no_writes(s)


def test_auto_upgrade_races_warns(make_up, run):
    s, e = make_up(auto_upgrade_channel="patch")
    r = upgrade(run, e, "--all", "--kubernetes-version", "1.33", "--dry-run")
    assert r.returncode == EXIT_WARNINGS
    assert "warning  ClusterAutoUpgrade:" in r.stdout


def test_pool_not_succeeded_blocks(make_up, run):
    s, e = make_up()
    s.arm.latest_images["AKSAzureLinux-V3gen2"] = NEW_AZL3
    pool(s, "work").provisioning_state = "Failed"
    refused(upgrade(run, e, "work", "--node-image", "--yes"), "PoolNotSucceeded")
    no_writes(s)


def test_azurelinux3_pin_refused_for_1_37(make_up, run):
    pools = [scenarios.Pool("system", mode="System", count=2, k8s_version="1.36.2"),
             scenarios.Pool("pin", os_sku="AzureLinux3", count=2, k8s_version="1.36.2")]
    s, e = make_up(k8s="1.36.2", pools=pools)
    r = upgrade(run, e, "--all", "--kubernetes-version", "1.37", "--yes")
    refused(r, "OperatingSystem")
    assert "kubectl azlinux migrate pin --to AzureLinux" in r.stdout
    no_writes(s)


def test_needs_yes_without_a_terminal(make_up, run):
    s, e = make_up()
    s.arm.latest_images["AKSAzureLinux-V3gen2"] = NEW_AZL3
    r = upgrade(run, e, "work", "--node-image")
    assert r.returncode == 1
    assert "run with --yes" in r.stderr
    no_writes(s)


@pytest.mark.parametrize("args, text", [
    (["--node-image"], "name the pools to upgrade, or --all"),
    (["work"], "name one of --node-image"),
    (["work", "--node-image", "--kubernetes-version", "1.33"], "name one of"),
    (["work", "--kubernetes-version", "1.33", "--control-plane-only"], "name no pool"),
    (["--node-image", "--control-plane-only", "--all"], "--control-plane-only goes with"),
    (["work", "--node-image", "--max-surge", "1"], "upgrade settings go with"),
    (["work", "--kubernetes-version", "1.33", "--max-surge", "x"], "--max-surge 'x'"),
    (["work", "--kubernetes-version", "1.33", "--drain-timeout", "0"], "1 to 1440"),
    (["--node-os-channel", "Weekly"], "use None, Unmanaged"),
    (["nope", "--node-image"], "node pool 'nope' not found"),
    (["work", "--kubernetes-version", "one"], "is not a version"),
])
def test_bad_flags(make_up, run, args, text):
    s, e = make_up()
    r = upgrade(run, e, *args, "--yes")
    assert r.returncode == 1, r.stdout
    assert text in r.stderr
    no_writes(s)


# ---- the node OS channel ----

def test_node_os_channel_set(make_up, run):
    s, e = make_up(node_os_upgrade_channel="NodeImage")
    r = upgrade(run, e, "--node-os-channel", "Unmanaged", "--yes")
    assert r.returncode == 0, r.stderr
    assert ("warning  Reimage: changing the node OS channel from NodeImage to Unmanaged "
            "reimages") in r.stdout
    assert s.cluster(NAME).node_os_upgrade_channel == "Unmanaged"
    put = requests(s, "PUT", "/managedClusters/" + NAME)
    assert len(put) == 1 and put[0]["if_match"]
    body = json.loads(put[0]["body"])
    assert body["properties"]["autoUpgradeProfile"]["nodeOSUpgradeChannel"] == "Unmanaged"
    assert body["properties"]["kubernetesVersion"] == "1.32.6"
    assert "overrideSettings" not in body["properties"].get("upgradeSettings", {})


def test_node_os_channel_without_reimage(make_up, run):
    s, e = make_up(node_os_upgrade_channel="NodeImage")
    r = upgrade(run, e, "--node-os-channel", "SecurityPatch", "--dry-run")
    assert r.returncode == 0, r.stderr
    assert "Reimage" not in r.stdout
    no_writes(s)


# ---- a blocked drain, 409, 412 ----

def blocking_pdb(sim):
    """A Deployment on the work pool whose PDB never allows a disruption."""
    k = sim.cluster(NAME).k8s
    work = pool_nodes(sim, "work")
    k.add_deployment("pay", "ledger", 2, nodes=work[:1])
    k.add_pdb("pay", "ledger", {"app": "ledger"}, min_available=2)
    pod = next(p for p in k.pods(namespace="pay"))
    return work[0]["metadata"]["name"], pod["metadata"]["name"]


def test_blocked_drain_warned_then_failed_in_aks_words(make_up, run):
    s, e = make_up()
    node, pod = blocking_pdb(s)
    r = upgrade(run, e, "work", "--kubernetes-version", "1.33", "--drain-timeout", "5",
                "--yes", "-o", "json")
    assert r.returncode == 1
    op = report(r)
    assert op["state"] == "Failed"
    pdb = [f for f in op["preflight"] if f["check"] == "PodDisruptionBudget"]
    assert pdb and pdb[0]["severity"] == "warning" and "pay/ledger" in pdb[0]["message"]
    states = {x["name"]: x["state"] for x in op["steps"]}
    assert states["control-plane 1.33.3"] == "done"
    assert states["pool work 1.33.3"] == "failed"
    assert states["verify"] == "pending"
    assert "Drain node %s failed when evicting pod %s" % (node, pod) in op["error"]
    assert "blocked by pdb ledger" in op["error"]
    assert "kubectl azlinux status %s" % op["id"] in r.stderr
    assert s.cluster(NAME).k8s.safety.counts()["pdb_violations"] == 0


def pdb_reads(sim):
    return [x for x in sim.find(method="GET") if x["path"].endswith("/poddisruptionbudgets")]


def cordoned(sim, node):
    return bool(sim.cluster(NAME).k8s.node(node)["spec"].get("unschedulable"))


def test_progress_names_the_pdb_a_drain_waits_on(make_up, run, bin_path):
    """AKS's drain of a node whose pods a PDB holds: Kubernetes says nothing
    of an eviction's 429, so the progress derives it from the PDBs' status
    (read every few seconds while a watched node is cordoned) and names the
    PDB; once the PDB lets go, the upgrade goes on and succeeds."""
    s, e = make_up()
    node, _ = blocking_pdb(s)
    s.clock.pause()
    p = start(bin_path, e, "work", "--kubernetes-version", "1.32.7", "--yes")
    try:
        wait_for(lambda: pdb_reads(s), "the preflight's PDB read")
        before = len(pdb_reads(s))
        end = time.monotonic() + 60
        while not cordoned(s, node):               # the control plane, then the pool
            assert p.poll() is None and time.monotonic() < end, p.communicate()
            s.clock.step(5)
            time.sleep(0.01)
        # the clock stands: the drain is stuck on the PDB until it lets go
        wait_for(lambda: len(pdb_reads(s)) >= before + 2, "the watch thread's PDB reads")
        reads = len(pdb_reads(s))
        time.sleep(2)
        assert len(pdb_reads(s)) - reads <= 1      # every few seconds, not in a loop
        s.cluster(NAME).k8s.add_pdb("pay", "ledger", {"app": "ledger"}, min_available=1)
    finally:
        s.clock.resume()
    out, err = p.communicate(timeout=120)
    assert p.returncode == 0, err
    assert "node %s waiting on PDB pay/ledger (healthy 2/desired 2)" % node in err
    assert err.count("waiting on PDB pay/ledger (healthy 2/desired 2)") == 1   # said once
    assert pool(s, "work").k8s_version == "1.32.7"
    safe(s)


def test_409_while_another_operation_runs(make_up, run):
    s, e = make_up()
    s.arm.latest_images["AKSAzureLinux-V3gen2"] = NEW_AZL3
    s.clock.pause()
    try:
        first = upgrade(run, e, "work", "--node-image", "--yes", "--no-wait")
        assert first.returncode == 0, first.stderr
        assert "AKS accepted the change" in first.stdout
        r = upgrade(run, e, "--kubernetes-version", "1.33", "--control-plane-only", "--yes")
    finally:
        s.clock.resume()
    assert r.returncode == 1
    assert "OperationNotAllowed" in r.stderr or "is in progress" in r.stderr
    assert s.arm.current_version(s.cluster(NAME)) == "1.32.6"


def test_412_looks_again_and_sends_on_the_fresh_copy(make_up, run):
    s, e = make_up()
    pool_put = "%s/agentPools/work" % s.cluster(NAME).id
    s.faults.add(server="azure", method="PUT", path_prefix=pool_put, status=412,
                 body={"error": {"code": "PreconditionFailed", "message":
                                 "Operation is not allowed: the eTag does not match"}})
    r = upgrade(run, e, "work", "--kubernetes-version", "1.32.7", "--yes")
    assert r.returncode == 0, r.stderr
    puts = requests(s, "PUT", "/agentPools/work")
    assert [x["status"] for x in puts] == [412, 200]
    gets = [x for x in s.find(server="azure", method="GET") if x["path"] == pool_put]
    assert len(gets) >= 2        # a fresh GET before each PUT
    assert pool(s, "work").k8s_version == "1.32.7"
    safe(s)


# ---- interruption ----

def journal(e, op_id):
    path = pathlib.Path(e["HOME"]) / ".local" / "state" / "kubectl-azlinux" / "operations" / (op_id + ".json")
    return path.read_text()


def start(bin_path, e, *args):
    return subprocess.Popen([bin_path, "upgrade", *args], env=e, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def wait_for(cond, what, seconds=30):
    end = time.monotonic() + seconds
    while not cond():
        assert time.monotonic() < end, "timed out waiting for " + what
        time.sleep(0.05)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL])
def test_interrupted_at_each_step_then_run_again(make_up, run, bin_path, sig):
    s, e = make_up()
    s.arm.latest_images["AKSAzureLinux-V3gen2"] = NEW_AZL3
    for i, name in enumerate(("system", "work")):
        s.clock.pause()
        p = start(bin_path, e, "--all", "--node-image", "--yes", "-o", "json")
        post = "/agentPools/%s/upgradeNodeImageVersion" % name
        wait_for(lambda: requests(s, "POST", post), "the POST of " + name)
        time.sleep(0.3)                         # the handle reaches the journal
        p.send_signal(sig)
        out, err = p.communicate(timeout=30)
        if sig == signal.SIGINT:
            assert p.returncode == 130, err
            op = report(type("R", (), {"stdout": out}))
            assert op["state"] == "Interrupted"
            # the pool done before is skipped; this one's step runs on in AKS
            assert {x["pool"]: x["state"] for x in op["steps"]}[name] == "running"
            assert [x["pool"] for x in op["skipped"]] == (["system"] if i else [])
            assert "kubectl azlinux resume %s" % op["id"] in err
            text = journal(e, op["id"])
            assert '"statusUrl"' in text            # the handle, to re-attach
            assert "Bearer" not in text and "eyJ" not in text
        else:
            assert p.returncode == -signal.SIGKILL
        s.clock.resume()
        wait_for(lambda: pool(s, name).provisioning_state == "Succeeded", name + " to finish")
    # run again: both pools on the image already, nothing sent twice
    r = upgrade(run, e, "--all", "--node-image", "--yes")
    assert r.returncode == 0, r.stderr
    assert "nothing to do" in r.stdout
    for name in ("system", "work"):
        assert len(requests(s, "POST", "/agentPools/%s/upgradeNodeImageVersion" % name)) == 1
        assert images(s, name) == {NEW_AZL3}
    safe(s)


def test_run_again_follows_an_operation_running_there(make_up, run, bin_path):
    """A process killed after AKS accepted the control plane's PUT: the run
    after it sees the cluster upgrading, follows it instead of sending it
    again, then does the pools."""
    s, e = make_up()
    s.clock.pause()
    p = start(bin_path, e, "--all", "--kubernetes-version", "1.33", "--yes")
    wait_for(lambda: requests(s, "PUT", "/managedClusters/" + NAME), "the cluster's PUT")
    p.kill()
    p.communicate(timeout=30)
    s.clock.resume()
    r = upgrade(run, e, "--all", "--kubernetes-version", "1.33", "--yes", "-o", "json")
    assert r.returncode == 0, r.stderr
    assert len(requests(s, "PUT", "/managedClusters/" + NAME)) == 1
    for name in ("system", "work"):
        assert kubelets(s, name) == {"v1.33.3"}
    safe(s)


def test_token_expires_mid_upgrade(make_up, run):
    """Tokens that last two wall seconds, an upgrade that takes longer: the
    credential refreshes itself between polls."""
    s, e = make_up()
    s.clock.set_scale(100)
    s.entra.token_lifetime = 2
    r = upgrade(run, e, "work", "--kubernetes-version", "1.32.7", "--yes", timeout=180)
    assert r.returncode == 0, r.stderr
    assert pool(s, "work").k8s_version == "1.32.7"
    tokens = [x for x in s.find(server="azure", method="POST") if "/oauth2/" in x["path"]
              or "token" in x["path"]]
    assert len(tokens) >= 2, tokens
    assert not [x for x in s.find(server="azure") if x["status"] == 401
                and x["path"].startswith("/subscriptions/") and x["method"] != "GET"]


# ---- deprecated APIs (the API server's apiserver_requested_deprecated_apis) ----

def deprecated(sim, removed, resource="flowschemas"):
    sim.cluster(NAME).k8s.deprecated_apis.append({
        "group": "flowcontrol.apiserver.k8s.io", "version": "v1beta3", "resource": resource,
        "removed_release": removed})


def test_deprecated_api_removed_by_the_target_blocks(make_up, run):
    s, e = make_up()
    deprecated(s, "1.33")
    r = upgrade(run, e, "--all", "--kubernetes-version", "1.33", "--yes")
    refused(r, "DeprecatedAPIInUse")
    assert ("API flowcontrol.apiserver.k8s.io/v1beta3 flowschemas, removed in 1.33, was "
            "requested") in r.stdout
    assert "UpgradeBlockedOnDeprecatedAPIUsage" in r.stdout
    no_writes(s)
    assert [x for x in s.find() if x["path"] == "/metrics"]


def test_deprecated_api_removed_later_is_no_blocker(make_up, run):
    s, e = make_up()
    deprecated(s, "1.35")
    r = upgrade(run, e, "--all", "--kubernetes-version", "1.33", "--dry-run")
    assert r.returncode == 0, r.stdout
    assert "DeprecatedAPIInUse" not in r.stdout


def test_deprecated_apis_not_read_for_a_node_image_upgrade(make_up, run):
    s, e = make_up()
    deprecated(s, "1.33")
    s.arm.latest_images["AKSAzureLinux-V3gen2"] = NEW_AZL3
    r = upgrade(run, e, "--all", "--node-image", "--dry-run")
    assert r.returncode == 0
    assert not [x for x in s.find() if x["path"] == "/metrics"]


def test_metrics_not_readable_is_said(make_up, run):
    s, e = make_up()
    s.cluster(NAME).k8s.metrics_forbidden = True
    r = upgrade(run, e, "--all", "--kubernetes-version", "1.33", "--dry-run")
    assert r.returncode == 0, r.stdout
    assert "ok       DeprecatedAPIInUse: cannot read the API server's /metrics" in r.stdout


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL])
def test_resume_after_interruption_at_each_step(make_up, run, bin_path, sig):
    """Interrupted at the control plane's step, then at the pool's: `resume`
    re-attaches to the AKS operation in flight (nothing sent twice) and
    finishes; `status` shows it Succeeded."""
    s, e = make_up()
    s.clock.pause()
    p = start(bin_path, e, "work", "--kubernetes-version", "1.33", "--yes", "-o", "json")
    wait_for(lambda: requests(s, "PUT", "/managedClusters/" + NAME), "the cluster's PUT")
    time.sleep(0.3)
    p.send_signal(sig)
    p.communicate(timeout=30)
    ops = json.loads(run("status", "-o", "json", env=e).stdout)["operations"]
    [op] = [o for o in ops if o["kind"] == "upgrade-kubernetes"]
    assert op["state"] == "Interrupted"
    s.clock.resume()
    r = run("resume", op["id"], env=e, timeout=120)
    assert r.returncode == 0, r.stderr
    assert len(requests(s, "PUT", "/managedClusters/" + NAME)) == 1
    assert len(requests(s, "PUT", "/agentPools/work")) == 1
    assert kubelets(s, "work") == {"v1.33.3"}
    got = json.loads(run("status", op["id"], "-o", "json", env=e).stdout)["operation"]
    assert got["state"] == "Succeeded"
    assert [x["state"] for x in got["steps"]] == ["done", "done", "done"]
    safe(s)


def interrupt_then_abort(s, e, p, run):
    """Ctrl-C to the upgrade p (the clock stopped), then `abort` once time flows."""
    p.send_signal(signal.SIGINT)
    p.communicate(timeout=30)
    assert p.returncode == 130
    s.clock.resume()
    r = run("abort", env=e, timeout=120)
    assert r.returncode == 0, r.stderr


def test_abort_an_upgrade(make_up, run, bin_path):
    s, e = make_up()
    s.arm.latest_images["AKSAzureLinux-V3gen2"] = NEW_AZL3
    s.clock.pause()
    p = start(bin_path, e, "work", "--node-image", "--yes")
    wait_for(lambda: requests(s, "POST", "/agentPools/work/upgradeNodeImageVersion"), "the POST")
    time.sleep(0.3)
    interrupt_then_abort(s, e, p, run)
    assert requests(s, "POST", "/agentPools/work/abort")
    ops = json.loads(run("status", "-o", "json", env=e).stdout)["operations"]
    assert [o["state"] for o in ops if o["kind"] == "upgrade-node-image"] == ["Canceled"]


def test_quota_for_the_surge_blocks(make_up, run):
    """5 nodes of Standard_D4ds_v5 use 20 vCPUs; a surge of 2 needs 8 more."""
    s, e = make_up()
    s.capacity.set_quota("eastus", cores=24)
    r = upgrade(run, e, "work", "--kubernetes-version", "1.33", "--max-surge", "2", "--yes")
    refused(r, "Quota")
    assert "8 vCPUs more are needed" in r.stdout
    no_writes(s)
    # a surge that fits: the quota is said, not a blocker
    r = upgrade(run, e, "work", "--kubernetes-version", "1.33", "--max-surge", "1", "--dry-run")
    assert r.returncode == 0, r.stdout
    assert "ok       Quota:" in r.stdout


# ---- pools at once (--parallel), and --no-wait with several pools ----

def four_pools():
    return [scenarios.Pool("system", mode="System", count=2),
            scenarios.Pool("work", count=2), scenarios.Pool("batch", count=2),
            scenarios.Pool("web", count=2)]


def pool_ops(sim, name="upgradeNodeImageVersion"):
    """The simulator's operations on pools, by pool: (start, end) simulated."""
    return {op.pool_name: (op.start_time, op.end_time) for op in sim.roller.operations.values()
            if op.pool_name and op.abort_of is None}


def test_parallel_runs_the_user_pools_at_once(make_up, run):
    """--parallel 3: the System pool alone (its phase), then the three User
    pools overlapped in AKS; the preflight's quota counts their surges
    together."""
    s, e = make_up(pools=four_pools())
    s.arm.latest_images["AKSAzureLinux-V3gen2"] = NEW_AZL3
    r = upgrade(run, e, "--all", "--node-image", "--parallel", "3", "--yes", "-o", "json")
    assert r.returncode == 0, r.stderr
    op = report(r)
    assert op["state"] == "Succeeded"
    assert {x["state"] for x in op["steps"]} == {"done"}
    t = pool_ops(s)
    users = ("work", "batch", "web")
    assert all(t["system"][1] <= t[p][0] for p in users)          # System first, alone
    assert max(t[p][0] for p in users) < min(t[p][1] for p in users)   # all three overlap
    for name in ("system",) + users:
        assert len(requests(s, "POST", "/agentPools/%s/upgradeNodeImageVersion" % name)) == 1
        assert images(s, name) == {NEW_AZL3}
    safe(s)


def test_one_at_a_time_by_default(make_up, run):
    s, e = make_up(pools=four_pools())
    s.arm.latest_images["AKSAzureLinux-V3gen2"] = NEW_AZL3
    r = upgrade(run, e, "--all", "--node-image", "--yes")
    assert r.returncode == 0, r.stderr
    t = sorted(pool_ops(s).values())
    assert all(a[1] <= b[0] for a, b in zip(t, t[1:]))           # no overlap


def test_parallel_quota_sums_the_surges(make_up, run):
    """Three User pools of 2 Standard_D4ds_v5 nodes and a System pool: 32
    vCPUs used; one surge node each at once needs 12 more, one at a time 4."""
    s, e = make_up(pools=four_pools())
    s.arm.latest_images["AKSAzureLinux-V3gen2"] = NEW_AZL3
    s.capacity.set_quota("eastus", cores=40)
    r = upgrade(run, e, "--all", "--node-image", "--dry-run")
    assert "ok       Quota:" in r.stdout, r.stdout
    r = upgrade(run, e, "--all", "--node-image", "--parallel", "3", "--yes")
    refused(r, "Quota")
    no_writes(s)


def test_parallel_failure_starts_no_more_and_lets_the_rest_end(make_up, run):
    s, e = make_up(pools=four_pools() + [scenarios.Pool("last", count=2)])
    s.arm.latest_images["AKSAzureLinux-V3gen2"] = NEW_AZL3
    # the User pools in name order: batch (fails) and last at once, then web, work
    s.clock.fail("reimage", when=lambda op=None, **_: op is not None and op.pool_name == "batch")
    r = upgrade(run, e, "--all", "--node-image", "--parallel", "2", "--yes", "-o", "json")
    assert r.returncode == 1
    op = report(r)
    states = {x["pool"]: x["state"] for x in op["steps"]}
    assert states["batch"] == "failed"
    assert states["system"] == states["last"] == "done"     # the one beside it ran to its end
    # none started once the failure was seen: work, the last, never
    started = set(pool_ops(s))
    assert "work" not in started and states["work"] == "pending"
    assert states["web"] == ("done" if "web" in started else "pending")
    assert "simulated failure of step reimage" in op["error"]
    safe(s)


USERS = ("work", "batch", "web")


def user_phase_running(make_up, bin_path):
    """--all --node-image --parallel 3 of four_pools(), the clock stopped
    once the three User pools' operations were sent (the System pool's
    phase is over) and their handles journaled."""
    s, e = make_up(pools=four_pools())
    s.arm.latest_images["AKSAzureLinux-V3gen2"] = NEW_AZL3
    p = start(bin_path, e, "--all", "--node-image", "--parallel", "3", "--yes")
    wait_for(lambda: all(requests(s, "POST", "/agentPools/%s/upgradeNodeImageVersion" % n)
                         for n in USERS), "the User pools' POSTs")
    s.clock.pause()
    time.sleep(0.3)
    return s, e, p


def status_polls(sim):
    return [r for r in sim.find(server="azure")
            if r["method"] == "GET" and "/operations/" in r["path"]]


def test_status_live_shows_every_running_step_after_sigkill_mid_parallel(make_up, run,
                                                                       bin_path):
    """Three User pools upgrading at once, the process killed: status --live
    polls each step's own AKS operation, in the table and in -o json."""
    s, e, p = user_phase_running(make_up, bin_path)
    p.kill()
    p.communicate(timeout=30)
    polls = len(status_polls(s))
    r = run("status", "--live", "-o", "json", env=e)
    assert r.returncode == 0, r.stderr
    [op] = json.loads(r.stdout)["operations"]
    running = {x["pool"]: x for x in op["steps"] if x["state"] == "running"}
    assert sorted(running) == sorted(USERS), op["steps"]
    for name, step in running.items():
        assert step["live"]["status"] == "InProgress", (name, step)
    assert not any("live" in x for x in op["steps"] if x["state"] != "running")
    # each step's own operation was asked, once
    assert len(status_polls(s)) - polls == 3
    t = run("status", "--live", env=e)
    assert t.returncode == 0, t.stderr
    header, row = t.stdout.splitlines()[:2]
    cols = re.split(r"\s{3,}", row.strip())
    step_col, aks_col = cols[header.split().index("STEP")], cols[header.split().index("AKS")]
    assert sorted(step_col.split(", ")) == sorted(x["name"] for x in running.values()), row
    assert aks_col.split(", ") and all(x.startswith("InProgress") for x in aks_col.split(", ")) \
        and len(aks_col.split(", ")) == 3, row
    s.clock.resume()
    r = run("resume", op["id"], "-o", "json", env=e, timeout=120)
    assert r.returncode == 0, r.stderr
    safe(s)


def test_resume_after_sigkill_mid_parallel_reattaches_every_pool(make_up, run, bin_path):
    s, e, p = user_phase_running(make_up, bin_path)
    users = USERS
    p.kill()
    p.communicate(timeout=30)
    ops = json.loads(run("status", "-o", "json", env=e).stdout)["operations"]
    [op] = ops
    assert op["state"] == "Interrupted"
    running = [x["pool"] for x in op["steps"] if x["state"] == "running"]
    assert sorted(running) == sorted(users)
    s.clock.resume()
    r = run("resume", op["id"], "-o", "json", env=e, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stderr.count("re-attached to the running ARM operation") == 3, (r.stdout, r.stderr)
    for name in ("system",) + users:
        assert len(requests(s, "POST", "/agentPools/%s/upgradeNodeImageVersion" % name)) == 1
        assert images(s, name) == {NEW_AZL3}
    assert report(r)["state"] == "Succeeded"
    safe(s)


def test_no_wait_sends_what_it_can_and_says_what_remains(make_up, run):
    s, e = make_up(pools=four_pools())
    s.arm.latest_images["AKSAzureLinux-V3gen2"] = NEW_AZL3
    s.clock.pause()
    try:
        r = upgrade(run, e, "--all", "--node-image", "--no-wait", "--yes")
        assert r.returncode == 0, r.stderr
        # one at a time: the System pool alone was sent
        assert requests(s, "POST", "/agentPools/system/upgradeNodeImageVersion")
        assert not requests(s, "POST", "/agentPools/work/upgradeNodeImageVersion")
        assert "AKS accepted: node-image system %s" % NEW_AZL3 in r.stdout
        assert "remaining: node-image batch %s, node-image web %s, node-image work %s, verify" \
            % (NEW_AZL3, NEW_AZL3, NEW_AZL3) in r.stdout
    finally:
        s.clock.resume()
    wait_for(lambda: pool(s, "system").provisioning_state == "Succeeded", "the System pool")
    s.clock.pause()
    try:
        # run again with --parallel 3: the System pool is done; every User
        # pool of the phase is sent at once
        r = upgrade(run, e, "--all", "--node-image", "--no-wait", "--parallel", "3", "--yes")
        assert r.returncode == 0, r.stderr
        for name in ("work", "batch", "web"):
            assert len(requests(s, "POST", "/agentPools/%s/upgradeNodeImageVersion" % name)) == 1
        assert "AKS accepted: node-image batch" in r.stdout
        assert "remaining: verify" in r.stdout
    finally:
        s.clock.resume()


def test_parallel_kubernetes_keeps_the_control_plane_alone(make_up, run):
    """Two minors with --parallel 3: each control-plane step runs alone, then
    the pools after it (System, then the User pools together), a minor at a
    time; AKS refuses none of it."""
    pools = [scenarios.Pool("system", mode="System", count=2, k8s_version="1.32.6"),
             scenarios.Pool("work", count=2, k8s_version="1.32.6"),
             scenarios.Pool("batch", count=2, k8s_version="1.32.6")]
    s, e = make_up(pools=pools)
    r = upgrade(run, e, "--all", "--kubernetes-version", "1.34", "--parallel", "3", "--yes",
                "-o", "json")
    assert r.returncode == 0, r.stderr
    ops = sorted(((o.start_time, o.end_time, o.pool_name or "(cluster)")
                  for o in s.roller.operations.values()), key=lambda o: o[0])
    for start, end, name in ops:
        others = [o for o in ops if o[2] != name and o[0] < end and start < o[1]]
        if name in ("(cluster)", "system"):
            assert not others, (name, others)              # alone
        else:
            assert [o[2] for o in others] in ([], ["work"], ["batch"]), (name, others)
    assert any(a[2] == "batch" and b[2] == "work" or a[2] == "work" and b[2] == "batch"
               for a in ops for b in ops if a[0] < b[1] and b[0] < a[1])   # together
    assert not [x for x in s.find(server="azure") if x["status"] == 409]
    for name in ("system", "work", "batch"):
        assert all(v.startswith("v1.34.") for v in kubelets(s, name)), kubelets(s, name)
    safe(s)


def test_abort_mid_parallel_aborts_every_running_pool(make_up, run, bin_path):
    s, e, p = user_phase_running(make_up, bin_path)
    interrupt_then_abort(s, e, p, run)
    for name in USERS:
        assert len(requests(s, "POST", "/agentPools/%s/abort" % name)) == 1, name
    ops = json.loads(run("status", "-o", "json", env=e).stdout)["operations"]
    assert [o["state"] for o in ops] == ["Canceled"]
    safe(s)


def test_a_windows_pool_is_upgraded_without_judging_its_os(make_up, run):
    """Windows pools are upgraded with the rest; the preflight says their OS is
    not judged here, and the verification checks only their Kubernetes version."""
    pools = [scenarios.Pool("system", mode="System", count=2, k8s_version="1.32.6"),
             scenarios.Pool("win", os_type="Windows", os_sku="Windows2022", count=2,
                            k8s_version="1.32.6",
                            node_image_version=scenarios.WINDOWS2022_IMAGE)]
    s, e = make_up(pools=pools)
    r = upgrade(run, e, "--all", "--kubernetes-version", "1.33", "--yes", "-o", "json")
    assert r.returncode == 0, r.stderr
    op = report(r)
    assert [x["name"] for x in op["steps"]] == [
        "control-plane 1.33.3", "pool system 1.33.3", "pool win 1.33.3", "verify"]
    assert any(x["severity"] == "ok" and "pool win runs Windows" in x["message"]
               for x in op["preflight"]), op["preflight"]
    assert kubelets(s, "win") == {"v1.33.3"}
    assert pool(s, "win").os_sku == "Windows2022"
    safe(s)
