"""`make bench`: kubectl-azlinux against the simulator, side by side with kubectl.

    /usr/bin/python3 tests/bench/bench.py --bin <absolute bin dir> [--latency-ms 25] [--runs 5]
        [--only small,large,fleet] [--output BENCHMARKS.md]

Each scenario runs in its own simulator with the same latency added to every
request. Every command runs once unmeasured (warm caches: the resolution
cache `pools` keeps, kubectl's discovery cache, the page cache); then come
--runs rounds in which each command of the scenario runs once in turn (the
start-up ones 4 times, the two the fleet target compares 3 times), so that
a change in the machine's load touches all alike. Measured: wall time,
user+sys CPU and peak RSS of the child (wait4 in spawn.c), the CPU the
simulator and the front used meanwhile, and from the simulator's request
log the number of HTTP requests and the
critical-path depth - the longest chain of requests each starting after the
previous one ended, i.e. the round trips a client could not overlap.

Entra ID and ARM are reached through nghttpx (H2Front), which speaks HTTP/2
to the client as they do and HTTP/1.1 to the simulator; rows marked "ARM
over HTTP/1.1" go straight to the simulator. For `pools` on the large
cluster, as many runs again at -v=6 give the round trips as the client saw
them (client_requests), which the simulator's log overstates when it picks
up a wave of 100 requests late.

The results table goes into BENCHMARKS.md between the bench markers, leaving
the notes around it alone. Exits 1 naming every target missed (targets:
issue 6), 2 when a command fails.
"""

import argparse
import contextlib
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from urllib.parse import urlsplit

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))

import helpers  # noqa: E402  (needs the path above; puts tests/ on sys.path)
from sim import scenario as scenarios  # noqa: E402
from sim.front import FrontError, H2Front  # noqa: E402
from sim.pki import PKI  # noqa: E402
from sim.server import Sim  # noqa: E402
import drainbench  # noqa: E402  (tests/bench, next to this file)

KUBECTL = helpers.KUBECTL
BEGIN = "<!-- bench:begin (written by tests/bench/bench.py; edit outside the markers) -->"
END = "<!-- bench:end -->"
MB = 1024.0  # ru_maxrss is in KiB on Linux
STARTUP_RUNS = 4
# The fleet's target compares two walls (25 contexts, and one) whose spread
# from round to round on this 2-core machine is as large as the target's
# margin: more samples of those two, as for start-up.
FLEET_TARGET_RUNS = 3


class BenchError(Exception):
    """A command failed or printed something other than what it should."""


# --- what is measured ---------------------------------------------------------


class Case:
    """One command of a scenario. check(stdout) raises BenchError when the
    output is wrong; warmup is the unmeasured run (None: the command itself)."""

    def __init__(self, key, argv, ok_status=(0,), check=None, warmup=None, env=None,
                 startup=False, direct=False, trace=False, system_bundle=False,
                 latency_ms=None, repeats=None):
        self.key = key
        self.argv = argv
        self.ok_status = ok_status
        self.check = check
        self.warmup = warmup
        self.env = env or {}        # overrides of the scenario's environment
        # Start-up is a few ms, where a busy machine's noise is of the same
        # order: take the median of STARTUP_RUNS x runs.
        self.startup = startup
        # Runs per round: STARTUP_RUNS for start-up, else 1 unless given.
        self.repeats = repeats or (STARTUP_RUNS if startup else 1)
        # Entra ID and ARM straight to the simulator over HTTP/1.1 instead of
        # through the HTTP/2 front (see H2Front).
        self.direct = direct
        # As many runs again at -v=6, unmeasured, for the round trips as
        # the client saw them (client_depths).
        self.trace = trace
        # SSL_CERT_FILE is the system's CA bundle with the simulator's CA
        # appended: the ~140 certificates a client trusts against real Azure.
        self.system_bundle = system_bundle
        # Overrides the scenario's injected latency: 0 leaves only the CPU
        # that the client, the simulator and the front spend.
        self.latency_ms = latency_ms


def count_items(expected):
    def check(stdout):
        doc = json.loads(stdout)
        n = len(doc.get("items", []))
        if n != expected:
            raise BenchError("printed %d nodes, the scenario has %d" % (n, expected))
    return check


def has_lines(expected):
    """At least `expected` non-empty lines (a table row per pool, or the
    completion candidates)."""
    def check(stdout):
        n = sum(1 for line in stdout.splitlines() if line.strip())
        if n < expected:
            raise BenchError("printed %d lines, expected at least %d" % (n, expected))
    return check


def prints_lines(expected):
    """Every one of `expected` is a line of the output (completion candidates)."""
    expected = set(expected)

    def check(stdout):
        missing = sorted(expected - set(stdout.splitlines()))
        if missing:
            raise BenchError("did not print %s" % ", ".join(missing))
    return check


def small_scenario():
    s = scenarios.large_scenario(pools=3, nodes=9)
    s.name = "small"
    return s


def nodes_of(scenario):
    return sum(p.count for c in scenario.clusters for p in c.pools)


def pools_of(scenario):
    return sum(len(c.pools) for c in scenario.clusters)


def small_cases(plugin, completer, s):
    n, p = nodes_of(s), pools_of(s)
    return [
        Case("kubectl version --client", [KUBECTL, "version", "--client"], startup=True),
        # For reference: /usr/bin/kubectl is gcloud's dispatcher, which asks
        # the server for its version first; without a kubeconfig it cannot.
        Case("kubectl version --client (no kubeconfig)", [KUBECTL, "version", "--client"],
             env={"KUBECONFIG": os.devnull}, startup=True),
        Case("version", [plugin, "version"], check=has_lines(1), startup=True),
        Case("--help", [plugin, "--help"], check=has_lines(5), startup=True),
        Case("nodes", [plugin, "nodes"], check=has_lines(n + 1)),
        Case("pools", [plugin, "pools"], check=has_lines(p + 2)),
        # After `pools`: the pool names come from its cache, with no request.
        Case("completion (warm cache)", [completer, "nodes", "--pool", ""],
             check=prints_lines(pl.name for c in s.clusters for pl in c.pools), startup=True),
        Case("check", [plugin, "check"], ok_status=(0, 3, 4), check=has_lines(1)),
        Case("kubectl get nodes -o json", [KUBECTL, "get", "nodes", "-o", "json"],
             check=count_items(n)),
        Case("nodes -o json", [plugin, "nodes", "-o", "json"], check=count_items(n)),
    ]


def large_cases(plugin, completer, s):
    n, p = nodes_of(s), pools_of(s)
    first = s.clusters[0].k8s.pool_nodes(s.clusters[0].pools[0].name)[0]["metadata"]["name"]
    return [
        # Listing 5,000 nodes twice just to warm up is slow: one node fills
        # kubectl's discovery cache just as well.
        Case("kubectl get nodes -o json", [KUBECTL, "get", "nodes", "-o", "json"],
             check=count_items(n), warmup=[KUBECTL, "get", "node", first, "-o", "name"]),
        Case("nodes -o json", [plugin, "nodes", "-o", "json"], check=count_items(n),
             warmup=[plugin, "version"]),
        Case("nodes", [plugin, "nodes"], check=has_lines(n + 1), warmup=[plugin, "version"]),
        Case("pools", [plugin, "pools"], check=has_lines(p + 2), trace=True),
        Case("pools (ARM over HTTP/1.1)", [plugin, "pools"], check=has_lines(p + 2),
             direct=True, trace=True),
        Case("check", [plugin, "check"], ok_status=(0, 3, 4), check=has_lines(1)),
    ]


def fleet_cases(plugin, completer, s):
    one = s.clusters[0]
    return [
        Case("pools (one context)", [plugin, "pools", "--context", one.name],
             check=has_lines(len(one.pools) + 2), repeats=FLEET_TARGET_RUNS),
        Case("pools --all-contexts", [plugin, "pools", "--all-contexts"],
             check=has_lines(pools_of(s) + 2), repeats=FLEET_TARGET_RUNS),
        Case("pools --all-contexts (ARM over HTTP/1.1)", [plugin, "pools", "--all-contexts"],
             check=has_lines(pools_of(s) + 2), direct=True),
        Case("pools --all-contexts (system CA bundle)", [plugin, "pools", "--all-contexts"],
             check=has_lines(pools_of(s) + 2), system_bundle=True),
        Case("pools --all-contexts (no injected latency)", [plugin, "pools", "--all-contexts"],
             check=has_lines(pools_of(s) + 2), latency_ms=0),
    ]


SCENARIOS = [
    ("small", "1 cluster, 3 pools, 9 nodes", small_scenario, small_cases),
    ("large", "1 cluster, 100 pools, 5,000 nodes", scenarios.large_scenario, large_cases),
    ("fleet", "25 contexts of 4 pools (2 nodes each)",
     lambda: scenarios.fleet_scenario(25, 4), fleet_cases),
]


def check_front(front, case):
    """Every request through the front was HTTP/2; returns the number of
    connections the ARM requests (not the token) used."""
    entries = front.take_log()
    not_h2 = [e for e in entries if e[0] != "h2"]
    if not_h2:
        raise BenchError("`%s` spoke %s to the HTTP/2 front, not h2 (%s)" % (
            " ".join(case.argv), not_h2[0][0], not_h2[0][3]))
    return len({e[1] for e in entries if "/oauth2/" not in e[3]})


# A -v=6 line: "I1127 21:40:01.842648   26209 azlinux] GET https://... 200 OK in 33 ms"
TRACE_LINE = re.compile(r"^[IWE]\d{4} (\d\d):(\d\d):(\d\d\.\d+)\s+\d+ \S+\] "
                        r"([A-Z]+) (\S+) .*\bin (\d+) ms")


def client_requests(stderr, azure_url):
    """The requests of a -v=6 trace as the client saw them: start is when it
    began the transfer (logged end minus its duration), t when it had the
    answer. Unlike the simulator's log, a request the simulator was slow to
    pick up does not look sent later."""
    reqs = []
    for line in stderr.splitlines():
        m = TRACE_LINE.match(line)
        if not m:
            continue
        h, mi, sec, method, url, ms = m.groups()
        t = int(h) * 3600 + int(mi) * 60 + float(sec)
        reqs.append(dict(start=t - int(ms) / 1000.0, t=t, method=method,
                         server="azure" if url.startswith(azure_url) else "k8s",
                         path=urlsplit(url).path))
    return reqs


# --- measuring ----------------------------------------------------------------


def is_token_request(r):
    return r["server"] == "azure" and r["method"] == "POST" and r["path"].endswith("/token")


def depth(reqs):
    """Length of the longest chain of requests, each starting after the one
    before it ended: the round trips that were not overlapped."""
    reqs = sorted(reqs, key=lambda r: r["start"])
    best = []
    for i, r in enumerate(reqs):
        prior = [best[j] for j in range(i) if reqs[j]["t"] <= r["start"]]
        best.append(1 + max(prior, default=0))
    return max(best, default=0)


def depth_after_token(reqs):
    """depth() of what follows the first token, which a token cache saves."""
    tokens = [r["t"] for r in reqs if is_token_request(r)]
    if not tokens:
        return depth(reqs)
    end = min(tokens)
    return depth([r for r in reqs if r["start"] >= end and not is_token_request(r)])


def build_spawn(workdir):
    """Compile spawn.c (see there for why the children are not forked from
    Python) into workdir; return its path."""
    exe = os.path.join(workdir, "spawn")
    cc = os.environ.get("CC", "cc")
    subprocess.run([cc, "-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", "-D_DEFAULT_SOURCE",
                    "-o", exe, os.path.join(HERE, "spawn.c")], check=True)
    return exe


def run_once(spawn, argv, env, workdir):
    """(wall s, cpu s, peak RSS KiB, exit status, stdout, stderr) of one run."""
    paths = [os.path.join(workdir, n) for n in ("stdout", "stderr", "report")]
    with open(paths[0], "wb") as out, open(paths[1], "wb") as err:
        r = subprocess.run([spawn, paths[2], *argv], env=env, stdin=subprocess.DEVNULL,
                           stdout=out, stderr=err)
    if r.returncode != 0:
        raise BenchError("could not measure `%s`: %s" % (" ".join(argv), read(paths[1])))
    wall, user, system, rss, status = read(paths[2]).split()
    return (float(wall), float(user) + float(system), int(rss), int(status), read(paths[0]),
            read(paths[1]))


def process_cpu(pid):
    """user+sys CPU seconds of pid and its live descendants (nghttpx serves
    from a forked worker)."""
    total, tick = 0.0, os.sysconf("SC_CLK_TCK")
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / tick
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            children = [int(c) for c in f.read().split()]
    except OSError:
        return total
    return total + sum(process_cpu(c) for c in children)


def server_cpu(front):
    """CPU seconds the simulator (this process's threads) and the front
    have used so far."""
    t = os.times()
    return t.user + t.system + process_cpu(front.proc.pid)


def read(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()


def verify(case, status, stdout, stderr):
    if status not in case.ok_status:
        first = (stderr.strip().splitlines() or ["(no message)"])[0]
        raise BenchError("`%s` exited %d: %s" % (" ".join(case.argv), status, first))
    if case.check:
        try:
            case.check(stdout)
        except (ValueError, BenchError) as e:
            raise BenchError("`%s`: %s" % (" ".join(case.argv), e)) from None


SYSTEM_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"


def with_system_bundle(env, workdir):
    path = os.path.join(workdir, "system-and-sim-ca.pem")
    with open(path, "w") as out:
        out.write(read(SYSTEM_BUNDLE) + read(env["SSL_CERT_FILE"]))
    return dict(env, SSL_CERT_FILE=path)


@contextlib.contextmanager
def latency_of(case, sim):
    """The simulator's injected latency as the case wants it, while it runs."""
    latency = sim.latency_ms
    if case.latency_ms is not None:
        sim.latency_ms = case.latency_ms
    try:
        yield
    finally:
        sim.latency_ms = latency


def case_env(case, front, env, workdir):
    env = dict(env, **(front.direct_env() if case.direct else {}), **case.env)
    return with_system_bundle(env, workdir) if case.system_bundle else env


def warm_up(spawn, case, sim, env, workdir):
    with latency_of(case, sim):
        warm = run_once(spawn, case.warmup or case.argv, env, workdir)
    if case.warmup is None:
        verify(case, warm[3], warm[4], warm[5])


def sample(spawn, case, sim, front, env, workdir):
    """One measured run."""
    with latency_of(case, sim):
        sim.clear_log()
        front.take_log()
        before = server_cpu(front)
        wall, cpu, rss, status, stdout, stderr = run_once(spawn, case.argv, env, workdir)
        server = server_cpu(front) - before
    verify(case, status, stdout, stderr)
    reqs = sim.requests.snapshot()
    return dict(wall=wall, cpu=cpu, server_cpu=server, rss=rss, requests=len(reqs),
                depth=depth(reqs), depth_after_token=depth_after_token(reqs),
                arm_connections=check_front(front, case))


def client_depths(spawn, case, front, env, azure_url, runs, workdir):
    """Medians over `runs` more runs at -v=6 (unmeasured: the trace costs
    CPU) of the round trips after the token as the client saw them, all
    requests and ARM's alone. ARM's own chain leaves out the node pages that
    run beside it: where a page happens to start after a wave of ARM calls
    ended, the two chains join into one longer than either."""
    both, arm = [], []
    for _ in range(runs):
        _, _, _, status, stdout, stderr = run_once(spawn, case.argv + ["-v=6"], env, workdir)
        verify(case, status, stdout, stderr)
        check_front(front, case)
        reqs = client_requests(stderr, azure_url)
        both.append(depth_after_token(reqs))
        arm.append(depth_after_token([r for r in reqs if r["server"] == "azure"]))
    return {"client_depth": statistics.median(both), "client_depth_arm": statistics.median(arm)}


def snapshot_bin(args, work):
    """Copies the program into work/bin and points args at the copy: a
    rebuild of the bin directory during the run must not change (or, half
    written, break) what is measured."""
    bin_dir = os.path.join(work, "bin")
    os.makedirs(bin_dir)
    plugin = os.path.join(bin_dir, "kubectl-azlinux")
    shutil.copy2(args.plugin, plugin)
    completer = os.path.join(bin_dir, "kubectl_complete-azlinux")
    os.link(plugin, completer)
    args.plugin, args.completer = plugin, completer


def run_scenario(name, make, cases_of, args, pki, work):
    scenario = make()
    sdir = os.path.join(work, name)
    with Sim(scenario, sdir, latency_ms=args.latency_ms, pki=pki, cache_lists=True) as sim, \
            H2Front(sim, pki, sdir) as front:
        base = dict(helpers.make_env(sim, os.path.join(sdir, "home")), **front.env())
        cases = cases_of(args.plugin, args.completer, scenario)
        envs = [case_env(case, front, base, sdir) for case in cases]
        for case, env in zip(cases, envs):
            progress("%s: warming up %s" % (name, case.key))
            warm_up(args.spawn, case, sim, env, sdir)
        # Round after round of every command, so that a change in the
        # machine's load weighs on all of them alike, and the ratios the
        # targets judge compare runs made side by side.
        samples = [[] for _ in cases]
        for r in range(args.runs):
            progress("%s: round %d of %d" % (name, r + 1, args.runs))
            for case, env, got in zip(cases, envs, samples):
                for _ in range(case.repeats):
                    got.append(sample(args.spawn, case, sim, front, env, sdir))
        results = {}
        for case, env, got in zip(cases, envs, samples):
            m = {k: statistics.median(s[k] for s in got) for k in got[0]}
            m["walls"] = [s["wall"] for s in got]      # in run order, for paired ratios
            if case.trace:
                azure_url = front.direct_url if case.direct else front.url
                with latency_of(case, sim):
                    m.update(client_depths(args.spawn, case, front, env, azure_url, args.runs,
                                           sdir))
            results[case.key] = m
            progress("%s: %s: %s" % (name, case.key, brief(m)))
        return results


def progress(text):
    print("bench: " + text, file=sys.stderr, flush=True)


def brief(m):
    text = ("wall %.3fs  cpu %.3fs  servers' cpu %.3fs  rss %.1f MB  requests %g  "
            "depth %g (%g)" % (m["wall"], m["cpu"], m["server_cpu"], m["rss"] / MB,
                               m["requests"], m["depth"], m["depth_after_token"]))
    if m["arm_connections"]:
        text += "  ARM connections (HTTP/2) %g" % m["arm_connections"]
    if "client_depth" in m:
        text += "  client's round trips after the token %g (ARM alone %g)" % (
            m["client_depth"], m["client_depth_arm"])
    return text


# --- targets (issue 6) --------------------------------------------------------


def targets(res):
    """[(description, measured, limit, met)] for the scenarios that ran."""
    out = []
    small, large, fleet = res.get("small"), res.get("large"), res.get("fleet")
    if small:
        kv = small["kubectl version --client"]["wall"]
        for key in ("version", "--help", "completion (warm cache)"):
            w = small[key]["wall"]
            out.append(("start-up: `%s` wall <= 1/5 of `kubectl version --client`" % key,
                        "%.1f ms" % (w * 1000), "%.1f ms" % (kv * 200), w <= kv / 5))
    if large:
        p = large["pools"]
        out.append(("large `pools` (warm cache): round trips after the token <= 3",
                    "%g" % p["depth_after_token"], "3", p["depth_after_token"] <= 3))
        out.append(("large `pools` (warm cache): round trips after the token <= 3, "
                    "as the client saw them (-v=6 traces)",
                    "%g" % p["client_depth"], "3", p["client_depth"] <= 3))
        out.append(("large `pools`: peak RSS < 64 MB", "%.1f MB" % (p["rss"] / MB), "64 MB",
                    p["rss"] < 64 * MB))
        out.append(("large `pools`: CPU < 0.5 s", "%.3f s" % p["cpu"], "0.5 s",
                    p["cpu"] < 0.5))
        k, n = large["kubectl get nodes -o json"], large["nodes -o json"]
        out.append(("large `nodes -o json`: CPU <= 1/2 of kubectl's", "%.3f s" % n["cpu"],
                    "%.3f s" % (k["cpu"] / 2), n["cpu"] <= k["cpu"] / 2))
        out.append(("large `nodes -o json`: peak RSS <= 1/2 of kubectl's",
                    "%.1f MB" % (n["rss"] / MB), "%.1f MB" % (k["rss"] / MB / 2),
                    n["rss"] <= k["rss"] / 2))
    if fleet:
        one, all_ = fleet["pools (one context)"], fleet["pools --all-contexts"]
        out.append(("fleet: 25 contexts < 2x the wall time of one",
                    "%.3f s (%s)" % (all_["wall"], paired_ratios(one["walls"], all_["walls"])),
                    "%.3f s" % (2 * one["wall"]), all_["wall"] < 2 * one["wall"]))
    return out


def paired_ratios(ones, alls):
    """The ratio of the medians, and the range of the ratios of runs made
    side by side (the i-th of each, in the same round): how far the verdict
    is from the machine's noise."""
    ratios = [a / o for o, a in zip(ones, alls)]
    return "%.2fx; side by side %.2f-%.2fx, median %.2fx" % (
        statistics.median(alls) / statistics.median(ones), min(ratios), max(ratios),
        statistics.median(ratios))


# --- the report -----------------------------------------------------------------


def cpu_model():
    names, count = [], 0
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                names.append(line.split(":", 1)[1].strip())
                count += 1
    return "%s x %d" % (names[0] if names else "unknown CPU", count)


def mem_total():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                return "%.1f GiB" % (int(line.split()[1]) / 1024.0 / 1024.0)
    return "unknown"


def first_line(argv):
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    except OSError as e:
        return "(%s)" % e
    return (r.stdout.strip().splitlines() or ["(no output)"])[0]


def machine(args):
    u = os.uname()
    return [
        "- Load average (1 min) at the start and the end: %.2f, %.2f" % (args.load_before,
                                                                          os.getloadavg()[0]),
        "- CPU: %s (/proc/cpuinfo)" % cpu_model(),
        "- Memory: %s" % mem_total(),
        "- Kernel: %s %s %s" % (u.sysname, u.release, u.machine),
        "- OS: %s" % platform.freedesktop_os_release().get("PRETTY_NAME", "unknown"),
        "- kubectl: %s" % first_line([KUBECTL, "version", "--client"]),
        "- kubectl-azlinux: %s" % args.version,
        "- Python (simulator): %s" % platform.python_version(),
    ]


def table(res, args):
    lines = ["| scenario | command | wall (median) | user+sys CPU | simulator and front CPU "
             "| peak RSS | HTTP requests | ARM connections (HTTP/2) "
             "| critical path (after token) | client's round trips after token (ARM alone) |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, _, _, _ in SCENARIOS:
        for key, m in res.get(name, {}).items():
            lines.append("| %s | `%s` | %.3f s | %.3f s | %.3f s | %.1f MB | %g | %s | %g (%g) "
                         "| %s |"
                         % (name, key, m["wall"], m["cpu"], m["server_cpu"], m["rss"] / MB,
                            m["requests"], "%g" % m["arm_connections"]
                            if m["arm_connections"] else "-",
                            m["depth"], m["depth_after_token"],
                            "%g (%g)" % (m["client_depth"], m["client_depth_arm"])
                            if "client_depth" in m else "-"))
    return lines


def report(res, tgt, args, elapsed):
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    out = [BEGIN, "",
           "Measured %s, %d runs per command (%d for start-up, %d for the two the fleet's "
           "target compares; medians), %d ms injected per request; `make bench` took %.0f s."
           % (when, args.runs, args.runs * STARTUP_RUNS, args.runs * FLEET_TARGET_RUNS,
              args.latency_ms, elapsed), "",
           "Scenarios: " + "; ".join("**%s** %s" % (n, d) for n, d, _, _ in SCENARIOS
                                     if n in res) + ".", ""]
    out += table(res, args)
    out += ["", "Targets (issue 6):", "",
            "| target | measured | limit | result |", "|---|---:|---:|---|"]
    out += ["| %s | %s | %s | %s |" % (d, m, lim, "met" if ok else "**MISSED**")
            for d, m, lim, ok in tgt]
    out += ["", "Machine:", ""] + machine(args)
    out += ["", "Reproduce (after `make deps`):", "", "```",
            "make bench" + ("" if args.latency_ms == 25 and args.runs == 5 else
                            "   # here: /usr/bin/python3 tests/bench/bench.py --bin bin "
                            "--latency-ms %d --runs %d" % (args.latency_ms, args.runs)),
            "```", "", END]
    return "\n".join(out)


def write_report(path, text, begin=BEGIN, end=END):
    """Replace the marked section of path (or append it), keeping the notes."""
    try:
        with open(path) as f:
            old = f.read()
    except FileNotFoundError:
        old = "# Benchmarks\n\n"
    if begin in old and end in old:
        head, rest = old.split(begin, 1)
        new = head + text + rest.split(end, 1)[1]
    else:
        new = old.rstrip("\n") + "\n\n" + text + "\n"
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(new)
    os.replace(tmp, path)


# --- main -----------------------------------------------------------------------


def parse_args(argv):
    parser = argparse.ArgumentParser(description="Benchmark kubectl-azlinux against the "
                                     "simulator, side by side with kubectl.")
    parser.add_argument("--bin", required=True, help="directory holding kubectl-azlinux")
    parser.add_argument("--latency-ms", type=int, default=25,
                        help="delay the simulator adds to every request (default 25)")
    parser.add_argument("--runs", type=int, default=5, help="measured runs per command")
    parser.add_argument("--only", default="", help="comma-separated scenarios to run")
    parser.add_argument("--output", default=os.path.join(ROOT, "BENCHMARKS.md"),
                        help="markdown file to update ('-' for stdout only)")
    args = parser.parse_args(argv)
    bin_dir = os.path.abspath(args.bin)
    args.plugin = os.path.join(bin_dir, "kubectl-azlinux")
    args.completer = os.path.join(bin_dir, "kubectl_complete-azlinux")
    known = [n for n, _, _, _ in SCENARIOS] + ["drain"]
    args.only = [s for s in args.only.split(",") if s] or known
    for s in args.only:
        if s not in known:
            parser.error("unknown scenario %r; choose from %s" % (s, ", ".join(known)))
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    for exe in (args.plugin, args.completer, KUBECTL):
        if not os.access(exe, os.X_OK):
            parser.error("%s does not exist or is not executable; build with `make`" % exe)
    return args


def main(argv=None):
    args = parse_args(argv)
    started = time.monotonic()
    args.load_before = os.getloadavg()[0]
    res, drain_missed = {}, []
    with tempfile.TemporaryDirectory(prefix="azlinux-bench-") as work:
        snapshot_bin(args, work)
        args.version = first_line([args.plugin, "version"])
        # helpers.make_env puts the plugin's directory first on PATH.
        os.environ["AZLINUX_BIN"] = args.plugin
        args.spawn = build_spawn(work)
        pki = PKI(os.path.join(work, "pki"))
        try:
            for name, _, make, cases_of in SCENARIOS:
                if name in args.only:
                    res[name] = run_scenario(name, make, cases_of, args, pki, work)
            if "drain" in args.only:
                drained = drainbench.run(args, pki, work, run_once, helpers, progress)
        except (BenchError, FrontError, RuntimeError) as e:
            print("bench: error: %s" % e, file=sys.stderr)
            return 2
    if "drain" in args.only:
        when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        text = drainbench.report(drained, args, when)
        print(text)
        if args.output != "-":
            write_report(args.output, text, drainbench.BEGIN, drainbench.END)
        drain_missed = [t for t in drainbench.targets(drained) if not t[3]]
        for d, m, lim, _ in drain_missed:
            print("bench: target missed: %s (measured %s, limit %s)" % (d, m, lim),
                  file=sys.stderr)
        if not res:
            return 1 if drain_missed else 0
    tgt = targets(res)
    text = report(res, tgt, args, time.monotonic() - started)
    print(text)
    if args.output != "-":
        write_report(args.output, text)
        progress("results written to %s" % args.output)
    missed = [d for d, m, lim, ok in tgt if not ok]
    for d, m, lim, ok in tgt:
        if not ok:
            print("bench: target missed: %s (measured %s, limit %s)" % (d, m, lim),
                  file=sys.stderr)
    return 1 if missed or drain_missed else 0


if __name__ == "__main__":
    sys.exit(main())
