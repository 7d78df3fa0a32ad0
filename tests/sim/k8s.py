"""A Kubernetes API server for one simulated AKS cluster.

State (nodes, pods, namespaces, workloads, PodDisruptionBudgets) is generated
from the scenario's pools exactly as AKS shapes it (shared/reference/aks-api.md
§4), and served the way kubectl and client-go expect: discovery, paged lists
with label and field selectors, meta.k8s.io Tables, strategic/merge PATCH,
policy/v1 eviction with PDBs, metav1.Status errors, client-certificate and
bearer-token authentication and a small RBAC deny list.

Every request runs under the state's lock and its answer is encoded there,
so tests may change the state (under `state.lock`) while clients read it.

Over time (the clock of clock.py, `state.clock`): watch (`?watch=1`, see
_do_watch), graceful DELETE and eviction, workload controllers that replace
pods after `state.delays`, the primitives a roller drives and the safety
record (`state.safety`): K8sState's docstring lists them. Controls for tests:

    state.delays["pod_ready"] = 30      simulated seconds (DEFAULT_DELAYS)
    state.watch_bookmark_seconds = 0.2  BOOKMARK interval (wall)
    state.watch_close_seconds = (1, 2)  the server ends each watch after this
    state.watch_history = 10; state.compact()   older versions get 410
    state.safety.counts()               {"pdb_violations", "lost_pods",
                                         "no_ready_system_node"}
    state.deprecated_apis.append({"group": "flowcontrol.apiserver.k8s.io",
        "version": "v1beta3", "resource": "flowschemas", "removed_release": "1.32"})
                                        what GET /metrics reports as requested
                                        (apiserver_requested_deprecated_apis, 1 each)
    state.metrics_forbidden = True      GET /metrics answers 403
    state.deny_evictions(ns, name, code=400, move_after=1)
                                        a validating webhook refuses the pod's
                                        evictions (its operator moves it)
    state.eviction_log                  [(ns, name, uid, status)] of evictions
    add_deployment(..., requests={"cpu": "2", "memory": "4Gi"})
                                        pods' requests; the scheduler honours
                                        each node's allocatable
"""

import base64
import collections
import copy
import dataclasses
import functools
import hashlib
import hmac
import json
import random
import re
import threading
import uuid
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from urllib.parse import urlsplit

from .clock import Clock

REASONS = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound",
           405: "MethodNotAllowed", 409: "Conflict", 410: "Expired", 415: "UnsupportedMediaType",
           422: "Invalid", 429: "TooManyRequests", 500: "InternalError",
           503: "ServiceUnavailable", 504: "Timeout"}


def status_body(code, reason, message, details=None):
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}
    if not reason:
        del body["reason"]          # omitempty: a webhook's denial may carry none
    if details:
        body["details"] = details
    return body


class ApiError(Exception):
    def __init__(self, code, message, reason=None, details=None, headers=None):
        super().__init__(message)
        self.code = code
        self.message = message
        # reason "": none at all (a webhook's denial relayed as it gave it)
        self.reason = REASONS.get(code, "InternalError") if reason is None else reason
        self.details = details
        self.headers = headers or {}


# (group, version, plural) -> kind, namespaced, short names. Order is discovery order.
RESOURCES = [
    ("", "v1", "namespaces", "Namespace", False, ["ns"]),
    ("", "v1", "nodes", "Node", False, ["no"]),
    ("", "v1", "pods", "Pod", True, ["po"]),
    ("", "v1", "events", "Event", True, ["ev"]),
    ("apps", "v1", "daemonsets", "DaemonSet", True, ["ds"]),
    ("apps", "v1", "deployments", "Deployment", True, ["deploy"]),
    ("apps", "v1", "replicasets", "ReplicaSet", True, ["rs"]),
    ("apps", "v1", "statefulsets", "StatefulSet", True, ["sts"]),
    ("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", True, ["pdb"]),
    ("authorization.k8s.io", "v1", "selfsubjectaccessreviews", "SelfSubjectAccessReview",
     False, []),
    ("admissionregistration.k8s.io", "v1", "validatingwebhookconfigurations",
     "ValidatingWebhookConfiguration", False, []),
]
_BY_PLURAL = {r[2]: r for r in RESOURCES}
_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
_PATCH_TYPES = ("application/strategic-merge-patch+json", "application/merge-patch+json")
_ANONYMOUS_PATHS = ("/version", "/healthz", "/livez", "/readyz")
_POD_SUFFIX = "bcdfghjklmnpqrstvwxz2456789"
_FIELDS = {"pods": ("spec.nodeName", "status.phase", "spec.restartPolicy",
                    "spec.schedulerName", "spec.serviceAccountName", "status.podIP"),
           "events": ("involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
                      "involvedObject.uid", "involvedObject.apiVersion",
                      "involvedObject.resourceVersion", "involvedObject.fieldPath", "reason",
                      "reportingComponent", "source", "type"),
           "nodes": ("spec.unschedulable",), "namespaces": ("status.phase",)}


def rfc3339(t):
    return _rfc3339(int(t))


# Cached: generating a large cluster formats and parses the same instants
# thousands of times.
@functools.lru_cache(maxsize=65536)
def _rfc3339(t):
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@functools.lru_cache(maxsize=65536)
def parse_time(s):
    return datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()


def human_duration(seconds):
    """apimachinery's duration.HumanDuration, which kubectl's AGE column uses."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return "%ds" % s
    minutes = s // 60
    if minutes < 10:
        return "%dm%ds" % (minutes, s % 60) if s % 60 else "%dm" % minutes
    if minutes < 180:
        return "%dm" % minutes
    hours = s // 3600
    if hours < 8:
        return "%dh%dm" % (hours, minutes % 60) if minutes % 60 else "%dh" % hours
    if hours < 48:
        return "%dh" % hours
    if hours < 24 * 8:
        return "%dd%dh" % (hours // 24, hours % 24) if hours % 24 else "%dd" % (hours // 24)
    if hours < 24 * 365 * 2:
        return "%dd" % (hours // 24)
    if hours < 24 * 365 * 8:
        days = (hours // 24) % 365
        return "%dy%dd" % (hours // 24 // 365, days) if days else "%dy" % (hours // 24 // 365)
    return "%dy" % (hours // 24 // 365)


def base36(n, width=6):
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while n:
        n, r = divmod(n, 36)
        out = digits[r] + out
    return out.rjust(width, "0")


# --- selectors ---------------------------------------------------------------

_SET_RE = re.compile(r"^\s*([^\s!=(),]+)\s+(in|notin)\s*\(([^()]*)\)\s*$")
_EQ_RE = re.compile(r"^\s*([^\s!=(),]+)\s*(==|=|!=)\s*([^\s!=(),]*)\s*$")
_EXISTS_RE = re.compile(r"^\s*(!?)\s*([^\s!=(),]+)\s*$")


def _split_top(text):
    parts, depth, cur = [], 0, ""
    for ch in text:
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return [p for p in parts if p.strip()]


def parse_label_selector(text):
    """A predicate over a labels dict; ApiError 400 if text is not a selector."""
    reqs = []
    for part in _split_top(text or ""):
        m = _SET_RE.match(part)
        if m:
            values = {v.strip() for v in m.group(3).split(",") if v.strip()}
            reqs.append((m.group(1), m.group(2), values))
            continue
        m = _EQ_RE.match(part)
        if m:
            reqs.append((m.group(1), "!=" if m.group(2) == "!=" else "=", {m.group(3)}))
            continue
        m = _EXISTS_RE.match(part)
        if not m:
            raise ApiError(400, "unable to parse requirement: %s" % part.strip())
        reqs.append((m.group(2), "!" if m.group(1) else "exists", None))

    def match(labels):
        for key, op, values in reqs:
            present = key in labels
            if op == "exists" and not present or op == "!" and present:
                return False
            if op in ("=", "in") and labels.get(key) not in values:
                return False
            if op in ("!=", "notin") and present and labels[key] in values:
                return False
        return True
    return match


def _field_value(obj, path):
    cur = obj
    for part in path.split("."):
        cur = cur.get(part) if isinstance(cur, dict) else None
    if isinstance(cur, bool):
        return "true" if cur else "false"
    return "" if cur is None else str(cur)


def parse_field_selector(text, plural):
    reqs = []
    allowed = ("metadata.name", "metadata.namespace") + _FIELDS.get(plural, ())
    for part in _split_top(text or ""):
        m = re.match(r"^\s*([^!=\s]+)\s*(==|=|!=)\s*(.*?)\s*$", part)
        if not m:
            raise ApiError(400, "invalid selector: '%s'; can't understand '%s'" % (text, part))
        if m.group(1) not in allowed:
            raise ApiError(400, 'field label not supported: %s' % m.group(1))
        reqs.append((m.group(1), m.group(2) == "!=", m.group(3)))
    return lambda obj: all((_field_value(obj, f) == v) != neg for f, neg, v in reqs)


def label_selector_of(selector):
    """A metav1.LabelSelector object as a predicate."""
    text = ",".join("%s=%s" % kv for kv in sorted((selector or {}).get("matchLabels", {}).items()))
    for expr in (selector or {}).get("matchExpressions", []):
        op = {"In": "in", "NotIn": "notin"}.get(expr["operator"])
        if op:
            text += ",%s %s (%s)" % (expr["key"], op, ",".join(expr.get("values", [])))
        else:
            text += ",%s%s" % ("" if expr["operator"] == "Exists" else "!", expr["key"])
    return parse_label_selector(text.strip(","))


def merge_patch(target, patch, strategic):
    """RFC 7386 merge; a strategic patch also drops its $directives."""
    for key, value in patch.items():
        if strategic and key.startswith("$"):
            continue
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict):
            if not isinstance(target.get(key), dict):
                target[key] = {}
            merge_patch(target[key], value, strategic)
        else:
            target[key] = copy.deepcopy(value)
    return target


# --- the state ----------------------------------------------------------------

# Simulated seconds (on the cluster's clock); state.delays overrides them,
# Scenario.delays for a whole scenario.
DEFAULT_DELAYS = {
    "node_ready": 60,       # add_node(): NotReady for this long, then Ready
    "node_reimage": 90,     # reimage(): NotReady for this long, then Ready
    "pod_start": 2,         # a controller's new pod: ContainerCreating, then Running
    "pod_ready": 3,         # then Ready
    # A terminating pod's containers exit this long after the signal; None
    # (or a longer value): at the end of its grace period, as a pod that
    # ignores SIGTERM. Either way no later than the grace period.
    "pod_stop": 1,
}

# Kubernetes events as AKS's upgrader emits them (shared/reference/
# migrate-upgrade.md §B1, §B3): key -> (reason, type, message format).
AKS_EVENTS = {
    "surge": ("Surge", "Normal", "Created a surge node [{node} {pool}] for agentpool {pool}"),
    "drain": ("Drain", "Normal", "Draining node: [{node}]"),
    "drain-blocked": ("Drain", "Warning",
                      "Eviction blocked by Too Many Requests (usually a pdb): {pod}"),
    "soak": ("Upgrade", "Normal", "Soak duration {soak} after draining node: {node}"),
    "reimaged": ("Update", "Normal", "Successfully reimaged node: {node}"),
    "upgraded": ("Update", "Normal", "Successfully upgraded node: {node}"),
    "delete": ("Delete", "Normal", "Deleting node {node} from API server"),
}

_KIND_PLURAL = {r[3]: r[2] for r in RESOURCES}
_CONTROLLERS = {"ReplicaSet": "replicasets", "DaemonSet": "daemonsets",
                "StatefulSet": "statefulsets"}
_SYSTEM = ("kubernetes.azure.com/mode", "system")


class Safety:
    """What the simulator saw go wrong, for tests to assert (state.safety).

    pdb_violations: an eviction or deletion that took a PDB's currentHealthy
        below its desiredHealthy: {t, pdb "ns/name", pod "ns/name", via,
        healthy, desired} (via: "eviction", "delete", "node-removed").
    lost_pods: a pod gone with no controller to recreate it: {t, pod, via}.
    no_ready_system_node: each stretch of simulated time with no Ready node
        of a System pool: {start, end} (end None while it lasts).
    counts() gives the three numbers; reset() starts over."""

    def __init__(self):
        self.pdb_violations = []
        self.lost_pods = []
        self.no_ready_system_node = []

    def counts(self):
        return {"pdb_violations": len(self.pdb_violations), "lost_pods": len(self.lost_pods),
                "no_ready_system_node": len(self.no_ready_system_node)}

    def reset(self):
        self.pdb_violations.clear()
        self.lost_pods.clear()
        self.no_ready_system_node = [s for s in self.no_ready_system_node if s["end"] is None]


class K8sState:
    """Objects and API of one cluster. Mutate under `lock`.

    One lock per cluster (`lock`, an RLock) is shared by the HTTP handlers,
    the ARM side, the roller and the timers of the clock: hold it across a
    step so that no request sees it half applied. Never call clock.step()
    while holding it (the timers it fires take it from the clock's thread).

    Primitives for the roller (all take the lock themselves):
      add_node(pool) -> name      a new node from the pool's instance counter,
                                  NotReady, Ready after delays["node_ready"]
      cordon(name) / uncordon(name)
      evict(ns, name) -> (code, message)  the eviction API's own path: 201
                                  (terminating), 429 (PDB), 500 (two PDBs), 404
      delete_pod(ns, name, grace=None)  DELETE's path (graceful)
      wait_gone(pods, timeout) / wait_until(pred, timeout)  on the clock
      reimage(name, ...)          same name, new image/OS/version, NotReady
                                  then Ready after delays["node_reimage"]
      remove_node(name)           the node and (at once) its pods
      record_event(...) / aks_event(key, node, ...)  `kubectl get events`
    Tests read `safety` (Safety) and set `delays` (DEFAULT_DELAYS) and the
    watch controls (watch_history, watch_bookmark_seconds, watch_close_seconds;
    compact() makes every older resourceVersion too old)."""

    def __init__(self, cluster, now=None, clock=None, delays=None):
        self.cluster = cluster
        # Simulated time (clock.py): every timestamp and delay of this cluster.
        self.clock = clock or Clock()
        self.lock = threading.RLock()
        self._changed = threading.Condition(self.lock)
        self.delays = dict(DEFAULT_DELAYS, **(delays or {}))
        self.safety = Safety()
        self.tokens = {}            # bearer token -> user name, or (user, [groups])
        self.forbidden = set()      # (user, verb, resource) denied; "*" matches any
        # Validating webhooks called on pods/eviction (deny_evictions), and
        # every eviction request answered: (ns, name, uid or None, status).
        self.eviction_denials = []
        self.eviction_log = []
        # False: answer as a server that cannot make Tables (an aggregated API
        # server, an old proxy) does - with the plain object or List.
        self.tables = True
        # Opt-in (Sim(cache_lists=True), for the benchmarks): list answers
        # reused while resourceVersion stands still. A real API server serves
        # lists from its watch cache in compiled code; without this, the
        # Python rendering a 2,500-row Table (~170 ms, holding the GIL and
        # so stalling every other request) is what a benchmark measures.
        # Only state changed through this class's methods (which bump
        # resourceVersion) shows up in a cached answer.
        self.cache_lists = False
        self._list_cache = {}
        self.objects = {r[2]: {} for r in RESOURCES}
        self._pool_index = {}       # pool name -> node names, for fast pool lookups
        self._instances = {}        # pool name -> the next VMSS instance number
        self.rv = 1000
        self.version = cluster.k8s_version
        self._secret = uuid.uuid4().bytes
        self._rng = random.Random("k8s/" + cluster.name)
        self._now = now or self.clock.now()
        # Watch: the changes kept (rv, type, plural, object copy); a watch
        # from a resourceVersion below _floor gets 410 Expired.
        self.watch_history = 5000
        self.watch_bookmark_seconds = 60.0      # wall seconds between BOOKMARKs
        # A watch ends after timeoutSeconds, or after a random wall time in
        # this range as an API server ends them (its --min-request-timeout).
        self.watch_close_seconds = (1800.0, 3600.0)
        self.deprecated_apis = []
        self.metrics_forbidden = False
        self._history = collections.deque()
        self._watches = set()
        self._building = True
        self._build()
        self._building = False
        self._floor = self.rv
        self._system_down = None
        self._check_system_nodes()

    # --- generation ----------------------------------------------------

    def _uid(self):
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def _suffix(self, n=5):
        return "".join(self._rng.choices(_POD_SUFFIX, k=n))

    def _bump(self, obj, event="MODIFIED"):
        self.rv += 1
        obj["metadata"]["resourceVersion"] = str(self.rv)
        self._record(event, _KIND_PLURAL.get(obj.get("kind")), obj)
        return obj

    def _put(self, plural, obj):
        meta = obj["metadata"]
        meta.setdefault("uid", self._uid())
        # Objects generated with the cluster predate it being served.
        meta.setdefault("creationTimestamp",
                        rfc3339(self._now - 86400 if self._building else self.clock.now()))
        key = (meta.get("namespace", ""), meta["name"])
        event = "MODIFIED" if key in self.objects[plural] else "ADDED"
        self.objects[plural][key] = obj
        if plural == "nodes":
            pool = meta["labels"]["kubernetes.azure.com/agentpool"]
            self._pool_index.setdefault(pool, set()).add(meta["name"])
        return self._bump(obj, event)

    def _drop(self, plural, obj):
        """Remove an object: a DELETED event at a new resourceVersion."""
        meta = obj["metadata"]
        if self.objects[plural].pop((meta.get("namespace", ""), meta["name"]), None) is None:
            return False
        if plural == "nodes":
            pool = meta["labels"]["kubernetes.azure.com/agentpool"]
            self._pool_index.get(pool, set()).discard(meta["name"])
        self._bump(obj, "DELETED")
        return True

    def _record(self, event, plural, obj):
        """Keep a change for watches, wake the waiters, recheck safety."""
        if self._building or plural is None:
            return
        snapshot = copy.deepcopy(obj)
        self._history.append((self.rv, event, plural, snapshot))
        while len(self._history) > max(self.watch_history, 0):
            self._floor = self._history.popleft()[0]
        for watch in list(self._watches):
            watch.offer(self.rv, event, plural, snapshot)
        self._changed.notify_all()
        if plural == "nodes":
            self._check_system_nodes()
        elif plural == "pods":
            self._sync_owner_status(obj)
            for pdb in self._pdbs_of(obj):
                self._sync_pdb(pdb)

    def compact(self):
        """Forget the watch history: a watch from any resourceVersion before
        now gets 410 Expired, as after an etcd compaction."""
        with self.lock:
            self._history.clear()
            self._floor = self.rv

    def _build(self):
        for ns in ("default", "kube-node-lease", "kube-public", "kube-system"):
            self.add_namespace(ns, created=self._now - 30 * 86400)
        for pool in self.cluster.pools:
            self.sync_pool(pool)
        self._default_workloads()

    def _default_workloads(self):
        linux = {"kubernetes.io/os": "linux"}
        windows = {"kubernetes.io/os": "windows"}
        for name in ("kube-proxy", "cloud-node-manager", "azure-ip-masq-agent"):
            self.add_daemonset("kube-system", name, node_selector=linux)
        self.add_daemonset("kube-system", "cloud-node-manager-windows", node_selector=windows)
        self.add_daemonset("kube-system", "nvidia-device-plugin-daemonset",
                           node_selector={"kubernetes.azure.com/accelerator": "nvidia"})
        system = {"kubernetes.azure.com/mode": "system"}
        self.add_deployment("kube-system", "coredns", 2, node_selector=system, empty_dir=True)
        self.add_deployment("kube-system", "metrics-server", 2, node_selector=system,
                            empty_dir=True)
        self.add_deployment("kube-system", "konnectivity-agent", 2, node_selector=system)
        users = [n for n in self._linux_nodes() if n["metadata"]["labels"].get(
            "kubernetes.azure.com/mode") == "user" and "kubernetes.azure.com/accelerator"
            not in n["metadata"]["labels"]]
        if users:
            self.add_namespace("shop")
            self.add_deployment("shop", "web", 4, nodes=users)
            self.add_deployment("shop", "api", 2, nodes=users[::-1])
            self.add_pdb("shop", "web", {"app": "web"}, max_unavailable=1)
            self.add_pdb("shop", "api", {"app": "api"}, min_available=1)
        if any(self._match_nodes({"kubernetes.azure.com/accelerator": "nvidia"})):
            self.add_namespace("ml")
            self.add_deployment("ml", "inference", 1, node_selector={
                "kubernetes.azure.com/accelerator": "nvidia"})

    def _linux_nodes(self):
        return [n for _, n in sorted(self.objects["nodes"].items())
                if n["metadata"]["labels"]["kubernetes.io/os"] == "linux"]

    def _match_nodes(self, selector):
        return [n for _, n in sorted(self.objects["nodes"].items())
                if all(n["metadata"]["labels"].get(k) == v for k, v in selector.items())]

    def add_namespace(self, name, created=None):
        if ("", name) in self.objects["namespaces"]:
            return self.objects["namespaces"][("", name)]
        return self._put("namespaces", {
            "apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": name, "labels": {"kubernetes.io/metadata.name": name},
                         "creationTimestamp": rfc3339(created or self._now - 86400)},
            "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}})

    def node_name(self, pool, instance):
        if pool.os_type == "Windows":
            return "aks%s%s" % (pool.name, base36(instance))
        return "aks-%s-%s-vmss%s" % (pool.name, self.cluster.vmss_digits(pool.name),
                                     base36(instance))

    def _node(self, pool, instance, index, ready=None):
        """Node `instance` of `pool`; index places it (zone, address) and,
        unless `ready` says, makes it Ready and cordoned as the pool says."""
        c = self.cluster
        osf = pool.os
        name = self.node_name(pool, instance)
        vmss = "aks-%s-%s-vmss" % (pool.name, c.vmss_digits(pool.name))
        zone = ("%s-%s" % (c.location, pool.zones[index % len(pool.zones)])
                if pool.zones else "0")
        os_name = "windows" if pool.os_type == "Windows" else "linux"
        cpu, mem_gib, gpus = pool.vm_shape
        labels = {
            "agentpool": pool.name,
            "beta.kubernetes.io/arch": pool.arch,
            "beta.kubernetes.io/instance-type": pool.vm_size,
            "beta.kubernetes.io/os": os_name,
            "failure-domain.beta.kubernetes.io/region": c.location,
            "failure-domain.beta.kubernetes.io/zone": zone,
            "kubernetes.azure.com/agentpool": pool.name,
            "kubernetes.azure.com/cluster": c.node_resource_group,
            "kubernetes.azure.com/kubelet-identity-client-id": str(uuid.UUID(
                hashlib.md5(c.id.encode()).hexdigest())),
            "kubernetes.azure.com/mode": pool.mode.lower(),
            "kubernetes.azure.com/node-image-version": pool.node_image_version,
            "kubernetes.azure.com/nodepool-type": "VirtualMachineScaleSets",
            "kubernetes.azure.com/os-sku": pool.os_sku,
            "kubernetes.azure.com/os-sku-effective": osf.sku_effective,
            "kubernetes.azure.com/os-sku-requested": pool.os_sku,
            "kubernetes.azure.com/role": "agent",
            "kubernetes.azure.com/storageprofile": "managed",
            "kubernetes.azure.com/storagetier": "Premium_LRS",
            "kubernetes.io/arch": pool.arch,
            "kubernetes.io/hostname": name,
            "kubernetes.io/os": os_name,
            "node.kubernetes.io/instance-type": pool.vm_size,
            "storageprofile": "managed",
            "storagetier": "Premium_LRS",
            "topology.disk.csi.azure.com/zone": zone if pool.zones else "",
            "topology.kubernetes.io/region": c.location,
            "topology.kubernetes.io/zone": zone,
        }
        if pool.gpu:
            labels["accelerator"] = "nvidia"
            labels["kubernetes.azure.com/accelerator"] = "nvidia"
        labels.update(pool.node_labels)
        capacity = {"cpu": str(cpu), "memory": "%dKi" % (mem_gib * 1024 * 1024),
                    "pods": str(pool.max_pods), "ephemeral-storage": "129886128Ki",
                    "hugepages-1Gi": "0", "hugepages-2Mi": "0"}
        if gpus:
            capacity["nvidia.com/gpu"] = str(gpus)
        allocatable = dict(capacity, cpu="%dm" % (cpu * 1000 - 180),
                           memory="%dKi" % int(mem_gib * 1024 * 1024 * 0.8))
        created = (self._now - pool.age_days * 86400 + index * 37 if self._building
                   else self.clock.now())
        if ready is None:
            ready = index < pool.ready
        ip = "10.224.%d.%d" % (hash_octet(pool.name), 4 + index % 250)
        ts = rfc3339(self._now - 60)
        node = {
            "apiVersion": "v1", "kind": "Node",
            "metadata": {
                "name": name, "labels": labels,
                "annotations": {
                    "csi.volume.kubernetes.io/nodeid": json.dumps({"disk.csi.azure.com": name}),
                    "node.alpha.kubernetes.io/ttl": "0",
                    "volumes.kubernetes.io/controller-managed-attach-detach": "true"},
                "creationTimestamp": rfc3339(created),
            },
            "spec": {
                "providerID": "azure:///subscriptions/%s/resourceGroups/%s/providers/"
                              "Microsoft.Compute/virtualMachineScaleSets/%s/virtualMachines/%d"
                              % (c.subscription, c.node_resource_group.lower(), vmss, instance),
                "podCIDR": "10.244.%d.0/24" % (len(self.objects["nodes"]) % 256),
            },
            "status": {
                "addresses": [{"type": "InternalIP", "address": ip},
                              {"type": "Hostname", "address": name}],
                "capacity": capacity, "allocatable": allocatable,
                "conditions": self._conditions(ready, ts),
                "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
                "nodeInfo": self._node_info(pool, name),
                "images": [],
            },
        }
        taints = [dict(zip(("key", "value", "effect"), _split_taint(t)))
                  for t in pool.node_taints]
        if index < pool.unschedulable:
            node["spec"]["unschedulable"] = True
            taints.append({"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule",
                           "timeAdded": ts})
        if not ready:
            taints.append({"key": "node.kubernetes.io/unreachable" if self._building
                           else "node.kubernetes.io/not-ready", "effect": "NoSchedule",
                           "timeAdded": ts})
        if taints:
            node["spec"]["taints"] = taints
        return node

    def _node_info(self, pool, name):
        osf = pool.os
        ident = hashlib.sha256(("node/" + name).encode()).hexdigest()
        return {"architecture": pool.arch, "bootID": str(uuid.UUID(ident[:32])),
                "containerRuntimeVersion": osf.runtime, "kernelVersion": osf.kernel,
                "kubeProxyVersion": "", "kubeletVersion": "v" + pool.k8s_version,
                "machineID": ident[32:64], "operatingSystem":
                    "windows" if pool.os_type == "Windows" else "linux",
                "osImage": osf.os_image, "systemUUID": str(uuid.UUID(ident[16:48]))}

    @staticmethod
    def _conditions(ready, ts):
        conds = [dict(type=t, status="False", reason="Kubelet" + r, message=m,
                      lastHeartbeatTime=ts, lastTransitionTime=ts)
                 for t, r, m in (("MemoryPressure", "HasSufficientMemory",
                                  "kubelet has sufficient memory available"),
                                 ("DiskPressure", "HasNoDiskPressure",
                                  "kubelet has no disk pressure"),
                                 ("PIDPressure", "HasSufficientPID",
                                  "kubelet has sufficient PID available"))]
        conds.append(dict(type="Ready", status="True" if ready else "False",
                          reason="KubeletReady" if ready else "KubeletNotReady",
                          message="kubelet is posting ready status" if ready else
                          "container runtime network not ready: NetworkReady=false",
                          lastHeartbeatTime=ts, lastTransitionTime=ts))
        return conds

    def cut_watches(self):
        """Every open watch's connection is reset, as when the API server
        becomes unreachable (pair with sim.faults drops for the reconnects)."""
        with self.lock:
            for watch in list(self._watches):
                watch.cut()

    def pool_nodes(self, pool_name):
        nodes = self.objects["nodes"]
        return [nodes[("", name)] for name in sorted(self._pool_index.get(pool_name, ()))]

    def _instance_of(self, node):
        return int(node["spec"]["providerID"].rsplit("/", 1)[1])

    def _next_instance(self, pool):
        n = self._instances.get(pool.name, 0)
        self._instances[pool.name] = n + 1
        return n

    def sync_pool(self, pool):
        """Make the pool's nodes match `pool` at once: image and version
        changes apply in place (a reimage, the node staying Ready), missing
        nodes are added (Ready, with new instance numbers from the pool's
        counter: a removed instance is never reused), surplus ones removed
        from the highest instance down with their pods (a controller's
        replaced). Returns the pool's nodes."""
        with self.lock:
            existing = sorted(self.pool_nodes(pool.name), key=self._instance_of)
            for node in existing[pool.count:]:
                self.remove_node(node["metadata"]["name"])
            for node in existing[:pool.count]:
                self._reimage(node, pool)
            for i in range(len(existing), pool.count):
                instance = self._next_instance(pool)
                name = self.node_name(pool, instance)
                self._put("nodes", self._node(pool, instance, i) if self._building
                          else self._node(pool, instance, instance, ready=True))
                self._place_daemonsets(name)
            if not self._building:
                self._schedule_pending()
            return self.pool_nodes(pool.name)

    def _pool_of(self, node):
        return self.cluster.pool(node["metadata"]["labels"]["kubernetes.azure.com/agentpool"])

    def _reimage(self, node, pool, bump=True):
        """The node's OS facts and labels become the pool's (aks-api.md §4)."""
        labels = node["metadata"]["labels"]
        labels["kubernetes.azure.com/node-image-version"] = pool.node_image_version
        labels["kubernetes.azure.com/os-sku"] = pool.os_sku
        labels["kubernetes.azure.com/os-sku-requested"] = pool.os_sku
        labels["kubernetes.azure.com/os-sku-effective"] = pool.os.sku_effective
        node["status"]["nodeInfo"] = self._node_info(pool, node["metadata"]["name"])
        if bump:
            self._bump(node)

    def add_node(self, pool, ready_after=None):
        """A new node of `pool` (a scenario.Pool or its name) with the next
        instance number of the pool's counter (a surge node, a scale-out):
        NotReady with the not-ready taint, Ready `ready_after` simulated
        seconds later (default delays["node_ready"]); its DaemonSet pods
        start with it. Returns its name."""
        with self.lock:
            if isinstance(pool, str):
                pool = self.cluster.pool(pool)
            instance = self._next_instance(pool)
            node = self._node(pool, instance, instance, ready=False)
            self._put("nodes", node)
            name = node["metadata"]["name"]
            self._place_daemonsets(name, start=True)
            self._later(self.delays["node_ready"] if ready_after is None else ready_after,
                        self._node_back, name, node["metadata"]["uid"], name="node-ready")
            return name

    def _node_back(self, name, uid):
        node = self.node(name)
        if node is not None and node["metadata"]["uid"] == uid:
            self.set_ready(name, True)

    def reimage(self, name, node_image_version=None, os_sku=None, k8s_version=None,
                ready_after=None):
        """Reimage a node in place as AKS does in an upgrade: same name and
        instance. The node goes NotReady now; `ready_after` simulated seconds
        later (default delays["node_reimage"]; 0: at once) it is back, Ready,
        with the node image and os-sku labels, osImage, kernel, runtime,
        kubelet version and a new bootID of the new OS (aks-api.md §4). A
        None keeps the pool's value as it is then (set the Pool, or pass
        them). Returns the node."""
        with self.lock:
            node = self.node(name)
            if node is None:
                raise KeyError("no node %s to reimage" % name)
            changes = {k: v for k, v in (("node_image_version", node_image_version),
                                         ("os_sku", os_sku), ("k8s_version", k8s_version))
                       if v is not None}
            delay = self.delays["node_reimage"] if ready_after is None else ready_after
            if delay > 0:
                self.set_ready(name, False)
                self._later(delay, self._reimaged, name, node["metadata"]["uid"], changes,
                            name="node-reimaged")
            else:
                self._reimaged(name, node["metadata"]["uid"], changes)
            return node

    def _reimaged(self, name, uid, changes):
        node = self.node(name)
        if node is None or node["metadata"]["uid"] != uid:
            return
        target = dataclasses.replace(self._pool_of(node), **changes)
        self._reimage(node, target, bump=False)
        node["status"]["nodeInfo"]["bootID"] = str(uuid.UUID(hashlib.sha256(     # a new boot of the same machine
            ("boot/%s/%s/%s" % (name, target.node_image_version, self.rv)).encode()
        ).hexdigest()[:32]))
        self.set_ready(name, True)

    def remove_pool(self, pool_name):
        with self.lock:
            for node in self.pool_nodes(pool_name):
                self.remove_node(node["metadata"]["name"])

    def remove_node(self, name):
        """Delete a node (as the cloud provider does once its VM is gone);
        its pods go at once, a controller's replaced elsewhere, a bare one
        lost (counted in safety.lost_pods), one that took a PDB below its
        desiredHealthy counted in safety.pdb_violations."""
        with self.lock:
            node = self.node(name)
            if node is not None:
                self._drop("nodes", node)
            for pod in self.pods(node=name):
                self._remove_pod(pod, "node-removed")
            return node is not None

    def node(self, name):
        return self.objects["nodes"].get(("", name))

    def nodes(self):
        return [n for _, n in sorted(self.objects["nodes"].items())]

    def pods(self, node=None, namespace=None):
        return [p for (ns, _), p in sorted(self.objects["pods"].items())
                if (node is None or p["spec"].get("nodeName") == node)
                and (namespace is None or ns == namespace)]

    def pod(self, namespace, name):
        return self.objects["pods"].get((namespace, name))

    def set_ready(self, name, ready):
        """Set a node's Ready condition (and its not-ready taint); pods
        waiting for a node are scheduled when one becomes Ready."""
        with self.lock:
            node = self.node(name)
            node["status"]["conditions"] = self._conditions(ready, rfc3339(self.clock.now()))
            taints = [t for t in node["spec"].get("taints", [])
                      if t["key"] != "node.kubernetes.io/not-ready"]
            if not ready and not self._building:
                taints.append({"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule",
                               "timeAdded": rfc3339(self.clock.now())})
            if taints or "taints" in node["spec"]:
                node["spec"]["taints"] = taints
            self._bump(node)
            if ready:
                self._schedule_pending()

    def cordon(self, name, flag=True):
        """spec.unschedulable, as `kubectl cordon` sets it (flag False: uncordon)."""
        with self.lock:
            node = self.node(name)
            if flag:
                node["spec"]["unschedulable"] = True
            else:
                node["spec"].pop("unschedulable", None)
            self._bump(node)
            if not flag:
                self._schedule_pending()

    def uncordon(self, name):
        self.cordon(name, False)

    def label_node(self, name, key, value):
        """Set (value None: remove) a node label, e.g. the upgrader's
        kubernetes.azure.com/upgrade-status=Quarantined."""
        with self.lock:
            labels = self.node(name)["metadata"].setdefault("labels", {})
            if value is None:
                labels.pop(key, None)
            else:
                labels[key] = value
            self._bump(self.node(name))

    # --- time ------------------------------------------------------------

    def _later(self, delay, fn, *args, name=None):
        """fn(*args) under the lock `delay` simulated seconds from now."""
        def run():
            with self.lock:
                fn(*args)
        return self.clock.call_later(delay, run, name="%s/%s" % (self.cluster.name,
                                                                 name or fn.__name__))

    def wait_until(self, predicate, timeout=None):
        """Block until predicate() (called under the lock) is true, or until
        `timeout` simulated seconds passed (None: no limit); returns whether
        it became true. For the roller's thread: never under the lock of
        another cluster, and not while this thread must step the clock."""
        deadline = None if timeout is None else self.clock.now() + timeout
        with self.lock:
            while not predicate():
                if deadline is not None:
                    left = deadline - self.clock.now()
                    if left <= 0:
                        return False
                    self._changed.wait(min(0.05, self.clock.wall(left)))
                else:
                    self._changed.wait(0.05)
            return True

    def wait_gone(self, pods, timeout=None):
        """Wait until each pod (an object, or (namespace, name, uid)) is gone:
        no pod of that name, or one with another uid (kubectl drain's test).
        Returns the ones still there when `timeout` simulated seconds passed."""
        keys = [(p["metadata"]["namespace"], p["metadata"]["name"], p["metadata"]["uid"])
                if isinstance(p, dict) else tuple(p) for p in pods]

        def left():
            return [k for k in keys if (self.pod(k[0], k[1]) or {"metadata": {}})
                    ["metadata"].get("uid") == k[2]]
        self.wait_until(lambda: not left(), timeout)
        with self.lock:
            return left()

    # --- events ------------------------------------------------------------

    def record_event(self, kind, name, reason, message, type="Normal", namespace="default",
                     component="upgrader", involved_namespace=""):
        """A core/v1 Event about object kind/name (listed by `kubectl get
        events`); a repeat of the same reason and message counts up."""
        with self.lock:
            target = self.objects.get(_KIND_PLURAL.get(kind, ""), {}).get(
                (involved_namespace, name))
            now = rfc3339(self.clock.now())
            for ev in self.objects["events"].values():
                if (ev["metadata"]["namespace"] == namespace
                        and ev["involvedObject"]["name"] == name
                        and ev["involvedObject"]["kind"] == kind
                        and (ev["reason"], ev["message"]) == (reason, message)):
                    ev["count"] += 1
                    ev["lastTimestamp"] = now
                    return self._bump(ev)
            involved = {"kind": kind, "name": name,
                        "apiVersion": "v1" if kind in ("Node", "Pod") else "apps/v1"}
            if involved_namespace:
                involved["namespace"] = involved_namespace
            if target is not None:
                involved["uid"] = target["metadata"]["uid"]
            self.add_namespace(namespace)
            return self._put("events", {
                "apiVersion": "v1", "kind": "Event",
                "metadata": {"name": "%s.%016x" % (name, self._rng.getrandbits(64)),
                             "namespace": namespace},
                "involvedObject": involved, "reason": reason, "message": message,
                "type": type, "count": 1, "firstTimestamp": now, "lastTimestamp": now,
                "source": {"component": component}, "reportingComponent": component,
                "reportingInstance": ""})

    def aks_event(self, key, node, **fields):
        """The event AKS's upgrader emits (AKS_EVENTS[key]) on node/<node>;
        fields fill the message (pool, pod, soak)."""
        reason, type_, fmt = AKS_EVENTS[key]
        return self.record_event("Node", node, reason, fmt.format(node=node, **fields), type_)

    def events(self, reason=None):
        return [e for _, e in sorted(self.objects["events"].items())
                if reason is None or e["reason"] == reason]

    # --- safety ------------------------------------------------------------

    def _check_system_nodes(self):
        system = [n for n in self.objects["nodes"].values()
                  if n["metadata"]["labels"].get(_SYSTEM[0]) == _SYSTEM[1]]
        if not any(p.mode == "System" for p in self.cluster.pools) and not system:
            return
        down = not any(_is_ready(n) for n in system)
        now = self.clock.now()
        if down and self._system_down is None:
            self._system_down = {"start": now, "end": None}
            self.safety.no_ready_system_node.append(self._system_down)
        elif not down and self._system_down is not None:
            self._system_down["end"] = now
            self._system_down = None

    def _pdbs_of(self, pod):
        ns = pod["metadata"]["namespace"]
        labels = pod["metadata"].get("labels", {})
        return [p for (pns, _), p in sorted(self.objects["poddisruptionbudgets"].items())
                if pns == ns and label_selector_of(p["spec"]["selector"])(labels)]

    def _note_disruption(self, pod, via, before):
        """After a healthy pod stopped counting: each PDB it took below its
        desiredHealthy (from `before`, {pdb key: status}) is a violation."""
        for pdb in self._pdbs_of(pod):
            key = _key(pdb)
            st = self._pdb_status(pdb)
            if st["currentHealthy"] < st["desiredHealthy"] <= before[key]["currentHealthy"]:
                self.safety.pdb_violations.append({
                    "t": self.clock.now(), "pdb": "%s/%s" % key,
                    "pod": "%s/%s" % _key(pod), "via": via,
                    "healthy": st["currentHealthy"], "desired": st["desiredHealthy"]})

    def pdbs_of(self, pod):
        """The PodDisruptionBudgets whose selector takes the pod."""
        with self.lock:
            return self._pdbs_of(pod)

    def _pdb_snapshot(self, pod):
        return {_key(p): self._pdb_status(p) for p in self._pdbs_of(pod)}

    # --- workloads -----------------------------------------------------

    def add_daemonset(self, namespace, name, node_selector=None):
        with self.lock:
            self.add_namespace(namespace)
            ds = self._put("daemonsets", {
                "apiVersion": "apps/v1", "kind": "DaemonSet",
                "metadata": {"name": name, "namespace": namespace, "generation": 1,
                             "labels": {"k8s-app": name},
                             "creationTimestamp": rfc3339(self._now - 30 * 86400)},
                "spec": {"selector": {"matchLabels": {"k8s-app": name}},
                         "template": {"spec": {"nodeSelector": node_selector or {}}}},
                "status": {}})
            for node in self.nodes():
                self._place_daemonset(ds, node)
            return ds

    def _place_daemonsets(self, node_name, start=False):
        node = self.node(node_name)
        for ds in list(self.objects["daemonsets"].values()):
            self._place_daemonset(ds, node, start)

    def _place_daemonset(self, ds, node, start=False):
        selector = ds["spec"]["template"]["spec"]["nodeSelector"]
        labels = node["metadata"]["labels"]
        if all(labels.get(k) == v for k, v in selector.items()):
            meta = ds["metadata"]
            self._pod(meta["namespace"], "%s-%s" % (meta["name"], self._suffix()),
                      node, {"k8s-app": meta["name"]}, ("apps/v1", "DaemonSet", meta),
                      node_selector=selector, start=start)

    def add_deployment(self, namespace, name, replicas, nodes=None, node_selector=None,
                       empty_dir=False, labels=None, tolerations=None, requests=None,
                       init_requests=None):
        """A Deployment, its ReplicaSet and `replicas` pods (Running and Ready)
        placed round-robin on `nodes` (default: the scheduler's choice among
        matching nodes; Pending where none fits). tolerations: extra
        core/v1 tolerations of its pods; requests / init_requests: its
        container's and an init container's resources.requests ({"cpu": "2",
        "memory": "4Gi"}; default cpu 10m, no init container)."""
        with self.lock:
            self.add_namespace(namespace)
            labels = dict(labels or {"app": name})
            pod_hash = hashlib.sha256((namespace + name).encode()).hexdigest()
            pod_hash = "".join(_POD_SUFFIX[int(c, 16) % len(_POD_SUFFIX)] for c in pod_hash[:10])
            template = _template(dict(labels, **{"pod-template-hash": pod_hash}),
                                 node_selector, empty_dir, tolerations, requests,
                                 init_requests)
            dep = self._workload("Deployment", namespace, name, labels, replicas, template)
            rs = self._put("replicasets", {
                "apiVersion": "apps/v1", "kind": "ReplicaSet",
                "metadata": {"name": "%s-%s" % (name, pod_hash), "namespace": namespace,
                             "labels": template["metadata"]["labels"],
                             "ownerReferences": [_owner("apps/v1", "Deployment",
                                                        dep["metadata"])]},
                "spec": {"replicas": replicas, "template": template,
                         "selector": {"matchLabels": template["metadata"]["labels"]}},
                "status": {"replicas": replicas}})
            for i in range(replicas):
                node = nodes[i % len(nodes)] if nodes else self._schedule(rs, None)
                self._rs_pod(rs, node)
            return dep

    def add_statefulset(self, namespace, name, replicas, node_selector=None, labels=None,
                        tolerations=None, requests=None, init_requests=None):
        """A StatefulSet and its pods <name>-0..N-1 (Running and Ready). A pod
        of it that goes is recreated under the same name once it is gone."""
        with self.lock:
            self.add_namespace(namespace)
            labels = dict(labels or {"app": name})
            sts = self._workload("StatefulSet", namespace, name, labels, replicas,
                                 _template(labels, node_selector, False, tolerations,
                                           requests, init_requests),
                                 serviceName=name)
            for i in range(replicas):
                self._owned_pod(sts, "%s-%d" % (name, i), self._schedule(sts, None))
            return sts

    def _workload(self, kind, namespace, name, labels, replicas, template, **spec):
        return self._put(_KIND_PLURAL[kind], {
            "apiVersion": "apps/v1", "kind": kind,
            "metadata": {"name": name, "namespace": namespace, "generation": 1,
                         "labels": labels},
            "spec": dict(spec, replicas=replicas, selector={"matchLabels": labels},
                         template=template),
            "status": {"replicas": replicas, "readyReplicas": replicas}})

    def _rs_pod(self, rs, node, start=False):
        return self._owned_pod(rs, "%s-%s" % (rs["metadata"]["name"], self._suffix()), node,
                               start)

    def _owned_pod(self, owner, name, node, start=False):
        meta = owner["metadata"]
        spec = owner["spec"]["template"]["spec"]
        return self._pod(meta["namespace"], name, node,
                         owner["spec"]["template"]["metadata"]["labels"],
                         ("apps/v1", owner["kind"], meta),
                         empty_dir=any("emptyDir" in v for v in spec["volumes"]),
                         node_selector=spec["nodeSelector"], start=start,
                         tolerations=spec.get("tolerations"), requests=_template_requests(spec),
                         init_requests=_template_requests(spec, "initContainers"))

    def add_pod(self, namespace, name, node_name, labels=None, empty_dir=False, owner=None,
                requests=None):
        """A pod on a node; owner is (apiVersion, kind, metadata) or None (bare pod)."""
        with self.lock:
            self.add_namespace(namespace)
            return self._pod(namespace, name, self.node(node_name), labels or {"run": name},
                             owner, empty_dir=empty_dir, requests=requests)

    def _pod(self, namespace, name, node, labels, owner, empty_dir=False, node_selector=None,
             start=False, tolerations=None, requests=None, init_requests=None):
        """A pod on `node` (None: Pending, unschedulable): Running and Ready,
        or with start=True ContainerCreating, Running after delays["pod_start"]
        and Ready delays["pod_ready"] later."""
        volumes = [{"name": "kube-api-access", "projected": {"sources": [
            {"serviceAccountToken": {"path": "token", "expirationSeconds": 3607}}]}}]
        if empty_dir:
            volumes.append({"name": "tmp", "emptyDir": {}})
        running = node is not None
        created = self.clock.now()
        if self._building and node:
            created = max(parse_time(node["metadata"]["creationTimestamp"]) + 90,
                          self._now - 30 * 86400)
        container = owner[2]["name"] if owner else name
        meta = {"name": name, "namespace": namespace, "labels": dict(labels),
                "creationTimestamp": rfc3339(created)}
        if owner:
            meta["ownerReferences"] = [_owner(*owner)]
        pod = {
            "apiVersion": "v1", "kind": "Pod", "metadata": meta,
            "spec": {"containers": [{"name": container, "image": "mcr.microsoft.com/oss/%s:v1"
                                     % container,
                                     "resources": {"requests": dict(requests
                                                                    or DEFAULT_REQUESTS)}}],
                     "volumes": volumes, "restartPolicy": "Always",
                     "terminationGracePeriodSeconds": 30, "schedulerName": "default-scheduler",
                     "serviceAccountName": "default", "nodeSelector": dict(node_selector or {}),
                     "tolerations": [{"key": "CriticalAddonsOnly", "operator": "Exists"}]
                     + list(tolerations or [])},
            "status": {"phase": "Running" if running else "Pending", "qosClass": "Burstable"},
        }
        if init_requests:
            pod["spec"]["initContainers"] = [{
                "name": "init", "image": "mcr.microsoft.com/oss/%s:v1" % container,
                "resources": {"requests": dict(init_requests)}}]
        if running:
            self._bind(pod, node, created)
            if start:
                self._start_later(pod, uid=self._uid())
        else:
            pod["status"]["conditions"] = [{"type": "PodScheduled", "status": "False",
                                            "reason": "Unschedulable"}]
        return self._put("pods", pod)

    def _bind(self, pod, node, created):
        container = pod["spec"]["containers"][0]
        pod["spec"]["nodeName"] = node["metadata"]["name"]
        host_ip = node["status"]["addresses"][0]["address"]
        ts = rfc3339(created)
        pod["status"].update({
            "phase": "Running",
            "hostIP": host_ip, "podIP": "10.244.%d.%d" % (self._rng.randrange(256),
                                                          self._rng.randrange(2, 250)),
            "startTime": ts,
            "conditions": [{"type": t, "status": "True", "lastTransitionTime": ts}
                           for t in ("Initialized", "Ready", "ContainersReady",
                                     "PodScheduled")],
            "containerStatuses": [{"name": container["name"], "ready": True, "restartCount": 0,
                                   "started": True, "image": container["image"],
                                   "state": {"running": {"startedAt": ts}},
                                   "containerID": "containerd://%064x"
                                   % self._rng.getrandbits(256)}]})

    def _start_later(self, pod, uid=None):
        """Make a just-bound pod start: ContainerCreating now, then Running,
        then Ready, on the clock. uid: the one it is about to get."""
        if uid is not None:
            pod["metadata"]["uid"] = uid
        status = pod["status"]
        status["phase"] = "Pending"
        for cond in status["conditions"]:
            if cond["type"] != "PodScheduled":
                cond["status"] = "False"
        cs = status["containerStatuses"][0]
        cs.update(ready=False, started=False,
                  state={"waiting": {"reason": "ContainerCreating"}})
        key, uid = _key(pod), pod["metadata"].get("uid")
        self._later(self.delays["pod_start"], self._pod_step, key, uid, "start",
                    name="pod-start")

    def _pod_step(self, key, uid, step):
        pod = self.objects["pods"].get(key)
        if pod is None or pod["metadata"]["uid"] != uid or pod["metadata"].get(
                "deletionTimestamp"):
            return
        status, now = pod["status"], rfc3339(self.clock.now())
        cs = status["containerStatuses"][0]
        if step == "start":
            status["phase"] = "Running"
            for cond in status["conditions"]:
                if cond["type"] == "Initialized":
                    cond.update(status="True", lastTransitionTime=now)
            cs.update(started=True, state={"running": {"startedAt": now}})
            self._later(self.delays["pod_ready"], self._pod_step, key, uid, "ready",
                        name="pod-ready")
        else:
            for cond in status["conditions"]:
                cond.update(status="True", lastTransitionTime=now)
            cs["ready"] = True
        self._bump(pod)

    def _free(self):
        """node name -> (cpu, memory) allocatable less the requests of the
        pods bound there that are not Succeeded or Failed (terminating ones
        too), as the scheduler's NodeInfo counts them."""
        free = {}
        for node in self.objects["nodes"].values():
            alloc = node["status"].get("allocatable", {})
            free[node["metadata"]["name"]] = [parse_quantity(alloc.get("cpu", "0")),
                                              parse_quantity(alloc.get("memory", "0"))]
        for pod in self.objects["pods"].values():
            left = free.get(pod["spec"].get("nodeName"))
            if left is None or pod["status"].get("phase") in ("Succeeded", "Failed"):
                continue
            cpu, mem = pod_requests(pod["spec"])
            left[0] -= cpu
            left[1] -= mem
        return free

    def _schedule(self, owner, avoid):
        """The schedulable Ready node for the owner's pod template (its node
        selector, default kubernetes.io/os=linux; taints it does not tolerate
        excluded; not cordoned; room for its requests) with the fewest of the
        owner's pods, or None (the pod stays Pending)."""
        spec = owner["spec"]["template"]["spec"]
        selector = dict(spec["nodeSelector"])
        selector.setdefault("kubernetes.io/os", "linux")
        tolerations = [{"key": "CriticalAddonsOnly", "operator": "Exists"}] + list(
            spec.get("tolerations") or [])
        owned = {}
        for pod in self.pods(namespace=owner["metadata"]["namespace"]):
            refs = pod["metadata"].get("ownerReferences", [])
            if refs and refs[0]["uid"] == owner["metadata"]["uid"]:
                owned[pod["spec"].get("nodeName")] = owned.get(pod["spec"].get("nodeName"), 0) + 1
        best = None
        need, free = pod_requests(spec), None
        for node in self._match_nodes(selector):
            name = node["metadata"]["name"]
            if (name == avoid or node["spec"].get("unschedulable") or not _is_ready(node)
                    or not _tolerates(tolerations, node["spec"].get("taints", []))):
                continue
            free = free or self._free()
            if need[0] > free[name][0] or need[1] > free[name][1]:
                continue
            if best is None or owned.get(name, 0) < owned.get(best["metadata"]["name"], 0):
                best = node
        return best

    def _controller_of(self, pod):
        meta = pod["metadata"]
        owner = (meta.get("ownerReferences") or [{}])[0]
        plural = _CONTROLLERS.get(owner.get("kind"))
        controller = plural and self.objects[plural].get((meta["namespace"], owner["name"]))
        if controller and controller["metadata"]["uid"] == owner.get("uid"):
            return controller
        return None

    def _sync_owner_status(self, pod):
        """Keep a ReplicaSet's or StatefulSet's status (and its Deployment's)
        counting its pods: replicas not terminating, ready and available."""
        owner = self._controller_of(pod)
        if owner is None or owner["kind"] == "DaemonSet":
            return
        uid = owner["metadata"]["uid"]
        active = [p for p in self.pods(namespace=owner["metadata"]["namespace"])
                  if (p["metadata"].get("ownerReferences") or [{}])[0].get("uid") == uid
                  and not p["metadata"].get("deletionTimestamp")]
        ready = sum(1 for p in active if _pod_ready(p))
        counts = {"replicas": len(active), "readyReplicas": ready, "availableReplicas": ready}
        targets = [owner]
        ref = (owner["metadata"].get("ownerReferences") or [{}])[0]
        if ref.get("kind") == "Deployment":
            dep = self.objects["deployments"].get((owner["metadata"]["namespace"], ref["name"]))
            targets += [dep] if dep else []
        for obj in targets:
            status = obj.setdefault("status", {})
            if any(status.get(k) != v for k, v in counts.items()):
                status.update(counts)
                self._bump(obj)

    def _schedule_pending(self):
        """Bind the Pending pods no node took (a controller's) where one fits now."""
        for pod in self.pods():
            if pod["spec"].get("nodeName") or pod["metadata"].get("deletionTimestamp"):
                continue
            owner = self._controller_of(pod)
            if owner is None or owner["kind"] == "DaemonSet":
                continue
            node = self._schedule(owner, None)
            if node is not None:
                self._bind(pod, node, self.clock.now())
                self._start_later(pod)
                self._bump(pod)

    # --- deletion, eviction, the controllers' answer ------------------------

    def evict(self, namespace, name, grace=None, dry_run=False):
        """What POST .../pods/<name>/eviction does (the HTTP handler calls
        this): (201, None) when the pod starts terminating (or already was);
        (429, message, details) when a PDB does not allow it; (500, message)
        for a pod under two PDBs; (404, message) when there is no such pod."""
        with self.lock:
            pod = self.pod(namespace, name)
            if pod is None:
                return 404, 'pods "%s" not found' % name, None
            try:
                self._check_pdbs(pod)
            except ApiError as e:
                return e.code, e.message, e.details
            if not dry_run:
                self._terminate(pod, grace, "eviction")
            return 201, None, None

    def delete_pod(self, namespace, name, grace=None, via="delete"):
        """What DELETE of a pod does (no PDB check): graceful, with the pod's
        terminationGracePeriodSeconds or `grace` (0: gone at once). Returns
        the pod, or None if there is none."""
        with self.lock:
            pod = self.pod(namespace, name)
            if pod is not None:
                self._terminate(pod, grace, via)
            return pod

    def _terminate(self, pod, grace, via):
        """Graceful deletion: deletionTimestamp and deletionGracePeriodSeconds
        set, the controller's replacement made at once (a StatefulSet's once
        this one is gone), the pod gone when its containers stop (delays
        ["pod_stop"], at most the grace period) or at once with grace 0."""
        if grace is None:
            grace = pod["spec"].get("terminationGracePeriodSeconds", 30)
        grace = max(int(grace), 0)
        meta = pod["metadata"]
        if not pod["spec"].get("nodeName") or pod["status"].get("phase") in ("Succeeded",
                                                                            "Failed"):
            grace = 0           # nothing runs: the API server deletes it at once
        if meta.get("deletionTimestamp"):
            left = parse_time(meta["deletionTimestamp"]) - self.clock.now()
            if grace > 0 and grace >= left:
                return          # already terminating, no sooner
        before = self._pdb_snapshot(pod)
        if grace == 0:
            self._remove_pod(pod, via, before)
            return
        first = not meta.get("deletionTimestamp")
        meta["deletionTimestamp"] = rfc3339(self.clock.now() + grace)
        meta["deletionGracePeriodSeconds"] = grace
        self._bump(pod)
        if first:
            self._note_disruption(pod, via, before)
            self._replace(pod, terminating=True)
        stop = self.delays["pod_stop"]
        self._later(grace if stop is None else min(stop, grace), self._pod_gone, _key(pod),
                    meta["uid"], via, name="pod-gone")

    def _pod_gone(self, key, uid, via):
        """The containers stopped: the kubelet reports them terminated (not
        ready), then the pod object goes."""
        pod = self.objects["pods"].get(key)
        if pod is None or pod["metadata"]["uid"] != uid:
            return
        now = rfc3339(self.clock.now())
        for cond in pod["status"].get("conditions", []):
            if cond["type"] in ("Ready", "ContainersReady"):
                cond.update(status="False", lastTransitionTime=now)
        for cs in pod["status"].get("containerStatuses", []):
            cs.update(ready=False, started=False, state={"terminated": {
                "exitCode": 0, "reason": "Completed", "finishedAt": now}})
        self._bump(pod)
        self._remove_pod(pod, via)

    def _remove_pod(self, pod, via, before=None):
        """The pod object goes now; safety records and the controller's answer."""
        terminating = bool(pod["metadata"].get("deletionTimestamp"))
        if before is None:
            before = self._pdb_snapshot(pod)
        if not self._drop("pods", pod):
            return
        if not terminating:
            self._note_disruption(pod, via, before)
        if self._controller_of(pod) is None:
            self.safety.lost_pods.append({"t": self.clock.now(), "pod": "%s/%s" % _key(pod),
                                          "via": via})
        self._replace(pod, terminating=False, was_terminating=terminating)

    def _replace(self, pod, terminating, was_terminating=False):
        """The controller's answer to a pod that stopped counting: a
        ReplicaSet's replacement at once on a schedulable node; a
        StatefulSet's under the same name once it is gone; a DaemonSet's on
        the same node once it is gone, while the node exists."""
        controller = self._controller_of(pod)
        if controller is None:
            return
        kind = controller["kind"]
        node_name = pod["spec"].get("nodeName")
        if kind == "ReplicaSet":
            if terminating or not was_terminating:
                self._rs_pod(controller, self._schedule(controller, None),
                             start=not self._building)
        elif terminating:
            return
        elif kind == "StatefulSet":
            self._owned_pod(controller, pod["metadata"]["name"],
                            self._schedule(controller, None), start=True)
        elif self.node(node_name) is not None:
            self._place_daemonset(controller, self.node(node_name), start=True)

    def add_pdb(self, namespace, name, match_labels, min_available=None, max_unavailable=None):
        """Add or replace a policy/v1 PodDisruptionBudget."""
        with self.lock:
            self.add_namespace(namespace)
            spec = {"selector": {"matchLabels": dict(match_labels)}}
            if min_available is not None:
                spec["minAvailable"] = min_available
            if max_unavailable is not None:
                spec["maxUnavailable"] = max_unavailable
            pdb = self._put("poddisruptionbudgets", {
                "apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
                "metadata": {"name": name, "namespace": namespace, "generation": 1},
                "spec": spec})
            if not self._building:
                self._sync_pdb(pdb)
            return pdb

    def add_webhook(self, name, resources=("pods/eviction",), operations=("CREATE",),
                    failure_policy="Fail"):
        """Add an admissionregistration.k8s.io/v1 ValidatingWebhookConfiguration
        with one webhook whose rule covers `resources` of the core group (its
        calls are not made: the object is there to be listed)."""
        with self.lock:
            return self._put("validatingwebhookconfigurations", {
                "apiVersion": "admissionregistration.k8s.io/v1",
                "kind": "ValidatingWebhookConfiguration",
                "metadata": {"name": name, "generation": 1},
                "webhooks": [{"name": "%s.example.com" % name, "failurePolicy": failure_policy,
                              "sideEffects": "None", "admissionReviewVersions": ["v1"],
                              "clientConfig": {"service": {"namespace": "default",
                                                           "name": name}},
                              "rules": [{"apiGroups": [""], "apiVersions": ["v1"],
                                         "operations": list(operations),
                                         "resources": list(resources),
                                         "scope": "*"}]}]})

    def deny_evictions(self, namespace, name, webhook="drain-cleaner", message=None,
                       code=400, reason="", refusals=None, move_after=None):
        """A validating admission webhook on pods/eviction (add_webhook's
        configuration, whose calls this one makes) that refuses to let the
        pod namespace/name - the one there now, by uid - be evicted. The API
        server relays the refusal as ToStatusErr writes it: the webhook's
        code (400 when it gives none below 400), its reason (none by
        default), message 'admission webhook "<webhook>.example.com" denied
        the request: <message>'. refusals: it lets the eviction through
        after that many. move_after: after that many refusals the webhook's
        operator deletes the pod itself (gracefully, as a drain cleaner's
        operator rolls it), and its controller recreates it elsewhere; the
        webhook goes on refusing that pod while it exists."""
        with self.lock:
            pod = self.pod(namespace, name)
            full = "%s.example.com" % webhook
            if webhook not in {w["metadata"]["name"] for w in
                               self.objects["validatingwebhookconfigurations"].values()}:
                self.add_webhook(webhook)
            rule = {"uid": pod["metadata"]["uid"], "webhook": full, "code": max(code, 400),
                    "reason": reason, "refusals": refusals, "move_after": move_after,
                    "denied": 0,
                    "message": message or "pod %s/%s is moved by its operator" % (namespace,
                                                                                  name)}
            self.eviction_denials.append(rule)
            return rule

    def _admit_eviction(self, pod):
        """The validating webhooks' say on an eviction (ApiError: refused).
        EvictionREST calls them before it looks at any PDB."""
        uid = pod["metadata"]["uid"]
        for rule in self.eviction_denials:
            if rule["uid"] != uid:
                continue
            if rule["refusals"] is not None and rule["denied"] >= rule["refusals"]:
                continue
            rule["denied"] += 1
            if rule["move_after"] is not None and rule["denied"] == rule["move_after"]:
                self._terminate(pod, None, "operator")
            raise ApiError(rule["code"], 'admission webhook "%s" denied the request: %s'
                           % (rule["webhook"], rule["message"]), reason=rule["reason"])

    def _sync_pdb(self, pdb):
        """Store the PDB's status when it changed (a MODIFIED for watchers)."""
        status = self._pdb_status(pdb)
        if pdb.get("status") != status:
            pdb["status"] = status
            self._bump(pdb)

    def pdb_status(self, namespace, name):
        """A PDB's status as the disruption controller keeps it, now."""
        with self.lock:
            return self._pdb_status(self.objects["poddisruptionbudgets"][(namespace, name)])

    def _expected_scale(self, pods):
        """The disruption controller's expected count: the scale of the
        pods' controllers (a Deployment's through its ReplicaSet), a bare
        pod or a DaemonSet's counting as itself."""
        total, seen = 0, set()
        for pod in pods:
            controller = self._controller_of(pod)
            if controller is None or controller["kind"] == "DaemonSet":
                total += not pod["metadata"].get("deletionTimestamp")
                continue
            if controller["metadata"]["uid"] not in seen:
                seen.add(controller["metadata"]["uid"])
                total += controller["spec"]["replicas"]
        return total

    def _pdb_status(self, pdb):
        """The controller's view, from the pods now: expected, healthy
        (Ready and not terminating), desired and allowed."""
        ns = pdb["metadata"]["namespace"]
        match = label_selector_of(pdb["spec"]["selector"])
        pods = [p for p in self.pods(namespace=ns) if match(p["metadata"].get("labels", {}))]
        healthy = sum(1 for p in pods if _pod_ready(p)
                      and not p["metadata"].get("deletionTimestamp"))
        spec = pdb["spec"]
        if "minAvailable" in spec and not str(spec["minAvailable"]).endswith("%"):
            expected = len(pods)
            desired = int(spec["minAvailable"])
        elif "minAvailable" in spec:
            expected = self._expected_scale(pods)
            desired = _scaled(spec["minAvailable"], expected, up=True)
        else:
            expected = self._expected_scale(pods)
            desired = expected - _scaled(spec.get("maxUnavailable", 0), expected, up=True)
        return {"observedGeneration": 1, "currentHealthy": healthy,
                "desiredHealthy": max(desired, 0), "expectedPods": expected,
                "disruptionsAllowed": max(healthy - desired, 0)}

    # --- authentication and authorisation --------------------------------

    def forbid(self, user, verb, resource):
        """Deny `verb` on `resource` ("nodes", "pods/eviction") to `user`."""
        with self.lock:
            self.forbidden.add((user, verb, resource))

    def authenticate(self, req):
        """Set req.auth and return (user, groups), or None."""
        if req.bearer is not None:
            entry = self.tokens.get(req.bearer)
            if entry is None:
                req.auth = "token:invalid"
                return None
            user, groups = (entry, []) if isinstance(entry, str) else entry
            req.auth = "token:" + user
            return user, list(groups) + ["system:authenticated"]
        if req.client_cert and req.client_cert.get("CN"):
            req.auth = "cert:" + req.client_cert["CN"]
            return req.client_cert["CN"], req.client_cert["O"] + ["system:authenticated"]
        req.auth = "none"
        return None

    def _authorize(self, user, verb, route):
        resource = route["plural"] + ("/" + route["sub"] if route["sub"] else "")
        for u, v, r in self.forbidden:
            if u in (user, "*") and v in (verb, "*") and r in (resource, "*"):
                break
        else:
            return
        what = route["plural"] + (' "%s"' % route["name"] if route["name"] else "")
        scope = ('in the namespace "%s"' % route["ns"] if route["ns"]
                 else "at the cluster scope")
        raise ApiError(403, '%s is forbidden: User "%s" cannot %s resource "%s" in API group '
                       '"%s" %s' % (what, user, verb, resource, route["group"], scope),
                       details={"name": route["name"] or "", "group": route["group"],
                                "kind": route["plural"]})

    # --- HTTP ------------------------------------------------------------

    def handle(self, req):
        from .server import Response
        with self.lock:
            try:
                status, body, headers = self._handle(req)
            except ApiError as e:
                status, headers = e.code, e.headers
                body = status_body(e.code, e.reason, e.message, e.details)
            if isinstance(body, Watch):
                data = None
            else:
                data = body.data if isinstance(body, _Encoded) else json.dumps(body).encode()
        headers = dict(headers, **{"Content-Type": "application/json",
                                   "Audit-Id": str(uuid.uuid4()),
                                   "Cache-Control": "no-cache, private",
                                   "X-Kubernetes-Pf-Flowschema-Uid": self._secret.hex()[:8]})
        resp = Response(status, data, headers)
        if isinstance(body, Watch):
            resp.stream = body          # server.py streams it
        return resp

    def _handle(self, req):
        who = self.authenticate(req)
        if who is None and (req.auth == "token:invalid" or req.path not in _ANONYMOUS_PATHS):
            raise ApiError(401, "Unauthorized")
        if req.path == "/version":
            return 200, self._version(), {}
        if req.path in ("/healthz", "/livez", "/readyz"):
            return 200, "ok", {}
        if req.path == "/metrics":
            return self._metrics()
        discovery = self._discovery(req.path)
        if discovery is not None:
            return 200, discovery, {}
        route = self._route(req.path)
        verb = self._verb(req, route)
        self._authorize(who[0], verb, route)
        return getattr(self, "_do_" + verb)(req, route)

    def _metrics(self):
        """The Prometheus text of kube-apiserver, the deprecated-API gauge
        alone (and a request counter, as a reader must skip what it does not
        know)."""
        if self.metrics_forbidden:
            raise ApiError(403, "Forbidden", 'forbidden: User cannot get path "/metrics"')
        lines = ["# HELP apiserver_requested_deprecated_apis [STABLE] Gauge of deprecated APIs "
                 "that have been requested, broken out by API group, version, resource, "
                 "subresource, and removed_release.",
                 "# TYPE apiserver_requested_deprecated_apis gauge"]
        for d in self.deprecated_apis:
            lines.append('apiserver_requested_deprecated_apis{group="%s",removed_release="%s",'
                         'resource="%s",subresource="%s",version="%s"} 1'
                         % (d["group"], d["removed_release"], d["resource"],
                            d.get("subresource", ""), d["version"]))
        lines += ["# TYPE apiserver_request_total counter",
                  'apiserver_request_total{code="200",component="apiserver",verb="GET"} 42']
        return 200, _Encoded(("\n".join(lines) + "\n").encode()), {}

    def _version(self):
        major, minor, _ = self.version.split(".")
        return {"major": major, "minor": minor, "gitVersion": "v" + self.version,
                "gitCommit": hashlib.sha1(self.version.encode()).hexdigest(),
                "gitTreeState": "clean", "buildDate": "2026-06-11T09:21:43Z",
                "goVersion": "go1.23.8", "compiler": "gc", "platform": "linux/amd64"}

    def _discovery(self, path):
        groups = {}
        for g, v, plural, kind, namespaced, short in RESOURCES:
            groups.setdefault((g, v), []).append({
                "name": plural, "singularName": kind.lower(), "namespaced": namespaced,
                "kind": kind, "verbs": _VERBS, "shortNames": short,
                **({"categories": ["all"]} if plural in ("pods", "daemonsets", "deployments",
                                                         "replicasets", "statefulsets") else {})})
        groups[("", "v1")].append({"name": "pods/eviction", "singularName": "",
                                   "namespaced": True, "group": "policy", "version": "v1",
                                   "kind": "Eviction", "verbs": ["create"]})
        if path == "/api":
            return {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [
                {"clientCIDR": "0.0.0.0/0",
                 "serverAddress": urlsplit(self.cluster.server_url).netloc}]}
        if path == "/apis":
            return {"kind": "APIGroupList", "apiVersion": "v1",
                    "groups": [_group(g, v) for (g, v) in groups if g]}
        m = re.fullmatch(r"/api/(v1)|/apis/([^/]+)/([^/]+)|/apis/([^/]+)", path)
        if not m:
            return None
        if m.group(4):
            if (m.group(4), "v1") not in groups:
                raise ApiError(404, "the server could not find the requested resource")
            return dict(_group(m.group(4), "v1"), kind="APIGroup", apiVersion="v1")
        g, v = ("", "v1") if m.group(1) else (m.group(2), m.group(3))
        if (g, v) not in groups:
            raise ApiError(404, "the server could not find the requested resource")
        return {"kind": "APIResourceList", "apiVersion": "v1",
                "groupVersion": "%s/%s" % (g, v) if g else v, "resources": groups[(g, v)]}

    def _route(self, path):
        m = re.fullmatch(r"/api/v1/(.*)|/apis/([^/]+)/([^/]+)/(.*)", path)
        if not m:
            raise ApiError(404, "the server could not find the requested resource")
        group, version, rest = ("", "v1", m.group(1)) if m.group(1) is not None else m.groups()[1:]
        parts = [p for p in rest.split("/") if p]
        ns = None
        if len(parts) >= 3 and parts[0] == "namespaces":
            ns, parts = parts[1], parts[2:]
        res = _BY_PLURAL.get(parts[0]) if parts else None
        if res is None or (res[0], res[1]) != (group, version) or len(parts) > 3:
            raise ApiError(404, "the server could not find the requested resource")
        if ns is not None and not res[4]:
            raise ApiError(404, "the server could not find the requested resource")
        return {"group": group, "plural": parts[0], "kind": res[3], "namespaced": res[4],
                "ns": ns, "name": parts[1] if len(parts) > 1 else None,
                "sub": parts[2] if len(parts) > 2 else None}

    @staticmethod
    def _verb(req, route):
        if route["sub"] and (route["plural"], route["sub"], req.method) != ("pods", "eviction",
                                                                              "POST"):
            raise ApiError(404, "the server could not find the requested resource")
        if req.method == "GET":
            if route["name"]:
                return "get"
            return "watch" if req.q("watch") in ("1", "true") else "list"
        verb = {"POST": "create", "PATCH": "patch", "DELETE": "delete", "PUT": "update"}.get(
            req.method)
        if verb is None or (verb != "create" and not route["name"]):
            raise ApiError(405, "the server does not allow this method on the requested "
                           "resource")
        return verb

    def _obj(self, route):
        obj = self.objects[route["plural"]].get((route["ns"] or "", route["name"]))
        if obj is None:
            raise ApiError(404, '%s "%s" not found' % (route["plural"], route["name"]),
                           details={"name": route["name"], "kind": route["plural"]})
        return obj

    def _view(self, plural, obj):
        # PDB status is computed on read, as the disruption controller would keep it.
        if plural == "poddisruptionbudgets":
            return dict(obj, status=self._pdb_status(obj))
        return obj

    def _do_get(self, req, route):
        obj = self._obj(route)
        if self.tables and _wants_table(req):
            return 200, self._table(req, route["plural"], [obj], {}, self.clock.now()), {}
        return 200, self._view(route["plural"], obj), {}

    def _do_watch(self, req, route):
        """?watch=1: a Watch that server.py streams (chunked JSON lines).

        Without resourceVersion (or "0") it starts with ADDED for every
        matching object; from resourceVersion N it sends the changes after
        N, or one ERROR event (410 Expired) when N is older than the history
        kept (watch_history changes; compact()). BOOKMARKs with
        allowWatchBookmarks every watch_bookmark_seconds (wall); the stream
        ends after timeoutSeconds or a random time in watch_close_seconds."""
        rv = req.q("resourceVersion") or "0"
        try:
            since = int(rv)
        except ValueError:
            raise ApiError(400, 'resourceVersion: Invalid value: "%s": strconv.ParseUint: '
                           'parsing "%s": invalid syntax' % (rv, rv))
        watch = Watch(self, req, route)
        if since == 0:
            for obj in self._select(req, dict(route, name=None))[0]:
                watch.offer(self.rv, "ADDED", route["plural"], obj)
        elif since < self._floor:
            watch.expire(status_body(410, "Expired", "too old resource version: %d (%d)"
                                     % (since, self._floor)))
            return 200, watch, {}
        else:
            for rv_, event, plural, obj in self._history:
                if rv_ > since:
                    watch.offer(rv_, event, plural, obj)
        self._watches.add(watch)
        return 200, watch, {}

    def _watch_line(self, watch, event, plural, obj):
        if watch.table:
            body = self._table(watch.req, plural, [obj],
                               {"resourceVersion": obj["metadata"]["resourceVersion"]},
                               self.clock.now())
            if watch.sent_columns:
                body["columnDefinitions"] = []   # as the API server: the first only
            watch.sent_columns = True
        else:
            body = self._view(plural, obj)
        return json.dumps({"type": event, "object": body}).encode() + b"\n"

    def _bookmark_line(self, watch):
        route = _BY_PLURAL[watch.plural]
        meta = {"resourceVersion": str(self.rv), "creationTimestamp": None}
        if watch.table:
            obj = {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": meta,
                   "columnDefinitions": None, "rows": None}
        else:
            obj = {"kind": route[3], "apiVersion": "%s/%s" % (route[0], route[1])
                   if route[0] else route[1], "metadata": meta}
        return json.dumps({"type": "BOOKMARK", "object": obj}).encode() + b"\n"

    def _do_list(self, req, route):
        table = self.tables and _wants_table(req)
        if not self.cache_lists:
            items, meta = self._select(req, route)
            return 200, self._list_body(req, route, items, meta, table, self.clock.now()), {}
        key = (self.rv, req.path, req.raw_query, table, req.headers.get("Accept", ""))
        hit = self._list_cache.get(key)
        if hit is None:
            self._list_cache = {k: v for k, v in self._list_cache.items() if k[0] == self.rv}
            hit = self._list_cache[key] = dict(selected=self._select(req, route), ages=None)
        items, meta = hit["selected"]
        now = self.clock.now()
        # Table cells hold ages: the answer is the same only while they are.
        ages = tuple(_age(o, now) for o in items) if table else ()
        if hit["ages"] != ages:
            body = self._list_body(req, route, items, meta, table, now)
            hit["ages"], hit["data"] = ages, _Encoded(json.dumps(body).encode())
        return 200, hit["data"], {}

    def _select(self, req, route):
        plural = route["plural"]
        labels = parse_label_selector(req.q("labelSelector"))
        fields = parse_field_selector(req.q("fieldSelector"), plural)
        items = [obj for (ns, _), obj in sorted(self.objects[plural].items())
                 if (route["ns"] is None or ns == route["ns"])
                 and labels(obj["metadata"].get("labels", {})) and fields(obj)]
        start = self._decode_continue(req.q("continue"), plural) if req.q("continue") else None
        if start is not None:
            items = [o for o in items if _key(o) > start]
        meta = {"resourceVersion": str(self.rv)}
        limit = int(req.q("limit") or 0)
        if 0 < limit < len(items):
            items, rest = items[:limit], len(items) - limit
            meta["continue"] = self._encode_continue(plural, _key(items[-1]))
            meta["remainingItemCount"] = rest
        return items, meta

    def _list_body(self, req, route, items, meta, table, now):
        plural = route["plural"]
        if table:
            return self._table(req, plural, items, meta, now)
        return {"kind": route["kind"] + "List", "apiVersion": _api_version(route),
                "metadata": meta, "items": [self._view(plural, o) for o in items]}

    def _encode_continue(self, plural, key):
        payload = json.dumps([plural, list(key)]).encode()
        sig = hmac.new(self._secret, payload, "sha256").digest()[:12]
        return base64.urlsafe_b64encode(payload + sig).decode().rstrip("=")

    def _decode_continue(self, token, plural):
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            payload, sig = raw[:-12], raw[-12:]
            ok = hmac.compare_digest(sig, hmac.new(self._secret, payload, "sha256").digest()[:12])
            kind, key = json.loads(payload) if ok else (None, None)
        except ValueError:
            kind, key = None, None
        if kind != plural:
            raise ApiError(410, "The provided continue parameter is too old to display a "
                           "consistent list result. You can start a new list without the "
                           "continue parameter.", reason="Expired")
        return tuple(key)

    def _do_patch(self, req, route):
        obj = self._obj(route)
        if req.content_type not in _PATCH_TYPES:
            raise ApiError(415, "the body of the request was in an unknown format - accepted "
                           "media types include: application/json-patch+json, "
                           "application/merge-patch+json, application/apply-patch+yaml, "
                           "application/strategic-merge-patch+json")
        try:
            patch = req.json()
        except ValueError as e:
            raise ApiError(400, "error decoding patch: %s" % e)
        if not isinstance(patch, dict):
            raise ApiError(400, "the patch is not a JSON object")
        want_rv = (patch.get("metadata") or {}).get("resourceVersion")
        if want_rv and want_rv != obj["metadata"]["resourceVersion"]:
            raise ApiError(409, 'Operation cannot be fulfilled on %s "%s": the object has been '
                           'modified; please apply your changes to the latest version and try '
                           'again' % (route["plural"], route["name"]))
        new = merge_patch(copy.deepcopy(obj), patch, req.content_type == _PATCH_TYPES[0])
        for key in ("name", "namespace", "uid", "creationTimestamp"):
            if key in obj["metadata"]:
                new["metadata"][key] = obj["metadata"][key]
        new["status"] = obj.get("status")   # status is a subresource
        if _dry_run(req):
            return 200, new, {}
        obj.clear()
        obj.update(new)
        self._bump(obj)
        return 200, obj, {}

    def _do_delete(self, req, route):
        obj = self._obj(route)
        if route["plural"] not in ("pods", "nodes"):
            raise ApiError(405, "the simulator only deletes pods and nodes")
        try:
            if req.body and req.body.startswith(b"k8s\x00"):   # kubectl's clientset
                options = _delete_options_from_protobuf(req.body)
            else:
                options = req.json() or {} if req.body else {}
        except (ValueError, KeyError, IndexError):
            raise ApiError(400, "error decoding the DeleteOptions")
        uid = (options.get("preconditions") or {}).get("uid")
        if uid and uid != obj["metadata"]["uid"]:
            raise ApiError(409, "Precondition failed: UID in precondition: %s, UID in object "
                           "meta: %s" % (uid, obj["metadata"]["uid"]),
                           details={"name": route["name"], "kind": route["plural"]})
        grace = req.q("gracePeriodSeconds", options.get("gracePeriodSeconds"))
        if _dry_run(req) or "All" in (options.get("dryRun") or []):
            return 200, obj, {}
        if route["plural"] == "nodes":
            self.remove_node(route["name"])
            return 200, {"kind": "Status", "apiVersion": "v1", "metadata": {},
                         "status": "Success", "details": {
                             "name": route["name"], "kind": "nodes",
                             "uid": obj["metadata"]["uid"]}}, {}
        try:
            grace = None if grace is None else int(grace)
        except ValueError:
            raise ApiError(400, "gracePeriodSeconds: Invalid value: %r" % grace)
        self._terminate(obj, grace, "delete")
        return 200, obj, {}

    def _do_update(self, req, route):
        raise ApiError(405, "the simulator does not support PUT; use PATCH")

    def _do_create(self, req, route):
        if route["plural"] == "selfsubjectaccessreviews" and not route["name"]:
            return self._access_review(req)
        if route["sub"] != "eviction":
            raise ApiError(405, "the simulator only creates evictions")
        pod = self._obj(dict(route, sub=None))
        try:
            body = req.json() or {}
        except ValueError:
            raise ApiError(400, "error decoding the eviction")
        if (body.get("metadata") or {}).get("name") != route["name"]:
            raise ApiError(400, "name in URL does not match name in Eviction object",
                           details={"name": route["name"], "group": "policy",
                                    "kind": "Eviction"})
        options = body.get("deleteOptions") or {}
        try:
            self._admit_eviction(pod)
        except ApiError as e:
            self.eviction_log.append(_key(pod) + (pod["metadata"]["uid"], e.code))
            raise
        code, message, details = self.evict(
            pod["metadata"]["namespace"], pod["metadata"]["name"],
            grace=options.get("gracePeriodSeconds"),
            dry_run=_dry_run(req) or "All" in (options.get("dryRun") or []))
        self.eviction_log.append(_key(pod) + (pod["metadata"]["uid"], code))
        if code != 201:
            raise ApiError(code, message, details=details)
        return 201, {"kind": "Status", "apiVersion": "v1", "metadata": {},
                     "status": "Success", "code": 201}, {}

    def _access_review(self, req):
        """`kubectl auth can-i`: answered from the same deny list as real requests."""
        try:
            if req.content_type == "application/vnd.kubernetes.protobuf":
                review = {"spec": {"resourceAttributes": _review_from_protobuf(req.body)}}
            else:
                review = req.json() or {}
            attrs = review["spec"]["resourceAttributes"]
        except (ValueError, KeyError, TypeError, IndexError):
            raise ApiError(400, "spec.resourceAttributes is required")
        route = {"group": attrs.get("group", ""), "plural": attrs.get("resource", ""),
                 "sub": attrs.get("subresource") or None, "name": attrs.get("name") or None,
                 "ns": attrs.get("namespace") or None}
        user = self.authenticate(req)[0]
        try:
            self._authorize(user, attrs.get("verb", ""), route)
            status = {"allowed": True, "reason": "simulator: not denied"}
        except ApiError as e:
            status = {"allowed": False, "denied": True, "reason": e.message}
        return 201, dict(review, apiVersion="authorization.k8s.io/v1",
                         kind="SelfSubjectAccessReview", status=status), {}

    def _check_pdbs(self, pod):
        """The eviction subresource's admission (ApiError when refused): a
        pod not running, or already terminating, is let go; two PDBs are a
        500; an unready pod goes while its budget is healthy; otherwise the
        PDB must allow a disruption (429 with a DisruptionBudget cause)."""
        if (pod["status"].get("phase") in ("Pending", "Succeeded", "Failed")
                or pod["metadata"].get("deletionTimestamp")):
            return
        pdbs = self._pdbs_of(pod)
        if len(pdbs) > 1:
            raise ApiError(500, "This pod has more than one PodDisruptionBudget, which the "
                           "eviction subresource does not support.")
        if not pdbs:
            return
        st = self._pdb_status(pdbs[0])
        if not _pod_ready(pod) and st["currentHealthy"] >= st["desiredHealthy"] > 0:
            return
        if st["disruptionsAllowed"] > 0:
            return
        raise ApiError(429, "Cannot evict pod as it would violate the pod's disruption budget.",
                       details={"causes": [{"reason": "DisruptionBudget", "message":
                                            "The disruption budget %s needs %d healthy pods "
                                            "and has %d currently"
                                            % (pdbs[0]["metadata"]["name"],
                                               st["desiredHealthy"], st["currentHealthy"])}]})

    # --- tables ------------------------------------------------------------

    def _table(self, req, plural, items, meta, now):
        columns, cells = _TABLES.get(plural, _TABLES[None])
        include = req.q("includeObject", "Metadata")
        rows = []
        for obj in items:
            row = {"cells": cells(self, obj, now)}
            if include == "Object":
                row["object"] = obj
            elif include != "None":
                row["object"] = {"kind": "PartialObjectMetadata",
                                 "apiVersion": "meta.k8s.io/v1", "metadata": obj["metadata"]}
            rows.append(row)
        accept = req.headers.get("Accept", "")
        version = "v1" if "v=v1;" in accept + ";" or "v=v1," in accept else "v1beta1"
        return {"kind": "Table", "apiVersion": "meta.k8s.io/" + version, "metadata": meta,
                "columnDefinitions": [dict(name=n, type=t, format=f, description=n, priority=p)
                                      for n, t, f, p in columns],
                "rows": rows}


class Watch:
    """One watch request's events, for server.py to stream: attach(wake)
    (wake() is called, under the state's lock, from any thread, when there
    is more), take() the bytes to send, bookmark(), close() when done.
    `duration` is how long (wall seconds) the server keeps it open."""

    def __init__(self, state, req, route):
        self.state = state
        self.req = req
        self.plural = route["plural"]
        self.ns = route["ns"]
        self._labels = parse_label_selector(req.q("labelSelector"))
        self._fields = parse_field_selector(req.q("fieldSelector"), self.plural)
        self.table = state.tables and _wants_table(req)
        self.bookmarks = req.q("allowWatchBookmarks") in ("1", "true")
        self.bookmark_seconds = state.watch_bookmark_seconds
        timeout = req.q("timeoutSeconds")
        lo, hi = state.watch_close_seconds
        self.duration = (float(timeout) if timeout and float(timeout) > 0
                         else random.uniform(lo, hi))
        self.sent_columns = False
        self.finished = False           # nothing more will come (an ERROR was sent)
        self.was_cut = False            # cut(): reset, not ended
        self._lines = []
        self._wake = None

    def offer(self, rv, event, plural, obj):
        """Under the state's lock: queue the event if it is this watch's."""
        if plural != self.plural or self.finished:
            return
        meta = obj["metadata"]
        if self.ns is not None and meta.get("namespace") != self.ns:
            return
        if not (self._labels(meta.get("labels", {})) and self._fields(obj)):
            return
        self._lines.append(self.state._watch_line(self, event, plural, obj))
        if self._wake is not None:
            self._wake()

    def cut(self):
        """Under the state's lock: the connection goes without an end (the
        API server became unreachable); server.py resets it."""
        self.finished = self.was_cut = True
        if self._wake is not None:
            self._wake()

    def expire(self, status):
        self._lines.append(json.dumps({"type": "ERROR", "object": status}).encode() + b"\n")
        self.finished = True

    def attach(self, wake):
        with self.state.lock:
            self._wake = wake
            if self._lines:
                wake()

    def take(self):
        with self.state.lock:
            data, self._lines = b"".join(self._lines), []
            return data

    def bookmark(self):
        with self.state.lock:
            return self.state._bookmark_line(self) if self.bookmarks and not self.finished \
                else b""

    def close(self):
        with self.state.lock:
            self._wake = None
            self.state._watches.discard(self)


class _Encoded:
    """A body already serialised to JSON."""

    def __init__(self, data):
        self.data = data


def _protobuf_fields(data):
    """(field number, bytes) of a protobuf message's length-delimited fields."""
    out, i = [], 0
    while i < len(data):
        key, i = _varint(data, i)
        if key & 7 == 0:
            _, i = _varint(data, i)
        elif key & 7 == 2:
            size, i = _varint(data, i)
            out.append((key >> 3, data[i:i + size]))
            i += size
        else:
            raise ValueError("unexpected protobuf wire type %d" % (key & 7))
    return out


def _varint(data, i):
    shift = value = 0
    while True:
        b = data[i]
        i += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return value, i


def _review_from_protobuf(body):
    """resourceAttributes of a protobuf SelfSubjectAccessReview (kubectl auth can-i
    sends protobuf): envelope "k8s\\0" + runtime.Unknown{2: raw}, raw{2: spec},
    spec{1: resourceAttributes{1 ns, 2 verb, 3 group, 4 version, 5 resource,
    6 subresource, 7 name}}."""
    if not body.startswith(b"k8s\x00"):
        raise ValueError("not a Kubernetes protobuf envelope")
    raw = dict(_protobuf_fields(body[4:]))[2]
    spec = dict(_protobuf_fields(raw))[2]
    attrs = dict(_protobuf_fields(spec))[1]
    names = {1: "namespace", 2: "verb", 3: "group", 4: "version", 5: "resource",
             6: "subresource", 7: "name"}
    return {names[n]: v.decode() for n, v in _protobuf_fields(attrs) if n in names}


def _delete_options_from_protobuf(body):
    """gracePeriodSeconds (1, varint) and dryRun (5, strings) of a protobuf
    DeleteOptions (kubectl drain --disable-eviction sends one): envelope
    "k8s\\0" + runtime.Unknown{2: raw}."""
    raw = dict(_protobuf_fields(body[4:]))[2]
    out, i = {}, 0
    while i < len(raw):
        key, i = _varint(raw, i)
        if key & 7 == 0:
            value, i = _varint(raw, i)
            if key >> 3 == 1:
                out["gracePeriodSeconds"] = value - (1 << 64) if value >> 63 else value
        elif key & 7 == 2:
            size, i = _varint(raw, i)
            if key >> 3 == 5:
                out.setdefault("dryRun", []).append(raw[i:i + size].decode())
            i += size
        else:
            raise ValueError("unexpected protobuf wire type %d" % (key & 7))
    return out


def _template(labels, node_selector, empty_dir, tolerations, requests=None, init_requests=None):
    spec = {"nodeSelector": dict(node_selector or {}),
            "volumes": [{"name": "tmp", "emptyDir": {}}] if empty_dir else []}
    if tolerations:
        spec["tolerations"] = list(tolerations)
    if requests:
        spec["containers"] = [{"name": "main", "resources": {"requests": dict(requests)}}]
    if init_requests:
        spec["initContainers"] = [{"name": "init",
                                   "resources": {"requests": dict(init_requests)}}]
    return {"metadata": {"labels": dict(labels)}, "spec": spec}


def _template_requests(spec, key="containers"):
    """The requests a template gives its (first) container of `key`, or None."""
    containers = spec.get(key) or [{}]
    return (containers[0].get("resources") or {}).get("requests")


DEFAULT_REQUESTS = {"cpu": "10m"}
_QUANTITY = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+))"
                       r"(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?$")
_SUFFIX = {"Ki": 2 ** 10, "Mi": 2 ** 20, "Gi": 2 ** 30, "Ti": 2 ** 40, "Pi": 2 ** 50,
           "Ei": 2 ** 60, "n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"),
           "k": 10 ** 3, "M": 10 ** 6, "G": 10 ** 9, "T": 10 ** 12, "P": 10 ** 15, "E": 10 ** 18}


def parse_quantity(text):
    """A resource.Quantity ("250m", "4Gi", "1.5", "129e6") as a Decimal."""
    m = _QUANTITY.match(str(text).strip())
    if not m:
        raise ValueError("quantities must match the regular expression "
                         "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")
    try:
        value, suffix = Decimal(m.group(1)), m.group(2) or ""
    except InvalidOperation:
        raise ValueError("bad quantity %r" % text)
    if suffix[:1] in ("e", "E") and suffix not in _SUFFIX:
        return value * Decimal(10) ** int(suffix[1:])
    return value * _SUFFIX.get(suffix, 1)


def pod_requests(spec):
    """(cpu, memory) a pod spec (or template spec) asks the scheduler for:
    the larger of its containers' sum and its largest init container, plus
    spec.overhead; a template without containers has DEFAULT_REQUESTS."""
    def req(c, key):
        return parse_quantity(((c.get("resources") or {}).get("requests") or {}).get(key, "0"))
    containers = spec.get("containers") or [{"resources": {"requests": DEFAULT_REQUESTS}}]
    out = []
    for key in ("cpu", "memory"):
        total = sum((req(c, key) for c in containers), Decimal(0))
        init = max((req(c, key) for c in spec.get("initContainers") or []), default=Decimal(0))
        overhead = parse_quantity((spec.get("overhead") or {}).get(key, "0"))
        out.append(max(total, init) + overhead)
    return tuple(out)


def _group(g, v):
    gv = {"groupVersion": "%s/%s" % (g, v), "version": v}
    return {"name": g, "versions": [gv], "preferredVersion": gv}


def _api_version(route):
    return "%s/v1" % route["group"] if route["group"] else "v1"


def _owner(api_version, kind, meta):
    return {"apiVersion": api_version, "kind": kind, "name": meta["name"], "uid": meta["uid"],
            "controller": True, "blockOwnerDeletion": True}


def _key(obj):
    return (obj["metadata"].get("namespace", ""), obj["metadata"]["name"])


def _dry_run(req):
    return "All" in req.query.get("dryRun", [])


def _wants_table(req):
    return "as=Table" in req.headers.get("Accept", "")


def _is_ready(node):
    return any(c["type"] == "Ready" and c["status"] == "True"
               for c in node["status"].get("conditions", []))


def _pod_ready(pod):
    return pod["status"].get("phase") == "Running" and any(
        c["type"] == "Ready" and c["status"] == "True" for c in pod["status"].get("conditions", []))


def _scaled(value, total, up):
    if isinstance(value, str) and value.endswith("%"):
        n = int(value[:-1]) * total
        return -(-n // 100) if up else n // 100
    return int(value)


def _split_taint(text):
    key_value, _, effect = text.partition(":")
    key, _, value = key_value.partition("=")
    return key, value, effect


def hash_octet(text):
    return int(hashlib.sha256(text.encode()).hexdigest()[:4], 16) % 250


def _age(obj, now):
    return human_duration(now - parse_time(obj["metadata"]["creationTimestamp"]))


def _node_cells(state, node, now):
    ready = "Unknown"
    for cond in node["status"].get("conditions", []):
        if cond["type"] == "Ready":
            ready = "Ready" if cond["status"] == "True" else "NotReady"
    if node["spec"].get("unschedulable"):
        ready += ",SchedulingDisabled"
    labels = node["metadata"].get("labels", {})
    roles = sorted({k.split("/", 1)[1] for k in labels
                    if k.startswith("node-role.kubernetes.io/") and k.split("/", 1)[1]}
                   | ({labels["kubernetes.io/role"]} if labels.get("kubernetes.io/role") else set()))
    info = node["status"]["nodeInfo"]
    addrs = {a["type"]: a["address"] for a in node["status"].get("addresses", [])}
    return [node["metadata"]["name"], ready, ",".join(roles) or "<none>", _age(node, now),
            info["kubeletVersion"], addrs.get("InternalIP", "<none>"),
            addrs.get("ExternalIP", "<none>"), info["osImage"], info["kernelVersion"],
            info["containerRuntimeVersion"]]


def _pod_cells(state, pod, now):
    statuses = pod["status"].get("containerStatuses", [])
    ready = sum(1 for s in statuses if s.get("ready"))
    restarts = sum(s.get("restartCount", 0) for s in statuses)
    # As kubectl's printer: a waiting container's reason, then Terminating.
    reason = pod["status"].get("reason") or pod["status"].get("phase", "Unknown")
    for s in statuses:
        reason = (s.get("state") or {}).get("waiting", {}).get("reason") or reason
    if pod["metadata"].get("deletionTimestamp"):
        reason = "Terminating"
    return [pod["metadata"]["name"], "%d/%d" % (ready, len(pod["spec"]["containers"])),
            reason, str(restarts), _age(pod, now),
            pod["status"].get("podIP", "<none>"), pod["spec"].get("nodeName", "<none>"),
            "<none>", "<none>"]


def _ns_cells(state, ns, now):
    return [ns["metadata"]["name"], ns["status"]["phase"], _age(ns, now)]


def _pdb_cells(state, pdb, now):
    spec = pdb["spec"]
    return [pdb["metadata"]["name"], str(spec.get("minAvailable", "N/A")),
            str(spec.get("maxUnavailable", "N/A")),
            state._pdb_status(pdb)["disruptionsAllowed"], _age(pdb, now)]


def _event_cells(state, ev, now):
    since = human_duration(now - parse_time(ev["lastTimestamp"]))
    obj = ev["involvedObject"]
    source = ev.get("source", {}).get("component", "") or ev.get("reportingComponent", "")
    return [since, ev["type"], ev["reason"], "%s/%s" % (obj["kind"].lower(), obj["name"]),
            obj.get("fieldPath", ""), source, ev["message"],
            human_duration(now - parse_time(ev["firstTimestamp"])), ev["count"],
            ev["metadata"]["name"]]


def _tolerates(tolerations, taints):
    """Whether the tolerations let a pod schedule onto a node with taints
    (NoSchedule and NoExecute ones count)."""
    for taint in taints:
        if taint.get("effect") not in ("NoSchedule", "NoExecute"):
            continue
        for tol in tolerations:
            if tol.get("effect") and tol["effect"] != taint["effect"]:
                continue
            if tol.get("operator") == "Exists" and (not tol.get("key")
                                                    or tol["key"] == taint["key"]):
                break
            if (tol.get("key") == taint["key"] and tol.get("operator", "Equal") == "Equal"
                    and tol.get("value", "") == taint.get("value", "")):
                break
        else:
            return False
    return True


def _generic_cells(state, obj, now):
    return [obj["metadata"]["name"], obj["metadata"]["creationTimestamp"]]


_TABLES = {
    "nodes": ([("Name", "string", "name", 0), ("Status", "string", "", 0),
               ("Roles", "string", "", 0), ("Age", "string", "", 0),
               ("Version", "string", "", 0), ("Internal-IP", "string", "", 1),
               ("External-IP", "string", "", 1), ("OS-Image", "string", "", 1),
               ("Kernel-Version", "string", "", 1), ("Container-Runtime", "string", "", 1)],
              _node_cells),
    "pods": ([("Name", "string", "name", 0), ("Ready", "string", "", 0),
              ("Status", "string", "", 0), ("Restarts", "string", "", 0),
              ("Age", "string", "", 0), ("IP", "string", "", 1), ("Node", "string", "", 1),
              ("Nominated Node", "string", "", 1), ("Readiness Gates", "string", "", 1)],
             _pod_cells),
    "namespaces": ([("Name", "string", "name", 0), ("Status", "string", "", 0),
                    ("Age", "string", "", 0)], _ns_cells),
    "poddisruptionbudgets": ([("Name", "string", "name", 0),
                              ("Min Available", "string", "", 0),
                              ("Max Unavailable", "string", "", 0),
                              ("Allowed Disruptions", "integer", "", 0),
                              ("Age", "string", "", 0)], _pdb_cells),
    "events": ([("Last Seen", "string", "", 0), ("Type", "string", "", 0),
                ("Reason", "string", "", 0), ("Object", "string", "", 0),
                ("Subobject", "string", "", 1), ("Source", "string", "", 1),
                ("Message", "string", "", 0), ("First Seen", "string", "", 1),
                ("Count", "string", "", 1), ("Name", "string", "", 1)], _event_cells),
    None: ([("Name", "string", "name", 0), ("Created At", "date", "", 0)], _generic_cells),
}
