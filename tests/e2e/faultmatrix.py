"""The fault matrix's table and its runner, shared by test_fault_matrix.py
(every step of every mutating command x every fault that can hit it) and
the soak (tests/e2e/test_soak.py: seeded random picks from the same table).

COMMANDS: per mutating command, its scenario, its argv, its steps and what
"done" means on the cluster model. Each step names the request classes it
sends (ARM read, ARM write, Kubernetes, the node watch) with a matcher, and
the AKS operation it starts (a roller checkpoint). FAULTS: per fault, the
class of request it hits and how it is armed on the simulator. A case is
(command, step, fault) for every fault whose class the step has: a new step
or a new fault gets its cases from the table alone.

run_case() runs the command at -v=9 with the fault armed; it must end
done, or stopped with a one-line message and a journal that `resume`
(for drain, which keeps no journal: the same command again) completes
once the fault is cleared; a stop on a stale copy (412) must say so in
the journal and name `kubectl azlinux resume ID` (stale_stop_problems). Throughout: the simulator's safety counters
stay zero, no ARM write got a 412 the test did not cause (no request sent
on a stale eTag), no secret is in any output or file written, and the
tool's files are 0600 in 0700 directories."""

import base64
import json
import os
import re
import stat
import subprocess

import helpers
from sim import scenario as scenarios

SCALE = 6000            # simulated seconds per wall second
SUB = scenarios.DEMO_SUBSCRIPTION
RG = "fm-rg"
NAME = "fm-aks"
NEW_AZL3 = "AKSAzureLinux-V3gen2-202608.14.0"
REQUEST_TIMEOUT = "2s"  # --request-timeout: the "response that never comes" waits this long
NEVER_MS = 4000         # ... and the answer would come after this (wall ms)


# --- scenarios -------------------------------------------------------------

def _cluster(pools, k8s="1.32.6"):
    c = scenarios.Cluster(NAME, RG, SUB, location="eastus", k8s_version=k8s, pools=pools)
    return scenarios.Scenario([c], name="fm", time_scale=SCALE)


def ubuntu_pool(count):
    return scenarios.Pool("work", os_sku="Ubuntu", node_image_version=scenarios.UBUNTU2204_IMAGE,
                          count=count, k8s_version="1.32.6")


def migrate_scenario(count=1):
    return _cluster([scenarios.Pool("system", mode="System", count=2, k8s_version="1.32.6"),
                     ubuntu_pool(count)])


def azl_scenario(count=1):
    return _cluster([scenarios.Pool("system", mode="System", count=1, k8s_version="1.32.6"),
                     scenarios.Pool("work", count=count, k8s_version="1.32.6")])


# --- the cluster model: what "done" is ---------------------------------------

def cluster_of(sim):
    return sim.cluster(NAME)


def pools(sim):
    return {p.name: p for p in cluster_of(sim).pools}


def nodes_of(sim, pool):
    return cluster_of(sim).k8s.pool_nodes(pool)


def _os(node):
    return node["status"]["nodeInfo"]["osImage"]


def _ready(node):
    return any(c["type"] == "Ready" and c["status"] == "True"
               for c in node["status"].get("conditions", ()))


def done_in_place(sim):
    p = pools(sim).get("work")
    nodes = nodes_of(sim, "work")
    return (p is not None and p.os_sku == "AzureLinux" and nodes
            and all("Azure Linux 3.0" in _os(n) and _ready(n) for n in nodes))


def done_side_by_side(sim):
    ps = pools(sim)
    new = [p for name, p in ps.items() if name.startswith("work") and name != "work"]
    return ("work" not in ps and len(new) == 1 and new[0].os_sku == "AzureLinux"
            and all("Azure Linux 3.0" in _os(n) and _ready(n) for n in nodes_of(sim, new[0].name))
            and not nodes_of(sim, "work"))


def done_node_image(sim):
    nodes = nodes_of(sim, "work")
    return (pools(sim)["work"].node_image_version == NEW_AZL3 and nodes and all(
        n["metadata"]["labels"].get("kubernetes.azure.com/node-image-version") == NEW_AZL3
        and _ready(n) for n in nodes))


def done_kubernetes(sim):
    if not sim.arm.current_version(cluster_of(sim)).startswith("1.33."):
        return False
    return all(p.k8s_version.startswith("1.33.") and all(
        n["status"]["nodeInfo"]["kubeletVersion"].startswith("v1.33.") and _ready(n)
        for n in nodes_of(sim, p.name)) for p in cluster_of(sim).pools)


def done_add_pool(sim):
    p = pools(sim).get("azl")
    nodes = nodes_of(sim, "azl")
    return (p is not None and p.os_sku == "AzureLinux" and len(nodes) == p.count
            and all(_ready(n) for n in nodes))


def done_drain(sim):
    state = cluster_of(sim).k8s
    for node in nodes_of(sim, "work"):
        if not node["spec"].get("unschedulable"):
            return False
        for pod in state.pods(node=node["metadata"]["name"]):
            owners = pod["metadata"].get("ownerReferences") or ()
            if not any(o.get("kind") == "DaemonSet" for o in owners):
                return False
    return True


def _setup_node_image(sim):
    sim.arm.latest_images["AKSAzureLinux-V3gen2"] = NEW_AZL3


# --- request classes ---------------------------------------------------------

def _azure(req):
    return req.server == "azure"


def arm_get(suffix):
    return lambda req: _azure(req) and req.method == "GET" and req.path.endswith(suffix)


def arm_write(method, suffix):
    return lambda req: _azure(req) and req.method == method and req.path.endswith(suffix)


def op_poll(req):
    """AKS's operation status (Azure-AsyncOperation) or result (Location)."""
    return _azure(req) and req.method == "GET" and (
        "/operations/" in req.path or "/operationresults/" in req.path)


def kube(method, part):
    return lambda req: (req.server != "azure" and req.method == method and part in req.path
                        and req.q("watch") not in ("1", "true"))


def node_watch(req):
    """Any request to the API server while the node watch runs: the fault
    resets the watch's connection and refuses the next requests (its
    reconnects and the step's own reads)."""
    return req.server != "azure"


def arm_any_get(req):
    return _azure(req) and req.method == "GET"


def either(*matchers):
    return lambda req: any(m(req) for m in matchers)


POOL_WORK = "/agentPools/work"
MC = "/managedClusters/" + NAME


def step(name, **classes):
    """A step: its name (as the journal and progress say it) and its request
    classes: read, write, kube, watch (matchers), aks (a roller checkpoint
    pattern, with the pool of its operation); waits=True for a step that
    waits on the cluster without a poll or the node watch (interruption
    mid-wait, test_interrupt.py). The name is a prefix of the
    journal's step names ("pool work" for "pool work 1.33.3")."""
    return dict(name=name, **classes)


# Every mutating command, its steps, and what each sends.
COMMANDS = {
    "migrate-in-place": dict(
        scenario=migrate_scenario, argv=["migrate", "work", "--strategy", "in-place", "--yes"],
        done=done_in_place, steps=[
            step("update-pool", read=arm_get(POOL_WORK), write=arm_write("PUT", POOL_WORK),
                 poll=op_poll, watch=node_watch, aks=("reimage", "work")),
            step("verify", read=arm_any_get, kube=kube("GET", "/api/v1/nodes")),
        ]),
    "migrate-side-by-side": dict(
        scenario=migrate_scenario,
        argv=["migrate", "work", "--strategy", "side-by-side", "--yes"],
        done=done_side_by_side, steps=[
            step("create-pool", write=arm_write("PUT", "/agentPools/workazl"), poll=op_poll,
                 creates=True,
                 watch=node_watch, aks=("create-node", "workazl")),
            # reads the runner's node watch, which the step before opened:
            # it sends nothing of its own (its faults land on create-pool's)
            step("wait-ready"),
            step("stop-autoscaler", read=arm_get(POOL_WORK)),
            step("cordon", kube=kube("PATCH", "/api/v1/nodes/aks-work-")),
            step("drain", kube=kube("POST", "/eviction"), waits=True),
            step("delete-pool", write=arm_write("DELETE", POOL_WORK), poll=op_poll,
                 aks=("remove", "work")),
            step("verify", read=arm_any_get),
        ]),
    "upgrade-node-image": dict(
        scenario=azl_scenario, setup=_setup_node_image,
        argv=["upgrade", "work", "--node-image", "--yes"],
        done=done_node_image, steps=[
            step("node-image", read=arm_get(POOL_WORK),
                 write=arm_write("POST", POOL_WORK + "/upgradeNodeImageVersion"), poll=op_poll,
                 watch=node_watch, aks=("reimage", "work")),
            step("verify", read=arm_any_get),
        ]),
    "upgrade-kubernetes": dict(
        scenario=azl_scenario,
        argv=["upgrade", "--all", "--kubernetes-version", "1.33", "--max-surge", "1", "--yes"],
        done=done_kubernetes, steps=[
            step("control-plane", read=arm_get(MC), write=arm_write("PUT", MC), poll=op_poll,
                 aks=("control-plane", None)),
            step("pool-version", read=either(arm_get("/agentPools/system"), arm_get(POOL_WORK)),
                 write=either(arm_write("PUT", "/agentPools/system"), arm_write("PUT", POOL_WORK)),
                 poll=op_poll, watch=node_watch, aks=("surge", None)),
            step("verify", read=arm_any_get),
        ]),
    "add-pool": dict(
        scenario=azl_scenario, argv=["add-pool", "azl", "--like", "work", "--yes"],
        done=done_add_pool, steps=[
            step("create-pool", write=arm_write("PUT", "/agentPools/azl"), poll=op_poll,
                 creates=True,
                 watch=node_watch, aks=("create-node", "azl")),
            # reads the runner's node watch, which the step before opened:
            # it sends nothing of its own (its faults land on create-pool's)
            step("wait-ready"),
        ]),
    "drain": dict(
        scenario=lambda: azl_scenario(count=2),
        argv=["drain", "--pool", "work", "--ignore-daemonsets", "--delete-emptydir-data",
              "--timeout", "60s"],
        done=done_drain, journal=False, steps=[
            step("cordon", kube=kube("PATCH", "/api/v1/nodes/")),
            step("evict", kube=kube("POST", "/eviction")),
        ]),
}


# --- faults ------------------------------------------------------------------

def _bump_etag(sim, pool_name):
    """Someone else changes the resource: its eTag moves."""
    c = cluster_of(sim)
    with sim.arm.lock:
        for p in c.pools:
            if pool_name is None or p.name == pool_name:
                p.extra["writes"] = p.extra.get("writes", 0) + 1


def _race(sim, st, m):
    """412 from someone else's change: an existing resource's eTag moves
    just before the write is handled (the simulator's own 412 answers it);
    a pool being created is created by someone else first (If-None-Match: *
    answered 412, injected). The injected 412 leaves no pool behind, so the
    create's look afterwards finds none and the stop stays a stale one that
    resume plans again; a real pool of someone else's is refused for good
    (test_migrate.py: a pool someone else created is never adopted)."""
    if st.get("creates"):
        return sim.faults.add(match=m, times=1, status=412, body={"error": {
            "code": "PreconditionFailed", "message": "Operation failed because the resource "
            "already exists (If-None-Match: *)."}})
    return sim.faults.add(match=m, times=1,
                          then=lambda req: _bump_etag(sim, _write_pool(st, req)))


def _cancel_soon(sim, pool_name, tries=200):
    """Someone else aborts the operation on the pool (or the cluster) as soon
    as it runs."""
    c = cluster_of(sim)

    def attempt(left=tries):
        ops = sim.roller.running(c, pool_name)
        if ops:
            sim.roller.cancel(c, ops)
        elif left:
            sim.clock.call_later(1, lambda: attempt(left - 1), name="fm:cancel")
    sim.clock.call_later(1, attempt, name="fm:cancel")


def _unreachable(sim, st, m):
    """The API server goes away during the step: the next API server
    requests are dropped, and the open node watch is reset at the step's
    first request of any kind (a step may send no Kubernetes request while
    it waits on AKS, the watch open all along)."""
    gate = getattr(m, "gate", lambda req: True)
    cut = sim.faults.add(match=lambda req: m(req) or (req.server == "azure" and gate(req)),
                         times=1, then=lambda req: cluster_of(sim).k8s.cut_watches())
    sim.faults.add(match=m, drop=True, times=4)     # after the cut, taken in order
    return cut


def _write_pool(st, req):
    """The pool a write path names (None: the managed cluster)."""
    marker = "/agentPools/"
    if marker not in req.path:
        return None
    return req.path.split(marker, 1)[1].split("/", 1)[0]


# name -> (request class, arm(sim, step, matcher) -> None); classes as in step()
def _add(**kw):
    return lambda sim, st, m: sim.faults.add(match=m, **kw)


FAULTS = {
    "429-arm-read": ("read", _add(status=429, retry_after=1, times=2)),
    "429-arm-write": ("write", _add(status=429, retry_after=1, times=1)),
    "429-kube": ("kube", _add(status=429, retry_after=1, times=2)),
    "500-arm-write": ("write", _add(status=500, times=1)),
    "502-arm-write": ("write", _add(status=502, times=1)),
    "503-arm-write": ("write", _add(status=503, times=1)),
    "500-arm-poll": ("poll", _add(status=500, times=1)),
    "503-arm-read": ("read", _add(status=503, times=1)),
    "500-kube": ("kube", _add(status=500, times=1)),
    "503-kube": ("kube", _add(status=503, times=1)),
    "reset-before-arm-write": ("write", _add(drop=True, times=1)),
    "reset-after-arm-write": ("write", _add(drop=True, after=True, times=1)),
    "reset-before-kube": ("kube", _add(drop=True, times=1)),
    "reset-after-kube": ("kube", _add(drop=True, after=True, times=1)),
    "never-answers-kube": ("kube", _add(latency_ms=NEVER_MS, times=1)),
    # ARM holds the request open and never answers (the client's
    # --request-timeout ends it): a read; a write ARM applied first (its
    # answer never sent, as a reset after it was sent, found by a timeout);
    # an operation's status poll
    "never-answers-arm-read": ("read", _add(hold=True, times=1)),
    "never-answers-arm-write": ("write", _add(hold=True, after=True, times=1)),
    "never-answers-arm-poll": ("poll", _add(hold=True, times=1)),
    "409-other-operation": ("write", _add(status=409, times=2, body={"error": {
        "code": "OperationNotAllowed", "message": "Operation is not allowed because there's an "
        "in progress upgrade node image version operation started by someone else."}})),
    "412-other-change": ("write", _race),
    "token-expires": ("write", lambda sim, st, m: sim.faults.add(
        match=m, times=1, then=lambda req: sim.expire_azure_tokens())),
    "apiserver-unreachable": ("watch", lambda sim, st, m: _unreachable(sim, st, m)),
    "aks-fails": ("aks", lambda sim, st, m: sim.clock.fail(
        st["aks"][0], times=1, message="simulated failure: %s of %s" % st["aks"],
        when=lambda op=None, **_: op is None or st["aks"][1] is None
        or op.pool_name == st["aks"][1])),
    "aks-cancels": ("write", lambda sim, st, m: sim.faults.add(
        match=m, times=1, then=lambda req: _cancel_soon(sim, st["aks"][1]))),
}
# what the first run's -v=9 log must say when the fault hit: the client
# gave up on the request at --request-timeout, however it went on
LOGGED = {f: "no answer from ARM within %s (the request timeout" % REQUEST_TIMEOUT
          for f in FAULTS if f.startswith("never-answers-arm")}
# faults after which a stop must be resumable in so many words: the journal
# Failed at the step, the reason on it and in the record ("staleStep"), and
# the one line naming `kubectl azlinux resume ID` (a 412: nothing was sent
# on the stale copy; resume reads afresh and plans the step again)
STALE = ("412-other-change",)
# faults that need the step to start an AKS operation
NEEDS_AKS = ("aks-cancels",)


def cases():
    """Every (command, step, fault) the table makes: a fault per step that
    sends its class of request."""
    out = []
    for cmd, spec in COMMANDS.items():
        for st in spec["steps"]:
            for fault, (cls, _) in FAULTS.items():
                if st.get(cls) is None or (fault in NEEDS_AKS and st.get("aks") is None):
                    continue
                out.append((cmd, st["name"], fault))
    return out


def covering_cases(all_cases=None):
    """A subset of cases() in which every step of every command meets a
    fault and every fault hits some step, the faults rotated over the steps
    so that they land on different ones, and every STALE row: what `make
    check` runs. The whole
    matrix runs with FAULT_MATRIX=full (`make soak` sets it)."""
    all_cases = cases() if all_cases is None else all_cases
    by_step = {}
    for case in all_cases:
        by_step.setdefault(case[:2], []).append(case)
    order = list(FAULTS)
    chosen, faults_hit = [], set()
    for i, (step, options) in enumerate(by_step.items()):
        ranked = sorted(options, key=lambda c: ((order.index(c[2]) - i) % len(order)))
        pick = next((c for c in ranked if c[2] not in faults_hit), ranked[0])
        chosen.append(pick)
        faults_hit.add(pick[2])
    for case in all_cases:
        if case[2] not in faults_hit:
            chosen.append(case)
            faults_hit.add(case[2])
    # every row of a stale copy: where one stops, it must say how to resume
    chosen += [c for c in all_cases if c[2] in STALE and c not in chosen]
    return chosen


def running_step(home):
    """The step the newest journal shows running, or None."""
    try:
        doc = journal_json(home)
    except (OSError, ValueError):
        return None
    for s in (doc or {}).get("steps", ()):
        if s.get("state") == "running":
            return s.get("name")
    return None


def arm_fault(sim, cmd, step_name, fault, home):
    """Arms the fault on the step's requests: for a journaled command, only
    while its journal shows that step running (so a read like the ones
    before it is hit at that step, not earlier)."""
    st = next(s for s in COMMANDS[cmd]["steps"] if s["name"] == step_name)
    cls, arm = FAULTS[fault]
    m = st.get(cls) if cls != "aks" else None
    if m is not None and COMMANDS[cmd].get("journal", True):
        inner = m

        def gate(req):
            running = running_step(home)
            return running is not None and running.startswith(step_name)

        def m(req):
            return inner(req) and gate(req)
        m.gate = gate                   # any request while the step runs
    return arm(sim, st, m)


def clear_faults(sim):
    sim.faults.clear()
    sim.clock.clear_failures()


# --- running and checking ------------------------------------------------------

def run_tool(bin_path, env, argv, timeout=int(os.environ.get("FM_TIMEOUT", "180"))):
    return subprocess.run([bin_path, *argv, "-v=9", "--request-timeout", REQUEST_TIMEOUT],
                          env=env, capture_output=True, text=True, timeout=timeout)


def diagnostics(stderr):
    """stderr without -v traces (I0000/W0000-style klog lines) and progress."""
    return [l for l in helpers.diagnostics(stderr).splitlines()
            if l.strip() and not (len(l) > 5 and l[0] in "IWEF" and l[1:5].isdigit())]


def secrets_of(sim):
    """Every secret the simulator handed out: the service principal's secret,
    every access token issued (and its signature part alone)."""
    out = {sim.entra.default_secret}
    with sim._tokens_lock:
        tokens = list(sim.azure_tokens)
    for t in tokens:
        out.add(t)
        out.add(t.rsplit(".", 1)[-1])
    # the kubeconfig's credentials: client keys (as given, and a line of
    # the PEM they hold) and bearer tokens
    with open(sim.kubeconfig) as fh:
        kubeconfig = fh.read()
    for m in re.finditer(r"(client-key-data|token):\s*(\S+)", kubeconfig):
        value = m.group(2).strip("'\"")
        out.add(value)
        if m.group(1) == "client-key-data":
            pem = base64.b64decode(value).decode("ascii", "replace").splitlines()
            out.update(l for l in pem[1:-1] if len(l) >= 40)
    return {s for s in out if s and len(s) >= 8}


def tool_files(home):
    """Files the tool wrote under HOME (its XDG dirs are under it)."""
    out = []
    for root, _, files in os.walk(home):
        for f in files:
            out.append(os.path.join(root, f))
    return out


def journals(home):
    d = os.path.join(home, ".local", "state", "kubectl-azlinux", "operations")
    if not os.path.isdir(d):
        return []
    return [os.path.join(d, f) for f in sorted(os.listdir(d)) if f.endswith(".json")]


def check_files_and_secrets(sim, home, outputs):
    problems = []
    secrets = secrets_of(sim)
    for name, text in outputs:
        for s in secrets:
            if s in text:
                problems.append("a secret (%s...) in %s" % (s[:4], name))
    for path in tool_files(home):
        with open(path, "rb") as fh:
            data = fh.read().decode("utf-8", "replace")
        for s in secrets:
            if s in data:
                problems.append("a secret (%s...) in %s" % (s[:4], path))
        mode = stat.S_IMODE(os.stat(path).st_mode)
        if mode & 0o077:
            problems.append("%s has mode %o" % (path, mode))
        dmode = stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode)
        if dmode & 0o077:
            problems.append("%s has mode %o" % (os.path.dirname(path), dmode))
    for path in journals(home):
        with open(path) as fh:
            text = fh.read().lower()
        for word in ("bearer ", "client_secret", "refresh_token", "access_token",
                     "client_assertion", "eyj"):
            if word in text:
                problems.append("%s holds %r" % (path, word))
    return problems


def unsolicited_412s(sim, races):
    """ARM writes answered 412 by the simulator itself, beyond the races the
    test made (someone else's change between the client's GET and PUT)."""
    n = sum(1 for r in sim.find(server="azure") if r["status"] == 412 and not r["fault"])
    return max(0, n - races)


def safety(sim):
    return cluster_of(sim).k8s.safety.counts()


class Outcome:
    def __init__(self):
        self.kind = None            # "done" | "resumed" | "lost"
        self.problems = []
        self.first = None
        self.resumes = []
        self.message = ""
        self.hits = 0

    def __repr__(self):
        return "<%s %s>" % (self.kind, "; ".join(self.problems))


def run_case(make_sim, bin_path, home, cmd, step_name, fault, max_resumes=2, scenario=None,
             more=()):
    """Runs one case; returns an Outcome whose problems list is empty when
    the case passes. scenario: another than the command's; more: further
    (step, fault) pairs armed with it (the soak's)."""
    spec = COMMANDS[cmd]
    sim = make_sim(scenario or spec["scenario"]())
    if spec.get("setup"):
        spec["setup"](sim)
    env = helpers.make_env(sim, home)
    env["XDG_STATE_HOME"] = os.path.join(home, ".local", "state")     # the journal, under HOME
    out = Outcome()
    outputs = []
    # 412s the case itself causes: someone else's change between GET and
    # PUT; a write sent again (with its If-Match, as designed) after its
    # answer was lost, whose first copy moved the eTag
    races = sum(1 for f in [fault] + [f for _, f in more]
                if f in ("412-other-change", "reset-after-arm-write", "never-answers-arm-write"))
    armed = arm_fault(sim, cmd, step_name, fault, home) if fault is not None else None
    extra = [arm_fault(sim, cmd, s, f, home) for s, f in more]
    r = run_tool(bin_path, env, spec["argv"])
    out.hits = armed.hits if armed is not None else 0
    out.extra_hits = [a.hits for a in extra]
    if armed is not None and not out.hits:
        out.problems.append("the fault was never injected: no request of its class at "
                            "step %s" % step_name)
    out.first = r
    outputs += [("stdout", r.stdout), ("stderr", r.stderr)]
    if out.hits and fault in LOGGED and LOGGED[fault] not in r.stderr:
        out.problems.append("the log never says %r" % LOGGED[fault])
    if r.returncode == 0:
        out.kind = "done"
    else:
        lines = diagnostics(r.stderr)
        errors = [l for l in lines if l.startswith("error: ")]
        out.message = errors[0] if errors else lines[-1] if lines else ""
        if not lines:
            out.problems.append("stopped (exit %d) without a message" % r.returncode)
        elif "Traceback" in r.stderr or "\n" in out.message:
            out.problems.append("unclear message: %r" % out.message)
        clear_faults(sim)
        if spec.get("journal", True) and not journals(home):
            out.problems.append("stopped (exit %d: %s) without a journal"
                                % (r.returncode, out.message))
        elif spec.get("journal", True) and fault in STALE and \
                stopped_at(journal_json(home), step_name):
            out.problems += stale_stop_problems(journal_json(home), out.message)
        again = ["resume"] if spec.get("journal", True) else spec["argv"]
        for _ in range(max_resumes):
            rr = run_tool(bin_path, env, again)
            out.resumes.append(rr)
            outputs += [("resume stdout", rr.stdout), ("resume stderr", rr.stderr)]
            if rr.returncode == 0:
                break
        if out.kind is None and out.resumes and out.resumes[-1].returncode == 0:
            out.kind = "resumed"
        else:
            out.kind = "lost"
            last = out.resumes[-1] if out.resumes else r
            tail = diagnostics(last.stderr)
            out.problems.append("not resumed: first stop %r; resume exit %d: %r"
                                % (out.message, last.returncode, tail[-1] if tail else ""))
    if out.kind in ("done", "resumed") and not spec["done"](sim):
        out.problems.append("%s (exit 0) but the cluster is not in the target state" % out.kind)
    counts = safety(sim)
    if any(counts.values()):
        out.problems.append("safety counters %s" % counts)
    stale = unsolicited_412s(sim, races)
    if stale:
        out.problems.append("%d ARM write(s) sent on a stale eTag" % stale)
    out.problems += check_files_and_secrets(sim, home, outputs)
    out.sim = sim
    return out


def stopped_at(doc, step_name):
    """Whether the run stopped at step_name, or at no step (the soak's other
    faults may have stopped it elsewhere first: then it is not the stale
    copy's stop)."""
    failed = [s["name"] for s in doc.get("steps", ()) if s.get("state") == "failed"]
    return not failed or any(n.startswith(step_name) for n in failed)


def stale_stop_problems(doc, message):
    """What a stop on a stale copy must leave: the journal Failed at the
    step that refused, its reason there, the record naming that step for
    resume to plan again, and the line naming `kubectl azlinux resume ID`."""
    problems = []
    failed = [s for s in doc.get("steps", ()) if s.get("state") == "failed"]
    if doc.get("state") != "Failed" or len(failed) != 1 or not failed[0].get("error"):
        problems.append("a stale stop left the journal %s, steps %s"
                        % (doc.get("state"), [(s["name"], s["state"]) for s in doc["steps"]]))
    elif doc.get("data", {}).get("staleStep") != failed[0]["name"]:
        problems.append("the record does not name step %s as stopped on a stale copy"
                        % failed[0]["name"])
    if "kubectl azlinux resume %s" % doc.get("id") not in message:
        problems.append("the stop does not name kubectl azlinux resume %s: %r"
                        % (doc.get("id"), message))
    return problems


def dump(out):
    """What a failing case's assertion shows."""
    parts = [repr(out)]
    for r in [out.first] + out.resumes:
        if r is not None:
            parts.append("exit %d\n%s" % (r.returncode, "\n".join(diagnostics(r.stderr))[-1500:]))
    return "\n---\n".join(parts)


def journal_json(home):
    j = journals(home)
    if not j:
        return None
    with open(j[-1]) as fh:
        return json.load(fh)
