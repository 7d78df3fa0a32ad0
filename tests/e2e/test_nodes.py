"""`kubectl azlinux nodes` against the simulator: every column and output
format compared with the simulator's own node objects, filters, paging,
every kind of kubeconfig user, kubeconfig merging, and the errors a user
meets (forbidden, unreachable, malformed kubeconfig)."""

import base64
import json
import os
import re
import stat
import time

import pytest
import yaml

import helpers
from sim import k8s
from sim import scenario as scenarios
from sim.server import write_kubeconfig

HEADERS = ["NAME", "POOL", "OS-SKU", "OS", "NODE-IMAGE", "VERSION", "STATUS", "AGE"]
WIDE = HEADERS + ["KERNEL", "CONTAINER-RUNTIME", "ZONE", "VM-SIZE"]

# Display names by node image family (shared/reference/aks-api.md §4).
OS_BY_IMAGE = [("AKSAzureLinux-V3", "Azure Linux", "3.0"),
               ("AKSAzureLinux-V2", "Azure Linux", "2.0"),
               ("AKSCBLMariner-V2", "Azure Linux", "2.0"),
               ("AKSUbuntu-2204", "Ubuntu", "22.04"),
               ("AKSUbuntu-2404", "Ubuntu", "24.04")]


def os_of(image):
    for prefix, name, version in OS_BY_IMAGE:
        if image.startswith(prefix):
            return "%s %s" % (name, version), version
    raise AssertionError("test has no OS for image %s" % image)


def is_ready(node):
    return any(c["type"] == "Ready" and c["status"] == "True"
               for c in node["status"]["conditions"])


def expected(node):
    """What the plugin should say about a simulator node, as -o json keys."""
    labels = node["metadata"]["labels"]
    info = node["status"]["nodeInfo"]
    image = labels["kubernetes.azure.com/node-image-version"]
    os_name, os_version = os_of(image)
    return {"name": node["metadata"]["name"],
            "pool": labels["kubernetes.azure.com/agentpool"],
            "osSku": labels["kubernetes.azure.com/os-sku"],
            "os": os_name, "osVersion": os_version,
            "nodeImageVersion": image,
            "kubeletVersion": info["kubeletVersion"],
            "ready": is_ready(node),
            "schedulable": not node["spec"].get("unschedulable", False),
            "kernelVersion": info["kernelVersion"],
            "osImage": info["osImage"],
            "zone": labels["topology.kubernetes.io/zone"],
            "vmSize": labels["node.kubernetes.io/instance-type"]}


def status_text(e):
    return ("Ready" if e["ready"] else "NotReady") + (
        "" if e["schedulable"] else ",SchedulingDisabled")


def ages(node):
    """The AGE kubectl would print now, give or take the seconds the run took."""
    created = k8s.parse_time(node["metadata"]["creationTimestamp"])
    now = time.time()
    return {k8s.human_duration(now + d - created) for d in (-5, 0, 5)}


def parse_table(text, headers=True):
    """Rows as dicts, cut at the header's column positions (cells hold spaces)."""
    lines = text.splitlines()
    assert lines, "no table printed"
    for line in lines:
        assert line == line.rstrip(), "trailing spaces in %r" % line
        assert "\t" not in line
    head = lines[0]
    names = head.split()
    starts = [head.index(" " + n + " ") + 1 if i else 0 for i, n in enumerate(names[:-1])]
    starts.append(head.rindex(" " + names[-1]) + 1)
    rows = []
    for line in lines[1:]:
        cells = [line[s:e].strip() for s, e in zip(starts, starts[1:] + [None])]
        # at least 3 spaces before every column but the first
        for s in starts[1:]:
            assert line[s - 3:s] == "   ", "columns not padded by 3 in %r" % line
        rows.append(dict(zip(names, cells)))
    return names, rows


def sim_nodes(sim, cluster=None, pool=None):
    c = sim.clusters[0] if cluster is None else sim.cluster(cluster)
    nodes = c.k8s.nodes()
    if pool:
        nodes = [n for n in nodes if n["metadata"]["labels"]["kubernetes.azure.com/agentpool"]
                 == pool]
    return sorted(nodes, key=lambda n: n["metadata"]["name"])


def ok(result):
    assert result.returncode == 0, "exit %d, stderr: %s" % (result.returncode, result.stderr)
    return result


def fail(result):
    assert result.returncode == 1, "exit %d, stdout: %s, stderr: %s" % (
        result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, "expected one error line, got: %r" % result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def check_rows(rows, nodes, wide=False):
    assert [r["NAME"] for r in rows] == [n["metadata"]["name"] for n in nodes]
    for row, node in zip(rows, nodes):
        e = expected(node)
        assert row["POOL"] == e["pool"]
        assert row["OS-SKU"] == e["osSku"]
        assert row["OS"] == e["os"]
        assert row["NODE-IMAGE"] == e["nodeImageVersion"]
        assert row["VERSION"] == e["kubeletVersion"]
        assert row["STATUS"] == status_text(e)
        assert row["AGE"] in ages(node)
        if wide:
            assert row["KERNEL"] == e["kernelVersion"]
            assert row["CONTAINER-RUNTIME"] == node["status"]["nodeInfo"][
                "containerRuntimeVersion"]
            assert row["ZONE"] == e["zone"]
            assert row["VM-SIZE"] == e["vmSize"]


# --- columns and formats ------------------------------------------------------


def test_table_every_column(sim, run):
    r = ok(run("nodes"))
    names, rows = parse_table(r.stdout)
    assert names == HEADERS
    nodes = sim_nodes(sim)
    check_rows(rows, nodes)
    # the demo has the cases worth seeing: NotReady, cordoned, three OSes
    statuses = {row["STATUS"] for row in rows}
    assert {"Ready", "NotReady", "Ready,SchedulingDisabled"} <= statuses
    assert {"Azure Linux 3.0", "Azure Linux 2.0", "Ubuntu 22.04"} <= {r["OS"] for r in rows}
    assert r.stderr == ""


def test_wide_adds_columns(sim, run):
    names, rows = parse_table(ok(run("nodes", "-o", "wide")).stdout)
    assert names == WIDE
    check_rows(rows, sim_nodes(sim), wide=True)


def test_json(sim, run):
    r = ok(run("nodes", "-o", "json"))
    doc = json.loads(r.stdout)
    assert r.stdout.startswith('{\n    "items": [\n        {\n            "name": ')
    items = doc["items"]
    nodes = sim_nodes(sim)
    assert [i["name"] for i in items] == [n["metadata"]["name"] for n in nodes]
    for item, node in zip(items, nodes):
        e = expected(node)
        for key, value in e.items():
            assert item[key] == value, "%s of %s" % (key, e["name"])
    # the documented keys come in the documented order
    documented = ["name", "pool", "osSku", "os", "osVersion", "nodeImageVersion",
                  "kubeletVersion", "ready", "schedulable", "kernelVersion", "osImage",
                  "zone", "vmSize"]
    assert [k for k in items[0] if k in documented] == documented


def test_yaml_is_the_json_tree(sim, run):
    as_json = json.loads(ok(run("nodes", "-o", "json")).stdout)
    text = ok(run("nodes", "-o", "yaml")).stdout
    assert text.startswith("items:\n- name: ")
    assert yaml.safe_load(text) == as_json
    # versions stay strings when read back
    assert all(isinstance(i["osVersion"], str) for i in yaml.safe_load(text)["items"])


def test_name(sim, run):
    r = ok(run("nodes", "-o", "name"))
    assert r.stdout.splitlines() == ["node/" + n["metadata"]["name"] for n in sim_nodes(sim)]


def test_no_headers(sim, run):
    with_headers = ok(run("nodes")).stdout.splitlines()
    without = ok(run("nodes", "--no-headers")).stdout.splitlines()
    assert without == with_headers[1:]
    wide = ok(run("nodes", "--no-headers", "-o", "wide")).stdout.splitlines()
    assert len(wide) == len(sim_nodes(sim))
    assert not wide[0].startswith("NAME")


def test_missing_values_print_none(sim, run):
    node = sim_nodes(sim, pool="system")[0]
    with sim.clusters[0].k8s.lock:
        del node["metadata"]["labels"]["topology.kubernetes.io/zone"]
        node["metadata"]["labels"].pop("failure-domain.beta.kubernetes.io/zone", None)
    _, rows = parse_table(ok(run("nodes", "-o", "wide")).stdout)
    row = [r for r in rows if r["NAME"] == node["metadata"]["name"]][0]
    assert row["ZONE"] == "<none>"
    item = [i for i in json.loads(ok(run("nodes", "-o", "json")).stdout)["items"]
            if i["name"] == node["metadata"]["name"]][0]
    assert item["zone"] is None


def test_not_ready_and_cordoned(sim, run):
    state = sim.clusters[0].k8s
    name = sim_nodes(sim, pool="system")[1]["metadata"]["name"]
    state.set_ready(name, False)
    state.cordon(name)
    _, rows = parse_table(ok(run("nodes", "--pool", "system")).stdout)
    assert {r["NAME"]: r["STATUS"] for r in rows}[name] == "NotReady,SchedulingDisabled"
    state.set_ready(name, True)
    state.cordon(name, False)
    _, rows = parse_table(ok(run("nodes", "--pool", "system")).stdout)
    assert {r["NAME"]: r["STATUS"] for r in rows}[name] == "Ready"


# --- filters ----------------------------------------------------------------------


def test_pool_filter_is_server_side(sim, run):
    sim.clear_log()
    _, rows = parse_table(ok(run("nodes", "--pool", "ubuntu")).stdout)
    nodes = sim_nodes(sim, pool="ubuntu")
    check_rows(rows, nodes)
    lists = sim.find(server=sim.clusters[0].name, method="GET", path_prefix="/api/v1/nodes")
    assert lists and all("labelSelector" in r["query"] for r in lists)


def test_label_selector(sim, run):
    _, rows = parse_table(ok(run("nodes", "-l", "kubernetes.azure.com/os-sku=Ubuntu")).stdout)
    check_rows(rows, sim_nodes(sim, pool="ubuntu"))
    _, rows = parse_table(ok(run("nodes", "--selector=accelerator=nvidia")).stdout)
    check_rows(rows, sim_nodes(sim, pool="gpu"))
    # both at once: the intersection
    _, rows = parse_table(ok(run("nodes", "-l", "kubernetes.azure.com/os-sku=AzureLinux",
                                 "--pool", "mariner")).stdout)
    check_rows(rows, sim_nodes(sim, pool="mariner"))


def test_nothing_found(sim, run):
    r = ok(run("nodes", "--pool", "no-such-pool"))
    assert r.stdout == ""
    assert r.stderr == "No resources found\n"
    r = ok(run("nodes", "--pool", "no-such-pool", "-o", "json"))
    assert json.loads(r.stdout) == {"items": []}


def test_bad_selector_is_the_servers_message(sim, run):
    line = fail(run("nodes", "-l", "a in (b"))
    assert "a in (b" in line or "selector" in line.lower()


# --- paging -----------------------------------------------------------------------


def test_paging_uses_continue(make_sim, env, run):
    pools = [scenarios.Pool("np%d" % i, count=260, zones=["1"]) for i in range(3)]
    big = make_sim(scenarios.Scenario([scenarios.Cluster("big", "big-rg",
                                                         scenarios.DEMO_SUBSCRIPTION,
                                                         pools=pools)]))
    e = helpers.make_env(big, env["HOME"])
    big.clear_log()
    r = ok(run("nodes", "-o", "name", env=e))
    names = [n["metadata"]["name"] for n in sim_nodes(big)]
    assert len(names) == 780
    assert r.stdout.splitlines() == ["node/" + n for n in names]
    lists = big.find(server="big", method="GET", path_prefix="/api/v1/nodes")
    assert len(lists) >= 2
    assert "continue" not in lists[0]["query"]
    assert all("continue" in r["query"] for r in lists[1:])
    assert all("limit" in r["query"] for r in lists)


# --- kubeconfig users ------------------------------------------------------------


def kubeconfig_with_user(sim, tmp_path, user, name="kc"):
    path = str(tmp_path / name)
    write_kubeconfig(sim, path, users={sim.clusters[0].name: user})
    return path


def last_auth(sim):
    lists = sim.find(server=sim.clusters[0].name, path_prefix="/api/v1/nodes")
    assert lists, "no node list reached the simulator"
    return lists[-1]["auth"]


def test_client_certificate_user(sim, run, tmp_path):
    kc = kubeconfig_with_user(sim, tmp_path, {"name": "alice", "cert": ("alice", ["devs"])})
    ok(run("nodes", "--kubeconfig", kc))
    assert last_auth(sim) == "cert:alice"


def test_rsa_client_certificate_user(sim, run, tmp_path):
    """The PKCS#1 RSA key AKS writes for its admin credentials."""
    kc = kubeconfig_with_user(sim, tmp_path, {"name": "admin", "rsa": True,
                                              "cert": ("admin", ["system:masters"])})
    user = yaml.safe_load(open(kc))["users"][0]["user"]
    assert b"BEGIN RSA PRIVATE KEY" in base64.b64decode(user["client-key-data"])
    ok(run("nodes", "--kubeconfig", kc))
    assert last_auth(sim) == "cert:admin"


def test_client_key_of_another_certificate_is_one_error(sim, run, tmp_path):
    """Found before any connection, naming the user and the file."""
    alice, bob = sim.client_cert("alice", ["devs"]), sim.client_cert("bob")
    kc = kubeconfig_with_user(sim, tmp_path, {
        "name": "mallory",
        "client-certificate-data": base64.b64encode(alice.cert_pem).decode(),
        "client-key-data": base64.b64encode(bob.key_pem).decode()})
    sim.clear_log()
    line = fail(run("nodes", "--kubeconfig", kc))
    assert line == ('error: user "mallory" in %s: client key does not match the client '
                    'certificate' % kc)
    assert not sim.find(server=sim.clusters[0].name)


def test_bearer_token_user(sim, run, tmp_path):
    sim.clusters[0].k8s.tokens["tok-bob-123"] = "bob"
    kc = kubeconfig_with_user(sim, tmp_path, {"name": "bob", "token": "tok-bob-123"})
    r = ok(run("nodes", "--kubeconfig", kc, "-v=9"))
    assert last_auth(sim) == "token:bob"
    assert "tok-bob-123" not in r.stderr + r.stdout


def test_token_on_the_command_line(sim, run):
    sim.clusters[0].k8s.tokens["tok-cli-456"] = "carol"
    r = ok(run("nodes", "--token", "tok-cli-456", "-v=8"))
    assert last_auth(sim) == "token:carol"
    assert "tok-cli-456" not in r.stderr + r.stdout


def test_token_file_user(sim, run, tmp_path):
    sim.clusters[0].k8s.tokens["tok-file-1"] = "dave"
    sim.clusters[0].k8s.tokens["tok-file-2"] = "erin"
    token_file = tmp_path / "token"
    token_file.write_text("tok-file-1\n")
    kc = kubeconfig_with_user(sim, tmp_path, {"name": "dave", "tokenFile": str(token_file)})
    ok(run("nodes", "--kubeconfig", kc))
    assert last_auth(sim) == "token:dave"
    token_file.write_text("tok-file-2")     # rotated: read again on the next run
    ok(run("nodes", "--kubeconfig", kc))
    assert last_auth(sim) == "token:erin"


EXEC_PLUGIN = """#!/bin/sh
# Counts its runs and hands out token exec-<run>.
n=$(( $(cat "{count}" 2>/dev/null || echo 0) + 1 ))
echo "$n" > "{count}"
printf '%s\\n' "$KUBERNETES_EXEC_INFO" > "{info}"
cat <<EOF
{{"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential",
  "status": {{"token": "exec-$n"}}}}
EOF
"""


def exec_user(tmp_path):
    count, info = tmp_path / "count", tmp_path / "info"
    script = tmp_path / "cred.sh"
    script.write_text(EXEC_PLUGIN.format(count=count, info=info))
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    user = {"name": "exec-user", "exec": {
        "apiVersion": "client.authentication.k8s.io/v1", "command": str(script),
        "args": [], "interactiveMode": "Never"}}
    return user, count, info


def test_exec_plugin_user(make_sim, env, run, tmp_path):
    pools = [scenarios.Pool("np1", count=700, zones=["1"])]   # two pages: two requests
    s = make_sim(scenarios.Scenario([scenarios.Cluster("ex", "ex-rg",
                                                       scenarios.DEMO_SUBSCRIPTION,
                                                       pools=pools)]))
    s.clusters[0].k8s.tokens["exec-1"] = "frank"
    s.clusters[0].k8s.tokens["exec-2"] = "frank"
    user, count, info = exec_user(tmp_path)
    kc = kubeconfig_with_user(s, tmp_path, user)
    e = helpers.make_env(s, env["HOME"])
    r = ok(run("nodes", "-o", "name", "--kubeconfig", kc, env=e))
    assert len(r.stdout.splitlines()) == 700
    assert count.read_text().strip() == "1"        # once per command, not per request
    assert json.loads(info.read_text())["kind"] == "ExecCredential"
    assert {x["auth"] for x in s.find(server="ex", path_prefix="/api/v1/nodes")} == {
        "token:frank"}
    ok(run("nodes", "-o", "name", "--kubeconfig", kc, env=e))
    assert count.read_text().strip() == "2"        # a new process runs it again


def cert_exec_user(tmp_path, cert_pem, key_pem):
    """A user whose exec plugin hands out a client certificate and key."""
    cred = tmp_path / "cred.json"
    cred.write_text(json.dumps({
        "apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential",
        "status": {"clientCertificateData": cert_pem.decode(),
                   "clientKeyData": key_pem.decode()}}))
    script = tmp_path / "cert-cred.sh"
    script.write_text('#!/bin/sh\ncat "%s"\n' % cred)
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return {"name": "exec-user", "exec": {
        "apiVersion": "client.authentication.k8s.io/v1", "command": str(script),
        "args": [], "interactiveMode": "Never"}}


def test_exec_plugin_client_certificate(sim, run, tmp_path):
    alice = sim.client_cert("alice", ["devs"])
    kc = kubeconfig_with_user(sim, tmp_path, cert_exec_user(tmp_path, alice.cert_pem,
                                                            alice.key_pem))
    ok(run("nodes", "--kubeconfig", kc))
    assert last_auth(sim) == "cert:alice"


def test_exec_plugin_key_of_another_certificate_is_one_error(sim, run, tmp_path):
    alice, bob = sim.client_cert("alice", ["devs"]), sim.client_cert("bob")
    kc = kubeconfig_with_user(sim, tmp_path, cert_exec_user(tmp_path, alice.cert_pem,
                                                            bob.key_pem))
    sim.clear_log()
    line = fail(run("nodes", "--kubeconfig", kc))
    assert line == ('error: user "exec-user" in %s, its exec plugin\'s credential: client key '
                    'does not match the client certificate' % kc)
    assert not sim.find(server=sim.clusters[0].name)


def test_exec_plugin_refreshed_once_after_401(sim, run, tmp_path):
    # exec-1 is unknown to the server: the 401 must re-run the plugin once.
    sim.clusters[0].k8s.tokens["exec-2"] = "grace"
    user, count, _ = exec_user(tmp_path)
    kc = kubeconfig_with_user(sim, tmp_path, user)
    sim.clear_log()
    r = ok(run("nodes", "-o", "name", "--kubeconfig", kc))
    assert r.stdout.splitlines() == ["node/" + n["metadata"]["name"] for n in sim_nodes(sim)]
    assert count.read_text().strip() == "2"
    lists = sim.find(server=sim.clusters[0].name, path_prefix="/api/v1/nodes")
    assert [x["status"] for x in lists][:2] == [401, 200]
    assert lists[0]["auth"] == "token:invalid" and lists[1]["auth"] == "token:grace"


def test_exec_plugin_still_rejected_is_one_error(sim, run, tmp_path):
    user, count, _ = exec_user(tmp_path)   # no exec-N token is valid
    kc = kubeconfig_with_user(sim, tmp_path, user)
    line = fail(run("nodes", "--kubeconfig", kc))
    assert "nauthorized" in line
    assert count.read_text().strip() == "2"        # refreshed once, not in a loop


# --- kubeconfig selection and merging --------------------------------------------


@pytest.fixture
def two_clusters(make_sim):
    return make_sim(scenarios.Scenario([
        scenarios.Cluster("east", "rg-e", scenarios.DEMO_SUBSCRIPTION,
                          pools=[scenarios.Pool("e1", count=2)]),
        scenarios.Cluster("west", "rg-w", scenarios.DEMO_SUBSCRIPTION,
                          pools=[scenarios.Pool("w1", count=3,
                                                node_image_version=scenarios.UBUNTU2204_IMAGE,
                                                os_sku="Ubuntu")])]))


def names_out(result):
    return [line[len("node/"):] for line in ok(result).stdout.splitlines()]


def test_context_kubeconfig_and_merging(two_clusters, env, run, tmp_path):
    s = two_clusters
    east = [n["metadata"]["name"] for n in sim_nodes(s, "east")]
    west = [n["metadata"]["name"] for n in sim_nodes(s, "west")]
    a = write_kubeconfig(s, str(tmp_path / "a"), clusters=["east"])
    b = write_kubeconfig(s, str(tmp_path / "b"), clusters=["west"])
    e = helpers.make_env(s, env["HOME"])
    e["KUBECONFIG"] = a + os.pathsep + b
    # the first file's current-context wins; contexts of both files are usable
    assert names_out(run("nodes", "-o", "name", env=e)) == east
    assert names_out(run("nodes", "-o", "name", "--context", "west", env=e)) == west
    assert names_out(run("nodes", "-o", "name", "--context=east", env=e)) == east
    e["KUBECONFIG"] = b + os.pathsep + a
    assert names_out(run("nodes", "-o", "name", env=e)) == west
    # --kubeconfig means that file alone
    assert names_out(run("nodes", "-o", "name", "--kubeconfig", a, env=e)) == east
    line = fail(run("nodes", "--kubeconfig", a, "--context", "west", env=e))
    assert "west" in line
    # global flags may also come before the command word
    assert names_out(run("--context", "west", "nodes", "-o", "name", env=e)) == west


def test_missing_kubeconfig_file(run, tmp_path):
    missing = str(tmp_path / "nope" / "config")
    line = fail(run("nodes", "--kubeconfig", missing))
    assert missing in line


def test_malformed_kubeconfig_names_line(run, tmp_path):
    bad = tmp_path / "broken"
    bad.write_text("apiVersion: v1\nclusters:\n- cluster: [unclosed\n  name: x\n")
    line = fail(run("nodes", "--kubeconfig", str(bad)))
    assert str(bad) in line
    assert re.search(r"line [34]\b|:[34]:", line), line


# --- errors from the server and the network --------------------------------------


def test_forbidden_is_the_servers_message(sim, run):
    sim.clusters[0].k8s.forbid("masterclient", "list", "nodes")
    line = fail(run("nodes"))
    assert 'nodes is forbidden: User "masterclient" cannot list resource "nodes"' in line


def test_unreachable_server_one_line(sim, run):
    line = fail(run("nodes", "--server", "https://127.0.0.1:9", "--request-timeout", "5s"))
    assert "127.0.0.1" in line


def test_request_timeout_invalid(run):
    line = fail(run("nodes", "--request-timeout", "soon"))
    assert "--request-timeout" in line


# --- through kubectl -------------------------------------------------------------


def test_through_real_kubectl(sim, env, bin_path):
    direct = helpers.run_cmd([bin_path, "nodes", "-o", "json"], env)
    via = helpers.kubectl(env, "azlinux", "nodes", "-o", "json")
    assert via.returncode == 0, via.stderr
    assert json.loads(via.stdout) == json.loads(ok(direct).stdout)
    _, rows = parse_table(ok(helpers.kubectl(env, "azlinux", "nodes", "--pool", "gpu")).stdout)
    check_rows(rows, sim_nodes(sim, pool="gpu"))
    h = ok(helpers.kubectl(env, "azlinux", "nodes", "--help"))
    assert "Usage:\n  kubectl azlinux nodes " in h.stdout
    bad = helpers.kubectl(env, "azlinux", "nodes", "--bogus")
    assert bad.returncode == 1
    assert "See 'kubectl azlinux nodes --help' for usage." in bad.stderr
