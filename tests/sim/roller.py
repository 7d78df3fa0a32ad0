"""The roller: what AKS does to nodes while an operation runs, step by step,
on the simulator's clock (clock.py).

One engine (`sim.roller`, a Roller) drives every long-running operation that
arm.py starts. An operation is a generator of steps; each step runs on a
clock timer under its cluster's lock (`cluster.k8s.lock`, the lock the ARM
handlers and the Kubernetes API share), so no request sees half a step, and
yields the simulated seconds until its next step. Operations and the
nodes they move follow shared/reference/aks-api.md §1.3-1.8 and §4 and
migrate-upgrade.md §B:

- rolling (osSKU change, node image upgrade, orchestratorVersion upgrade):
  add the pool's surge nodes (new instance numbers; NotReady, then Ready),
  then for each batch of old nodes (surge + maxUnavailable at a time) cordon,
  evict every pod but DaemonSets' through the eviction path clients use (so
  PDBs apply), wait for them to be gone, soak (nodeSoakDurationInMinutes),
  reimage (same name; the new image's os-sku labels, osImage, kernel and
  kubelet), uncordon; at the end drain and remove the surge nodes.
- a drain that outlasts drainTimeoutInMinutes fails the operation with
  AKS's UpgradeFailed text naming node, pod and PDB; with
  undrainableNodeBehavior Cordon the node stays cordoned, labelled
  kubernetes.azure.com/upgrade-status=Quarantined, its surge node stays,
  and the roll goes on. A pod under two PDBs fails the drain at once (the
  eviction's 500, in AKS's conflicting-budgets words).
- create adds `count` nodes; scale adds or drains and removes the highest
  instances; delete cordons and drains every node (no PDBs with
  ignore-pod-disruption-budget) and removes them and the pool; a cluster
  upgrade moves the control plane, then rolls each pool the PUT upgraded.
- abort (arm.py) sets `cancel`: the operation stops at its next step and
  ends Canceled. A step a test arms with `sim.clock.fail(name)` fails the
  operation with that message; the step names are "surge", "cordon",
  "drain", "reimage", "remove", "create-node", "control-plane".

Controls for tests (simulated seconds):

    sim.roller.timings["node_ready"] = 60   # a new node NotReady -> Ready
    sim.roller.timings["reimage"] = 120     # a reimaged node is NotReady so long
    sim.roller.timings["node_delete"] = 30  # removing a node (VM delete)
    sim.roller.timings["control_plane"] = 300
    sim.roller.timings["update"] = 10       # a PUT that moves no node
    sim.roller.timings["poll"] = 5          # between looks while waiting
    sim.roller.timings["cancel"] = 10       # abort -> Canceling -> Canceled
    sim.roller.operations                   # id -> Operation, all of them

Kubernetes events (reasons Surge, Drain, Upgrade, Update, Delete; source
upgrader) go through the cluster's event primitive (K8sState.aks_event).
"""

import math
import uuid
from dataclasses import replace

from . import k8s as k8smod
from .clock import StepFailed

TERMINAL = ("Succeeded", "Failed", "Canceled")
DEBUG_DRAIN = "https://aka.ms/aks/debugdrainfailures"
QUARANTINE_LABEL = "kubernetes.azure.com/upgrade-status"

DEFAULT_TIMINGS = {"node_ready": 60.0, "reimage": 120.0, "node_delete": 30.0,
                   "control_plane": 300.0, "update": 10.0, "poll": 5.0, "cancel": 10.0}


class OperationError(Exception):
    """Ends an operation Failed with an ARM error {code, message, details}."""

    def __init__(self, code, message, details=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details

    def body(self):
        err = {"code": self.code, "message": self.message}
        if self.details:
            err["details"] = self.details
        return err


class _Canceled(Exception):
    pass


def _rfc3339(t):
    return k8smod.rfc3339(t)


class Operation:
    """One long-running operation and its ARM status resource."""

    def __init__(self, roller, cluster, pool_name, name, state, result, failure_code):
        self.roller = roller
        self.id = str(uuid.uuid4())
        self.cluster = cluster
        self.pool_name = pool_name      # None: a cluster operation
        self.name = name                # the operation's name in AKS's 409 texts
        self.provisioning_state = state  # what GET of the resource shows meanwhile
        self.result = result            # what the Location URL gives when done: "pool",
        #                                 "cluster" or None (204)
        self.failure_code = failure_code    # the error code of an injected step failure
        self.status = "InProgress"
        self.percent = 0.0
        self.start_time = roller.clock.now()
        self.end_time = None
        self.error = None
        self.cancel = False
        self.steps = None
        self.timer = None
        self.abort_of = None            # an abort operation: the operation it cancels
        self.pools = []                 # a cluster operation: the pools it is rolling

    @property
    def done(self):
        return self.status in TERMINAL

    def status_body(self):
        body = {"id": "%s/operations/%s" % (self.cluster.id, self.id), "name": self.id,
                "status": self.status, "percentComplete": round(self.percent, 1),
                "startTime": _rfc3339(self.start_time)}
        if self.end_time is not None:
            body["endTime"] = _rfc3339(self.end_time)
        if self.error is not None:
            body["error"] = self.error
        return body


class Roller:
    """The engine; see the module docstring."""

    def __init__(self, sim):
        self.sim = sim
        self.clock = sim.clock
        self.timings = dict(DEFAULT_TIMINGS)
        self.operations = {}

    # --- the engine -----------------------------------------------------

    def start(self, op, steps):
        """Run `steps` (a generator yielding simulated seconds) as `op`."""
        op.steps = steps
        self.operations[op.id] = op
        self._schedule(op, 0)
        return op

    def cancel(self, cluster, ops):
        """Cancel running operations: Canceling now, and stopped at their next
        step, timings["cancel"] from now (then Canceled). An abort request
        (armwrite.abort) and tests of someone else's abort use it."""
        for op in ops:
            op.cancel = True
            op.status = "Canceling"
            target = next((p for p in cluster.pools if p.name == op.pool_name), None) \
                if op.pool_name else cluster
            if target is not None:
                target.provisioning_state = "Canceling"
        for op in ops:                  # the next step, timings["cancel"] from now, stops it
            if op.timer is not None:
                op.timer.cancel()
            self.clock.call_later(self.timings["cancel"], lambda o=op: self._advance(o),
                                  name="roller:abort")

    def running(self, cluster, pool_name=None):
        """The operations in progress on the cluster (on one pool, or all)."""
        return [op for op in list(self.operations.values())   # a copy: other clusters add
                if op.cluster is cluster and not op.done and op.abort_of is None
                and (pool_name is None or op.pool_name == pool_name)]

    def _schedule(self, op, delay):
        op.timer = self.clock.call_later(delay, lambda: self._advance(op),
                                         name="roller:%s:%s" % (op.name, op.pool_name or "-"))

    def _advance(self, op):
        with op.cluster.k8s.lock:
            if op.done:
                return
            try:
                if op.cancel:
                    raise _Canceled()
                delay = next(op.steps)
            except StopIteration:
                self.finish(op, "Succeeded")
            except OperationError as e:
                self.finish(op, "Failed", e.body())
            except StepFailed as e:
                self.finish(op, "Failed", {"code": op.failure_code, "message": e.message})
            except _Canceled:
                op.steps.close()
                self.finish(op, "Canceled", {"code": "OperationCanceled", "message":
                                             "The operation was canceled by an abort request."})
            else:
                self._schedule(op, max(0.0, float(delay or 0)))

    def finish(self, op, status, error=None):
        op.status = status
        op.error = error
        op.end_time = self.clock.now()
        if status == "Succeeded":
            op.percent = 100.0
        for pool in op.pools:           # a cluster operation's pools end with it
            if pool.provisioning_state != "Succeeded":
                pool.provisioning_state = status
        target = self._pool(op) if op.pool_name else op.cluster
        if target is not None and op.provisioning_state is not None:
            target.provisioning_state = status
            if op.pool_name:
                props = target.extra.setdefault("properties", {})
                if error is not None and status == "Failed":
                    props["status"] = {"provisioningError": error}
                else:
                    props.pop("status", None)
        for other in list(self.operations.values()):
            if other.abort_of is op and not other.done:
                self.finish(other, "Succeeded")

    def _pool(self, op):
        return next((p for p in op.cluster.pools if p.name == op.pool_name), None)

    # --- the nodes (the cluster model's primitives) ----------------------

    def _k(self, cluster):
        return cluster.k8s

    def _event(self, cluster, key, node, **fields):
        self._k(cluster).aks_event(key, node, **fields)

    def _add_node(self, cluster, target):
        """A new node of `target` (a Pool as it will be) with the next
        instance number of its pool, NotReady, Ready after timings['node_ready']."""
        return self._k(cluster).add_node(target, ready_after=self.timings["node_ready"])

    def _ready(self, cluster, name):
        node = self._k(cluster).node(name)
        return node is not None and k8smod._is_ready(node)

    def _drainable(self, cluster, name):
        """The node's pods a drain evicts: all but DaemonSets' (AKS drains as
        kubectl drain --ignore-daemonsets --delete-emptydir-data does)."""
        out = []
        for pod in self._k(cluster).pods(node=name):
            refs = pod["metadata"].get("ownerReferences") or [{}]
            if refs[0].get("kind") == "DaemonSet":
                continue
            out.append(pod)
        return out

    def _evict(self, cluster, pod):
        """Evicts through the eviction path clients use; the HTTP status it answered."""
        return self._k(cluster).evict(pod["metadata"]["namespace"], pod["metadata"]["name"])[0]

    # --- step sequences ---------------------------------------------------

    def _wait_ready(self, cluster, names):
        while not all(self._ready(cluster, n) for n in names):
            yield self.timings["poll"]

    def _drain(self, op, nodes, settings, ignore_pdb=False, deleting=False):
        """Cordon and drain `nodes` together. Returns the nodes that could
        not be drained before the timeout (only with undrainable Cordon)."""
        cluster = op.cluster
        k = self._k(cluster)
        for name in nodes:
            self.clock.checkpoint("cordon", op=op, node=name)
            k.cordon(name)
            self._event(cluster, "drain", name)
        self.clock.checkpoint("drain", op=op, nodes=list(nodes))
        deadline = self.clock.now() + int(settings["drainTimeoutInMinutes"]) * 60
        warned = set()
        while True:
            blocked = {}
            for name in nodes:
                for pod in self._drainable(cluster, name):
                    if pod["metadata"].get("deletionTimestamp"):
                        continue            # terminating: wait for it to go
                    if ignore_pdb:
                        k.delete_pod(pod["metadata"]["namespace"], pod["metadata"]["name"])
                        continue
                    code = self._evict(cluster, pod)
                    if code in (201, 404):
                        continue
                    if code == 500:
                        raise self._conflicting_pdbs(cluster, name, pod)
                    blocked.setdefault(name, pod)
                    if pod["metadata"]["name"] not in warned:
                        warned.add(pod["metadata"]["name"])
                        self._event(cluster, "drain-blocked", name, pod=pod["metadata"]["name"])
            if not any(self._drainable(cluster, n) for n in nodes):
                return []
            if blocked and self.clock.reached(deadline):
                return self._drain_timed_out(op, blocked, settings, deleting)
            yield self.timings["poll"]

    def _pdbs_of(self, cluster, pod):
        return self._k(cluster).pdbs_of(pod)

    def _drain_timed_out(self, op, blocked, settings, deleting):
        cluster = op.cluster
        name, pod = next(iter(blocked.items()))
        if deleting:
            pods = [p["metadata"]["name"] for p in self._drainable(cluster, name)]
            raise OperationError("PodDrainFailure", "Node '%s' failed to be drained with "
                                 "error: 'Drain did not complete pods [%s] within %dm0s'"
                                 % (name, " ".join(pods), int(settings["drainTimeoutInMinutes"])))
        if settings.get("undrainableNodeBehavior") == "Cordon":
            for node_name in blocked:
                self._k(cluster).label_node(node_name, QUARANTINE_LABEL, "Quarantined")
            return list(blocked)
        for node_name in blocked:          # Schedule: made schedulable again, not upgraded
            self._k(cluster).uncordon(node_name)
        raise self._pdb_blocked(cluster, name, pod)

    def _pdb_blocked(self, cluster, node, pod):
        ns, pod_name = pod["metadata"]["namespace"], pod["metadata"]["name"]
        pdbs = self._pdbs_of(cluster, pod)
        pdb = pdbs[0]["metadata"]["name"] if pdbs else "<none>"
        unready = 0
        if pdbs:
            st = self._k(cluster)._pdb_status(pdbs[0])
            unready = st["expectedPods"] - st["currentHealthy"]
        return OperationError(
            "UpgradeFailed",
            "Drain node %s failed when evicting pod %s failed with Too Many Requests error. "
            "This is often caused by a restrictive Pod Disruption Budget (PDB) policy. See %s. "
            "Original error: Cannot evict pod as it would violate the pod's disruption budget.. "
            "PDB debug info: %s/%s blocked by pdb %s with %d unready pods."
            % (node, pod_name, DEBUG_DRAIN, ns, pod_name, pdb, unready))

    def _conflicting_pdbs(self, cluster, node, pod):
        ns, pod_name = pod["metadata"]["namespace"], pod["metadata"]["name"]
        pdb = self._pdbs_of(cluster, pod)[0]
        st = self._k(cluster)._pdb_status(pdb)
        spec = pdb["spec"]
        rule = ("MinAvailable: %s" % spec["minAvailable"] if "minAvailable" in spec
                else "MaxUnavailable: %s" % spec.get("maxUnavailable", 0))
        detail = ("Drain node %s failed when evicting pod %s. Evict blocked by conflicting "
                  "disruption budgets. See %s. Original error: This pod has more than one "
                  "PodDisruptionBudget, which the eviction subresource does not support. PDB "
                  "debug info: %s/%s blocked by pdb %s (%s) (CurrentHealthy: %d) "
                  "(DesiredHealthy: %d) (ExpectedPods: %d) with %d unready pods."
                  % (node, pod_name, DEBUG_DRAIN, ns, pod_name, pdb["metadata"]["name"], rule,
                     st["currentHealthy"], st["desiredHealthy"], st["expectedPods"],
                     st["expectedPods"] - st["currentHealthy"]))
        return OperationError("UpgradeFailed", "Upgrade failed due to one or more node errors. "
                              "See details for more information.",
                              [{"code": "KubernetesAPICallFailed", "message": detail}])

    def _remove(self, op, name):
        self.clock.checkpoint("remove", op=op, node=name)
        self._event(op.cluster, "delete", name)
        self._k(op.cluster).remove_node(name)

    def roll(self, op, pool, target, settings):
        """Reimage every node of `pool` into `target` (a Pool as it will be)."""
        cluster = op.cluster
        k = self._k(cluster)
        old = [n["metadata"]["name"] for n in k.pool_nodes(pool.name)]
        total = max(1, len(old))
        surge = min(surge_count(settings["maxSurge"], len(old)), len(old))
        unavailable = min(surge_count(settings.get("maxUnavailable", "0"), len(old)), len(old))
        batch = max(1, surge + unavailable)
        surge_nodes = []
        for _ in range(surge):
            self.clock.checkpoint("surge", op=op)
            self.sim.capacity.check_subnet(cluster, pool, 1)
            name = self._add_node(cluster, target)
            surge_nodes.append(name)
            self._event(cluster, "surge", name, pool=pool.name)
        yield from self._wait_ready(cluster, surge_nodes)
        quarantined = []
        done = 0
        while old:
            group, old = old[:batch], old[batch:]
            try:
                stuck = yield from self._drain(op, group, settings)
            except OperationError:
                yield from self._drop_surge(op, surge_nodes)
                raise
            quarantined += stuck
            group = [n for n in group if n not in stuck]
            soak = int(settings.get("nodeSoakDurationInMinutes", 0))
            if soak and group:
                for name in group:
                    self._event(cluster, "soak", name, soak="%dm0s" % soak)
                yield soak * 60
            for name in group:
                self.clock.checkpoint("reimage", op=op, node=name)
                k.reimage(name, node_image_version=target.node_image_version,
                          os_sku=target.os_sku, k8s_version=target.k8s_version,
                          ready_after=self.timings["reimage"])
            yield from self._wait_ready(cluster, group)
            for name in group:
                k.uncordon(name)
                self._event(cluster, "reimaged", name)
            done += len(group) + len(stuck)
            op.percent = 90.0 * done / total
        kept = surge_nodes[:len(quarantined)]
        for name in surge_nodes[len(quarantined):]:
            yield from self._drain(op, [name], settings)
            self._remove(op, name)
        if surge_nodes[len(quarantined):]:
            yield self.timings["node_delete"]
        if kept:
            pool.extra["retained_surge"] = kept

    def _drop_surge(self, op, names):
        """After a failed drain: "a best-effort attempt will be made to delete
        all surge nodes" (migrate-upgrade.md §B3) - those that drain at once."""
        k = self._k(op.cluster)
        for name in names:
            k.cordon(name)
            if not all(self._evict(op.cluster, p) in (201, 404)
                       for p in self._drainable(op.cluster, name)):
                k.uncordon(name)
                continue
            yield from self._wait_gone(op.cluster, name)
            self._remove(op, name)

    def _wait_gone(self, cluster, name):
        while self._drainable(cluster, name):
            yield self.timings["poll"]

    def add_nodes(self, op, target, n):
        cluster = op.cluster
        names = []
        for _ in range(n):
            self.clock.checkpoint("create-node", op=op)
            self.sim.capacity.check_subnet(cluster, target, 1)
            names.append(self._add_node(cluster, target))
        op.percent = max(op.percent, 10.0)
        yield from self._wait_ready(cluster, names)
        op.percent = max(op.percent, 90.0)
        return names

    def remove_nodes(self, op, names, settings, ignore_pdb=False, deleting=False):
        for name in names:
            yield from self._drain(op, [name], settings, ignore_pdb=ignore_pdb,
                                   deleting=deleting)
            self._remove(op, name)
            op.percent = min(95.0, op.percent + 90.0 / max(1, len(names)))
        if names:
            yield self.timings["node_delete"]

    def control_plane(self, op, version):
        self.clock.checkpoint("control-plane", op=op, version=version)
        yield self.timings["control_plane"]
        cluster = op.cluster
        cluster.extra["current_k8s_version"] = version
        cluster.k8s.version = version


def surge_count(value, count):
    """maxSurge / maxUnavailable as a node count: an integer, or a percent of
    the pool rounded up (aks-api.md §1.7)."""
    text = str(value if value is not None else "0").strip()
    if text.endswith("%"):
        return int(math.ceil(float(text[:-1]) * count / 100.0))
    return int(text or 0)


def target_pool(pool, **changes):
    """The pool as an operation will leave it (a copy; `pool` is unchanged)."""
    return replace(pool, extra=dict(pool.extra), **changes)
