"""The simulator's Kubernetes side over time (tests/sim/k8s.py on the clock
of tests/sim/clock.py): watch as kubectl and client-go see it, graceful
deletion and eviction, the workload controllers, PDB status, the
primitives the roller drives, and the safety counters.

The clock is paused in most tests and stepped, so that what happens between
two steps is decided by the test, not by the machine's speed."""

import http.client
import json
import queue
import re
import ssl
import subprocess
import threading
import time
import urllib.parse

import pytest

from helpers import KUBECTL, kubectl
from sim.scenario import AZL3_IMAGE
from test_sim_kubectl import CLUSTER, k8s, ok  # noqa: F401  (k8s: the fixture)


def eventually(predicate, what, timeout=20.0):
    """Wait (wall time, for a client's output) until predicate() is true."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


def ready(node):
    return [c["status"] for c in node["status"]["conditions"] if c["type"] == "Ready"] == ["True"]


def pod_names(k8s, prefix, namespace="shop"):
    return sorted(p["metadata"]["name"] for p in k8s.pods(namespace=namespace)
                  if p["metadata"]["name"].startswith(prefix))


class Lines:
    """A child's stdout lines, read as they come."""

    def __init__(self, proc):
        self.proc = proc
        self.lines = []
        self._q = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self._q.put(line.rstrip("\n"))

    def wait_for(self, pattern, timeout=20.0):
        """The first line (after those already taken) matching the regex."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._q.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError("no line matching %r in %r" % (pattern, self.lines))
            self.lines.append(line)
            if re.search(pattern, line):
                return line


class Api:
    """Raw HTTPS to the cluster's API server, as client-go talks to it."""

    def __init__(self, sim):
        self.ctx = ssl.create_default_context(cafile=sim.ca_file)
        cert = sim.client_cert("masterclient", ["system:masters"])
        self.ctx.load_cert_chain(cert.cert_file, cert.key_file)
        self.url = urllib.parse.urlsplit(sim.cluster(CLUSTER).server_url)

    def conn(self, timeout=20):
        return http.client.HTTPSConnection(self.url.hostname, self.url.port, context=self.ctx,
                                           timeout=timeout)

    def call(self, method, path, body=None):
        c = self.conn()
        c.request(method, path, body=json.dumps(body) if body is not None else None,
                  headers={"Content-Type": "application/json"})
        r = c.getresponse()
        data = r.read()
        return r.status, json.loads(data) if data else None

    def watch(self, path):
        """(response, events): events() yields each watch event as it comes."""
        c = self.conn()
        c.request("GET", path)
        r = c.getresponse()

        def events():
            while True:
                try:
                    line = r.readline()
                except (AttributeError, OSError, ValueError):    # closed by the test
                    return
                if not line:
                    return
                yield json.loads(line)
        return r, events()


# --- watch ---------------------------------------------------------------------


def test_kubectl_get_nodes_watch_shows_a_new_node_and_a_reimage(sim, env, k8s):
    sim.clock.pause()
    proc = subprocess.Popen([KUBECTL, "get", "nodes", "--watch", "-o", "wide",
                             "-l", "agentpool=ubuntu"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        out = Lines(proc)
        out.wait_for(r"^NAME\s+STATUS")
        out.wait_for(r"vmss000002\s")
        # The initial list is printed; now the watch's events.
        surge = k8s.add_node("ubuntu")
        assert surge.endswith("vmss000003")
        assert re.search(r"\sNotReady\s", out.wait_for(surge))
        sim.clock.step(k8s.delays["node_ready"])
        assert re.search(r"\sReady\s", out.wait_for(surge))
        old = k8s.pool_nodes("ubuntu")[0]["metadata"]["name"]
        k8s.reimage(old, node_image_version=AZL3_IMAGE, os_sku="AzureLinux")
        line = out.wait_for(old)
        assert " NotReady " in line and "Ubuntu 22.04.5 LTS" in line
        sim.clock.step(k8s.delays["node_reimage"])
        line = out.wait_for(old)
        assert re.search(r"\sReady\s", line)
        assert "Microsoft Azure Linux 3.0" in line and "6.6.96.1-1.azl3" in line
    finally:
        proc.terminate()
        proc.communicate(timeout=10)


def test_watch_events_from_a_resource_version_and_bookmarks(sim, k8s):
    api = Api(sim)
    k8s.watch_bookmark_seconds = 0.2
    status, listed = api.call("GET", "/api/v1/nodes")
    assert status == 200
    rv = int(listed["metadata"]["resourceVersion"])
    resp, events = api.watch("/api/v1/nodes?watch=1&allowWatchBookmarks=true"
                             "&resourceVersion=%d" % rv)
    assert resp.status == 200 and resp.getheader("Transfer-Encoding") == "chunked"
    name = k8s.pool_nodes("system")[0]["metadata"]["name"]
    k8s.cordon(name)
    event = next(events)
    assert event["type"] == "MODIFIED" and event["object"]["kind"] == "Node"
    assert event["object"]["metadata"]["name"] == name
    assert event["object"]["spec"]["unschedulable"] is True
    assert int(event["object"]["metadata"]["resourceVersion"]) > rv
    modified_rv = int(event["object"]["metadata"]["resourceVersion"])
    event = next(events)
    assert event["type"] == "BOOKMARK" and event["object"]["kind"] == "Node"
    assert int(event["object"]["metadata"]["resourceVersion"]) >= modified_rv
    k8s.remove_node(name)
    event = next(e for e in events if e["type"] != "BOOKMARK")
    assert event["type"] == "DELETED" and event["object"]["metadata"]["name"] == name


def test_watch_without_resource_version_starts_with_every_object(sim, k8s):
    resp, events = Api(sim).watch("/api/v1/namespaces/shop/pods?watch=true"
                                  "&labelSelector=app%3Dapi&timeoutSeconds=1")
    seen = [(e["type"], e["object"]["metadata"]["name"]) for e in events]
    # timeoutSeconds ends the stream cleanly (the last chunk), with no more events.
    assert seen == [("ADDED", n) for n in pod_names(k8s, "api-")]


def test_watch_from_a_compacted_resource_version_is_410_expired(sim, k8s):
    api = Api(sim)
    old = k8s.rv
    k8s.cordon(k8s.nodes()[0]["metadata"]["name"])
    k8s.compact()
    resp, events = api.watch("/api/v1/nodes?watch=1&resourceVersion=%d" % old)
    assert resp.status == 200
    events = list(events)
    assert len(events) == 1 and events[0]["type"] == "ERROR"
    status = events[0]["object"]
    assert status["kind"] == "Status" and status["code"] == 410
    assert status["reason"] == "Expired"
    assert status["message"] == "too old resource version: %d (%d)" % (old, k8s.rv)
    # From the current version it works, and a short history expires too.
    k8s.watch_history = 2
    current = k8s.rv
    for node in k8s.pool_nodes("ubuntu"):
        k8s.cordon(node["metadata"]["name"])
    _, events = api.watch("/api/v1/nodes?watch=1&resourceVersion=%d" % current)
    assert next(events)["object"]["code"] == 410


def test_kubectl_watch_ends_when_the_server_closes_the_watch(sim, env, k8s):
    # A real API server ends each watch after a while; kubectl get --watch
    # then ends too, having printed what came before.
    k8s.watch_close_seconds = (0.5, 0.5)
    result = kubectl(env, "get", "nodes", "--watch", "-l", "agentpool=gpu", timeout=30)
    assert result.returncode == 0, result.stderr
    assert re.search(r"aks-gpu-\d+-vmss000000\s+Ready", result.stdout)


# --- deletion and eviction --------------------------------------------------------


def test_kubectl_delete_pod_is_graceful(sim, env, k8s):
    sim.clock.pause()
    web = pod_names(k8s, "web-")
    victim = web[0]
    out = ok(kubectl(env, "delete", "pod", "-n", "shop", victim, "--wait=false"))
    assert out.strip() == 'pod "%s" deleted' % victim
    pod = k8s.pod("shop", victim)
    assert pod["metadata"]["deletionGracePeriodSeconds"] == 30
    assert pod["metadata"]["deletionTimestamp"]
    row = ok(kubectl(env, "get", "pod", "-n", "shop", victim, "--no-headers")).split()
    assert row[2] == "Terminating"
    # The ReplicaSet does not wait: a replacement exists already.
    assert len(pod_names(k8s, "web-")) == len(web) + 1
    sim.clock.step(k8s.delays["pod_stop"])
    assert k8s.pod("shop", victim) is None
    assert len(pod_names(k8s, "web-")) == len(web)
    # --grace-period=0 --force: gone at once.
    other = pod_names(k8s, "api-")[0]
    ok(kubectl(env, "delete", "pod", "-n", "shop", other, "--grace-period=0", "--force"))
    assert k8s.pod("shop", other) is None


def test_kubectl_delete_pod_waits_until_it_is_gone(sim, env, k8s):
    victim = pod_names(k8s, "web-")[0]
    k8s.delays["pod_stop"] = None           # a pod that sits out its grace period
    k8s.pod("shop", victim)["spec"]["terminationGracePeriodSeconds"] = 2
    out = ok(kubectl(env, "delete", "pod", "-n", "shop", victim, timeout=30))
    assert out.strip() == 'pod "%s" deleted' % victim
    assert k8s.pod("shop", victim) is None


def test_eviction_terminates_gracefully_and_honours_the_pdb(sim, k8s):
    sim.clock.pause()
    api = Api(sim)
    web = pod_names(k8s, "web-")

    def evict(name):
        return api.call("POST", "/api/v1/namespaces/shop/pods/%s/eviction" % name,
                        {"apiVersion": "policy/v1", "kind": "Eviction",
                         "metadata": {"name": name, "namespace": "shop"}})
    status, body = evict(web[0])
    assert status == 201 and body["status"] == "Success"
    assert k8s.pod("shop", web[0])["metadata"]["deletionTimestamp"]
    # maxUnavailable 1: the terminating pod and its unready replacement use it up.
    assert k8s.pdb_status("shop", "web")["disruptionsAllowed"] == 0
    status, body = evict(web[1])
    assert status == 429 and body["details"]["causes"][0]["reason"] == "DisruptionBudget"
    assert k8s.pod("shop", web[1])["metadata"].get("deletionTimestamp") is None
    # Evicting a pod that is already terminating is accepted.
    assert evict(web[0])[0] == 201
    # Once the replacement is Ready the budget allows one again.
    sim.clock.step(k8s.delays["pod_stop"] + k8s.delays["pod_start"] + k8s.delays["pod_ready"])
    assert k8s.pdb_status("shop", "web")["disruptionsAllowed"] == 1
    assert evict(web[1])[0] == 201
    assert k8s.safety.counts() == {"pdb_violations": 0, "lost_pods": 0,
                                   "no_ready_system_node": 0}


def test_pdb_status_changes_are_watched(sim, k8s):
    sim.clock.pause()
    api = Api(sim)
    resp, events = api.watch("/apis/policy/v1/namespaces/shop/poddisruptionbudgets?watch=1"
                             "&resourceVersion=%d" % k8s.rv)
    k8s.evict("shop", pod_names(k8s, "web-")[0])
    event = next(events)
    assert event["type"] == "MODIFIED" and event["object"]["metadata"]["name"] == "web"
    assert event["object"]["status"]["currentHealthy"] == 3
    assert event["object"]["status"]["disruptionsAllowed"] == 0
    sim.clock.step(k8s.delays["pod_stop"] + k8s.delays["pod_start"] + k8s.delays["pod_ready"])
    last = next(e for e in events if e["object"]["status"]["currentHealthy"] == 4)
    assert last["object"]["status"]["disruptionsAllowed"] == 1
    resp.close()


def test_evict_primitive_is_the_api_path(sim, k8s):
    sim.clock.pause()
    k8s.add_pdb("shop", "api-strict", {"app": "api"}, min_available=2)
    api = pod_names(k8s, "api-")
    assert k8s.evict("shop", api[0])[0] == 500       # two PDBs on the pod
    assert k8s.evict("shop", "no-such-pod")[0] == 404
    k8s.add_pdb("shop", "api-strict", {"app": "none"}, min_available=2)
    k8s.add_pdb("shop", "api", {"app": "api"}, min_available=2)
    code, message, _ = k8s.evict("shop", api[0])
    assert code == 429
    assert message == "Cannot evict pod as it would violate the pod's disruption budget."


def test_delete_node_over_http_removes_it_and_its_pods(sim, env, k8s):
    sim.clock.pause()
    name = k8s.pool_nodes("ubuntu")[1]["metadata"]["name"]
    on_it = [p["metadata"]["name"] for p in k8s.pods(node=name)]
    assert on_it
    out = ok(kubectl(env, "delete", "node", name))
    assert out.strip() == 'node "%s" deleted' % name
    assert k8s.node(name) is None and k8s.pods(node=name) == []


def test_kubectl_drain_is_graceful_and_safe(sim, env, k8s):
    api = Api(sim)
    node = k8s.pool_nodes("ubuntu")[0]["metadata"]["name"]
    movable = [p["metadata"]["name"] for p in k8s.pods(node=node)
               if p["metadata"]["ownerReferences"][0]["kind"] != "DaemonSet"]
    assert movable
    resp, events = api.watch("/api/v1/pods?watch=1&resourceVersion=%d" % k8s.rv)
    seen = []
    reader = threading.Thread(target=lambda: seen.extend(
        (e["type"], e["object"]["metadata"]["name"],
         bool(e["object"]["metadata"].get("deletionTimestamp"))) for e in events), daemon=True)
    reader.start()
    out = ok(kubectl(env, "drain", node, "--ignore-daemonsets", "--delete-emptydir-data",
                     "--timeout=60s", timeout=90))
    assert "node/%s drained" % node in out
    for name in movable:
        eventually(lambda: ("DELETED", name, True) in seen, "%s deleted" % name)
        # Graceful: a MODIFIED with deletionTimestamp came before the DELETED.
        assert seen.index(("MODIFIED", name, True)) < seen.index(("DELETED", name, True))
    resp.close()
    assert k8s.safety.counts() == {"pdb_violations": 0, "lost_pods": 0,
                                   "no_ready_system_node": 0}


def test_kubectl_drain_waits_for_the_pdb_as_replacements_become_ready(sim, env, k8s):
    # Two pods of one Deployment on the node, maxUnavailable 1: the second
    # eviction gets 429 until the first one's replacement is Ready.
    sim.clock.set_scale(10)
    node = k8s.pool_nodes("ubuntu")[1]["metadata"]["name"]
    k8s.add_deployment("shop", "pair", 2, nodes=[k8s.node(node)] * 2)
    k8s.add_pdb("shop", "pair", {"app": "pair"}, max_unavailable=1)
    pair = pod_names(k8s, "pair-")
    result = kubectl(env, "drain", node, "--ignore-daemonsets", "--delete-emptydir-data",
                     "--timeout=60s", timeout=90)
    out = ok(result)
    assert "node/%s drained" % node in out
    for name in pair:
        assert "pod/%s evicted" % name in out
    assert re.search(r'error when evicting pods/"pair-\w+-\w+" -n "shop" \(will retry after '
                     r"5s\): Cannot evict pod as it would violate the pod's disruption budget.",
                     result.stderr)
    assert not set(pair) & set(pod_names(k8s, "pair-"))
    assert len(pod_names(k8s, "pair-")) == 2
    assert k8s.safety.counts() == {"pdb_violations": 0, "lost_pods": 0,
                                   "no_ready_system_node": 0}


# --- controllers ---------------------------------------------------------------


def test_replicaset_replacement_starts_then_becomes_ready(sim, env, k8s):
    sim.clock.pause()
    before = set(pod_names(k8s, "web-"))
    victim = sorted(before)[0]
    k8s.delete_pod("shop", victim, grace=0)
    (new,) = set(pod_names(k8s, "web-")) - before
    pod = k8s.pod("shop", new)
    node = k8s.node(pod["spec"]["nodeName"])
    assert ready(node) and not node["spec"].get("unschedulable")
    row = ok(kubectl(env, "get", "pod", "-n", "shop", new, "--no-headers")).split()
    assert row[1:3] == ["0/1", "ContainerCreating"]
    sim.clock.step(k8s.delays["pod_start"])
    assert k8s.pod("shop", new)["status"]["phase"] == "Running"
    assert k8s.pdb_status("shop", "web")["currentHealthy"] == 3
    rs = k8s.objects["replicasets"][("shop", new.rsplit("-", 1)[0])]
    assert (rs["status"]["replicas"], rs["status"]["readyReplicas"]) == (4, 3)
    sim.clock.step(k8s.delays["pod_ready"])
    row = ok(kubectl(env, "get", "pod", "-n", "shop", new, "--no-headers")).split()
    assert row[1:3] == ["1/1", "Running"]
    dep = json.loads(ok(kubectl(env, "get", "deployment", "-n", "shop", "web", "-o", "json")))
    assert {k: dep["status"][k] for k in ("replicas", "readyReplicas")} == {
        "replicas": 4, "readyReplicas": 4}
    assert k8s.pdb_status("shop", "web") == {
        "observedGeneration": 1, "currentHealthy": 4, "desiredHealthy": 3,
        "expectedPods": 4, "disruptionsAllowed": 1}
    # A direct delete took the budget below its desiredHealthy? No: 4 -> 3 of 3.
    assert k8s.safety.counts()["pdb_violations"] == 0


def test_replacement_respects_selectors_cordons_and_taints(sim, k8s):
    sim.clock.pause()
    gpu = k8s.pool_nodes("gpu")[0]["metadata"]["name"]
    with k8s.lock:
        k8s.node(gpu)["spec"]["taints"] = [{"key": "sku", "value": "gpu",
                                            "effect": "NoSchedule"}]
    k8s.add_deployment("ml", "plain", 1, nodes=[k8s.node(gpu)],
                       node_selector={"agentpool": "gpu"})
    k8s.add_deployment("ml", "tolerant", 1, nodes=[k8s.node(gpu)],
                       node_selector={"agentpool": "gpu"},
                       tolerations=[{"key": "sku", "operator": "Equal", "value": "gpu",
                                     "effect": "NoSchedule"}])
    for prefix in ("plain-", "tolerant-"):
        k8s.delete_pod("ml", pod_names(k8s, prefix, "ml")[0], grace=0)
    (plain,) = pod_names(k8s, "plain-", "ml")
    (tolerant,) = pod_names(k8s, "tolerant-", "ml")
    # The taint keeps the one without the toleration Pending, unscheduled.
    assert "nodeName" not in k8s.pod("ml", plain)["spec"]
    assert k8s.pod("ml", plain)["status"]["phase"] == "Pending"
    assert k8s.pod("ml", tolerant)["spec"]["nodeName"] == gpu
    # Cordoned: nothing lands there; uncordoned with the taint gone, the
    # Pending pod is scheduled.
    k8s.cordon(gpu)
    k8s.delete_pod("ml", tolerant, grace=0)
    (tolerant2,) = pod_names(k8s, "tolerant-", "ml")
    assert "nodeName" not in k8s.pod("ml", tolerant2)["spec"]
    with k8s.lock:
        k8s.node(gpu)["spec"]["taints"] = []
    k8s.uncordon(gpu)
    assert k8s.pod("ml", plain)["spec"]["nodeName"] == gpu
    assert k8s.pod("ml", tolerant2)["spec"]["nodeName"] == gpu
    sim.clock.step(k8s.delays["pod_start"] + k8s.delays["pod_ready"])
    assert all(c["status"] == "True" for c in k8s.pod("ml", plain)["status"]["conditions"])


def test_statefulset_pod_comes_back_under_its_name(sim, k8s):
    sim.clock.pause()
    k8s.add_statefulset("shop", "db", 2)
    assert pod_names(k8s, "db-") == ["db-0", "db-1"]
    uid = k8s.pod("shop", "db-0")["metadata"]["uid"]
    assert k8s.evict("shop", "db-0")[0] == 201
    # Terminating: no second db-0 until the first is gone.
    assert pod_names(k8s, "db-") == ["db-0", "db-1"]
    assert k8s.pod("shop", "db-0")["metadata"]["uid"] == uid
    assert k8s.wait_gone([("shop", "db-0", uid)], timeout=0) == [("shop", "db-0", uid)]
    sim.clock.step(k8s.delays["pod_stop"])
    pod = k8s.pod("shop", "db-0")
    assert pod["metadata"]["uid"] != uid
    assert pod["metadata"]["ownerReferences"][0]["kind"] == "StatefulSet"
    assert k8s.wait_gone([("shop", "db-0", uid)], timeout=0) == []
    sim.clock.step(k8s.delays["pod_start"] + k8s.delays["pod_ready"])
    assert k8s.pod("shop", "db-0")["status"]["containerStatuses"][0]["ready"] is True


def test_bare_pod_is_not_recreated_and_is_counted_lost(sim, k8s):
    sim.clock.pause()
    node = k8s.pool_nodes("ubuntu")[0]["metadata"]["name"]
    k8s.add_pod("default", "bare", node)
    k8s.evict("default", "bare")
    sim.clock.step(k8s.delays["pod_stop"])
    assert k8s.pod("default", "bare") is None
    assert [p["metadata"]["name"] for p in k8s.pods(namespace="default")] == []
    assert [(r["pod"], r["via"]) for r in k8s.safety.lost_pods] == [("default/bare",
                                                                     "eviction")]


# --- the roller's primitives -------------------------------------------------------


def test_add_node_uses_the_pool_counter_and_daemonsets_follow(sim, k8s):
    sim.clock.pause()
    pool = sim.cluster(CLUSTER).pool("system")
    names = [n["metadata"]["name"] for n in k8s.pool_nodes("system")]
    k8s.remove_node(names[-1])
    new = k8s.add_node("system")
    # A removed instance is never reused: the next number of the pool's counter.
    assert new.endswith("vmss000003") and new not in names
    node = k8s.node(new)
    assert not ready(node)
    assert node["spec"]["providerID"].endswith("/virtualMachines/3")
    assert {t["key"] for t in node["spec"]["taints"]} == {"node.kubernetes.io/not-ready"}
    ds = sorted(p["metadata"]["name"].rsplit("-", 1)[0] for p in k8s.pods(node=new))
    assert ds == ["azure-ip-masq-agent", "cloud-node-manager", "kube-proxy"]
    assert not k8s.wait_until(lambda: ready(k8s.node(new)), timeout=0)
    sim.clock.step(k8s.delays["node_ready"])
    assert ready(k8s.node(new)) and not k8s.node(new)["spec"].get("taints")
    assert k8s.wait_until(lambda: ready(k8s.node(new)), timeout=0)
    pool.count = 3
    assert [n["metadata"]["name"] for n in k8s.sync_pool(pool)] == names[:2] + [new]


def test_reimage_keeps_the_name_and_changes_the_os(sim, k8s):
    sim.clock.pause()
    name = k8s.pool_nodes("ubuntu")[0]["metadata"]["name"]
    uid = k8s.node(name)["metadata"]["uid"]
    boot = k8s.node(name)["status"]["nodeInfo"]["bootID"]
    k8s.reimage(name, node_image_version=AZL3_IMAGE, os_sku="AzureLinux",
                k8s_version="1.33.2")
    assert not ready(k8s.node(name))
    assert k8s.node(name)["status"]["nodeInfo"]["osImage"] == "Ubuntu 22.04.5 LTS"
    sim.clock.step(k8s.delays["node_reimage"])
    node = k8s.node(name)
    assert ready(node) and node["metadata"]["uid"] == uid
    labels, info = node["metadata"]["labels"], node["status"]["nodeInfo"]
    assert labels["kubernetes.azure.com/node-image-version"] == AZL3_IMAGE
    assert labels["kubernetes.azure.com/os-sku"] == "AzureLinux"
    assert labels["kubernetes.azure.com/os-sku-effective"] == "AzureLinux3"
    assert info["osImage"] == "Microsoft Azure Linux 3.0"
    assert info["kernelVersion"].endswith(".azl3")
    assert info["kubeletVersion"] == "v1.33.2" and info["bootID"] != boot


def test_kubectl_get_events_lists_the_upgraders_events(sim, env, k8s):
    surge = k8s.add_node("ubuntu")
    old = k8s.pool_nodes("ubuntu")[0]["metadata"]["name"]
    k8s.aks_event("surge", surge, pool="ubuntu")
    k8s.aks_event("drain", old)
    k8s.aks_event("drain-blocked", old, pod="web-abc")
    k8s.aks_event("drain-blocked", old, pod="web-abc")
    out = ok(kubectl(env, "get", "events", "--field-selector", "involvedObject.kind=Node"))
    rows = [re.split(r"\s{2,}", line.strip()) for line in out.strip().splitlines()]
    assert rows[0] == ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    got = sorted(tuple(r[1:]) for r in rows[1:])
    assert got == sorted([
        ("Normal", "Surge", "node/" + surge,
         "Created a surge node [%s ubuntu] for agentpool ubuntu" % surge),
        ("Normal", "Drain", "node/" + old, "Draining node: [%s]" % old),
        ("Warning", "Drain", "node/" + old,
         "Eviction blocked by Too Many Requests (usually a pdb): web-abc")])
    blocked = [e for e in k8s.events("Drain") if e["type"] == "Warning"]
    assert blocked[0]["count"] == 2 and blocked[0]["source"]["component"] == "upgrader"


# --- safety counters -----------------------------------------------------------------


def test_direct_delete_under_a_pdb_is_counted(sim, env, k8s):
    sim.clock.pause()
    # api has minAvailable 1 and two pods: deleting both (no eviction, so
    # no PDB check) takes it to 0 healthy.
    for name in pod_names(k8s, "api-"):
        ok(kubectl(env, "delete", "pod", "-n", "shop", name, "--wait=false"))
    violations = k8s.safety.pdb_violations
    assert [(v["pdb"], v["via"], v["healthy"], v["desired"]) for v in violations] == [
        ("shop/api", "delete", 0, 1)]
    assert k8s.safety.counts() == {"pdb_violations": 1, "lost_pods": 0,
                                   "no_ready_system_node": 0}


def test_no_ready_system_node_is_counted_once_per_stretch(sim, k8s):
    sim.clock.pause()
    system = [n["metadata"]["name"] for n in k8s.pool_nodes("system")]
    for name in system[:-1]:
        k8s.set_ready(name, False)
    assert k8s.safety.counts()["no_ready_system_node"] == 0
    k8s.set_ready(system[-1], False)
    k8s.cordon(system[0])
    sim.clock.step(300)
    k8s.set_ready(system[0], True)
    (stretch,) = k8s.safety.no_ready_system_node
    assert stretch["end"] - stretch["start"] == pytest.approx(300)
    k8s.reimage(system[0], ready_after=60)
    sim.clock.step(60)
    assert k8s.safety.counts()["no_ready_system_node"] == 2
