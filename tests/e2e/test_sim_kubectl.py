"""The simulator's Kubernetes side is faithful enough for the real kubectl.

Every test drives /usr/bin/kubectl (or a raw HTTPS client) against the running
simulator and checks both what the client printed and the simulator's state.
"""

import base64
import http.client
import json
import os
import re
import signal
import ssl
import subprocess
import urllib.parse

import pytest

from helpers import ROOT, kubectl, make_env
from sim.scenario import AZL3_IMAGE, fleet_scenario
from sim.server import Response, write_kubeconfig

CLUSTER = "demo-aks"


@pytest.fixture
def k8s(sim):
    return sim.cluster(CLUSTER).k8s


def ok(result):
    assert result.returncode == 0, result.stderr
    return result.stdout


def table(text):
    """Rows of a kubectl table split on runs of 3+ spaces (its column padding)."""
    lines = text.rstrip("\n").splitlines()
    return [re.split(r"\s{3,}", line.strip()) for line in lines]


def node_named(k8s, pool, index):
    return k8s.pool_nodes(pool)[index]["metadata"]["name"]


def test_get_nodes_columns_names_and_status(sim, env, k8s):
    rows = table(ok(kubectl(env, "get", "nodes")))
    assert rows[0] == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
    status = {r[0]: r[1] for r in rows[1:]}
    assert set(status) == {n["metadata"]["name"] for n in k8s.nodes()}
    assert all(re.fullmatch(r"aks-[a-z0-9]+-\d{8}-vmss[0-9a-z]{6}", n) for n in status)
    # demo: ubuntu has one NotReady node (its last), mariner its first cordoned.
    assert status[node_named(k8s, "ubuntu", 2)] == "NotReady"
    assert status[node_named(k8s, "mariner", 0)] == "Ready,SchedulingDisabled"
    assert status[node_named(k8s, "system", 0)] == "Ready"
    versions = {r[0]: r[4] for r in rows[1:]}
    assert versions[node_named(k8s, "mariner", 1)] == "v1.31.9"


def test_get_nodes_wide_shows_os_image_and_kernel(sim, env, k8s):
    rows = table(ok(kubectl(env, "get", "nodes", "-o", "wide")))
    header = rows[0]
    by_name = {r[0]: dict(zip(header, r)) for r in rows[1:]}
    azl3 = by_name[node_named(k8s, "system", 0)]
    assert azl3["OS-IMAGE"] == "Microsoft Azure Linux 3.0"
    assert azl3["KERNEL-VERSION"].endswith(".azl3")
    mariner = by_name[node_named(k8s, "mariner", 0)]
    assert mariner["OS-IMAGE"] == "CBL-Mariner/Linux"
    assert mariner["KERNEL-VERSION"].endswith(".cm2")
    assert by_name[node_named(k8s, "ubuntu", 0)]["OS-IMAGE"] == "Ubuntu 22.04.5 LTS"


def test_get_nodes_json_is_aks_shaped(sim, env, k8s):
    doc = json.loads(ok(kubectl(env, "get", "nodes", "-o", "json")))
    assert doc["kind"] == "List" and len(doc["items"]) == 9
    nodes = {n["metadata"]["name"]: n for n in doc["items"]}
    gpu = nodes[node_named(k8s, "gpu", 0)]
    labels = gpu["metadata"]["labels"]
    assert labels["kubernetes.azure.com/agentpool"] == labels["agentpool"] == "gpu"
    assert labels["kubernetes.azure.com/accelerator"] == "nvidia"
    assert labels["kubernetes.azure.com/cluster"] == "MC_demo-rg_demo-aks_eastus"
    assert labels["node.kubernetes.io/instance-type"] == "Standard_NC6s_v3"
    assert labels["kubernetes.azure.com/node-image-version"] == "AKSAzureLinux-V3gen2-202607.09.0"
    assert labels["kubernetes.azure.com/mode"] == "user"
    assert gpu["status"]["capacity"]["nvidia.com/gpu"] == "1"
    name = gpu["metadata"]["name"]
    digits, suffix = re.fullmatch(r"aks-gpu-(\d{8})-vmss(\w{6})", name).groups()
    assert gpu["spec"]["providerID"] == (
        "azure:///subscriptions/%s/resourceGroups/mc_demo-rg_demo-aks_eastus/providers/"
        "Microsoft.Compute/virtualMachineScaleSets/aks-gpu-%s-vmss/virtualMachines/%d"
        % (sim.cluster(CLUSTER).subscription, digits, int(suffix, 36)))
    info = nodes[node_named(k8s, "mariner", 0)]["status"]["nodeInfo"]
    assert info["osImage"] == "CBL-Mariner/Linux"
    assert info["kubeletVersion"] == "v1.31.9"
    assert info["containerRuntimeVersion"].startswith("containerd://")
    assert info["operatingSystem"] == "linux" and info["architecture"] == "amd64"
    system = nodes[node_named(k8s, "system", 1)]["metadata"]["labels"]
    assert system["topology.kubernetes.io/zone"] == "eastus-2"
    assert system["kubernetes.azure.com/mode"] == "system"


def test_chunked_list_uses_continue(sim, env, k8s):
    sim.clear_log()
    rows = table(ok(kubectl(env, "get", "nodes", "--chunk-size=2")))
    assert len(rows) - 1 == len(k8s.nodes()) == 9
    lists = [r for r in sim.find(server=CLUSTER, method="GET", path_prefix="/api/v1/nodes")
             if r["path"] == "/api/v1/nodes"]
    assert [r["query"]["limit"] for r in lists] == [["2"]] * 5
    assert sum("continue" in r["query"] for r in lists) == 4


@pytest.mark.parametrize("selector,pools", [
    ("kubernetes.azure.com/agentpool=ubuntu", {"ubuntu"}),
    ("kubernetes.azure.com/os-sku in (AzureLinux),!accelerator", {"system", "mariner"}),
    ("agentpool notin (system,ubuntu),kubernetes.azure.com/mode!=system", {"mariner", "gpu"}),
])
def test_label_selectors(sim, env, k8s, selector, pools):
    rows = table(ok(kubectl(env, "get", "nodes", "-l", selector)))
    got = {r[0] for r in rows[1:]}
    assert got == {n["metadata"]["name"] for p in pools for n in k8s.pool_nodes(p)}


def test_get_pods_all_namespaces(sim, env, k8s):
    rows = table(ok(kubectl(env, "get", "pods", "-A")))
    assert rows[0] == ["NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert {(r[0], r[1]) for r in rows[1:]} == {
        (p["metadata"]["namespace"], p["metadata"]["name"]) for p in k8s.pods()}
    assert {r[0] for r in rows[1:]} == {"kube-system", "shop", "ml"}
    # per namespace, and by node as drain asks
    node = node_named(k8s, "system", 0)
    rows = table(ok(kubectl(env, "get", "pods", "-n", "kube-system",
                            "--field-selector", "spec.nodeName=" + node)))
    assert {r[0] for r in rows[1:]} == {p["metadata"]["name"] for p in k8s.pods(node=node)}


def test_list_cache_answers_as_without_it_and_follows_changes(make_sim, tmp_path):
    """The benchmarks' list cache (Sim(cache_lists=True)) gives the answer the
    simulator gives without it, and a change made through the API shows in
    the next list, Table or List."""
    sim = make_sim(cache_lists=True)
    env = make_env(sim, tmp_path / "home")
    k8s = sim.cluster(CLUSTER).k8s
    cached = ok(kubectl(env, "get", "nodes", "-o", "json"))
    assert ok(kubectl(env, "get", "nodes", "-o", "json")) == cached
    k8s.cache_lists = False
    assert ok(kubectl(env, "get", "nodes", "-o", "json")) == cached
    k8s.cache_lists = True
    node = node_named(k8s, "system", 0)
    rows = table(ok(kubectl(env, "get", "nodes")))
    assert dict(r[:2] for r in rows[1:])[node] == "Ready"
    ok(kubectl(env, "cordon", node))
    rows = table(ok(kubectl(env, "get", "nodes")))
    assert dict(r[:2] for r in rows[1:])[node] == "Ready,SchedulingDisabled"
    items = json.loads(ok(kubectl(env, "get", "nodes", "-o", "json")))["items"]
    assert [n["spec"].get("unschedulable") for n in items
            if n["metadata"]["name"] == node] == [True]


def test_cordon_and_uncordon_patch_the_node(sim, env, k8s):
    node = node_named(k8s, "system", 1)
    sim.clear_log()
    assert "cordoned" in ok(kubectl(env, "cordon", node))
    assert k8s.node(node)["spec"]["unschedulable"] is True
    patches = sim.find(server=CLUSTER, method="PATCH")
    assert [p["path"] for p in patches] == ["/api/v1/nodes/" + node]
    assert patches[0]["content_type"] == "application/strategic-merge-patch+json"
    assert patches[0]["auth"] == "cert:masterclient"
    rows = table(ok(kubectl(env, "get", "node", node)))
    assert rows[1][1] == "Ready,SchedulingDisabled"
    assert "uncordoned" in ok(kubectl(env, "uncordon", node))
    assert "unschedulable" not in k8s.node(node)["spec"]


def _kubeconfig_for(sim, tmp_path, name, **user):
    path = str(tmp_path / ("kubeconfig-" + name))
    return write_kubeconfig(sim, path, users={CLUSTER: dict(user, name=name)})


def test_bearer_token_user(sim, env, k8s, tmp_path):
    k8s.tokens["s3cret-bob"] = "bob"
    kc = _kubeconfig_for(sim, tmp_path, "bob", token="s3cret-bob")
    sim.clear_log()
    rows = table(ok(kubectl(env, "--kubeconfig", kc, "get", "nodes")))
    assert len(rows) == 10
    auths = {r["auth"] for r in sim.find(server=CLUSTER)}
    assert auths == {"token:bob"}
    assert "s3cret" not in json.dumps(sim.requests.snapshot())


def test_bad_token_is_unauthorized(sim, env, tmp_path):
    kc = _kubeconfig_for(sim, tmp_path, "eve", token="not-a-token")
    result = kubectl(env, "--kubeconfig", kc, "get", "nodes")
    assert result.returncode == 1
    # kubectl's words for a 401 (discovery fails first with a fresh cache)
    assert "error: You must be logged in to the server" in result.stderr
    assert result.stdout == ""
    assert sim.count(server=CLUSTER, status=401) >= 1


def test_client_cert_user_can_be_forbidden(sim, env, k8s, tmp_path):
    kc = _kubeconfig_for(sim, tmp_path, "alice", cert=("alice", ["devs"]))
    ok(kubectl(env, "--kubeconfig", kc, "get", "pods", "-n", "shop"))
    k8s.forbid("alice", "list", "nodes")
    result = kubectl(env, "--kubeconfig", kc, "get", "nodes")
    assert result.returncode == 1
    assert ('nodes is forbidden: User "alice" cannot list resource "nodes" in API group "" '
            'at the cluster scope') in result.stderr
    k8s.forbid("alice", "list", "pods")
    result = kubectl(env, "--kubeconfig", kc, "get", "pods", "-n", "shop")
    assert ('pods is forbidden: User "alice" cannot list resource "pods" in API group "" '
            'in the namespace "shop"') in result.stderr


def test_drain_evicts_and_reschedules(sim, env, k8s):
    node = node_named(k8s, "ubuntu", 0)
    movable = [p["metadata"]["name"] for p in k8s.pods(node=node)
               if p["metadata"]["ownerReferences"][0]["kind"] != "DaemonSet"]
    assert movable, "the demo puts workload pods on ubuntu nodes"
    web_before = len([p for p in k8s.pods(namespace="shop")])
    sim.clear_log()
    result = kubectl(env, "drain", node, "--ignore-daemonsets", "--delete-emptydir-data",
                     "--timeout=60s")
    out = ok(result)
    assert "node/%s drained" % node in out
    for name in movable:
        assert "pod/%s evicted" % name in out
    assert "ignoring DaemonSet-managed Pods" in result.stderr
    left = k8s.pods(node=node)
    assert left and all(p["metadata"]["ownerReferences"][0]["kind"] == "DaemonSet"
                        for p in left)
    assert k8s.node(node)["spec"]["unschedulable"] is True
    # the ReplicaSets replaced what was evicted, elsewhere
    assert len(k8s.pods(namespace="shop")) == web_before
    assert sim.count(server=CLUSTER, method="POST", path_prefix="/api/v1/namespaces/shop/pods/"
                     ) == len(movable)


def test_drain_blocked_by_pdb(sim, env, k8s):
    node = node_named(k8s, "ubuntu", 0)
    web = [p["metadata"]["name"] for p in k8s.pods(node=node)
           if p["metadata"]["labels"].get("app") == "web"]
    assert web
    k8s.add_pdb("shop", "web", {"app": "web"}, max_unavailable=0)
    result = kubectl(env, "drain", node, "--ignore-daemonsets", "--delete-emptydir-data",
                     "--timeout=1s")
    assert result.returncode == 1
    assert "Cannot evict pod as it would violate the pod's disruption budget." in result.stderr
    assert "global timeout reached" in result.stderr
    assert {p["metadata"]["name"] for p in k8s.pods(node=node)} >= set(web)
    assert sim.count(server=CLUSTER, method="POST", status=429) >= 1


def test_get_pdb_shows_allowed_disruptions(sim, env, k8s):
    rows = table(ok(kubectl(env, "get", "pdb", "-n", "shop")))
    assert rows[0] == ["NAME", "MIN AVAILABLE", "MAX UNAVAILABLE", "ALLOWED DISRUPTIONS", "AGE"]
    assert {r[0]: r[3] for r in rows[1:]} == {"web": "1", "api": "1"}


# --- the API below kubectl: raw HTTPS on one keep-alive connection ----------------

class Client:
    def __init__(self, sim, cluster=CLUSTER, cert=("masterclient", ["system:masters"])):
        ctx = ssl.create_default_context(cafile=sim.ca_file)
        if cert:
            c = sim.client_cert(*cert)
            ctx.load_cert_chain(c.cert_file, c.key_file)
        url = urllib.parse.urlsplit(sim.cluster(cluster).server_url)
        self.conn = http.client.HTTPSConnection(url.hostname, url.port, context=ctx)

    def call(self, method, path, body=None, headers=None):
        data = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
        self.conn.request(method, path, body=data, headers=headers or {})
        resp = self.conn.getresponse()
        raw = resp.read()
        return resp.status, json.loads(raw) if raw else None, resp


def test_keep_alive_and_paging_by_hand(sim):
    client = Client(sim)
    names, token = [], None
    while True:
        q = "limit=4" + ("&continue=" + urllib.parse.quote(token) if token else "")
        status, body, _ = client.call("GET", "/api/v1/nodes?" + q)
        assert status == 200 and body["kind"] == "NodeList"
        names += [n["metadata"]["name"] for n in body["items"]]
        token = body["metadata"].get("continue")
        if not token:
            break
    assert names == sorted(n["metadata"]["name"] for n in sim.cluster(CLUSTER).k8s.nodes())
    assert client.conn.sock is not None      # still the same connection
    status, body, _ = client.call("GET", "/api/v1/nodes?limit=2&continue=bm90LWEtdG9rZW4")
    assert status == 410 and body["reason"] == "Expired" and body["kind"] == "Status"


def test_status_errors(sim):
    client = Client(sim)
    node = sim.cluster(CLUSTER).k8s.nodes()[0]["metadata"]["name"]
    status, body, _ = client.call("PATCH", "/api/v1/nodes/" + node, [{"op": "add"}],
                                  {"Content-Type": "application/json-patch+json"})
    assert status == 415 and body["reason"] == "UnsupportedMediaType"
    status, body, _ = client.call("GET", "/api/v1/nodes/aks-nope-00000000-vmss000000")
    assert status == 404 and body["message"] == 'nodes "aks-nope-00000000-vmss000000" not found'
    status, body, _ = client.call("GET", "/api/v1/nodes?labelSelector=" +
                                  urllib.parse.quote("a in (b"))
    assert status == 400 and body["status"] == "Failure"
    status, body, _ = client.call("PATCH", "/api/v1/nodes/" + node,
                                  {"metadata": {"labels": {"team": "blue"}}},
                                  {"Content-Type": "application/merge-patch+json"})
    assert status == 200 and body["metadata"]["labels"]["team"] == "blue"
    assert body["metadata"]["labels"]["kubernetes.azure.com/role"] == "agent"
    status, body, _ = Client(sim, cert=None).call("GET", "/api/v1/nodes")
    assert status == 401 and body["reason"] == "Unauthorized"


def test_faults_and_latency_are_injected(sim):
    client = Client(sim)
    sim.faults.add(server=CLUSTER, method="GET", path_prefix="/api/v1/nodes", status=429,
                   retry_after=3, times=1)
    status, body, resp = client.call("GET", "/api/v1/nodes")
    assert status == 429 and resp.getheader("Retry-After") == "3"
    assert body["kind"] == "Status" and body["code"] == 429
    status, _, _ = client.call("GET", "/api/v1/nodes")
    assert status == 200
    sim.faults.add(server=CLUSTER, path_prefix="/api/v1/namespaces", drop=True)
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        Client(sim).call("GET", "/api/v1/namespaces")
    assert sim.find(path_prefix="/api/v1/namespaces")[-1]["dropped"] is True


def test_azure_server_defaults_and_tokens(sim):
    ctx = ssl.create_default_context(cafile=sim.ca_file)
    url = urllib.parse.urlsplit(sim.azure_url)
    conn = http.client.HTTPSConnection(url.hostname, url.port, context=ctx)
    token = sim.issue_azure_token("t1", "app1", "https://management.azure.com/")
    seen = []

    def handler(s, req):
        if req.path == "/echo":
            seen.append(s.check_azure_token(req))
            return Response(200, {"ok": True})
        return None
    sim.register_azure_handler(handler)
    conn.request("GET", "/echo", headers={"Authorization": "Bearer " + token})
    resp = conn.getresponse()
    assert resp.status == 200 and json.loads(resp.read()) == {"ok": True}
    assert seen[0]["client_id"] == "app1" and seen[0]["tenant"] == "t1"
    payload = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    assert payload["aud"] == "https://management.azure.com/" and payload["tid"] == "t1"
    conn.request("GET", "/azlinux-sim/no-such-route?api-version=2026-10-01")
    resp = conn.getresponse()
    body = json.loads(resp.read())
    assert resp.status == 404 and body["error"]["code"] and body["error"]["message"]
    assert sim.find(server="azure", path_prefix="/echo")[0]["auth"] == "bearer:app1"
    assert token not in json.dumps(sim.requests.snapshot())


def test_fleet_contexts_and_addresses(make_sim, tmp_path):
    fleet = make_sim(fleet_scenario(3, 2))
    env = make_env(fleet, tmp_path / "home")
    rows = table(ok(kubectl(env, "config", "get-contexts", "-o", "name")))
    assert [r[0] for r in rows] == ["fleet-01", "fleet-02", "fleet-03"]
    for i, cluster in enumerate(fleet.clusters):
        assert cluster.fqdn == "127.0.0.%d" % (i + 2)
        assert urllib.parse.urlsplit(cluster.server_url).hostname == cluster.fqdn
        rows = table(ok(kubectl(env, "--context", cluster.name, "get", "nodes")))
        assert {r[0] for r in rows[1:]} == {n["metadata"]["name"] for n in cluster.k8s.nodes()}
    users = ok(kubectl(env, "config", "view", "-o", "jsonpath={.users[*].name}")).split()
    assert users == ["clusterUser_%s_%s" % (c.resource_group, c.name) for c in fleet.clusters]


def test_auth_can_i_follows_the_deny_list(sim, env, k8s):
    assert ok(kubectl(env, "auth", "can-i", "patch", "nodes")).strip() == "yes"
    k8s.forbid("masterclient", "create", "pods/eviction")
    result = kubectl(env, "auth", "can-i", "create", "pods", "--subresource=eviction",
                     "-n", "shop")
    assert result.returncode == 1 and result.stdout.startswith("no")
    assert ok(kubectl(env, "auth", "can-i", "list", "pods", "-n", "shop")).strip() == "yes"


def test_describe_node_lists_its_pods(sim, env, k8s):
    node = node_named(k8s, "gpu", 0)
    out = ok(kubectl(env, "describe", "node", node))
    assert "kubernetes.azure.com/accelerator=nvidia" in out
    for pod in k8s.pods(node=node):
        assert pod["metadata"]["name"] in out


def test_sync_pool_reimages_scales_and_reschedules(sim, env, k8s):
    pool = sim.cluster(CLUSTER).pool("ubuntu")
    shop_pods = len(k8s.pods(namespace="shop"))
    pool.os_sku, pool.node_image_version, pool.count = "AzureLinux", AZL3_IMAGE, 2
    gone = k8s.pool_nodes("ubuntu")[2]["metadata"]["name"]
    k8s.sync_pool(pool)
    rows = table(ok(kubectl(env, "get", "nodes", "-o", "wide", "-l", "agentpool=ubuntu")))
    assert [r[0] for r in rows[1:]] == [node_named(k8s, "ubuntu", i) for i in range(2)]
    assert {r[7] for r in rows[1:]} == {"Microsoft Azure Linux 3.0"}
    labels = k8s.pool_nodes("ubuntu")[0]["metadata"]["labels"]
    assert labels["kubernetes.azure.com/os-sku"] == "AzureLinux"
    assert labels["kubernetes.azure.com/node-image-version"] == AZL3_IMAGE
    assert k8s.pods(node=gone) == []
    assert len(k8s.pods(namespace="shop")) == shop_pods     # moved, not lost
    pool.count = 4
    k8s.sync_pool(pool)
    new = k8s.pool_nodes("ubuntu")[3]["metadata"]["name"]
    rows = table(ok(kubectl(env, "get", "pods", "-n", "kube-system",
                            "--field-selector", "spec.nodeName=" + new)))
    assert {r[0].rsplit("-", 1)[0] for r in rows[1:]} == {
        "kube-proxy", "cloud-node-manager", "azure-ip-masq-agent"}


def test_azsim_runs_standalone(tmp_path):
    work = tmp_path / "azsim"
    proc = subprocess.Popen(["/usr/bin/python3", os.path.join(ROOT, "tests/sim/azsim.py"),
                             "--scenario", "fleet", "--dir", str(work)],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline() == "ready\n"
        exports = dict(re.fullmatch(r"export (\w+)='(.*)'", line).groups()
                       for line in (work / "env").read_text().splitlines())
        assert exports["KUBECONFIG"] == str(work / "kubeconfig")
        assert exports["SSL_CERT_FILE"].startswith(str(work))
        env = make_env(None, tmp_path / "home")
        env.update(exports)
        rows = table(ok(kubectl(env, "--context", "fleet-02", "get", "nodes")))
        assert rows[0][0] == "NAME" and len(rows) > 1
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    log = [json.loads(line) for line in (work / "requests.jsonl").read_text().splitlines()]
    assert any(r["server"] == "fleet-02" and r["path"] == "/api/v1/nodes" for r in log)


def test_demo_without_plugin_fails_clearly(tmp_path):
    result = subprocess.run(["/usr/bin/python3", ROOT + "/tests/sim/demo.py", "--bin",
                             str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "kubectl-azlinux does not exist" in result.stderr and "make" in result.stderr


def test_evicted_daemonset_pod_comes_back_on_its_node(sim, k8s):
    sim.clock.pause()
    node = node_named(k8s, "system", 0)
    ds_pod = [p for p in k8s.pods(node=node) if p["metadata"]["name"].startswith("kube-proxy-")][0]
    name = ds_pod["metadata"]["name"]
    status, body, _ = Client(sim).call(
        "POST", "/api/v1/namespaces/kube-system/pods/%s/eviction" % name,
        {"apiVersion": "policy/v1", "kind": "Eviction",
         "metadata": {"name": name, "namespace": "kube-system"}})
    assert status == 201 and body["status"] == "Success"
    # Terminating first (graceful), replaced on the same node once gone.
    assert k8s.pod("kube-system", name)["metadata"]["deletionTimestamp"]
    sim.clock.step(k8s.delays["pod_stop"])
    proxies = [p["metadata"]["name"] for p in k8s.pods(node=node)
               if p["metadata"]["name"].startswith("kube-proxy-")]
    assert len(proxies) == 1 and proxies[0] != name


def served_chain(url, ca_file):
    """The certificates a server sends, as `openssl s_client` receives them."""
    parts = urllib.parse.urlsplit(url)
    r = subprocess.run(["openssl", "s_client", "-connect", "%s:%d" % (parts.hostname, parts.port),
                        "-CAfile", ca_file, "-showcerts", "-verify_return_error"],
                       input="", capture_output=True, text=True, timeout=30)
    assert "Verify return code: 0 (ok)" in r.stdout, r.stdout + r.stderr
    return r.stdout.count("-----BEGIN CERTIFICATE-----")


def test_api_server_sends_its_certificate_alone(sim):
    """As a Go API server sends the chain it is configured with, not the
    cluster CA its client verification trusts; the Azure server has no such
    store and sends its certificate alone too."""
    assert served_chain(sim.cluster(CLUSTER).server_url, sim.ca_file) == 1
    assert served_chain(sim.azure_url, sim.ca_file) == 1
