"""kubectl azlinux migrate / add-pool / status / resume / abort on the
simulator, on a fast clock (a simulated minute in a few wall milliseconds):
the plan and preflight, in-place and side-by-side moves followed to the end
and checked against the cluster model (every node on the target OS, the
pool's osSKU), the journal, interruption and resumption, and the
simulator's safety counters at zero throughout."""

import json
import os
import signal
import subprocess
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
                 k8s=None, extra_pools=(), **work):
    pools = [scenarios.Pool("system", mode="System", count=3, zones=["1", "2", "3"]),
             scenarios.Pool("work", os_sku=work_sku, node_image_version=work_image,
                            count=work_nodes, zones=["1", "2", "3"], **work)]
    pools.extend(extra_pools)
    kw = {"kubernetes_version": k8s} if k8s else {}
    cluster = scenarios.Cluster(NAME, RG, SUB, location="eastus", pools=pools, **kw)
    return scenarios.Scenario([cluster], name="mig", time_scale=SCALE)


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
