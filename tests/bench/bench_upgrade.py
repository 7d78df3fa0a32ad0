"""`make bench`, upgrades: `kubectl azlinux upgrade` on the simulator's clock.

    /usr/bin/python3 tests/bench/bench_upgrade.py --bin <absolute bin dir> [--scale 600]

Three runs, each in a fresh simulator (an upgrade changes what it upgrades, so
each is measured once, not in rounds as bench.py does):

  node-image-100   a cluster of 100 pools (1 node each): upgrade --all --node-image
  node-image-100-p10  the same with --parallel 10 (the System pool, then 99
                   User pools ten at a time)
  k8s-50           a System pool of 3 nodes and a pool of 50: upgrade work
                   --kubernetes-version 1.33 (the control plane, then the pool)

Measured: wall time, user+sys CPU and peak RSS of the client (spawn.c, as
bench.py), the simulator's request log (ARM requests by kind, Kubernetes
requests, the token requests) and the polling rate: the operation-status
GETs per simulated minute and the shortest simulated gap between two polls
of one operation, against the Retry-After ARM sent (30 simulated seconds).
Beside them, the request count of the `az` equivalent, estimated as the
reference describes az: one POST or PUT per operation (az aks upgrade
--node-image-only loops over the pools), polled at the Retry-After, else at
az's 30 s default, for each operation's simulated duration as measured
here, plus the GETs az makes first (the cluster and its pools).
"""

import argparse
import math
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import bench  # noqa: E402  (puts tests/ and tests/e2e on sys.path)
import helpers  # noqa: E402
from sim import scenario as scenarios  # noqa: E402
from sim.pki import PKI  # noqa: E402
from sim.server import Sim  # noqa: E402

NEW_AZL3 = "AKSAzureLinux-V3gen2-202608.14.0"
RETRY_AFTER = 30.0


def node_image_100(scale):
    pools = [scenarios.Pool("system", mode="System", count=1)]
    pools += [scenarios.Pool("p%03d" % i, count=1) for i in range(1, 100)]
    c = scenarios.Cluster("bench-aks", "bench-rg", scenarios.DEMO_SUBSCRIPTION, pools=pools)
    return scenarios.Scenario([c], name="bench-node-image", time_scale=scale)


def k8s_50(scale):
    pools = [scenarios.Pool("system", mode="System", count=3),
             scenarios.Pool("work", count=50, max_surge="10%")]
    c = scenarios.Cluster("bench-aks", "bench-rg", scenarios.DEMO_SUBSCRIPTION, pools=pools)
    return scenarios.Scenario([c], name="bench-k8s", time_scale=scale)


def is_poll(r):
    return "/operations/" in r["path"] or "/operationresults/" in r["path"]


def measure(name, make, argv, args, pki, work, prepare=None):
    scenario = make(args.scale)
    sdir = os.path.join(work, name)
    with Sim(scenario, sdir, pki=pki) as sim:
        env = helpers.make_env(sim, os.path.join(sdir, "home"))
        if prepare:
            prepare(sim)
        sim.clear_log()
        t0 = sim.clock.now()
        wall, cpu, rss, status, out, err = bench.run_once(args.spawn, [args.plugin, *argv],
                                                          env, sdir)
        sim_elapsed = sim.clock.now() - t0
        if status != 0:
            raise bench.BenchError("`%s` exited %d: %s" % (" ".join(argv), status, err[-2000:]))
        reqs = sim.requests.snapshot()
        ops = sim.roller.operations.values()
        durations = [max(o.end_time - o.start_time, 0) for o in ops if o.end_time]
    arm = [r for r in reqs if r["server"] == "azure" and r["path"].startswith("/subscriptions/")]
    polls = [r for r in arm if is_poll(r)]
    gaps = []
    by_url = {}
    for r in sorted(polls, key=lambda r: r["start"]):
        key = r["path"]
        if key in by_url:
            gaps.append((r["start"] - by_url[key]) * args.scale)
        by_url[key] = r["start"]
    az = 2 + sum(1 + math.ceil(d / RETRY_AFTER) for d in durations)
    return {
        "name": name, "wall": wall, "cpu": cpu, "rss_mb": rss / 1024.0,
        "arm": len(arm), "writes": sum(r["method"] in ("PUT", "POST") for r in arm),
        "polls": len(polls), "arm_gets": sum(r["method"] == "GET" and not is_poll(r) for r in arm),
        "kube": sum(r["server"] != "azure" for r in reqs),
        "tokens": sum(r["server"] == "azure" and not r["path"].startswith("/subscriptions/")
                      for r in reqs),
        "sim_minutes": sim_elapsed / 60.0,
        "polls_per_sim_min": len(polls) / max(sim_elapsed / 60.0, 1e-9),
        "min_gap_s": min(gaps) if gaps else float("nan"),
        "operations": len(durations), "az": az,
    }


def table(rows):
    head = ("| run | wall s | CPU s | RSS MB | ARM req | writes | status polls | other ARM GETs | "
            "K8s req | token req | simulated min | polls / sim min | min poll gap (sim s) | "
            "operations | az equivalent req |")
    lines = [head, "|" + "---|" * 15]
    for m in rows:
        lines.append("| %s | %.2f | %.2f | %.1f | %d | %d | %d | %d | %d | %d | %.1f | %.2f | %.0f | "
                     "%d | %d |" % (m["name"], m["wall"], m["cpu"], m["rss_mb"], m["arm"],
                                    m["writes"], m["polls"], m["arm_gets"], m["kube"], m["tokens"],
                                    m["sim_minutes"], m["polls_per_sim_min"], m["min_gap_s"],
                                    m["operations"], m["az"]))
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--bin", required=True)
    p.add_argument("--scale", type=float, default=600.0,
                   help="simulated seconds per wall second (600: a minute in 100 ms)")
    args = p.parse_args(argv)
    args.plugin = os.path.join(args.bin, "kubectl-azlinux")
    os.environ["AZLINUX_BIN"] = args.plugin
    rows = []
    with tempfile.TemporaryDirectory(prefix="azlinux-bench-upgrade-") as work:
        args.spawn = bench.build_spawn(work)
        pki = PKI(os.path.join(work, "pki"))
        for name, extra in (("node-image-100", []), ("node-image-100-p10", ["--parallel", "10"])):
            rows.append(measure(name, node_image_100,
                                ["upgrade", "--all", "--node-image", "--yes", *extra], args, pki,
                                work, lambda sim: sim.arm.latest_images.__setitem__(
                                    "AKSAzureLinux-V3gen2", NEW_AZL3)))
        rows.append(measure("k8s-50", k8s_50,
                            ["upgrade", "work", "--kubernetes-version", "1.33", "--yes"],
                            args, pki, work))
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
