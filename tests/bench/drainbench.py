"""The drain scenario of `make bench` (issue 16): a 10-node pool whose
Deployments run under PodDisruptionBudgets of maxUnavailable 1, with the
simulator's pod start and readiness delays, drained once by `kubectl drain`
of the pool's nodes and once by `kubectl azlinux drain --pool`, each on a
cluster built afresh (a drain cannot be repeated on the same one), round
after round. Each Deployment has its two pods on neighbouring nodes, so a
node-by-node drain meets the PDB of the previous node's pods on the next.
A new pool of 10 nodes receives the replacements, as in a side-by-side
migration. Measured: wall, user+sys CPU of the client, requests to the API
server; the simulator's safety counters must stay at zero."""

import os
import statistics

from sim import scenario as scenarios
from sim.server import Sim

NODES = 10
KEY_KUBECTL = "kubectl drain (the pool's 10 nodes)"
KEY_OURS = "drain --pool old"
BEGIN = "<!-- bench:drain:begin (written by tests/bench/bench.py; edit outside the markers) -->"
END = "<!-- bench:drain:end -->"
FLAGS = ["--ignore-daemonsets", "--delete-emptydir-data", "--timeout=300s"]


def drain_scenario():
    pools = [scenarios.Pool("system", mode="System", count=1),
             scenarios.Pool("old", count=NODES),
             scenarios.Pool("new", count=NODES)]
    cluster = scenarios.Cluster("drain-aks", "drain-rg", scenarios.DEMO_SUBSCRIPTION,
                                pools=pools)
    return scenarios.Scenario([cluster], name="drain")


def populate(k8s):
    old = k8s.pool_nodes("old")
    for i in range(NODES):
        name = "app%d" % i
        k8s.add_deployment("apps", name, 2, nodes=[old[i], old[(i + 1) % NODES]])
        k8s.add_pdb("apps", name, {"app": name}, max_unavailable=1)
    return [n["metadata"]["name"] for n in old]


def one(tool, args, pki, work, run_once, helpers, r):
    sdir = os.path.join(work, "drain-%s-%d" % (tool, r))
    with Sim(drain_scenario(), sdir, latency_ms=args.latency_ms, pki=pki,
             cache_lists=True) as sim:
        k8s = sim.cluster("drain-aks").k8s
        names = populate(k8s)
        env = helpers.make_env(sim, os.path.join(sdir, "home"))
        argv = ([helpers.KUBECTL, "drain", *names] if tool == "kubectl"
                else [args.plugin, "drain", "--pool", "old"]) + FLAGS
        sim.clear_log()
        wall, cpu, rss, status, stdout, stderr = run_once(args.spawn, argv, env, sdir)
        reqs = [q for q in sim.requests.snapshot() if q["server"] != "azure"]
        left = [p for n in names for p in k8s.pods(node=n)
                if p["metadata"]["namespace"] != "kube-system"]
        if status or left or stdout.count(" drained") != NODES:
            raise RuntimeError("`%s` exited %d leaving %d pods: %s" % (
                " ".join(argv[:3]), status, len(left), stderr.strip().splitlines()[-1:]))
        safety = k8s.safety.counts()
        if any(safety.values()):
            raise RuntimeError("`%s` broke the safety counters: %s" % (argv[1], safety))
        return dict(wall=wall, cpu=cpu, rss=rss, requests=len(reqs),
                    retries=sum(1 for q in reqs if q["status"] == 429))


def run(args, pki, work, run_once, helpers, progress):
    """{key: medians} over args.runs rounds, each tool once a round."""
    got = {KEY_KUBECTL: [], KEY_OURS: []}
    for r in range(args.runs):
        for tool, key in (("kubectl", KEY_KUBECTL), ("ours", KEY_OURS)):
            progress("drain: round %d of %d: %s" % (r + 1, args.runs, key))
            got[key].append(one(tool, args, pki, work, run_once, helpers, r))
    return {k: {m: statistics.median(s[m] for s in v) for m in v[0]} for k, v in got.items()}


def targets(res):
    k, o = res[KEY_KUBECTL], res[KEY_OURS]
    return [("drain: `drain --pool` wall <= 1/2 of `kubectl drain` of the same nodes",
             "%.2f s" % o["wall"], "%.2f s" % (k["wall"] / 2), o["wall"] <= k["wall"] / 2),
            ("drain: CPU of the whole drain < 0.2 s", "%.3f s" % o["cpu"], "0.2 s",
             o["cpu"] < 0.2)]


def report(res, args, when):
    out = [BEGIN, "",
           "Measured %s, %d rounds (medians), %d ms injected per request. Scenario **drain**: "
           "pool `old` of %d nodes, %d Deployments of 2 pods on neighbouring nodes, each under "
           "a PDB of maxUnavailable 1; pool `new` of %d nodes takes the replacements; the "
           "simulator's delays (pod start 2 s, Ready 3 s later, stop 1 s) at time scale 1. "
           "The safety counters stayed at zero in every run." % (
               when, args.runs, args.latency_ms, NODES, NODES, NODES), "",
           "| command | wall (median) | user+sys CPU | peak RSS | API requests | of them 429 |",
           "|---|---:|---:|---:|---:|---:|"]
    for key, m in res.items():
        out.append("| `%s` | %.2f s | %.3f s | %.1f MB | %g | %g |" % (
            key, m["wall"], m["cpu"], m["rss"] / 1024.0, m["requests"], m["retries"]))
    out += ["", "| target | measured | limit | result |", "|---|---:|---:|---|"]
    out += ["| %s | %s | %s | %s |" % (d, m, lim, "met" if ok else "**MISSED**")
            for d, m, lim, ok in targets(res)]
    out += ["", "Reproduce: `/usr/bin/python3 tests/bench/bench.py --bin bin --only drain`", "",
            END]
    return "\n".join(out)
