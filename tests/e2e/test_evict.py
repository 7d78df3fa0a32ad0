"""core/pod, core/pdb and core/eviction against the simulator's API server,
through the hidden `__pods` and `__evict` commands: the pods of a node with
their controllers and the PDBs that select them, and each eviction answer
(evicted, dry run, blocked by a PDB, several PDBs, gone, forbidden) told
apart by status and Status causes."""

CLUSTER = "demo-aks"


def node_named(k8s, pool, index):
    return k8s.pool_nodes(pool)[index]["metadata"]["name"]


def web_pods(k8s, node):
    return sorted(p["metadata"]["name"] for p in k8s.pods(node=node)
                  if p["metadata"].get("labels", {}).get("app") == "web")


def test_pods_of_a_node_with_controllers_and_pdbs(sim, run):
    k8s = sim.cluster(CLUSTER).k8s
    node = node_named(k8s, "ubuntu", 0)
    r = run("__pods", node)
    assert r.returncode == 0, r.stderr
    lines = {line.split()[0]: line.split()[1:] for line in r.stdout.splitlines()}
    want = {"%s/%s" % (p["metadata"]["namespace"], p["metadata"]["name"]): p
            for p in k8s.pods(node=node)}
    assert set(lines) == set(want)
    for key, pod in want.items():
        ctl = [o for o in pod["metadata"].get("ownerReferences", []) if o.get("controller")]
        assert lines[key][0] == (ctl[0]["kind"] if ctl else "-")
        assert lines[key][1] == pod["status"]["phase"]
        if pod["metadata"].get("labels", {}).get("app") == "web":
            assert lines[key][-1] == "pdbs=web"
    assert any(v[0] == "DaemonSet" and v[-1] == "pdbs=" for v in lines.values())


def test_eviction_outcomes(sim, run):
    k8s = sim.cluster(CLUSTER).k8s
    node = node_named(k8s, "ubuntu", 0)
    web = web_pods(k8s, node)
    assert len(web) >= 1

    r = run("__evict", "shop/%s" % web[0], "--dry-run")
    assert (r.returncode, r.stdout) == (0, "evicted 201 -\n"), r.stderr
    assert not k8s.pod("shop", web[0])["metadata"].get("deletionTimestamp")
    req = sim.find(server=CLUSTER, method="POST", path_prefix="/api/v1/namespaces/shop/pods/")[-1]
    assert req["query"].get("dryRun") == ["All"]

    r = run("__evict", "shop/no-such-pod")
    assert (r.returncode, r.stdout) == (0, "gone 404 NotFound\n"), r.stderr

    k8s.add_pdb("shop", "web", {"app": "web"}, max_unavailable=0)
    r = run("__evict", "shop/%s" % web[0])
    assert r.returncode == 1
    assert r.stdout == "blocked by a PodDisruptionBudget 429 TooManyRequests DisruptionBudget\n"
    assert "Cannot evict pod as it would violate the pod's disruption budget." in r.stderr

    k8s.add_pdb("shop", "web-too", {"app": "web"}, max_unavailable=1)
    r = run("__evict", "shop/%s" % web[0])
    assert r.returncode == 1
    assert r.stdout.startswith("covered by more than one PodDisruptionBudget 500 ")

    k8s.forbid("masterclient", "create", "pods/eviction")
    r = run("__evict", "shop/%s" % web[0])
    assert (r.returncode, r.stdout) == (1, "forbidden 403 Forbidden\n")


def test_eviction_evicts(sim, run):
    k8s = sim.cluster(CLUSTER).k8s
    node = node_named(k8s, "ubuntu", 0)
    web = web_pods(k8s, node)
    r = run("__evict", "shop/%s" % web[0], "--grace-period", "0")
    assert (r.returncode, r.stdout) == (0, "evicted 201 -\n"), r.stderr
    pod = k8s.pod("shop", web[0])
    assert pod is None or pod["metadata"].get("deletionTimestamp")
    req = sim.find(server=CLUSTER, method="POST", path_prefix="/api/v1/namespaces/shop/pods/")[-1]
    assert req["path"].endswith("/%s/eviction" % web[0])


def test_debug_commands_are_hidden(run):
    out = run("--help").stdout
    assert "__pods" not in out and "__evict" not in out
