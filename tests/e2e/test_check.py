"""`kubectl azlinux check` against the simulator: each finding, with its
severity, code and the exact command that fixes it, pool filters, -o
json/yaml, and the documented exit statuses (0 clean, 3 warnings, 4 errors,
1 when the check itself failed)."""

import json

import pytest
import yaml

import helpers
from sim import scenario as scenarios
from sim.scenario import AZL2_IMAGE, AZL3_IMAGE, UBUNTU2204_IMAGE, Cluster, Pool, Scenario

SUB = scenarios.DEMO_SUBSCRIPTION
NEWER_AZL3 = "AKSAzureLinux-V3gen2-202608.14.0"


def parse_check(text):
    """{pool: [(severity, code, message)]} and the summary line."""
    pools, current = {}, None
    lines = text.splitlines()
    for line in lines:
        if line.startswith("  ") and current is not None:
            if line.strip() == "no findings":
                continue
            severity, rest = line.split(None, 1)
            code, message = rest.split(": ", 1)
            pools[current].append((severity, code, message))
        elif ": " in line and not line.startswith(("Cluster ", "Context ")) and line[0] != " " \
                and "nodes Ready" in line:
            current = line.split(":", 1)[0]
            pools[current] = []
    return pools, lines[-1]


def az(verb, cluster, pool):
    return "az aks nodepool %s --resource-group %s --cluster-name %s --name %s" % (
        verb, cluster.resource_group, cluster.name, pool)


def findings_cluster():
    pools = [
        Pool("system", mode="System", count=2),
        Pool("retired", os_sku="AzureLinux", node_image_version=AZL2_IMAGE,
             k8s_version="1.31.9", count=1),
        Pool("behind", count=1, extra={"latest_node_image_version": NEWER_AZL3}),
        Pool("oldk8s", os_sku="AzureLinux3", k8s_version="1.31.10", count=1),
        Pool("ubuntu", os_sku="Ubuntu", node_image_version=UBUNTU2204_IMAGE, count=2),
        Pool("kata", os_sku="Ubuntu", node_image_version=UBUNTU2204_IMAGE, count=2,
             vm_size="Standard_D4s_v3",
             extra={"properties": {"workloadRuntime": "KataVmIsolation"}}),
        Pool("failed", count=1, provisioning_state="Failed",
             extra={"properties": {"status": {"provisioningError": {
                 "code": "VMExtensionProvisioningError",
                 "message": "vmssCSE exited with status 50"}}}}),
        Pool("notready", count=3, ready=1),
        Pool("gpu", vm_size="Standard_NC24ads_A100_v4", gpu=True, count=1),
    ]
    return Cluster("checks", "check-rg", SUB, pools=pools, node_os_upgrade_channel="None")


@pytest.fixture
def checks(make_sim, env):
    s = make_sim(Scenario([findings_cluster()]))
    return s, helpers.make_env(s, env["HOME"])


def run_check(run, e, *args):
    r = run("check", *args, env=e)
    assert r.returncode in (0, 3, 4), "exit %d: %s" % (r.returncode, r.stderr)
    return r


def test_every_finding_with_its_fix(checks, run):
    s, e = checks
    c = s.clusters[0]
    r = run_check(run, e)
    assert r.returncode == 4
    pools, summary = parse_check(r.stdout)
    assert sorted(pools) == sorted(p.name for p in c.pools)
    assert pools["system"] == []

    [(sev, code, msg)] = pools["retired"]
    assert (sev, code) == ("error", "AzureLinux2Retired")
    assert "no patches since 2025-11-30" in msg and "removed on 2026-03-31" in msg
    assert msg.endswith("kubectl azlinux upgrade retired --kubernetes-version 1.32.6")

    [(sev, code, msg)] = pools["behind"]
    assert (sev, code) == ("warning", "NodeImageUpgradeAvailable")
    assert NEWER_AZL3 in msg and AZL3_IMAGE in msg
    assert msg.endswith("kubectl azlinux upgrade behind --node-image")

    [(sev, code, msg)] = pools["oldk8s"]
    assert (sev, code) == ("warning", "KubernetesUpgradeAvailable")
    assert "behind the control plane" in msg
    assert msg.endswith("kubectl azlinux upgrade oldk8s --kubernetes-version 1.32.6")

    [(sev, code, msg)] = pools["ubuntu"]
    assert (sev, code) == ("info", "UbuntuCanMigrate")
    assert "in place" in msg
    assert msg.endswith(": kubectl azlinux migrate ubuntu --to AzureLinux")

    [(sev, code, msg)] = pools["kata"]
    assert (sev, code) == ("info", "UbuntuCanMigrate")
    assert "cannot move to Azure Linux in place (Kata workload runtime)" in msg
    assert msg.endswith(": kubectl azlinux migrate kata --to AzureLinux --new-pool kataazl")

    [(sev, code, msg)] = pools["failed"]
    assert (sev, code) == ("error", "ProvisioningFailed")
    assert "vmssCSE exited with status 50" in msg
    assert msg.endswith(az("update", c, "failed"))

    [(sev, code, msg)] = pools["notready"]
    assert (sev, code) == ("warning", "NodesNotReady")
    bad = sorted(n["metadata"]["name"] for n in c.k8s.pool_nodes("notready")
                 if not any(x["type"] == "Ready" and x["status"] == "True"
                            for x in n["status"]["conditions"]))
    assert msg.startswith("2 of 3 nodes are not Ready (%s)" % ", ".join(bad))
    assert msg.endswith("kubectl describe node " + bad[0])

    [(sev, code, msg)] = pools["gpu"]
    assert (sev, code) == ("info", "GPUPool")
    assert "Standard_NC24ads_A100_v4" in msg and "kubernetes.azure.com/agentpool=gpu" in msg

    assert summary == "2 errors, 3 warnings, 3 info in 9 pools"


def test_findings_also_in_pools_json(checks, run):
    s, e = checks
    doc = json.loads(run("pools", "-o", "json", env=e).stdout)
    codes = {p["name"]: [(f["severity"], f["code"]) for f in p["findings"]]
             for p in doc["pools"]}
    assert codes["retired"] == [("error", "AzureLinux2Retired")]
    assert codes["kata"] == [("info", "UbuntuCanMigrate")]
    assert codes["system"] == []


def test_exit_status_follows_the_worst(checks, run):
    s, e = checks
    assert run_check(run, e, "system").returncode == 0
    assert run_check(run, e, "ubuntu", "gpu").returncode == 0
    assert run_check(run, e, "behind", "ubuntu").returncode == 3
    assert run_check(run, e, "notready").returncode == 3
    assert run_check(run, e, "behind", "retired").returncode == 4
    r = run_check(run, e, "system")
    pools, summary = parse_check(r.stdout)
    assert list(pools) == ["system"]
    assert "  no findings" in r.stdout.splitlines()
    assert summary == "0 errors, 0 warnings, 0 info in 1 pool"


def test_check_failed_is_exit_1(checks, run):
    s, e = checks
    r = run("check", "nosuch", env=e)
    assert r.returncode == 1
    assert helpers.diagnostics(r.stderr).strip() == ("error: node pool nosuch not found in cluster checks (resource "
                                "group check-rg): see the pools with 'kubectl azlinux pools'")
    s.clusters[0].extra["in_arm"] = False
    r = run("check", env=e)
    assert r.returncode == 1
    assert helpers.diagnostics(r.stderr).startswith("error: no AKS cluster with API server ")


def test_node_image_channel_makes_it_info(checks, run):
    s, e = checks
    s.clusters[0].node_os_upgrade_channel = "NodeImage"
    r = run_check(run, e, "behind")
    assert r.returncode == 0
    [(sev, code, msg)] = parse_check(r.stdout)[0]["behind"]
    assert (sev, code) == ("info", "NodeImageUpgradeAvailable")
    assert "next maintenance window" in msg


def test_azure_linux3_pin(make_sim, env, run):
    c = Cluster("pinned", "pin-rg", SUB, k8s_version="1.36.2",
                pools=[Pool("azl3", os_sku="AzureLinux3", k8s_version="1.36.2", count=1)])
    s = make_sim(Scenario([c]))
    e = helpers.make_env(s, env["HOME"])
    # 1.37 is offered: a warning before anyone upgrades
    r = run_check(run, e)
    assert r.returncode == 3
    [(sev, code, msg)] = parse_check(r.stdout)[0]["azl3"]
    assert (sev, code) == ("warning", "AzureLinux3PinBlocksUpgrade")
    assert "can upgrade to 1.37.1" in msg
    assert msg.endswith(": kubectl azlinux migrate azl3 --to AzureLinux")
    # the control plane is on its way to 1.37: an error
    c.extra["current_k8s_version"] = "1.36.2"
    c.k8s_version = "1.37.1"
    r = run_check(run, e)
    assert r.returncode == 4
    [(sev, code, msg)] = parse_check(r.stdout)[0]["azl3"]
    assert (sev, code) == ("error", "AzureLinux3PinBlocksUpgrade")
    assert "is on or upgrading to 1.37.1" in msg
    assert "(upgrading to 1.37.1)" in r.stdout.splitlines()[0]
    # no 1.37 anywhere: nothing to say
    c.k8s_version = "1.36.2"
    s.arm.versions = [v for v in s.arm.versions if not v.startswith("1.37")]
    assert run_check(run, e).returncode == 0


def test_side_by_side_name_unique_in_the_cluster(make_sim, env, run):
    """The new pool's name is none of the cluster's pools', also when only
    the one pool is checked."""
    c = Cluster("names", "names-rg", SUB, pools=[
        Pool("kata", os_sku="Ubuntu", node_image_version=UBUNTU2204_IMAGE, count=2,
             vm_size="Standard_D4s_v3",
             extra={"properties": {"workloadRuntime": "KataVmIsolation"}}),
        Pool("kataazl", count=1)])
    s = make_sim(Scenario([c]))
    e = helpers.make_env(s, env["HOME"])
    for args in ((), ("kata",)):
        pools, _ = parse_check(run_check(run, e, *args).stdout)
        [(sev, code, msg)] = pools["kata"]
        assert (sev, code) == ("info", "UbuntuCanMigrate")
        assert msg.endswith(": kubectl azlinux migrate kata --to AzureLinux --new-pool kataazl2")


def test_json_and_yaml(checks, run):
    s, e = checks
    r = run("check", "-o", "json", env=e)
    assert r.returncode == 4
    doc = json.loads(r.stdout)
    assert doc["cluster"]["name"] == "checks"
    by_name = {p["name"]: p for p in doc["pools"]}
    assert [f["code"] for f in by_name["failed"]["findings"]] == ["ProvisioningFailed"]
    y = run("check", "-o", "yaml", "behind", env=e)
    assert y.returncode == 3
    assert yaml.safe_load(y.stdout)["pools"][0]["findings"][0]["severity"] == "warning"
    bad = run("check", "-o", "wide", env=e)
    assert bad.returncode == 1
    assert "allowed formats are: json,yaml" in bad.stderr


def test_demo_cluster(sim, run):
    r = run("check")
    assert r.returncode == 4
    pools, summary = parse_check(r.stdout)
    assert [c for _, c, _ in pools["mariner"]] == ["AzureLinux2Retired"]
    assert [c for _, c, _ in pools["ubuntu"]] == ["NodesNotReady", "UbuntuCanMigrate"]
    assert r.stdout.splitlines()[0].startswith("Cluster demo-aks (resource group demo-rg, ")
    assert summary == "1 error, 1 warning, 2 info in 4 pools"
