"""drain, cordon, uncordon: parity with the real `kubectl drain` and the
safety of core/drain.

Each parity test builds the same simulated cluster twice (the scenario and
its pod names are deterministic), runs /usr/bin/kubectl on one and
`kubectl azlinux` on the other, and compares what each printed (as sets of
lines: kubectl repeats a line on every retry and orders its aggregates at
random), its exit code, which pods are left on the node, and the
simulator's safety counters.
"""

import os
import re
import signal
import subprocess
import time

import pytest

from helpers import KUBECTL, diagnostics, make_env, run_cmd
from sim.k8s import parse_quantity, pod_requests
from sim.scenario import demo_scenario

CLUSTER = "demo-aks"
SAFE = {"pdb_violations": 0, "lost_pods": 0, "no_ready_system_node": 0}
# Our own lines, beyond kubectl's: the plan, and the progress of long waits.
OURS = re.compile(r"^(Plan: |\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ )")
PROGRESS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ ")
TWO_PDBS = re.compile(r" \(PodDisruptionBudgets [^)]*\)")


def scenario(scale=20):
    s = demo_scenario()
    s.time_scale = scale
    return s


def ubuntu(k8s, i):
    return k8s.pool_nodes("ubuntu")[i]["metadata"]["name"]


def split_aggregate(text):
    """The errors of an aggregate "[a, b]", which kubectl orders at random."""
    return sorted(re.split(r", (?=cannot delete |error when )", text))


def normalize(line):
    line = TWO_PDBS.sub("", line)
    if line.startswith("Warning: "):
        return "Warning: " + "; ".join(sorted(line[len("Warning: "):].split("; ")))
    m = re.match(r"^(.*?)\[(.*)\](.*)$", line)
    if m:
        return m.group(1) + "[" + ", ".join(split_aggregate(m.group(2))) + "]" + m.group(3)
    return line


def lines(text):
    return sorted({normalize(l) for l in text.splitlines() if l and not OURS.match(l)})


class Run:
    def __init__(self, tool, proc, k8s, node):
        self.tool, self.proc, self.k8s = tool, proc, k8s
        self.out, self.err = lines(proc.stdout), lines(diagnostics(proc.stderr))
        self.left = sorted((p["metadata"]["namespace"], p["metadata"]["name"])
                           for p in k8s.pods(node=node)) if node else []


def both(make_sim, bin_path, tmp_path, setup, args, node=None, scale=20, timeout=120):
    """Builds the cluster twice, runs kubectl drain on one and ours on the
    other; returns (kubectl's Run, ours)."""
    runs = []
    for tool in ("kubectl", "azlinux"):
        sim = make_sim(scenario(scale))
        k8s = sim.cluster(CLUSTER).k8s
        ctx = setup(k8s) or {}
        argv = [a.format(**ctx) for a in args]
        env = make_env(sim, tmp_path / tool)
        cmd = [KUBECTL] if tool == "kubectl" else [bin_path]
        proc = run_cmd(cmd + ["drain"] + argv, env, timeout=timeout)
        runs.append(Run(tool, proc, k8s, node and node.format(**ctx)))
    return runs


def assert_parity(kc, ours, same=None):
    """same: a pattern for the names of pods either of which the PDB may let go
    first (kubectl evicts a node's pods at once, so which wins is a race);
    they are compared as one name."""
    def norm(lines):
        return lines if same is None else sorted(re.sub(same, "<pod>", x) for x in lines)
    assert ours.proc.returncode == kc.proc.returncode, (kc.proc.stderr, ours.proc.stderr)
    assert norm(ours.out) == norm(kc.out), (kc.proc.stdout, ours.proc.stdout)
    assert norm(ours.err) == norm(kc.err), (kc.proc.stderr, ours.proc.stderr)
    assert norm(["%s/%s" % x for x in ours.left]) == norm(["%s/%s" % x for x in kc.left])
    assert ours.k8s.safety.counts() == kc.k8s.safety.counts()


def node1(k8s):
    return {"node": ubuntu(k8s, 1)}


def with_local_and_bare(k8s):
    node = ubuntu(k8s, 1)
    k8s.add_pod("default", "bare", node)
    k8s.add_deployment("shop", "cache", 1, nodes=[k8s.node(node)], empty_dir=True)
    return {"node": node}


# --- filters --------------------------------------------------------------------


@pytest.mark.parametrize("flags", [
    [],
    ["--ignore-daemonsets"],
    ["--ignore-daemonsets", "--delete-emptydir-data"],
    ["--delete-emptydir-data", "--force"],
])
def test_filters_refuse_what_kubectl_refuses(make_sim, bin_path, tmp_path, flags):
    kc, ours = both(make_sim, bin_path, tmp_path, with_local_and_bare,
                    ["{node}"] + flags, node="{node}")
    assert kc.proc.returncode == 1
    assert_parity(kc, ours)
    assert ours.k8s.safety.counts() == SAFE
    assert any(l.startswith("cannot delete") or l.startswith("error: cannot delete")
               for l in ours.err)


def test_all_filters_passed_evicts_the_rest_and_leaves_daemonsets(make_sim, bin_path, tmp_path):
    kc, ours = both(make_sim, bin_path, tmp_path, with_local_and_bare,
                    ["{node}", "--ignore-daemonsets", "--delete-emptydir-data", "--force"],
                    node="{node}")
    assert kc.proc.returncode == 0
    assert_parity(kc, ours)
    assert all(ns == "kube-system" for ns, _ in ours.left)    # the DaemonSets' pods
    assert "pod/bare evicted" in ours.out
    # --force deleted the bare pod that no controller recreates: both tools.
    assert ours.k8s.safety.counts() == dict(SAFE, lost_pods=1)


def test_mirror_pods_are_skipped_silently(make_sim, bin_path, tmp_path):
    def setup(k8s):
        node = ubuntu(k8s, 1)
        pod = k8s.add_pod("kube-system", "static-web", node)
        with k8s.lock:
            pod["metadata"]["annotations"] = {"kubernetes.io/config.mirror": "abc"}
        return {"node": node}
    kc, ours = both(make_sim, bin_path, tmp_path, setup, ["{node}", "--ignore-daemonsets"],
                    node="{node}")
    assert_parity(kc, ours)
    assert ("kube-system", "static-web") in ours.left
    assert ours.k8s.safety.counts() == SAFE


def test_pod_selector_and_grace_period(make_sim, bin_path, tmp_path):
    kc, ours = both(make_sim, bin_path, tmp_path, node1,
                    ["{node}", "--ignore-daemonsets", "--pod-selector", "app=web",
                     "--grace-period", "0"], node="{node}")
    assert kc.proc.returncode == 0
    assert_parity(kc, ours)
    assert any(n.startswith("api-") for _, n in ours.left)
    assert not any(n.startswith("web-") for _, n in ours.left)
    assert ours.k8s.safety.counts() == SAFE


# --- PDBs, timeouts, recreated pods ------------------------------------------------


def pair_on_node(k8s):
    node = ubuntu(k8s, 1)
    k8s.add_deployment("shop", "pair", 2, nodes=[k8s.node(node)] * 2)
    k8s.add_pdb("shop", "pair", {"app": "pair"}, max_unavailable=1)
    return {"node": node}


def test_pdb_blocks_until_the_replacement_is_ready(make_sim, bin_path, tmp_path):
    kc, ours = both(make_sim, bin_path, tmp_path, pair_on_node,
                    ["{node}", "--ignore-daemonsets", "--timeout=100s"], node="{node}", scale=1)
    assert kc.proc.returncode == 0
    assert_parity(kc, ours, same=r"pair-[a-z0-9]+-[a-z0-9]+")
    # kubectl's line on each 429 (pkg/drain/drain.go evictPods), word for
    # word, for as many pods (which of the pair the PDB lets go first is a
    # race of kubectl's concurrent evictions); kubectl repeats it every 5 s,
    # ours says it once and shows progress instead.
    retry = re.compile(r'^error when evicting pods/"(pair-\w+-\w+)" -n "shop" \(will retry after '
                       r"5s\): Cannot evict pod as it would violate the pod's disruption "
                       r"budget\.$")
    said = [[m.group(1) for m in map(retry.match, r.proc.stderr.splitlines()) if m]
            for r in (kc, ours)]
    assert said[1] and len(set(said[0])) == len(set(said[1])), said
    assert len(said[1]) == len(set(said[1])) <= len(said[0])
    # The wait shows progress (timestamped lines: stderr is no terminal),
    # naming the PDB it waits on; the plan named it before.
    progress = [l for l in ours.proc.stderr.splitlines() if PROGRESS.match(l)]
    assert any(re.search(r"waiting for \d+ pods? to go \(%s: \d+\); PodDisruptionBudget "
                         r"shop/pair allows no disruption now; waited \d+s$" % ubuntu(ours.k8s, 1),
                         l) for l in progress), ours.proc.stderr
    assert any(l.startswith("Plan: ") and "PodDisruptionBudget shop/pair" in l
               for l in ours.proc.stderr.splitlines())
    assert ours.k8s.safety.counts() == SAFE


def test_pdb_that_never_lets_go_times_out(make_sim, bin_path, tmp_path):
    def setup(k8s):
        node = ubuntu(k8s, 1)
        k8s.add_deployment("shop", "solo", 1, nodes=[k8s.node(node)])
        k8s.add_pdb("shop", "solo", {"app": "solo"}, min_available=1)
        return {"node": node}
    kc, ours = both(make_sim, bin_path, tmp_path, setup,
                    ["{node}", "--ignore-daemonsets", "--timeout=3s"], node="{node}")
    assert kc.proc.returncode == 1
    assert_parity(kc, ours)
    assert any("global timeout reached: 3s" in l for l in ours.err)
    assert any(n.startswith("solo-") for _, n in ours.left)
    assert ours.k8s.safety.counts() == SAFE


@pytest.mark.parametrize("flags", [[], ["--disable-eviction"]])
def test_timeout_while_a_pod_terminates(make_sim, bin_path, tmp_path, flags):
    def setup(k8s):
        k8s.delays["pod_stop"] = None          # it sits out its 30 s grace period
        return {"node": ubuntu(k8s, 1)}
    kc, ours = both(make_sim, bin_path, tmp_path, setup,
                    ["{node}", "--ignore-daemonsets", "--pod-selector", "app=web",
                     "--timeout=2s"] + flags, node="{node}", scale=1)
    assert kc.proc.returncode == 1
    assert_parity(kc, ours)
    assert any("context deadline exceeded" in l for l in ours.err)
    assert ours.k8s.safety.counts() == SAFE


def test_plan_names_the_pdb_that_blocks_forever(make_sim, bin_path, tmp_path, ):
    sim = make_sim(scenario())
    k8s = sim.cluster(CLUSTER).k8s
    node = ubuntu(k8s, 1)
    k8s.add_deployment("shop", "solo", 1, nodes=[k8s.node(node)])
    k8s.add_pdb("shop", "solo", {"app": "solo"}, min_available=1)
    p = run_cmd([bin_path, "drain", node, "--ignore-daemonsets", "--dry-run=client"],
                make_env(sim, tmp_path / "h"))
    assert p.returncode == 0, p.stderr
    plan = [l for l in p.stderr.splitlines() if l.startswith("Plan: ")]
    assert plan[0] == "Plan: node %s: pods will be evicted" % node
    (solo,) = [l for l in plan if "PodDisruptionBudget shop/solo allows" in l]
    assert "(1 healthy, 1 desired, 1 expected)" in solo
    assert "the drain cannot finish" in solo
    assert any(re.match(r"Plan:   skip   kube-system/kube-proxy-\w+  DaemonSet-managed", l)
               for l in plan)
    # A client dry run changes nothing.
    assert not k8s.node(node)["spec"].get("unschedulable")
    assert k8s.safety.counts() == SAFE


def test_plan_tells_pods_that_fit_on_no_other_node(make_sim, bin_path, tmp_path):
    sim = make_sim(scenario())
    k8s = sim.cluster(CLUSTER).k8s
    gpu = k8s.pool_nodes("gpu")[0]["metadata"]["name"]
    only_gpu = {"kubernetes.azure.com/accelerator": "nvidia"}
    k8s.add_deployment("ml", "train", 2, node_selector=only_gpu)
    k8s.add_pdb("ml", "train", {"app": "train"}, max_unavailable=1)
    p = run_cmd([bin_path, "drain", gpu, "--ignore-daemonsets", "--delete-emptydir-data",
                 "--dry-run=client"], make_env(sim, tmp_path / "h"))
    assert p.returncode == 0, p.stderr
    plan = [l for l in p.stderr.splitlines() if l.startswith("Plan: ")]
    (train,) = [l for l in plan if "PodDisruptionBudget ml/train allows" in l]
    assert train.startswith("Plan: PodDisruptionBudget ml/train allows 1 disruption now "
                            "(2 healthy, 1 desired, 2 expected): the drain cannot finish "
                            "(its pods fit on no other node)")
    inference = [l for l in plan if l.startswith("Plan:   evict  ml/inference-")]
    assert len(inference) == 1 and "no other node would take its replacement" in inference[0]
    # Pods that other nodes can take carry no such note.
    p = run_cmd([bin_path, "drain", ubuntu(k8s, 1), "--ignore-daemonsets", "--dry-run=client"],
                make_env(sim, tmp_path / "h"))
    assert "no other node" not in p.stderr
    assert k8s.safety.counts() == SAFE


def big_pair_with_no_room(k8s):
    """Two 6Gi pods on ubuntu node 1 under a PDB of maxUnavailable 1; every
    other node filled so that less than 6Gi of memory is free on each."""
    node = ubuntu(k8s, 1)
    for i, n in enumerate(k8s.nodes()):
        if n["metadata"]["name"] != node:
            alloc = parse_quantity(n["status"]["allocatable"]["memory"])
            fill = "%dGi" % (alloc // 2 ** 30 - 5)     # leaves under 6Gi
            k8s.add_deployment("fill", "fill-%d" % i, 1, nodes=[n], requests={"memory": fill})
    k8s.add_deployment("shop", "big", 2, nodes=[k8s.node(node)] * 2,
                       requests={"cpu": "100m", "memory": "6Gi"})
    k8s.add_pdb("shop", "big", {"app": "big"}, max_unavailable=1)
    return {"node": node}


def largest_free_memory(k8s, drained):
    """What the plan should name: the most memory any other node has left."""
    free = []
    for n in k8s.nodes():
        name = n["metadata"]["name"]
        if name != drained:
            used = sum(pod_requests(p["spec"])[1] for p in k8s.pods(node=name))
            free.append(parse_quantity(n["status"]["allocatable"]["memory"]) - used)
    return int(max(free))


def test_plan_tells_pods_that_fit_nowhere_for_capacity(make_sim, bin_path, tmp_path):
    sim = make_sim(scenario())
    k8s = sim.cluster(CLUSTER).k8s
    node = big_pair_with_no_room(k8s)["node"]
    free_ki = largest_free_memory(k8s, node) // 1024
    p = run_cmd([bin_path, "drain", node, "--ignore-daemonsets", "--dry-run=client"],
                make_env(sim, tmp_path / "h"))
    assert p.returncode == 0, p.stderr
    plan = [l for l in p.stderr.splitlines() if l.startswith("Plan: ")]
    big = [l for l in plan if l.startswith("Plan:   evict  shop/big-")]
    assert len(big) == 2, plan
    for line in big:
        assert re.search(r"no other node has room for its replacement \(needs cpu 100m, memory "
                         r"6Gi; largest free: cpu \d+m, memory %dKi\); PodDisruptionBudget "
                         r"shop/big$" % free_ki, line), line
    (pdb,) = [l for l in plan if "PodDisruptionBudget shop/big allows" in l]
    assert "the drain cannot finish (its pods fit on no other node)" in pdb
    # The small pods of the node fit elsewhere: no note.
    assert not any("no other node" in l for l in plan if "shop/big-" not in l)
    assert k8s.safety.counts() == SAFE


def test_no_room_drain_times_out_as_kubectl(make_sim, bin_path, tmp_path):
    """The first pod goes (its PDB allows one), its replacement stays
    Pending for want of memory, the second never may: both tools time out."""
    kc, ours = both(make_sim, bin_path, tmp_path, big_pair_with_no_room,
                    ["{node}", "--ignore-daemonsets", "--timeout=8s"], node="{node}")
    assert kc.proc.returncode == 1
    assert_parity(kc, ours, same=r"big-[a-z0-9]+-[a-z0-9]+")
    assert any("global timeout reached: 8s" in l for l in ours.err)
    pending = [p for p in ours.k8s.pods(namespace="shop")
               if p["metadata"]["name"].startswith("big-") and not p["spec"].get("nodeName")]
    assert len(pending) == 1
    assert ours.k8s.safety.counts() == SAFE


def test_statefulset_pod_recreated_under_the_same_name(make_sim, bin_path, tmp_path):
    def setup(k8s):
        node = ubuntu(k8s, 1)
        k8s.add_statefulset("shop", "db", 1)
        with k8s.lock:
            pod = k8s.pod("shop", "db-0")
        return {"node": pod["spec"]["nodeName"], "other": node}
    kc, ours = both(make_sim, bin_path, tmp_path, setup, ["{node}", "--ignore-daemonsets"],
                    node="{node}")
    assert kc.proc.returncode == 0
    assert_parity(kc, ours)
    assert "pod/db-0 evicted" in ours.out
    assert ours.k8s.pod("shop", "db-0") is not None
    assert ours.k8s.safety.counts() == SAFE


def test_pod_under_two_pdbs_is_refused_at_once_naming_them(make_sim, bin_path, tmp_path):
    def setup(k8s):
        node = ubuntu(k8s, 1)
        k8s.add_deployment("shop", "dual", 1, nodes=[k8s.node(node)])
        k8s.add_pdb("shop", "dual-a", {"app": "dual"}, max_unavailable=1)
        k8s.add_pdb("shop", "dual-b", {"app": "dual"}, max_unavailable=1)
        return {"node": node}
    kc, ours = both(make_sim, bin_path, tmp_path, setup, ["{node}", "--ignore-daemonsets"],
                    node="{node}")
    assert kc.proc.returncode == 1
    assert_parity(kc, ours)
    assert "(PodDisruptionBudgets shop/dual-a, shop/dual-b)" in ours.proc.stderr
    assert ours.k8s.safety.counts() == SAFE


# --- admission webhooks on pods/eviction ----------------------------------------


DENIED = 'admission webhook "drain-cleaner.example.com" denied the request: '


def test_webhook_429_until_its_operator_moves_the_pod(make_sim, bin_path, tmp_path):
    """A drain cleaner answers 429 (as KubeVirt's does) and moves the pod
    itself: kubectl retries a 429 whoever sends it, re-reads, and finds it
    gone (404: silent); so does ours, re-reading before its retry."""
    def setup(k8s):
        node = ubuntu(k8s, 1)
        k8s.add_deployment("shop", "cleaned", 1, nodes=[k8s.node(node)])
        (pod,) = [p for p in k8s.pods(namespace="shop")
                  if p["metadata"]["name"].startswith("cleaned-")]
        k8s.deny_evictions("shop", pod["metadata"]["name"], code=429, move_after=1)
        return {"node": node, "pod": pod["metadata"]["name"], "uid": pod["metadata"]["uid"]}
    runs = []

    def remember(k8s):
        ctx = setup(k8s)
        runs.append(ctx)
        return ctx
    kc, ours = both(make_sim, bin_path, tmp_path, remember,
                    ["{node}", "--ignore-daemonsets", "--pod-selector", "app=cleaned",
                     "--timeout=60s"], node="{node}")
    assert kc.proc.returncode == 0, kc.proc.stderr
    assert_parity(kc, ours)
    name, uid = runs[1]["pod"], runs[1]["uid"]
    assert ('error when evicting pods/"%s" -n "shop" (will retry after 5s): %spod shop/%s is '
            'moved by its operator' % (name, DENIED, name)) in ours.err
    assert "pod/%s evicted" % name not in ours.out
    # One eviction asked and refused; the re-read found the pod gone.
    assert ours.k8s.eviction_log == [("shop", name, uid, 429)]
    assert ours.k8s.safety.counts() == SAFE


@pytest.mark.parametrize("code", [400, 429])
def test_webhook_refusal_reread_gives_up_once_the_pod_moved(make_sim, bin_path, tmp_path,
                                                            code):
    """A webhook refuses db-0 and its operator moves it: the StatefulSet
    recreates db-0 on another node. Ours re-reads before its retry, sees a
    new uid elsewhere, and leaves it there. kubectl gives up at once on a
    400 (it retries only 429s) and, on a 429, evicts the recreated pod on
    the other node (the loop of Azure/AKS#4720)."""
    def setup(k8s):
        k8s.add_statefulset("shop", "db", 1)
        pod = k8s.pod("shop", "db-0")
        k8s.deny_evictions("shop", "db-0", code=code, move_after=1)
        return {"node": pod["spec"]["nodeName"], "uid": pod["metadata"]["uid"]}
    uids = []

    def remember(k8s):
        ctx = setup(k8s)
        uids.append(ctx["uid"])
        return ctx
    kc, ours = both(make_sim, bin_path, tmp_path, remember,
                    ["{node}", "--ignore-daemonsets", "--pod-selector", "app=db",
                     "--timeout=60s"], node="{node}")
    assert ours.proc.returncode == 0, ours.proc.stderr
    retry = ('error when evicting pods/"db-0" -n "shop" (will retry after 5s): %spod '
             'shop/db-0 is moved by its operator' % DENIED)
    assert retry in ours.err
    assert "pod/db-0 evicted" in ours.out
    assert ours.k8s.eviction_log == [("shop", "db-0", uids[1], code)]
    again = ours.k8s.pod("shop", "db-0")
    assert again["metadata"]["uid"] != uids[1] and not again["metadata"].get("deletionTimestamp")
    assert ("shop", "db-0") not in ours.left                # it runs elsewhere
    if code == 400:
        assert kc.proc.returncode == 1
        fatal = 'error when evicting pods/"db-0" -n "shop": %s' % DENIED
        assert any(fatal in l for l in kc.err), kc.proc.stderr
        assert not any("will retry" in l for l in kc.err)
    else:
        assert kc.proc.returncode == 0
        assert retry in kc.err
        evicted = [e for e in kc.k8s.eviction_log if e[3] == 201]
        assert evicted and all(e[2] != uids[0] for e in evicted)
    assert ours.k8s.safety.counts() == kc.k8s.safety.counts() == SAFE


def test_webhook_that_lets_go_after_refusing(make_sim, bin_path, tmp_path):
    """A webhook refuses the first eviction (400) and allows the next:
    kubectl has given up by then (exit 1, the pod left); ours retries after
    5 s, evicts it and drains the node."""
    def setup(k8s):
        node = ubuntu(k8s, 1)
        k8s.add_deployment("shop", "slow", 1, nodes=[k8s.node(node)])
        (pod,) = [p for p in k8s.pods(namespace="shop")
                  if p["metadata"]["name"].startswith("slow-")]
        k8s.deny_evictions("shop", pod["metadata"]["name"], message="not yet", refusals=1)
        return {"node": node, "pod": pod["metadata"]["name"]}
    kc, ours = both(make_sim, bin_path, tmp_path, setup,
                    ["{node}", "--ignore-daemonsets", "--pod-selector", "app=slow",
                     "--timeout=60s"], node="{node}")
    assert kc.proc.returncode == 1
    assert any(l.endswith(": %snot yet" % DENIED) and "will retry" not in l for l in kc.err)
    assert [n for _, n in kc.left if n.startswith("slow-")]
    assert ours.proc.returncode == 0, ours.proc.stderr
    assert not [n for _, n in ours.left if n.startswith("slow-")]
    assert [e[3] for e in ours.k8s.eviction_log] == [400, 201]
    assert any(l.startswith("pod/slow-") and l.endswith(" evicted") for l in ours.out)
    assert ours.k8s.safety.counts() == kc.k8s.safety.counts() == SAFE


# --- errors -------------------------------------------------------------------


def test_node_that_does_not_exist(make_sim, bin_path, tmp_path):
    kc, ours = both(make_sim, bin_path, tmp_path, node1, ["{node}", "nosuch"])
    assert kc.proc.returncode == 1
    assert_parity(kc, ours)
    assert ours.err == ['Error from server (NotFound): nodes "nosuch" not found']
    assert not ours.k8s.node(ubuntu(ours.k8s, 1))["spec"].get("unschedulable")


def test_forbidden_eviction(make_sim, bin_path, tmp_path):
    def setup(k8s):
        k8s.forbid("*", "create", "pods/eviction")
        return node1(k8s)
    kc, ours = both(make_sim, bin_path, tmp_path, setup, ["{node}", "--ignore-daemonsets"],
                    node="{node}")
    assert kc.proc.returncode == 1
    assert_parity(kc, ours)
    assert "There are pending nodes to be drained:" in ours.err
    assert ours.k8s.safety.counts() == SAFE


def test_disable_eviction_deletes(make_sim, bin_path, tmp_path):
    kc, ours = both(make_sim, bin_path, tmp_path, node1,
                    ["{node}", "--ignore-daemonsets", "--disable-eviction"], node="{node}")
    assert kc.proc.returncode == 0
    assert_parity(kc, ours)
    assert any(l.endswith(" deleted") for l in ours.out)


@pytest.mark.parametrize("mode", ["client", "server"])
def test_dry_run(make_sim, bin_path, tmp_path, mode):
    kc, ours = both(make_sim, bin_path, tmp_path, with_local_and_bare,
                    ["{node}", "--ignore-daemonsets", "--delete-emptydir-data", "--force",
                     "--dry-run=" + mode], node="{node}")
    assert kc.proc.returncode == 0
    assert_parity(kc, ours)
    assert not ours.k8s.node(ubuntu(ours.k8s, 1))["spec"].get("unschedulable")
    assert ours.k8s.safety.counts() == SAFE


def test_usage_errors(make_sim, bin_path, tmp_path):
    sim = make_sim(scenario())
    env = make_env(sim, tmp_path / "h")
    p = run_cmd([bin_path, "drain"], env)
    assert p.returncode == 1 and p.stderr.startswith("error: USAGE: drain ")
    p = run_cmd([bin_path, "drain", "x", "-l", "a=b"], env)
    assert p.returncode == 1
    assert p.stderr.startswith("error: cannot specify both a node name and a --selector option")
    p = run_cmd([bin_path, "drain", "x", "--dry-run=maybe"], env)
    assert p.returncode == 1 and "Invalid dry-run value (maybe)" in p.stderr


# --- cordon / uncordon ------------------------------------------------------------


def test_cordon_and_uncordon_match_kubectl(make_sim, bin_path, tmp_path):
    outs = []
    for tool in ("kubectl", "azlinux"):
        sim = make_sim(scenario())
        k8s = sim.cluster(CLUSTER).k8s
        env = make_env(sim, tmp_path / tool)
        cmd = [KUBECTL] if tool == "kubectl" else [bin_path]
        a, b = ubuntu(k8s, 0), ubuntu(k8s, 1)
        seq = [run_cmd(cmd + ["cordon", a, b], env), run_cmd(cmd + ["cordon", a], env),
               run_cmd(cmd + ["uncordon", a, "--dry-run=server"], env),
               run_cmd(cmd + ["uncordon", a], env), run_cmd(cmd + ["uncordon", a], env),
               run_cmd(cmd + ["cordon", "nosuch"], env)]
        outs.append([(p.returncode, p.stdout, p.stderr) for p in seq])
        assert k8s.node(b)["spec"].get("unschedulable") is True
        assert not k8s.node(a)["spec"].get("unschedulable")
    assert outs[0] == outs[1]


def test_cordon_pool_cordons_every_node_of_the_pool(make_sim, bin_path, tmp_path):
    sim = make_sim(scenario())
    k8s = sim.cluster(CLUSTER).k8s
    env = make_env(sim, tmp_path / "h")
    p = run_cmd([bin_path, "cordon", "--pool", "ubuntu"], env)
    assert p.returncode == 0, p.stderr
    names = [n["metadata"]["name"] for n in k8s.pool_nodes("ubuntu")]
    assert p.stdout.splitlines() == ["node/%s cordoned" % n for n in sorted(names)]
    assert all(k8s.node(n)["spec"]["unschedulable"] for n in names)
    assert not any(n["spec"].get("unschedulable") for n in k8s.pool_nodes("system"))
    p = run_cmd([bin_path, "uncordon", "-l", "kubernetes.azure.com/agentpool=ubuntu"], env)
    assert p.returncode == 0, p.stderr
    assert not any(k8s.node(n)["spec"].get("unschedulable") for n in names)


# --- a whole pool ---------------------------------------------------------------


def test_pool_drain_cordons_all_first_and_ends_as_kubectl(make_sim, bin_path, tmp_path):
    def setup(k8s):
        names = sorted(n["metadata"]["name"] for n in k8s.pool_nodes("ubuntu"))
        return {"a": names[0], "b": names[1], "c": names[2]}
    kc, ours = both(make_sim, bin_path, tmp_path, setup,
                    ["{a}", "{b}", "{c}", "--ignore-daemonsets", "--delete-emptydir-data",
                     "--timeout=100s"])
    sim = make_sim(scenario())
    k8s = sim.cluster(CLUSTER).k8s
    p = run_cmd([bin_path, "drain", "--pool", "ubuntu", "--ignore-daemonsets",
                 "--delete-emptydir-data", "--timeout=100s"], make_env(sim, tmp_path / "p"),
                timeout=120)
    assert kc.proc.returncode == ours.proc.returncode == p.returncode == 0, p.stderr
    assert lines(p.stdout) == ours.out == kc.out
    out = p.stdout.splitlines()
    first_eviction = min(i for i, l in enumerate(out) if l.startswith("evicting pod"))
    assert all(l.endswith(" cordoned") for l in out[:3]) and first_eviction == 3
    for name in {n["metadata"]["name"] for n in k8s.pool_nodes("ubuntu")}:
        assert all(p_["metadata"]["namespace"] == "kube-system" for p_ in k8s.pods(node=name))
    assert k8s.safety.counts() == SAFE == ours.k8s.safety.counts()


def test_interrupted_drain_run_again_finishes_safely(make_sim, bin_path, tmp_path):
    sim = make_sim(scenario(scale=4))
    k8s = sim.cluster(CLUSTER).k8s
    env = make_env(sim, tmp_path / "h")
    for node in k8s.pool_nodes("ubuntu")[:2]:
        k8s.add_deployment("shop", "pair-" + node["metadata"]["name"][-1], 2,
                           nodes=[node] * 2)
        k8s.add_pdb("shop", "pair-" + node["metadata"]["name"][-1],
                    {"app": "pair-" + node["metadata"]["name"][-1]}, max_unavailable=1)
    argv = [bin_path, "drain", "--pool", "ubuntu", "--ignore-daemonsets",
            "--delete-emptydir-data", "--timeout=120s"]
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    deadline = time.time() + 30
    while time.time() < deadline:                    # until an eviction was refused
        if any(p["metadata"].get("deletionTimestamp") for p in k8s.pods(namespace="shop")):
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 1
    assert "drain interrupted" in err
    assert k8s.safety.counts() == SAFE
    p = run_cmd(argv, env, timeout=150)
    assert p.returncode == 0, p.stderr
    assert p.stdout.count(" drained") == 3
    for node in k8s.pool_nodes("ubuntu"):
        assert all(q["metadata"]["namespace"] == "kube-system"
                   for q in k8s.pods(node=node["metadata"]["name"]))
    assert k8s.safety.counts() == SAFE


def test_forbidden_delete_with_disable_eviction(make_sim, bin_path, tmp_path):
    def setup(k8s):
        k8s.forbid("*", "delete", "pods")
        return node1(k8s)
    kc, ours = both(make_sim, bin_path, tmp_path, setup,
                    ["{node}", "--ignore-daemonsets", "--disable-eviction"], node="{node}")
    assert kc.proc.returncode == 1
    assert_parity(kc, ours)
    assert any(l.startswith("Error from server (Forbidden): ") for l in ours.err)
    assert ours.k8s.safety.counts() == SAFE
