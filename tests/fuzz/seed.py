"""Writes the fuzz targets' seed corpora (tests/fuzz/corpus/<target>/) from
the simulator's own payloads: ARM managed clusters, agent pools and upgrade
profiles, Kubernetes nodes and their Table, Entra ID, device-code and
managed-identity answers, the kubeconfig it writes. Run it again after the
simulator changes; the corpus is committed so that `make check` needs no
simulator.

    /usr/bin/python3 tests/fuzz/seed.py
"""

import json
import os
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from sim import k8s as k8smod  # noqa: E402
from sim.scenario import SCENARIOS  # noqa: E402
from sim.server import Sim, write_kubeconfig  # noqa: E402

SEP = b"\n%%\n"  # between the HTTP double's answers (tests/fuzz/fuzz.h)


def js(obj):
    return json.dumps(obj, separators=(",", ":")).encode()


def http(status, body, **headers):
    head = "HTTP %d\n" % status + "".join("%s: %s\n" % (k.replace("_", "-"), v)
                                          for k, v in headers.items())
    return head.encode() + b"\n" + (body if isinstance(body, bytes) else js(body))


class FakeReq:
    """What K8sState._table reads of a request."""
    headers = {"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io"}

    @staticmethod
    def q(name, default=None):
        return default


def main():
    work = tempfile.mkdtemp()
    try:
        sim = Sim(SCENARIOS["demo"](), work)
        seeds = build(sim, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for target, files in seeds.items():
        d = os.path.join(HERE, "corpus", target)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        for i, data in enumerate(files):
            with open(os.path.join(d, "seed-%02d" % i), "wb") as f:
                f.write(data)
    print("seed: %d targets, %d files" % (len(seeds), sum(len(f) for f in seeds.values())))


def build(sim, work):
    arm, c = sim.arm, sim.clusters[0]
    pools = c.pools[:2]
    mc = arm.cluster_json(c)
    aps = [arm.pool_json(c, p) for p in pools]
    mc_up = arm.cluster_upgrade_profile(c)
    ap_ups = [arm.pool_upgrade_profile(c, p) for p in pools]
    nodes = sorted(c.k8s.objects["nodes"].values(), key=lambda n: n["metadata"]["name"])[:2]
    node_list = {"kind": "NodeList", "apiVersion": "v1", "metadata": {"resourceVersion": "1"},
                 "items": nodes}
    page1 = dict(node_list, items=nodes[:1], metadata={"continue": "c2"})
    table = c.k8s._table(FakeReq, "nodes", nodes, {"resourceVersion": "1"}, time.time())
    status = k8smod.status_body(403, "Forbidden", 'nodes is forbidden: User "u" cannot list '
                                "resource \"nodes\" in API group \"\" at the cluster scope")
    arm_err = {"error": {"code": "ResourceNotFound", "message": "The Resource "
                         "'Microsoft.ContainerService/managedClusters/x' was not found."}}
    token = sim.issue_azure_token(c.tenant, "client-a", "https://management.azure.com",
                                  upn="carol@contoso.example")
    tok = {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599,
           "access_token": token, "refresh_token": "sim-rt-x", "id_token": token,
           "scope": "https://management.azure.com/.default offline_access"}
    aad = {"error": "invalid_grant", "error_description": "AADSTS70000: The provided grant "
           "has expired.\r\nTrace ID: t\r\nCorrelation ID: c", "error_codes": [70000],
           "trace_id": "t", "correlation_id": "c", "timestamp": "2026-11-27 20:00:00Z"}
    kc = os.path.join(work, "kc")
    for i, cl in enumerate(sim.clusters):
        cl.server_url = cl.server_url or "https://127.0.0.%d:6443" % (i + 2)
    write_kubeconfig(sim, kc)
    with open(kc, "rb") as f:
        kubeconfig = f.read()
    exec_kc = (b"apiVersion: v1\nkind: Config\ncurrent-context: e\nclusters:\n- name: k\n"
               b"  cluster:\n    server: https://127.0.0.2:6443\n"
               b"    certificate-authority-data: bm90IGEgY2VydA==\n"
               b"users:\n- name: u\n  user:\n    exec:\n      apiVersion: "
               b"client.authentication.k8s.io/v1beta1\n      command: kubelogin\n"
               b"      args: [get-token, --login, azurecli]\n      env:\n      - name: A\n"
               b"        value: b\n      interactiveMode: Never\n"
               b"contexts:\n- name: e\n  context: {cluster: k, user: u, namespace: ns}\n")
    next_page = {"value": [mc], "nextLink": "https://management.azure.com" + c.id.rsplit("/", 1)[0]
                 + "?api-version=2026-10-01&$skipToken=1"}
    profile = {"installationId": "i", "subscriptions": [
        {"id": c.subscription, "name": "s", "state": "Enabled", "isDefault": True,
         "environmentName": "AzureCloud", "tenantId": c.tenant}]}
    provider_id = nodes[0]["spec"].get("providerID", "")
    return {
        "kubeconfig": [kubeconfig, exec_kc],
        "execcred": [
            js({"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential",
                "status": {"token": "t", "expirationTimestamp": "2026-11-27T20:00:00Z"}}),
            b"\x01" + js({"apiVersion": "client.authentication.k8s.io/v1beta1",
                          "kind": "ExecCredential", "status": {
                              "clientCertificateData": "-----BEGIN CERTIFICATE-----\n",
                              "clientKeyData": "-----BEGIN EC PRIVATE KEY-----\n"}})],
        "node": [js(nodes[0]), js(node_list)],
        "kube": [SEP.join([js(nodes[0]), js(page1), js(dict(node_list, items=nodes[1:])),
                           js(table)]),
                 SEP.join([http(403, status), http(429, status, Retry_After=1), js(node_list),
                           http(200, dict(node_list, kind="Table"))])],
        "arm": [SEP.join([js(mc), js(next_page), js({"value": []}), js(aps[0]), js(aps[1])]),
                SEP.join([http(404, arm_err, x_ms_correlation_request_id="5c1e-corr"),
                          http(429, b"", Retry_After=1), b"NETERR",
                          http(401, b""), js(mc)])],
        "inspect": [SEP.join([js(mc), js({"value": aps}), js(mc_up)] + [js(u) for u in ap_ups]),
                    SEP.join([js({"value": [mc]}), js(mc), js({"value": aps}), js(mc_up)]
                             + [js(u) for u in ap_ups])],
        "pool": [js(mc), js({"value": aps})],
        "cluster": [c.server_url.encode() + b"\0" + js(mc),
                    provider_id.encode() + b"\0" + b"\xef\xbb\xbf" + js(profile)],
        "entra": [b"\x00" + js(tok), b"\x01" + js(aad)],
        "devicecode": [b"\x00" + js({
            "device_code": "sim-dc-x", "user_code": "ABCD1234",
            "verification_uri": "https://microsoft.com/devicelogin", "expires_in": 900,
            "interval": 5, "message": "To sign in, use a web browser to open the page "
            "https://microsoft.com/devicelogin and enter the code ABCD1234 to authenticate."}),
            b"\x01" + js(aad)],
        "mi": [b"\x00" + js({"access_token": token, "client_id": "mi-client", "expires_in": "86399",
                             "expires_on": "1900000000", "ext_expires_in": "86399",
                             "not_before": "1800000000", "resource": "https://management.azure.com/",
                             "token_type": "Bearer"}),
               b"\x01" + js({"error": "invalid_request", "error_description":
                             "Identity not found"})],
        "azcli": [js({"accessToken": token, "expiresOn": "2026-11-27 20:00:00.000000",
                      "expires_on": 1900000000, "subscription": c.subscription,
                      "tenant": c.tenant, "tokenType": "Bearer"}),
                  js({"accessToken": token, "expiresOn": "2026-11-27 20:00:00.000000"})],
        "headers": [b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 5\r\n"
                    b"x-ms-correlation-request-id: 5c1e\r\n\r\n",
                    b"HTTP/2 503\r\nretry-after: Wed, 21 Oct 2026 07:28:00 GMT\r\n\r\n"],
        "time": [b"1m30s\x002026-11-27T20:00:00Z", b"30\x001.31.2",
                 b"2018-03-05T17:30:20.123-08:00\x001.30.10", b"500ms\x00v1.32"],
        "tokencache": [js({"version": 1, "entries": [{
            "cloud": "AzureCloud", "tenant": "tenant-a", "client_id": "client-a",
            "kind": "access_token", "scope": "https://management.azure.com/.default",
            "payload": {"version": 1, "value": "x", "expires_on": 1900000000}}]})],
        "caches": [b"# kubectl-azlinux pool names v1\nkey ctx%40https%3A%2F%2F127.0.0.1%3A6443\n"
                   b"pool1\npool2\n",
                   js({"version": 1, "clusters": [{
                       "server": "https://aks-1.hcp.eastus.azmk8s.io:443", "context": "ctx",
                       "id": c.id}]})],
        "options": [b"--context\0demo-aks\0-o\0yaml\0--pool\0p1\0-v=6\0positional",
                    b"--mode=a\0-c\x0012\0-wp\0x\0--insecure-skip-tls-verify=false\0--\0-x",
                    b"--kubeconfig=/k\0--request-timeout\x001m\0-n\0ns\0--help"],
        "print": [js(node_list), js({"value": aps}),
                  js([["aks-a", "Ready", "v1.31.2"], ["aks-b", None, "v1.30.1"]])],
    }


if __name__ == "__main__":
    main()
