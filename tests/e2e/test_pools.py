"""`kubectl azlinux pools` against the simulator: every column and output
format compared with the simulator's ARM pools and Kubernetes nodes, name
filters, and every way the AKS cluster behind a context is found (nodes'
providerID, AZURE_SUBSCRIPTION_ID, --subscription, azureProfile.json with its
byte-order mark, --resource-group [--name], privateFQDN, the cache and its
revalidation) with the errors when it cannot be."""

import json
import os
import stat

import pytest
import yaml

import helpers
from sim import scenario as scenarios
from test_nodes import fail, ok, os_of, parse_table

HEADERS = ["NAME", "MODE", "OS", "K8S", "NODE-IMAGE", "NODES", "VM-SIZE", "STATE", "FINDINGS"]
WIDE = HEADERS + ["AUTOSCALER", "ZONES", "MAX-SURGE", "GPU", "LATEST-NODE-IMAGE",
                  "K8S-UPGRADES", "NODE-OS-CHANNEL", "AUTO-UPGRADE"]
CLUSTER_KEYS = ["id", "name", "resourceGroup", "subscription", "location",
                "kubernetesVersion", "fqdn"]
POOL_KEYS = ["name", "mode", "osType", "osSku", "osVersion", "vmSize", "count", "readyNodes",
             "kubernetesVersion", "nodeImageVersion", "latestNodeImageVersion",
             "provisioningState", "powerState", "gpu", "findings"]
# What the demo scenario's pools must be told (tests/sim/scenario.py demo_scenario).
DEMO_FINDINGS = {"gpu": ["GPUPool"], "mariner": ["AzureLinux2Retired"], "system": [],
                 "ubuntu": ["NodesNotReady", "UbuntuCanMigrate"]}
API_VERSION = "2026-10-01"
MC_LIST = "/subscriptions/%s/providers/Microsoft.ContainerService/managedClusters"


def arm_requests(sim, path_prefix=None):
    return sim.find(server="azure", method="GET", path_prefix=path_prefix or "/subscriptions/")


def ready_count(cluster, pool):
    nodes = cluster.k8s.pool_nodes(pool.name)
    ready = sum(1 for n in nodes if any(c["type"] == "Ready" and c["status"] == "True"
                                        for c in n["status"]["conditions"]))
    return ready, len(nodes)


def cluster_line(c):
    return ("Cluster %s (resource group %s, %s): Kubernetes %s, auto-upgrade %s, "
            "node OS upgrade %s" % (c.name, c.resource_group, c.location, c.k8s_version,
                                    c.auto_upgrade_channel, c.node_os_upgrade_channel))


def table(result):
    """(cluster line, header names, rows) of a single-context table."""
    return table_of(result.stdout)


def table_of(stdout):
    lines = stdout.splitlines()
    names, rows = parse_table("\n".join(lines[1:]))
    return lines[0], names, rows


# --- columns and formats ------------------------------------------------------


def test_table_every_column(sim, run):
    c = sim.clusters[0]
    r = ok(run("pools"))
    line, names, rows = table(r)
    assert line == cluster_line(c)
    assert names == HEADERS
    assert [row["NAME"] for row in rows] == sorted(p.name for p in c.pools)
    for row in rows:
        p = c.pool(row["NAME"])
        assert row["MODE"] == p.mode
        assert row["OS"] == os_of(p.node_image_version)[0]
        assert row["K8S"] == p.k8s_version
        assert row["NODE-IMAGE"] == p.node_image_version
        assert row["NODES"] == "%d/%d" % ready_count(c, p)
        assert row["VM-SIZE"] == p.vm_size
        assert row["STATE"] == p.provisioning_state
        assert row["FINDINGS"] == (",".join(DEMO_FINDINGS[p.name]) or "<none>")
    assert helpers.diagnostics(r.stderr) == ""


def test_wide_adds_columns(sim, run):
    c = sim.clusters[0]
    sim.arm.latest_images["AKSUbuntu-2204gen2containerd"] = \
        "AKSUbuntu-2204gen2containerd-202608.14.0"
    _, names, rows = table(ok(run("pools", "-o", "wide")))
    assert names == WIDE
    by_name = {row["NAME"]: row for row in rows}
    for p in c.pools:
        row = by_name[p.name]
        assert row["AUTOSCALER"] == ("%d-%d" % (p.min_count, p.max_count) if p.autoscale
                                     else "off")
        assert row["ZONES"] == (",".join(p.zones) or "<none>")
        assert row["MAX-SURGE"] == p.max_surge
        assert row["GPU"] == ("yes" if p.gpu else "no")
        assert row["K8S-UPGRADES"] == (",".join(sim.arm.pool_upgrades(c, p)) or "<none>")
    assert by_name["ubuntu"]["LATEST-NODE-IMAGE"] == "AKSUbuntu-2204gen2containerd-202608.14.0"
    assert by_name["system"]["LATEST-NODE-IMAGE"] == scenarios.AZL3_IMAGE
    assert by_name["mariner"]["K8S-UPGRADES"] == "1.31.10,1.32.6"
    # the cluster's channels on every row
    assert {row["NODE-OS-CHANNEL"] for row in rows} == {c.node_os_upgrade_channel}
    assert {row["AUTO-UPGRADE"] for row in rows} == {c.auto_upgrade_channel}
    c.node_os_upgrade_channel, c.auto_upgrade_channel = "SecurityPatch", "patch"
    _, _, rows = table(ok(run("pools", "-o", "wide")))
    assert {(row["NODE-OS-CHANNEL"], row["AUTO-UPGRADE"]) for row in rows} == \
        {("SecurityPatch", "patch")}
    # the newer image is a finding too (info: the demo has the NodeImage channel)
    assert "NodeImageUpgradeAvailable" in by_name["ubuntu"]["FINDINGS"]


def test_json_schema(sim, run):
    c = sim.clusters[0]
    r = ok(run("pools", "-o", "json"))
    assert r.stdout.startswith('{\n    "cluster": {\n        "id": ')
    doc = json.loads(r.stdout)
    assert [k for k in doc["cluster"] if k in CLUSTER_KEYS] == CLUSTER_KEYS
    assert doc["cluster"] == dict(doc["cluster"], id=c.id, name=c.name,
                                  resourceGroup=c.resource_group, subscription=c.subscription,
                                  location=c.location, kubernetesVersion=c.k8s_version,
                                  fqdn=c.fqdn)
    assert [p["name"] for p in doc["pools"]] == sorted(p.name for p in c.pools)
    for item in doc["pools"]:
        assert [k for k in item if k in POOL_KEYS] == POOL_KEYS
        p = c.pool(item["name"])
        ready, _ = ready_count(c, p)
        assert item["mode"] == p.mode
        assert item["osType"] == p.os_type
        assert item["osSku"] == p.os_sku
        assert item["osVersion"] == os_of(p.node_image_version)[1]
        assert item["vmSize"] == p.vm_size
        assert item["count"] == p.count
        assert item["readyNodes"] == ready
        assert item["kubernetesVersion"] == p.k8s_version
        assert item["nodeImageVersion"] == p.node_image_version
        assert item["latestNodeImageVersion"] == sim.arm.latest_image(p)
        assert item["provisioningState"] == p.provisioning_state
        assert item["powerState"] == p.power_state
        assert item["gpu"] is p.gpu
        assert [f["code"] for f in item["findings"]] == DEMO_FINDINGS[p.name]
        for f in item["findings"]:
            assert f["severity"] in ("error", "warning", "info")
            assert f["message"]


def test_yaml_is_the_json_tree(sim, run):
    as_json = json.loads(ok(run("pools", "-o", "json")).stdout)
    text = ok(run("pools", "-o", "yaml")).stdout
    assert text.startswith("cluster:\n  id: ")
    assert yaml.safe_load(text) == as_json


def test_name(sim, run):
    r = ok(run("pools", "-o", "name"))
    assert r.stdout.splitlines() == ["agentpool/" + n for n in sorted(
        p.name for p in sim.clusters[0].pools)]


def test_no_headers(sim, run):
    with_headers = ok(run("pools")).stdout.splitlines()
    without = ok(run("pools", "--no-headers")).stdout.splitlines()
    # no cluster line, no header; columns sized by the cells alone
    assert [line.split() for line in without] == [line.split() for line in with_headers[2:]]


def test_bad_output_format(run):
    line = fail(run("pools", "-o", "jsonpath"))
    assert "allowed formats are: json,name,wide,yaml" in line


def test_names_filter(sim, run):
    r = ok(run("pools", "ubuntu", "gpu", "-o", "name"))
    assert r.stdout.splitlines() == ["agentpool/gpu", "agentpool/ubuntu"]
    # only the named pools' upgrade profiles are read
    profiles = arm_requests(sim, sim.clusters[0].id + "/agentPools/")
    assert {r["path"].split("/")[-3] for r in profiles} == {"gpu", "ubuntu"}


def test_unknown_pool_name(run):
    line = fail(run("pools", "nosuch"))
    assert "node pool nosuch not found in cluster demo-aks (resource group demo-rg)" in line


def test_stopped_and_failed_pools(sim, run):
    c = sim.clusters[0]
    c.pool("gpu").power_state = "Stopped"
    c.pool("ubuntu").provisioning_state = "Failed"
    _, _, rows = table(ok(run("pools")))
    by_name = {row["NAME"]: row for row in rows}
    assert by_name["gpu"]["STATE"] == "Stopped"
    assert by_name["ubuntu"]["STATE"] == "Failed"
    assert by_name["ubuntu"]["FINDINGS"].startswith("ProvisioningFailed")


def node_list_before_pool_list(sim, c):
    log = sim.requests.snapshot()
    nodes = [i for i, r in enumerate(log) if r["server"] == c.name
             and r["path"] == "/api/v1/nodes"]
    pools = [i for i, r in enumerate(log) if r["path"].endswith("/agentPools")]
    assert len(nodes) == 1 and len(pools) == 1
    return nodes[0] < pools[0]


def test_arm_and_kubernetes_read_concurrently(sim, run, env):
    """Each side is slowed in turn: if the two were read one after the other,
    the same one would always finish first."""
    c = sim.clusters[0]
    e = dict(env, AZURE_SUBSCRIPTION_ID=c.subscription)
    args = ("pools", "--resource-group", c.resource_group, "--name", c.name)
    sim.faults.add(server=c.name, path_prefix="/api/v1/nodes", latency_ms=1500)
    sim.clear_log()
    ok(run(*args, env=e))
    assert not node_list_before_pool_list(sim, c)
    sim.faults.clear()
    sim.faults.add(server="azure", path_prefix=c.id + "/agentPools", latency_ms=1500)
    sim.clear_log()
    ok(run(*args, env=e))
    assert node_list_before_pool_list(sim, c)


def node_lists(sim, c):
    """The node listings, without the one-node probe that finds the
    subscription in a providerID."""
    return [r for r in sim.requests.snapshot()
            if r["server"] == c.name and r["path"] == "/api/v1/nodes"
            and r["query"].get("limit") != ["1"]]


def test_nodes_read_as_a_table(sim, run):
    """pools needs of a node only its labels, readiness and OS: kubectl's
    Table with each row's metadata, a fraction of the Node objects."""
    c = sim.clusters[0]
    sim.clear_log()
    ok(run("pools"))
    lists = node_lists(sim, c)
    assert len(lists) == 1
    assert lists[0]["accept"].startswith("application/json;as=Table;v=v1;g=meta.k8s.io,")
    assert lists[0]["query"]["includeObject"] == ["Metadata"]


def cordon_one_ready_node(c, pool):
    with c.k8s.lock:
        node = next(n for n in c.k8s.pool_nodes(pool)
                    if any(x["type"] == "Ready" and x["status"] == "True"
                           for x in n["status"]["conditions"]))
        node["spec"]["unschedulable"] = True


def test_same_pools_from_a_server_without_tables(sim, run):
    """A cordoned node is still ready ("Ready,SchedulingDisabled" in the
    table); a server that answers the plain List instead gives the same."""
    c = sim.clusters[0]
    cordon_one_ready_node(c, "system")
    with_tables = ok(run("pools", "-o", "wide")).stdout
    _, _, rows = table_of(with_tables)
    for row in rows:
        assert row["NODES"] == "%d/%d" % ready_count(c, c.pool(row["NAME"]))
    c.k8s.tables = False
    sim.clear_log()
    assert ok(run("pools", "-o", "wide")).stdout == with_tables
    assert len(node_lists(sim, c)) == 1


def test_every_arm_request_is_pinned_and_identified(sim, run):
    sim.clear_log()
    ok(run("pools"))
    reqs = arm_requests(sim)
    assert reqs
    for r in reqs:
        assert r["query"]["api-version"] == [API_VERSION]
        assert r["user_agent"].startswith("kubectl-azlinux/")
        assert r["auth"].startswith("bearer:") and r["auth"] != "bearer:invalid"


def test_pool_names_cached_for_completion(sim, run, env):
    ok(run("pools"))
    cache = os.path.join(env["XDG_CACHE_HOME"], "kubectl-azlinux")
    docs = [json.load(open(os.path.join(cache, f))) for f in os.listdir(cache)
            if f.startswith("pools-") and not f.endswith(".lock")]
    assert len(docs) == 1
    assert docs[0]["version"] == 2
    assert sorted(docs[0]["pools"]) == sorted(p.name for p in sim.clusters[0].pools)


# --- which cluster ------------------------------------------------------------


def cache_file(env):
    return os.path.join(env["XDG_CACHE_HOME"], "kubectl-azlinux", "clusters.json")


def test_subscription_from_the_nodes_provider_id(sim, run):
    c = sim.clusters[0]
    sim.clear_log()
    ok(run("pools", "-o", "name"))
    assert len(arm_requests(sim, MC_LIST % c.subscription)) == 1
    # the one node read for it asks for one node only
    first = sim.find(server=c.name, path_prefix="/api/v1/nodes")[0]
    assert first["query"].get("limit") == ["1"]


def test_subscription_from_environment_and_flag(sim, run, env):
    c = sim.clusters[0]
    e = dict(env, AZURE_SUBSCRIPTION_ID=c.subscription)
    sim.clear_log()
    ok(run("pools", "-o", "name", env=e))
    assert len(arm_requests(sim, MC_LIST % c.subscription)) == 1
    # no node read was needed to find the subscription
    assert all(r["query"].get("limit") != ["1"] for r in sim.find(server=c.name))
    # the flag beats the environment
    e["AZURE_SUBSCRIPTION_ID"] = "00000000-0000-0000-0000-00000000dead"
    os.unlink(cache_file(env))
    sim.clear_log()
    ok(run("pools", "-o", "name", "--subscription", c.subscription, env=e))
    assert len(arm_requests(sim, MC_LIST % c.subscription)) == 1
    assert not arm_requests(sim, MC_LIST % e["AZURE_SUBSCRIPTION_ID"])


def strip_provider_ids(cluster):
    with cluster.k8s.lock:
        for node in cluster.k8s.nodes():
            node["spec"].pop("providerID", None)


def test_subscription_from_azure_cli_profile_with_bom(sim, run, env):
    c = sim.clusters[0]
    strip_provider_ids(c)
    profile = {"installationId": "x", "subscriptions": [
        {"id": "11111111-0000-0000-0000-000000000000", "name": "other", "state": "Enabled",
         "isDefault": False, "environmentName": "AzureCloud", "tenantId": c.tenant},
        {"id": c.subscription, "name": "demo", "state": "Enabled", "isDefault": True,
         "environmentName": "AzureCloud", "tenantId": c.tenant}]}
    os.makedirs(os.path.join(env["HOME"], ".azure"), exist_ok=True)
    with open(os.path.join(env["HOME"], ".azure", "azureProfile.json"), "wb") as f:
        f.write(b"\xef\xbb\xbf" + json.dumps(profile).encode())
    sim.clear_log()
    ok(run("pools", "-o", "name"))
    assert len(arm_requests(sim, MC_LIST % c.subscription)) == 1


def test_no_subscription_anywhere(sim, run):
    strip_provider_ids(sim.clusters[0])
    line = fail(run("pools"))
    assert "no Azure subscription for context demo-aks" in line
    assert "pass --subscription" in line


def write_default_profile(env, c):
    os.makedirs(os.path.join(env["HOME"], ".azure"), exist_ok=True)
    with open(os.path.join(env["HOME"], ".azure", "azureProfile.json"), "w") as f:
        json.dump({"subscriptions": [{"id": c.subscription, "isDefault": True,
                                      "environmentName": "AzureCloud"}]}, f)


STARTING = (["pools"], ["check"], ["migrate", "ubuntu", "--dry-run"],
            ["upgrade", "--all", "--node-image", "--dry-run"])


@pytest.mark.parametrize("status", [500, 503])
def test_an_api_server_error_at_start_is_named(sim, run, env, status):
    """The API server failing the node read that finds the subscription is
    the error, with its request, status and message; not "no subscription",
    and not a guess from the Azure CLI's default that would meet it later."""
    c = sim.clusters[0]
    sim.faults.add(server=c.name, path_prefix="/api/v1/nodes", status=status, times=None)
    for profile in (False, True):
        if profile:
            write_default_profile(env, c)
        for argv in STARTING:
            line = fail(run(*argv))
            assert line == ("error: context %s: reading a node's providerID for its Azure "
                            "subscription: GET %s/api/v1/nodes?limit=1: HTTP %d %s: Injected "
                            "fault: HTTP %d. (check the API server, or pass --subscription)"
                            % (c.name, c.server_url, status,
                               {500: "InternalError", 503: "ServiceUnavailable"}[status],
                               status)), (argv, line)
    assert not arm_requests(sim, "/subscriptions/%s/providers" % c.subscription)


def test_an_unreachable_api_server_at_start_is_named(sim, run, env, tmp_path):
    closed = tmp_path / "closed"
    closed.write_text("apiVersion: v1\nkind: Config\nclusters:\n- name: gone\n  cluster:\n"
                      "    server: https://127.0.0.1:1\n    insecure-skip-tls-verify: true\n"
                      "contexts:\n- name: gone\n  context:\n    cluster: gone\n    user: u\n"
                      "current-context: gone\nusers:\n- name: u\n  user:\n    token: t0ken-x\n")
    e = dict(env, KUBECONFIG=str(closed))
    for argv in STARTING:
        line = fail(run(*argv, env=e))
        assert line.startswith("error: context gone: reading a node's providerID for its Azure "
                               "subscription: GET https://127.0.0.1:1/api/v1/nodes?limit=1: "
                               "cannot connect to https://127.0.0.1:1: Connection refused"), (argv, line)
        assert line.endswith("(check the API server, or pass --subscription)")


def test_resource_group_and_name_skip_the_search(sim, run, env):
    c = sim.clusters[0]
    sim.clear_log()
    ok(run("pools", "-o", "name", "-g", c.resource_group, "--name", c.name))
    assert not arm_requests(sim, MC_LIST % c.subscription)
    assert arm_requests(sim, c.id)
    assert not os.path.exists(cache_file(env))
    line = fail(run("pools", "--resource-group", c.resource_group, "--name", "nosuch"))
    assert "no AKS cluster nosuch in resource group %s" % c.resource_group in line
    line = fail(run("pools", "--name", c.name))
    assert "--name needs --resource-group" in line


def test_name_of_another_cluster_warns(make_sim, env, run):
    s = make_sim(scenarios.Scenario([
        scenarios.Cluster("east", "rg-e", scenarios.DEMO_SUBSCRIPTION,
                          pools=[scenarios.Pool("e1", count=2)]),
        scenarios.Cluster("west", "rg-w", scenarios.DEMO_SUBSCRIPTION,
                          pools=[scenarios.Pool("w1", count=1)])]))
    e = helpers.make_env(s, env["HOME"])
    r = ok(run("pools", "--context", "east", "-g", "rg-w", "--name", "west", "-o", "name",
               env=e))
    assert r.stdout == "agentpool/w1\n"
    assert helpers.diagnostics(r.stderr) == ("Warning: context east does not talk to cluster west's API server "
                        "(%s): the nodes shown are the context's\n" % s.cluster("west").fqdn)
    r = ok(run("pools", "--context", "west", "-g", "rg-w", "--name", "west", env=e))
    assert helpers.diagnostics(r.stderr) == ""


def test_resource_group_narrows_the_search(sim, run):
    c = sim.clusters[0]
    sim.clear_log()
    ok(run("pools", "-o", "name", "--resource-group", c.resource_group))
    rg_list = "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.ContainerService/" \
              "managedClusters" % (c.subscription, c.resource_group)
    assert [r["path"] for r in arm_requests(sim) if r["path"].endswith("managedClusters")] \
        == [rg_list]
    line = fail(run("pools", "--resource-group", "no-such-rg"))
    assert "ResourceGroupNotFound" in line


def test_private_cluster_matches_private_fqdn(sim, run):
    c = sim.clusters[0]
    c.extra["private"] = True
    doc = json.loads(ok(run("pools", "-o", "json")).stdout)
    assert doc["cluster"]["privateFQDN"] == c.fqdn
    assert doc["cluster"]["fqdn"] != c.fqdn


def test_host_matched_case_insensitively(sim, run, env, tmp_path):
    c = sim.clusters[0]
    # a kubeconfig naming the same host in upper case (an IP has no case, so
    # the ARM side is changed instead)
    c.extra["properties"] = {"fqdn": c.fqdn.upper() + "."}
    assert ok(run("pools", "-o", "name")).stdout


def test_answer_is_cached_and_revalidated(sim, run, env):
    c = sim.clusters[0]
    ok(run("pools", "-o", "name"))
    path = cache_file(env)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode) == 0o700
    entries = json.load(open(path))["clusters"]
    assert [(e["context"], e["id"]) for e in entries] == [(c.name, c.id)]
    # cached: no search, one GET of the cluster
    sim.clear_log()
    ok(run("pools", "-o", "name"))
    assert not arm_requests(sim, MC_LIST % c.subscription)
    assert len([r for r in arm_requests(sim) if r["path"] == c.id]) == 1
    # moved to another resource group: the cached id is gone (404), search again
    old_id = c.id
    c.resource_group = "moved-rg"
    sim.clear_log()
    ok(run("pools", "-o", "name"))
    assert [r["status"] for r in arm_requests(sim) if r["path"] == old_id] == [404]
    assert len(arm_requests(sim, MC_LIST % c.subscription)) == 1
    assert [e["id"] for e in json.load(open(path))["clusters"]] == [c.id]


def test_cached_cluster_checked_in_the_first_wave(sim, run):
    """With the cluster's id cached, ARM is asked in two waves: the pool list
    with the cluster's GET (its check) and upgrade profile, then the pools'
    profiles; the nodes are listed from the start, beside them."""
    c = sim.clusters[0]
    ok(run("pools", "-o", "name"))
    sim.faults.add(server="azure", method="GET", path_prefix=c.id, latency_ms=300, times=None)
    sim.clear_log()
    ok(run("pools", "-o", "name"))
    reqs = arm_requests(sim, c.id)
    get, = [r for r in reqs if r["path"] == c.id]
    first = [r for r in reqs if r["path"] in (c.id + "/agentPools",
                                              c.id + "/upgradeProfiles/default")]
    profiles = [r for r in reqs if r["path"].endswith("/upgradeProfiles/default")
                and "/agentPools/" in r["path"]]
    assert len(first) == 2 and len(profiles) == len(c.pools) and len(reqs) == 3 + len(c.pools)
    assert all(r["start"] < get["t"] and get["start"] < r["t"] for r in first)
    assert min(r["start"] for r in profiles) >= max(r["t"] for r in first + [get])
    nodes, = sim.find(server=c.name, method="GET", path_prefix="/api/v1/nodes")
    assert nodes["start"] < get["t"]


def test_cached_cluster_kept_when_no_token(sim, run, env):
    """A wave that never went out (no token) says nothing of the cached
    cluster: the entry stays and the error is the token's."""
    c = sim.clusters[0]
    ok(run("pools", "-o", "name"))
    sim.clear_log()
    line = fail(run("pools", env=dict(env, AZURE_CLIENT_SECRET="wrong")))
    assert "Entra ID returned invalid_client" in line, line
    assert [e["id"] for e in json.load(open(cache_file(env)))["clusters"]] == [c.id]
    assert not arm_requests(sim)


def test_deleted_cluster(sim, run, env):
    c = sim.clusters[0]
    ok(run("pools", "-o", "name"))
    c.extra["in_arm"] = False
    line = fail(run("pools"))
    assert line == ("error: no AKS cluster with API server %s in subscription %s (from the "
                    "nodes' providerID): pass --subscription or --resource-group/--name"
                    % (c.fqdn, c.subscription))
    # the stale entry was dropped
    assert json.load(open(cache_file(env)))["clusters"] == []


def test_wrong_subscription(sim, run):
    c = sim.clusters[0]
    line = fail(run("pools", "--subscription", "00000000-0000-0000-0000-000000000001"))
    assert ("no AKS cluster with API server %s in subscription "
            "00000000-0000-0000-0000-000000000001 (from --subscription)" % c.fqdn) in line


def test_context_that_is_not_aks(sim, run):
    c = sim.clusters[0]
    c.extra["in_arm"] = False
    with c.k8s.lock:
        for node in c.k8s.nodes():
            node["spec"]["providerID"] = "kind://docker/kind/" + node["metadata"]["name"]
    line = fail(run("pools"))
    assert line == "error: context %s does not point at an AKS cluster (server %s)" % (
        c.name, c.server_url)
    # also when the subscription was given and the search came back empty
    line = fail(run("pools", "--subscription", c.subscription))
    assert "does not point at an AKS cluster" in line


def test_no_credentials_is_one_error(sim, run, env):
    e = {k: v for k, v in env.items() if not k.startswith("AZURE_CLIENT")}
    e["AZLINUX_AUTH"] = "env"
    r = run("pools", env=e)
    assert r.returncode == 1
    assert helpers.diagnostics(r.stderr).startswith("error: ")
    assert len(helpers.diagnostics(r.stderr).strip().splitlines()) == 1


def test_auth_flag_picks_the_credential_source(sim, run):
    assert ok(run("pools", "--auth", "env", "-o", "name")).stdout
    line = fail(run("pools", "--auth", "login"))
    assert "credential source login" in line
    line = fail(run("pools", "--auth", "bogus"))
    assert "unknown credential source 'bogus'" in line


def test_through_real_kubectl(sim, env, bin_path):
    r = helpers.kubectl(env, "azlinux", "pools", "-o", "name")
    assert r.returncode == 0, r.stderr
    assert "agentpool/mariner" in r.stdout.splitlines()
