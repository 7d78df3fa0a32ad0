"""The simulator's ARM writes and the roller, driven by the official Azure SDK
for Python as Debian packages it (python3-azure: azure-mgmt-containerservice
21.1.0, api-version 2022-11-01) with its own LRO pollers, and by plain HTTP
where the SDK has no call (abort) or a test needs the raw answer.

Every roll here runs on a fast clock and is checked against the cluster
model: node names kept, the new OS's labels, osImage, kernel and kubelet on
every node, surge nodes gone, and the simulator's safety counters at zero."""

import json
import re
import ssl
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from helpers import KUBECTL, kubectl, make_env
from sim import scenario as scenarios

azure_core = pytest.importorskip("azure.core.credentials")
cs = pytest.importorskip("azure.mgmt.containerservice")
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError  # noqa: E402
from azure.mgmt.containerservice.v2022_11_01 import models  # noqa: E402

SCALE = 6000            # simulated seconds per wall second: a minute in 10 ms
SUB = scenarios.DEMO_SUBSCRIPTION
RG = "roll-rg"
NAME = "roll-aks"
NEW_AZL3 = "AKSAzureLinux-V3gen2-202608.14.0"
NEW_UBUNTU = "AKSUbuntu-2204gen2containerd-202608.14.0"


def roll_scenario(user_nodes=20, user_sku="Ubuntu", user_image=scenarios.UBUNTU2204_IMAGE):
    pools = [scenarios.Pool("system", mode="System", count=3, zones=["1", "2", "3"],
                            max_surge="33%"),
             scenarios.Pool("work", os_sku=user_sku, node_image_version=user_image,
                            count=user_nodes, zones=["1", "2", "3"])]
    cluster = scenarios.Cluster(NAME, RG, SUB, location="eastus", pools=pools)
    return scenarios.Scenario([cluster], name="roll", time_scale=SCALE)


class SimCredential:
    """A TokenCredential handing out the simulator's ARM tokens."""

    def __init__(self, sim):
        self.sim = sim

    def get_token(self, *scopes, **kwargs):
        token = self.sim.issue_azure_token("72f988bf-86f1-41af-91ab-2d7cd011db47", "sdk-tests",
                                           "https://management.azure.com/")
        return azure_core.AccessToken(token, int(time.time()) + 3600)


def sdk(sim):
    return cs.ContainerServiceClient(SimCredential(sim), SUB, base_url=sim.azure_url,
                                     connection_verify=sim.ca_file, polling_interval=0.05)


@pytest.fixture
def rsim(make_sim):
    return make_sim(roll_scenario())


def cluster_of(sim):
    return sim.cluster(NAME)


def safety(sim):
    return cluster_of(sim).k8s.safety.counts()


SAFE = {"pdb_violations": 0, "lost_pods": 0, "no_ready_system_node": 0}


def node_names(sim, pool):
    return sorted(n["metadata"]["name"] for n in cluster_of(sim).k8s.pool_nodes(pool))


def pool_nodes(sim, pool):
    return cluster_of(sim).k8s.pool_nodes(pool)


# --- plain HTTP ----------------------------------------------------------------

def arm_call(sim, method, path, body=None, headers=None, api="2026-10-01", query="",
             timeout=10):
    token = SimCredential(sim).get_token().token
    url = "%s%s?api-version=%s%s" % (sim.azure_url, path, api, query)
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Authorization", "Bearer " + token)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    ctx = ssl.create_default_context(cafile=sim.ca_file)
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=timeout) as resp:
            raw = resp.read()
            return resp.status, dict(resp.headers), json.loads(raw) if raw else None
    except urllib.error.HTTPError as e:
        raw = e.read()
        return e.code, dict(e.headers), json.loads(raw) if raw else None


def get_url(sim, url):
    token = SimCredential(sim).get_token().token
    req = urllib.request.Request(url)
    req.add_header("Authorization", "Bearer " + token)
    ctx = ssl.create_default_context(cafile=sim.ca_file)
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=10) as resp:
            raw = resp.read()
            return resp.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as e:
        raw = e.read()
        return e.code, json.loads(raw) if raw else None


def pool_path(sim, pool):
    return "%s/agentPools/%s" % (cluster_of(sim).id, pool)


def wait_op(sim, headers, timeout=20):
    """Polls Azure-AsyncOperation until terminal; returns the status body."""
    deadline = time.monotonic() + timeout
    while True:
        status, body = get_url(sim, headers["Azure-AsyncOperation"])
        assert status == 200, body
        if body["status"] in ("Succeeded", "Failed", "Canceled") or time.monotonic() > deadline:
            return body
        time.sleep(0.02)


# --- the SDK drives whole operations ---------------------------------------------

def test_sdk_in_place_os_sku_change_of_20_nodes(rsim):
    os_sku_change_of_20_nodes(rsim)


def os_sku_change_of_20_nodes(rsim):
    """The SDK moves the 20-node pool from Ubuntu to Azure Linux in place;
    returns the surge nodes' names."""
    client = sdk(rsim)
    before = node_names(rsim, "work")
    assert len(before) == 20
    pool = client.agent_pools.get(RG, NAME, "work")
    assert pool.os_sku == "Ubuntu"
    pool.os_sku = "AzureLinux"
    poller = client.agent_pools.begin_create_or_update(RG, NAME, "work", pool)
    done = poller.result(timeout=30)
    assert done.provisioning_state == "Succeeded"
    assert done.os_sku == "AzureLinux"
    assert done.node_image_version == scenarios.AZL3_IMAGE
    # same nodes (reimaged in place), surge nodes gone, every one on Azure Linux 3
    assert node_names(rsim, "work") == before
    for node in pool_nodes(rsim, "work"):
        labels = node["metadata"]["labels"]
        assert labels["kubernetes.azure.com/os-sku"] == "AzureLinux"
        assert labels["kubernetes.azure.com/os-sku-effective"] == "AzureLinux3"
        assert labels["kubernetes.azure.com/node-image-version"] == scenarios.AZL3_IMAGE
        info = node["status"]["nodeInfo"]
        assert info["osImage"] == "Microsoft Azure Linux 3.0"
        assert info["kernelVersion"].endswith(".azl3")
        assert not node["spec"].get("unschedulable")
    reasons = {e["reason"] for e in cluster_of(rsim).k8s.events()}
    assert {"Surge", "Drain", "Update", "Delete"} <= reasons
    surge = [e["involvedObject"]["name"] for e in cluster_of(rsim).k8s.events("Surge")]
    assert len(surge) == 2 and not set(surge) & set(before)   # 10% of 20, new instances
    assert safety(rsim) == SAFE
    return surge


def test_kubectl_lists_the_upgraders_events(rsim, tmp_path):
    surge = os_sku_change_of_20_nodes(rsim)
    r = kubectl(make_env(rsim, tmp_path / "home"), "get", "events", "-n", "default",
                "--field-selector", "reason=Surge", "-o", "json")
    assert r.returncode == 0, r.stderr
    items = json.loads(r.stdout)["items"]
    assert sorted(e["involvedObject"]["name"] for e in items) == sorted(surge)
    assert all(e["message"] == "Created a surge node [%s work] for agentpool work"
               % e["involvedObject"]["name"] for e in items)


def test_sdk_node_image_upgrade(rsim):
    rsim.arm.latest_images["AKSUbuntu-2204gen2containerd"] = NEW_UBUNTU
    client = sdk(rsim)
    before = node_names(rsim, "work")
    done = client.agent_pools.begin_upgrade_node_image_version(RG, NAME, "work").result(
        timeout=30)
    assert done.node_image_version == NEW_UBUNTU
    assert done.provisioning_state == "Succeeded"
    assert node_names(rsim, "work") == before
    assert {n["metadata"]["labels"]["kubernetes.azure.com/node-image-version"]
            for n in pool_nodes(rsim, "work")} == {NEW_UBUNTU}
    assert safety(rsim) == SAFE


def test_sdk_kubernetes_upgrade_of_cluster_and_pools(rsim):
    client = sdk(rsim)
    mc = client.managed_clusters.get(RG, NAME)
    assert mc.current_kubernetes_version == "1.32.6"
    mc.kubernetes_version = "1.33.3"
    for prof in mc.agent_pool_profiles:
        prof.orchestrator_version = "1.33.3"
    done = client.managed_clusters.begin_create_or_update(RG, NAME, mc).result(timeout=30)
    assert done.provisioning_state == "Succeeded"
    assert done.current_kubernetes_version == "1.33.3"
    assert {p.current_orchestrator_version for p in done.agent_pool_profiles} == {"1.33.3"}
    for node in cluster_of(rsim).k8s.nodes():
        assert node["status"]["nodeInfo"]["kubeletVersion"] == "v1.33.3"
    assert cluster_of(rsim).k8s.version == "1.33.3"
    assert safety(rsim) == SAFE


def test_sdk_pool_create_and_delete(rsim):
    client = sdk(rsim)
    new = models.AgentPool(count=3, vm_size="Standard_D4ds_v5", os_type="Linux",
                              os_sku="AzureLinux", mode="User")
    done = client.agent_pools.begin_create_or_update(RG, NAME, "azl", new).result(timeout=30)
    assert done.provisioning_state == "Succeeded" and done.count == 3
    nodes = pool_nodes(rsim, "azl")
    assert len(nodes) == 3
    assert all(n["metadata"]["labels"]["kubernetes.azure.com/os-sku"] == "AzureLinux"
               for n in nodes)
    assert [n["spec"]["providerID"].rsplit("/", 1)[1] for n in nodes] == ["0", "1", "2"]
    assert all(any(c["type"] == "Ready" and c["status"] == "True"
                   for c in n["status"]["conditions"]) for n in nodes)
    # the old pool goes, drained under its PDBs
    client.agent_pools.begin_delete(RG, NAME, "work").result(timeout=30)
    with pytest.raises(ResourceNotFoundError):
        client.agent_pools.get(RG, NAME, "work")
    assert node_names(rsim, "work") == []
    assert [p.name for p in cluster_of(rsim).pools] == ["system", "azl"]
    assert safety(rsim) == SAFE


# --- failures as AKS words them ------------------------------------------------------

def blocking_pdb(sim):
    """A Deployment on the work pool whose PDB never allows a disruption."""
    k = cluster_of(sim).k8s
    work = pool_nodes(sim, "work")
    k.add_deployment("pay", "ledger", 2, nodes=work[:1])
    k.add_pdb("pay", "ledger", {"app": "ledger"}, min_available=2)
    pod = next(p for p in k.pods(namespace="pay"))
    return work[0]["metadata"]["name"], pod["metadata"]["name"]


def test_pdb_blocked_drain_fails_after_the_drain_timeout(rsim):
    node, pod = blocking_pdb(rsim)
    client = sdk(rsim)
    status, headers, _ = arm_call(rsim, "PUT", pool_path(rsim, "work"), {"properties": {
        "osSKU": "AzureLinux", "upgradeSettings": {"drainTimeoutInMinutes": 5}}})
    assert status == 200
    result = wait_op(rsim, headers)
    assert result["status"] == "Failed"
    assert result["error"]["code"] == "UpgradeFailed"
    msg = result["error"]["message"]
    assert msg.startswith("Drain node %s failed when evicting pod %s failed with Too Many "
                          "Requests error." % (node, pod))
    assert "PDB debug info: pay/%s blocked by pdb ledger with 0 unready pods." % pod in msg
    op = rsim.roller.operations[headers["Azure-AsyncOperation"].split("/")[-1].split("?")[0]]
    assert op.end_time - op.start_time >= 5 * 60      # simulated drain timeout passed
    assert client.agent_pools.get(RG, NAME, "work").provisioning_state == "Failed"
    assert any(e["type"] == "Warning" and e["message"].endswith(pod)
               for e in cluster_of(rsim).k8s.events("Drain"))
    # Schedule (the default): the blocked node is schedulable again, not upgraded
    blocked = cluster_of(rsim).k8s.node(node)
    assert not blocked["spec"].get("unschedulable")
    assert blocked["metadata"]["labels"]["kubernetes.azure.com/os-sku"] == "Ubuntu"
    assert len(node_names(rsim, "work")) == 20        # the surge nodes went, best effort
    assert safety(rsim) == SAFE


def test_the_sdk_poller_reports_the_drain_failure(rsim):
    node, pod = blocking_pdb(rsim)
    # 2022-11-01's upgradeSettings has maxSurge only: the timeout is set on the pool
    cluster_of(rsim).pool("work").extra["upgradeSettings"] = {"drainTimeoutInMinutes": 5}
    client = sdk(rsim)
    pool = client.agent_pools.get(RG, NAME, "work")
    pool.os_sku = "AzureLinux"
    poller = client.agent_pools.begin_create_or_update(RG, NAME, "work", pool)
    with pytest.raises(HttpResponseError) as failed:
        poller.result(timeout=30)
    assert failed.value.error.code == "UpgradeFailed"
    assert "Drain node %s failed when evicting pod %s" % (node, pod) in failed.value.message
    assert poller.status() == "Failed"


def test_undrainable_cordon_quarantines_and_keeps_a_surge_node(rsim):
    node, _ = blocking_pdb(rsim)
    before = node_names(rsim, "work")
    status, headers, _ = arm_call(rsim, "PUT", pool_path(rsim, "work"), {"properties": {
        "osSKU": "AzureLinux", "upgradeSettings": {"drainTimeoutInMinutes": 5,
                                                   "undrainableNodeBehavior": "Cordon"}}})
    assert status == 200
    assert wait_op(rsim, headers)["status"] == "Succeeded"
    k = cluster_of(rsim).k8s
    blocked = k.node(node)
    assert blocked["spec"].get("unschedulable") is True
    assert blocked["metadata"]["labels"]["kubernetes.azure.com/upgrade-status"] == "Quarantined"
    after = node_names(rsim, "work")
    assert len(after) == len(before) + 1          # its surge node stays
    for n in pool_nodes(rsim, "work"):
        if n["metadata"]["name"] != node:
            assert n["metadata"]["labels"]["kubernetes.azure.com/os-sku"] == "AzureLinux"
    assert safety(rsim) == SAFE


def test_pod_under_two_pdbs_fails_the_drain(rsim):
    k = cluster_of(rsim).k8s
    k.add_pdb("shop", "web-extra", {"app": "web"}, min_available=1)
    _, headers, _ = arm_call(rsim, "PUT", pool_path(rsim, "work"),
                             {"properties": {"osSKU": "AzureLinux"}})
    result = wait_op(rsim, headers)
    assert result["status"] == "Failed"
    detail = result["error"]["details"][0]
    assert detail["code"] == "KubernetesAPICallFailed"
    assert "Evict blocked by conflicting disruption budgets" in detail["message"]
    assert "This pod has more than one PodDisruptionBudget" in detail["message"]


def test_a_step_made_to_fail_fails_the_operation(rsim):
    rsim.clock.fail("reimage", message="simulated VMSS reimage failure")
    _, headers, _ = arm_call(rsim, "PUT", pool_path(rsim, "work"),
                             {"properties": {"osSKU": "AzureLinux"}})
    result = wait_op(rsim, headers)
    assert result["status"] == "Failed"
    assert result["error"] == {"code": "UpgradeFailed",
                               "message": "simulated VMSS reimage failure"}


def test_unsatisfiable_pdb_is_refused_up_front(rsim):
    cluster_of(rsim).k8s.add_pdb("shop", "strict", {"app": "api"}, max_unavailable=0)
    status, _, body = arm_call(rsim, "PUT", pool_path(rsim, "work"),
                               {"properties": {"osSKU": "AzureLinux"}})
    assert status == 400
    assert body["error"] == {"code": "UnsatisfiablePDB", "message": "1 error occurred: * PDB "
                             "shop/strict has maxunavailble == 0 can't proceed with put "
                             "operation"}
    assert rsim.roller.running(cluster_of(rsim)) == []


@pytest.mark.parametrize("name,props,code,text", [
    ("Bad-Name", {"count": 1}, "InvalidParameter",
     "The value of parameter agentPoolProfile.name is invalid."),
    ("toolongname123", {"count": 1}, "InvalidParameter", "agentPoolProfile.name"),
    ("newpool", {"count": 1, "notAField": True}, "InvalidRequestContent",
     "Could not find member 'notAField'"),
    ("newpool", {"count": 1001}, "InvalidParameter", "agentPoolProfile.count"),
    ("newpool", {"count": 0, "mode": "System"}, "InvalidParameter", "agentPoolProfile.count"),
    ("win1", {"count": 1, "mode": "System", "osType": "Windows"}, "InvalidParameter",
     "System pool must have osType Linux"),
    ("newpool", {"count": 1, "orchestratorVersion": "1.33.3"}, "NodePoolMcVersionIncompatible",
     "Minor version of node pool version 33 is bigger than control plane version 32."),
    ("work", {"orchestratorVersion": "1.33.3"}, "NodePoolMcVersionIncompatible",
     "is bigger than control plane version"),
    ("work", {"vmSize": "Standard_D8ds_v5"}, "PropertyChangeNotAllowed",
     "Changing property 'agentPoolProfile.VMSize' is not allowed."),
    ("work", {"osSKU": "Windows2022"}, "PropertyChangeNotAllowed",
     "Changing property 'agentPoolProfile.OSSKU' is not allowed."),
    ("work", {"provisioningState": "Failed"}, "InvalidParameter", "read-only"),
    ("work", {"upgradeSettings": {"drainTimeoutInMinutes": 0}}, "InvalidParameter",
     "drainTimeoutInMinutes"),
])
def test_pool_writes_are_validated_like_aks(rsim, name, props, code, text):
    status, _, body = arm_call(rsim, "PUT", pool_path(rsim, name), {"properties": props})
    assert status == 400, body
    assert body["error"]["code"] == code
    assert text in body["error"]["message"]
    assert [p.name for p in cluster_of(rsim).pools] == ["system", "work"]
    assert rsim.roller.running(cluster_of(rsim)) == []


def test_os_sku_moves_aks_refuses(make_sim):
    s = make_sim(roll_scenario(user_nodes=2))
    c = cluster_of(s)
    work = c.pool("work")
    for setup, sku in ((lambda: work.extra.update(properties={
            "workloadRuntime": "KataVmIsolation"}), "AzureLinux"),
            (lambda: work.extra.update(properties={}, gpu_dedicated_vhd=True), "AzureLinux"),
            (lambda: work.extra.update(gpu_dedicated_vhd=False, confidential_vm=True),
             "AzureLinux")):
        setup()
        status, _, body = arm_call(s, "PUT", pool_path(s, "work"), {"properties": {"osSKU": sku}})
        assert (status, body["error"]["code"]) == (400, "PropertyChangeNotAllowed")
    work.extra.pop("confidential_vm")
    s.arm.os_sku_refusals["AzureLinux3"] = "InvalidOSSKU"
    status, _, body = arm_call(s, "PUT", pool_path(s, "work"),
                               {"properties": {"osSKU": "AzureLinux3"}})
    assert (status, body["error"]["code"]) == (400, "InvalidOSSKU")
    assert "OSSKU='AzureLinux3' is invalid" in body["error"]["message"]


def test_azurelinux3_only_on_kubernetes_1_28_to_1_36(make_sim):
    s = make_sim(roll_scenario(user_nodes=1))
    c = cluster_of(s)
    c.k8s_version = "1.37.1"
    c.extra["current_k8s_version"] = "1.37.1"
    status, _, body = arm_call(s, "PUT", pool_path(s, "azl"), {"properties": {
        "count": 1, "osSKU": "AzureLinux3", "orchestratorVersion": "1.37.1"}})
    assert (status, body["error"]["code"]) == (400, "InvalidOSSKU")
    status, _, body = arm_call(s, "PUT", pool_path(s, "azl"), {"properties": {
        "count": 1, "osSKU": "AzureLinux3", "orchestratorVersion": "1.36.2"}})
    assert status == 201, body


def test_skipping_a_minor_is_not_allowed(rsim):
    status, _, body = arm_call(rsim, "PUT", cluster_of(rsim).id, {
        "location": "eastus", "properties": {"kubernetesVersion": "1.34.1"}})
    assert status == 400
    assert body["error"]["code"] == "OperationNotAllowed"
    assert body["error"]["message"].startswith("Upgrading Kubernetes version 1.32.6 to 1.34.1 "
                                               "is not allowed. Available upgrades: [")


def test_auto_upgrade_profile_is_written(rsim):
    client = sdk(rsim)
    mc = client.managed_clusters.get(RG, NAME)
    mc.auto_upgrade_profile = models.ManagedClusterAutoUpgradeProfile(upgrade_channel="patch")
    done = client.managed_clusters.begin_create_or_update(RG, NAME, mc).result(timeout=30)
    assert done.auto_upgrade_profile.upgrade_channel == "patch"
    assert done.current_kubernetes_version == "1.32.6"
    # 2022-11-01 has no nodeOSUpgradeChannel: the reference's version sets it
    status, headers, _ = arm_call(rsim, "PUT", cluster_of(rsim).id, {"location": "eastus",
                                  "properties": {"autoUpgradeProfile": {
                                      "nodeOSUpgradeChannel": "SecurityPatch"}}})
    assert status == 200 and wait_op(rsim, headers)["status"] == "Succeeded"
    profile = arm_call(rsim, "GET", cluster_of(rsim).id)[2]["properties"]["autoUpgradeProfile"]
    assert profile == {"upgradeChannel": "patch", "nodeOSUpgradeChannel": "SecurityPatch"}
    status, _, body = arm_call(rsim, "PUT", cluster_of(rsim).id, {"location": "eastus",
                               "properties": {"autoUpgradeProfile": {"upgradeChannel": "fast"}}})
    assert (status, body["error"]["code"]) == (400, "InvalidParameter")


def test_cluster_writes_move_every_etag(rsim):
    _, _, mc = arm_call(rsim, "GET", cluster_of(rsim).id)
    _, _, pool = arm_call(rsim, "GET", pool_path(rsim, "work"))
    status, _, body = arm_call(rsim, "PUT", cluster_of(rsim).id, {"location": "eastus",
                               "properties": {}}, headers={"If-Match": mc["eTag"]})
    assert status == 200, body
    assert body["eTag"] != mc["eTag"]
    assert arm_call(rsim, "GET", pool_path(rsim, "work"))[2]["properties"]["eTag"] != \
        pool["properties"]["eTag"]
    status, _, body = arm_call(rsim, "PUT", cluster_of(rsim).id, {"location": "eastus",
                               "properties": {}}, headers={"If-Match": mc["eTag"]})
    assert (status, body["error"]["code"]) == (412, "PreconditionFailed")


def test_unknown_fields_pass_on_the_sdks_older_api_version(rsim):
    status, _, body = arm_call(rsim, "PUT", pool_path(rsim, "extra"), {"properties": {
        "count": 1, "notAField": 1}}, api="2022-11-01")
    assert status == 201, body


# --- the operation contract -------------------------------------------------------

def test_lro_headers_status_and_location(rsim):
    rsim.clock.pause()
    status, headers, body = arm_call(rsim, "POST", pool_path(rsim, "work") +
                                     "/upgradeNodeImageVersion")
    assert status == 202
    assert body["properties"]["provisioningState"] == "UpgradingNodeImageVersion"
    assert headers["Retry-After"] == str(rsim.clock.retry_after(30))
    assert headers["x-ms-ratelimit-remaining-subscription-writes"] == "1199"
    assert "/operationresults/" in headers["Location"]
    code, op = get_url(rsim, headers["Azure-AsyncOperation"])
    assert code == 200 and op["status"] == "InProgress" and "percentComplete" in op
    code, _ = get_url(rsim, headers["Location"])
    assert code == 202
    rsim.clock.resume()
    assert wait_op(rsim, headers)["status"] == "Succeeded"
    code, final = get_url(rsim, headers["Location"])
    assert code == 200 and final["properties"]["provisioningState"] == "Succeeded"
    # a delete's Location ends in 204
    status, headers, _ = arm_call(rsim, "DELETE", pool_path(rsim, "work"),
                                  query="&ignore-pod-disruption-budget=true")
    assert status == 202
    assert headers["x-ms-ratelimit-remaining-subscription-deletes"] == "14999"
    assert wait_op(rsim, headers)["status"] == "Succeeded"
    assert get_url(rsim, headers["Location"])[0] == 204


def test_get_shows_the_operations_provisioning_state(rsim):
    rsim.clock.pause()
    status, _, _ = arm_call(rsim, "PUT", pool_path(rsim, "work"),
                            {"properties": {"osSKU": "AzureLinux"}})
    assert status == 200
    status, _, _ = arm_call(rsim, "POST", pool_path(rsim, "system") + "/upgradeNodeImageVersion")
    assert status == 202
    rsim.clock.step(1)
    _, _, work = arm_call(rsim, "GET", pool_path(rsim, "work"))
    assert work["properties"]["provisioningState"] == "Upgrading"
    assert work["properties"]["osSKU"] == "AzureLinux"          # what was asked for
    assert work["properties"]["nodeImageVersion"] == scenarios.UBUNTU2204_IMAGE  # not yet
    _, _, system = arm_call(rsim, "GET", pool_path(rsim, "system"))
    assert system["properties"]["provisioningState"] == "UpgradingNodeImageVersion"
    status, _, _ = arm_call(rsim, "PUT", pool_path(rsim, "gone"), {"properties": {"count": 1}})
    assert status == 201
    rsim.clock.step(600)
    status, _, _ = arm_call(rsim, "DELETE", pool_path(rsim, "gone"))
    assert status == 202
    _, _, gone = arm_call(rsim, "GET", pool_path(rsim, "gone"))
    assert gone["properties"]["provisioningState"] == "Deleting"
    rsim.clock.resume()


def test_etags_if_match_and_if_none_match(rsim):
    _, _, pool = arm_call(rsim, "GET", pool_path(rsim, "work"))
    tag = pool["properties"]["eTag"]
    status, _, body = arm_call(rsim, "PUT", pool_path(rsim, "work"),
                               {"properties": {"nodeLabels": {"team": "a"}}},
                               headers={"If-Match": tag})
    assert status == 200, body
    assert body["properties"]["eTag"] != tag
    status, _, body = arm_call(rsim, "PUT", pool_path(rsim, "work"),
                               {"properties": {"nodeLabels": {"team": "b"}}},
                               headers={"If-Match": tag})
    assert status == 412 and body["error"]["code"] == "PreconditionFailed"
    status, _, body = arm_call(rsim, "PUT", pool_path(rsim, "work"), {"properties": {}},
                               headers={"If-None-Match": "*"})
    assert status == 412 and body["error"]["code"] == "PreconditionFailed"
    status, _, _ = arm_call(rsim, "PUT", pool_path(rsim, "fresh"), {"properties": {"count": 1}},
                            headers={"If-None-Match": "*"})
    assert status == 201


def test_a_held_request_is_never_answered(rsim):
    """hold: the connection stays open without a byte of answer until the
    client gives up; with after=True the write was applied all the same."""
    path = pool_path(rsim, "work")
    _, _, pool = arm_call(rsim, "GET", path)
    held = rsim.faults.add(server="azure", method="GET", path_prefix=path, hold=True)
    t0 = time.monotonic()
    with pytest.raises(TimeoutError):
        arm_call(rsim, "GET", path, timeout=1.5)
    assert time.monotonic() - t0 >= 1.4 and held.hits == 1
    rsim.faults.add(server="azure", method="PUT", path_prefix=path, hold=True, after=True)
    with pytest.raises(TimeoutError):
        arm_call(rsim, "PUT", path, {"properties": {"nodeLabels": {"team": "held"}}},
                 headers={"If-Match": pool["properties"]["eTag"]}, timeout=1.5)
    _, _, now = arm_call(rsim, "GET", path)
    assert now["properties"]["nodeLabels"].get("team") == "held"
    assert now["properties"]["eTag"] != pool["properties"]["eTag"]


def test_writes_conflict_while_an_operation_runs(rsim):
    rsim.clock.pause()
    status, _, _ = arm_call(rsim, "PUT", pool_path(rsim, "work"),
                            {"properties": {"osSKU": "AzureLinux"}})
    assert status == 200
    status, _, body = arm_call(rsim, "PUT", pool_path(rsim, "work"), {"properties": {"count": 21}})
    assert status == 409
    assert body["error"] == {"code": "OperationNotAllowed", "message":
                             "Operation is not allowed: Another agentpool operation (Upgrading) is "
                             "in progress, please wait for it to finish before starting a new "
                             "operation. See https://aka.ms/aks-pending-operation for more "
                             "details."}
    status, _, body = arm_call(rsim, "PUT", cluster_of(rsim).id, {"location": "eastus",
                                                                  "properties": {}})
    assert status == 409
    assert body["error"]["message"].startswith("Managed Cluster operation is not allowed: "
                                               "Another operation (Upgrading) is in progress "
                                               "on agent pool (work)")
    # another pool may still be written
    status, _, _ = arm_call(rsim, "PUT", pool_path(rsim, "system"),
                            {"properties": {"nodeLabels": {"a": "b"}}})
    assert status == 200
    rsim.clock.resume()


def test_put_agent_pool_throttling(rsim):
    rsim.arm.put_pool_throttle = {"size": 2, "per_minute": 1}
    rsim.clock.pause()
    assert arm_call(rsim, "PUT", pool_path(rsim, "p0"), {"properties": {}})[0] == 201
    assert arm_call(rsim, "PUT", pool_path(rsim, "p0"), {"properties": {}})[0] == 409
    status, headers, body = arm_call(rsim, "PUT", pool_path(rsim, "p0"), {"properties": {}})
    assert status == 429
    assert body["error"]["code"] == "Throttled"
    assert body["error"]["message"] == ("The PutAgentPoolHandler.PUT request limit has been "
                                        "exceeded for SubID=%s, please retry again in %s "
                                        "seconds" % (SUB, headers["Retry-After"]))
    assert headers["Retry-After"] == str(rsim.clock.retry_after(60))
    # the bucket is per pool
    assert arm_call(rsim, "PUT", pool_path(rsim, "p1"), {"properties": {}})[0] == 201
    # a token comes back after a simulated minute
    rsim.clock.step(61)
    assert arm_call(rsim, "PUT", pool_path(rsim, "p0"), {"properties": {}})[0] != 429
    rsim.arm.put_pool_throttle = None
    rsim.clock.resume()


def test_abort_cancels_a_pool_operation(rsim):
    rsim.clock.pause()
    status, headers, _ = arm_call(rsim, "PUT", pool_path(rsim, "work"),
                                  {"properties": {"osSKU": "AzureLinux"}})
    assert status == 200
    rsim.clock.step(30)
    status, abort_headers, _ = arm_call(rsim, "POST", pool_path(rsim, "work") + "/abort")
    assert status == 202
    _, _, pool = arm_call(rsim, "GET", pool_path(rsim, "work"))
    assert pool["properties"]["provisioningState"] == "Canceling"
    rsim.clock.step(1)
    rsim.clock.resume()
    assert wait_op(rsim, headers)["status"] == "Canceled"
    assert wait_op(rsim, abort_headers)["status"] == "Succeeded"
    _, _, pool = arm_call(rsim, "GET", pool_path(rsim, "work"))
    assert pool["properties"]["provisioningState"] == "Canceled"
    status, _, body = arm_call(rsim, "POST", pool_path(rsim, "work") + "/abort")
    assert status == 409 and body["error"]["code"] == "OperationNotAllowed"


def test_abort_cancels_a_cluster_operation(rsim):
    rsim.clock.pause()
    status, headers, _ = arm_call(rsim, "PUT", cluster_of(rsim).id, {
        "location": "eastus", "properties": {"kubernetesVersion": "1.33.3"}})
    assert status == 200
    status, _, _ = arm_call(rsim, "POST", cluster_of(rsim).id + "/abort")
    assert status == 202
    rsim.clock.resume()
    assert wait_op(rsim, headers)["status"] == "Canceled"
    assert arm_call(rsim, "GET", cluster_of(rsim).id)[2]["properties"][
        "currentKubernetesVersion"] == "1.32.6"


def test_abort_during_a_cluster_upgrades_pool_roll(rsim):
    rsim.clock.pause()
    status, headers, _ = arm_call(rsim, "PUT", cluster_of(rsim).id, {
        "location": "eastus", "properties": {"kubernetesVersion": "1.33.3", "agentPoolProfiles": [
            {"name": "work", "orchestratorVersion": "1.33.3"}]}})
    assert status == 200
    rsim.clock.step(400)                # past the control plane, into the pool's roll
    _, _, pool = arm_call(rsim, "GET", pool_path(rsim, "work"))
    assert pool["properties"]["provisioningState"] == "Upgrading"
    assert arm_call(rsim, "POST", cluster_of(rsim).id + "/abort")[0] == 202
    rsim.clock.step(60)
    rsim.clock.resume()
    assert wait_op(rsim, headers)["status"] == "Canceled"
    _, _, mc = arm_call(rsim, "GET", cluster_of(rsim).id)
    assert mc["properties"]["provisioningState"] == "Canceled"
    assert mc["properties"]["currentKubernetesVersion"] == "1.33.3"
    _, _, pool = arm_call(rsim, "GET", pool_path(rsim, "work"))
    assert pool["properties"]["provisioningState"] == "Canceled"


# --- capacity ------------------------------------------------------------------------

def test_quota_exceeded_and_compute_usages(rsim):
    c = cluster_of(rsim)
    in_use = 4 * len(c.k8s.nodes())         # Standard_D4ds_v5: 4 vCPUs each
    rsim.capacity.set_quota("eastus", cores=in_use + 4)
    status, _, body = arm_call(rsim, "GET", "/subscriptions/%s/providers/Microsoft.Compute/"
                               "locations/eastus/usages" % SUB, api="2024-11-01")
    assert status == 200
    cores = next(u for u in body["value"] if u["name"]["value"] == "cores")
    assert cores == {"unit": "Count", "currentValue": in_use, "limit": in_use + 4,
                     "name": {"value": "cores", "localizedValue": "Total Regional vCPUs"}}
    family = next(u for u in body["value"] if u["name"]["value"] == "standardDDSv5Family")
    assert family["currentValue"] == in_use
    status, _, body = arm_call(rsim, "PUT", pool_path(rsim, "more"), {"properties": {
        "count": 2, "vmSize": "Standard_D4ds_v5"}})
    assert status == 400
    assert body["error"] == {"code": "QuotaExceeded", "message": "Operation results in "
                             "exceeding quota limits of Core. Maximum allowed: %d, Current in "
                             "use: %d, Additional requested: 8." % (in_use + 4, in_use)}
    rsim.capacity.set_quota("eastus", cores=10000, family={"standardDDSv5Family": in_use + 4})
    status, _, body = arm_call(rsim, "PUT", pool_path(rsim, "work"),
                               {"properties": {"osSKU": "AzureLinux"}})
    assert status == 400 and body["error"]["message"] == (
        "Insufficient vcpu quota requested 8, remaining 4 for family standardDDSv5Family for "
        "region eastus.")


def test_subnet_is_full_fails_the_surge(rsim):
    c = cluster_of(rsim)
    rsim.capacity.set_subnet(c, limit=len(c.k8s.nodes()) + 1)
    _, _, pool = arm_call(rsim, "GET", pool_path(rsim, "work"))
    vnet_usages = pool["properties"]["vnetSubnetID"].rsplit("/subnets/", 1)[0] + "/usages"
    status, _, body = arm_call(rsim, "GET", vnet_usages, api="2024-05-01")
    assert status == 200
    assert body["value"][0]["name"] == {"localizedValue": "Subnet size and usage",
                                        "value": "SubnetSpace"}
    assert body["value"][0]["limit"] == float(len(c.k8s.nodes()) + 1)
    _, headers, _ = arm_call(rsim, "PUT", pool_path(rsim, "work"),
                             {"properties": {"osSKU": "AzureLinux"}})
    result = wait_op(rsim, headers)
    assert result["status"] == "Failed"
    assert result["error"]["code"] == "SubnetIsFull"
    assert "Code='SubnetIsFull'" in result["error"]["message"]


# --- upgradeSettings, scale, delete under PDBs ------------------------------------------

def sample_pool(sim, pool, every=5.0):
    """Records (unschedulable nodes, all nodes) of the pool every `every`
    simulated seconds, on the clock's thread, as long as the simulator runs."""
    samples = []
    k = cluster_of(sim).k8s

    def look():
        with k.lock:
            nodes = k.pool_nodes(pool)
            samples.append((sum(1 for n in nodes if n["spec"].get("unschedulable")),
                            len(nodes)))
        sim.clock.call_later(every, look, name="test-sampler")
    sim.clock.call_later(0, look, name="test-sampler")
    return samples


def test_max_surge_count_and_soak(rsim):
    samples = sample_pool(rsim, "work")
    status, headers, _ = arm_call(rsim, "PUT", pool_path(rsim, "work"), {"properties": {
        "osSKU": "AzureLinux", "upgradeSettings": {"maxSurge": "4",
                                                   "nodeSoakDurationInMinutes": 3}}})
    assert status == 200
    assert wait_op(rsim, headers)["status"] == "Succeeded"
    k = cluster_of(rsim).k8s
    assert len(k.events("Surge")) == 4
    soaks = [e for e in k.events("Upgrade") if e["message"].startswith("Soak duration 3m0s")]
    assert len(soaks) == 20
    assert max(total for _, total in samples) == 24      # 20 + 4 surge, never more
    assert max(cordoned for cordoned, _ in samples) <= 4
    op = rsim.roller.operations[headers["Azure-AsyncOperation"].split("/")[-1].split("?")[0]]
    assert op.end_time - op.start_time >= 5 * 3 * 60    # five batches, each soaked 3 min
    assert safety(rsim) == SAFE


def test_max_unavailable_without_surge(rsim):
    samples = sample_pool(rsim, "work")
    status, headers, _ = arm_call(rsim, "PUT", pool_path(rsim, "work"), {"properties": {
        "osSKU": "AzureLinux", "upgradeSettings": {"maxSurge": "0", "maxUnavailable": "2"}}})
    assert status == 200
    assert wait_op(rsim, headers)["status"] == "Succeeded"
    assert cluster_of(rsim).k8s.events("Surge") == []
    assert max(total for _, total in samples) == 20
    assert max(cordoned for cordoned, _ in samples) == 2
    assert {n["metadata"]["labels"]["kubernetes.azure.com/os-sku"]
            for n in pool_nodes(rsim, "work")} == {"AzureLinux"}


def scale_to(sim, client, count):
    """Scales the work pool through the SDK; the nodes' instance numbers."""
    pool = client.agent_pools.get(RG, NAME, "work")
    pool.count = count
    done = client.agent_pools.begin_create_or_update(RG, NAME, "work", pool).result(timeout=30)
    assert done.count == count
    return sorted(int(n["spec"]["providerID"].rsplit("/", 1)[1])
                  for n in pool_nodes(sim, "work"))


def test_scale_out_and_in(rsim):
    client = sdk(rsim)
    assert scale_to(rsim, client, 22) == list(range(22))
    assert scale_to(rsim, client, 19) == list(range(19))    # the highest go first
    assert safety(rsim) == SAFE


def test_delete_under_a_blocking_pdb(rsim):
    node, pod = blocking_pdb(rsim)
    rsim.cluster(NAME).pool("work").extra["upgradeSettings"] = {"drainTimeoutInMinutes": 5}
    status, headers, _ = arm_call(rsim, "DELETE", pool_path(rsim, "work"))
    assert status == 202
    result = wait_op(rsim, headers)
    assert result["status"] == "Failed"
    assert result["error"]["code"] == "PodDrainFailure"
    assert result["error"]["message"].startswith("Node '%s' failed to be drained with error: "
                                                 "'Drain did not complete pods [" % node)
    assert pod in result["error"]["message"]
    assert safety(rsim) == SAFE
    # ignore-pod-disruption-budget: the pods are deleted, not evicted, and the pool goes
    status, headers, _ = arm_call(rsim, "DELETE", pool_path(rsim, "work"),
                                  query="&ignore-pod-disruption-budget=true")
    assert status == 202
    assert wait_op(rsim, headers)["status"] == "Succeeded"
    assert node_names(rsim, "work") == []
    assert safety(rsim)["pdb_violations"] >= 1          # what ignoring the PDB costs


def test_a_pool_upgrade_may_not_skip_a_minor(make_sim):
    s = make_sim(roll_scenario(user_nodes=1))
    c = cluster_of(s)
    c.extra["current_k8s_version"] = "1.34.1"
    status, _, body = arm_call(s, "PUT", pool_path(s, "work"),
                               {"properties": {"orchestratorVersion": "1.34.1"}})
    assert status == 400
    assert body["error"]["code"] == "OperationNotAllowed"
    assert body["error"]["message"].startswith("Upgrading Kubernetes version 1.32.6 to 1.34.1 "
                                               "is not allowed. Available upgrades: [1.33.3 "
                                               "1.33.2")
    status, headers, _ = arm_call(s, "PUT", pool_path(s, "work"),
                                  {"properties": {"orchestratorVersion": "1.33"}})
    assert status == 200
    assert wait_op(s, headers)["status"] == "Succeeded"
    assert pool_nodes(s, "work")[0]["status"]["nodeInfo"]["kubeletVersion"] == "v1.33.3"


def test_retry_after_scales_with_the_clock(rsim):
    rsim.clock.set_scale(1)
    status, headers, _ = arm_call(rsim, "POST", pool_path(rsim, "work") +
                                  "/upgradeNodeImageVersion")
    assert status == 202 and headers["Retry-After"] == "30"
    rsim.clock.set_scale(SCALE)
    assert get_url(rsim, headers["Location"])[0] in (200, 202)


def test_kubectl_watch_sees_the_roll(make_sim, tmp_path):
    from test_sim_k8s import Lines
    s = make_sim(roll_scenario(user_nodes=4))
    s.clock.pause()
    env = make_env(s, tmp_path / "home")
    proc = subprocess.Popen([KUBECTL, "get", "nodes", "--watch", "-o", "wide", "-l",
                             "agentpool=work"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        out = Lines(proc)
        out.wait_for(r"vmss000003\s")
        status, headers, _ = arm_call(s, "PUT", pool_path(s, "work"),
                                      {"properties": {"osSKU": "AzureLinux"}})
        assert status == 200
        s.clock.resume()
        assert wait_op(s, headers)["status"] == "Succeeded"
        surge = cluster_of(s).k8s.events("Surge")[0]["involvedObject"]["name"]
        assert re.search(r"\sNotReady\s", out.wait_for(surge))          # it arrives
        old = node_names(s, "work")[0]
        assert "SchedulingDisabled" in out.wait_for(old + r"\s.*SchedulingDisabled")
        line = out.wait_for(old + r"\s.*Microsoft Azure Linux 3\.0")     # reimaged in place
        assert ".azl3" in line
    finally:
        proc.terminate()
        proc.communicate(timeout=10)


def test_azure_linux_2_moves_to_3_with_kubernetes_1_32(make_sim):
    """aks-api.md §2.9: AzureLinux stays the osSKU; 1.32 brings Azure Linux 3.0."""
    s = make_sim(roll_scenario(user_nodes=3, user_sku="AzureLinux",
                               user_image=scenarios.AZL2_IMAGE))
    work = cluster_of(s).pool("work")
    work.k8s_version = "1.31.9"
    cluster_of(s).k8s.sync_pool(work)
    assert {n["status"]["nodeInfo"]["osImage"] for n in pool_nodes(s, "work")} == {
        "CBL-Mariner/Linux"}
    client = sdk(s)
    pool = client.agent_pools.get(RG, NAME, "work")
    pool.orchestrator_version = "1.32.6"
    done = client.agent_pools.begin_create_or_update(RG, NAME, "work", pool).result(timeout=30)
    assert (done.os_sku, done.node_image_version) == ("AzureLinux", scenarios.AZL3_IMAGE)
    for node in pool_nodes(s, "work"):
        info = node["status"]["nodeInfo"]
        assert info["osImage"] == "Microsoft Azure Linux 3.0"
        assert info["kubeletVersion"] == "v1.32.6"
        assert node["metadata"]["labels"]["kubernetes.azure.com/os-sku-effective"] == \
            "AzureLinux3"
    assert safety(s) == SAFE
