"""The simulator's plain backend for a TLS front (front.py; an asyncio loop,
where the Azure server proper has a thread per connection) answers as the
Azure server does: same statuses, headers and bodies, keep-alive, request
bodies in either framing, injected faults and latency, and the same log."""

import http.client
import json
import socket
import ssl
import time
from urllib.parse import urlsplit

import pytest

from sim import arm, entra
from sim import scenario as scenarios


@pytest.fixture
def sim(make_sim):
    return make_sim(scenarios.fleet_scenario(2, 2))


def connections(s):
    plain = urlsplit(s.serve_azure_plain())
    tls = urlsplit(s.azure_url)
    ctx = ssl.create_default_context(cafile=s.ca_file)
    return (http.client.HTTPConnection(plain.hostname, plain.port, timeout=10),
            http.client.HTTPSConnection(tls.hostname, tls.port, timeout=10, context=ctx))


def get(conn, path, token=None, **headers):
    if token:
        headers["Authorization"] = "Bearer " + token
    conn.request("GET", path, headers=headers)
    r = conn.getresponse()
    return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()


def arm_token(s):
    return s.issue_azure_token(entra.DEFAULT_TENANT, entra.DEFAULT_CLIENT_ID,
                               "https://management.azure.com/")


def pools_path(s, cluster):
    return "%s/agentPools?api-version=%s" % (cluster.id, arm.API_VERSION)


VARYING = {"date", "x-ms-request-id", "x-ms-correlation-request-id",
           "x-ms-ratelimit-remaining-subscription-reads"}


def test_same_answers_on_one_kept_connection(sim):
    plain, tls = connections(sim)
    token = arm_token(sim)
    c = sim.clusters[0]
    for path, tok in ((pools_path(sim, c), token), (c.id + "?api-version=2000-01-01", token),
                      (pools_path(sim, c), None), ("/nowhere", token)):
        a, b = get(plain, path, tok), get(tls, path, tok)
        assert a[0] == b[0]
        assert json.loads(a[2]) == json.loads(b[2])
        assert ({k: v for k, v in a[1].items() if k not in VARYING}
                == {k: v for k, v in b[1].items() if k not in VARYING})
    # every answer above came over the same connection
    assert plain.sock is not None
    plain.close()
    tls.close()


def test_request_body_in_either_framing(sim):
    """The token endpoint reads a form body by length or chunked."""
    plain, _ = connections(sim)
    form = ("grant_type=client_credentials&client_id=%s&client_secret=%s"
            "&scope=https%%3A%%2F%%2Fmanagement.azure.com%%2F.default"
            % (entra.DEFAULT_CLIENT_ID, sim.entra.default_secret)).encode()
    path = "/%s/oauth2/v2.0/token" % entra.DEFAULT_TENANT
    ctype = {"Content-Type": "application/x-www-form-urlencoded"}
    plain.request("POST", path, body=form, headers=ctype)
    by_length = plain.getresponse()
    assert by_length.status == 200 and "access_token" in json.loads(by_length.read())
    plain.request("POST", path, body=iter([form[:10], form[10:]]), headers=ctype,
                  encode_chunked=True)
    chunked = plain.getresponse()
    assert chunked.status == 200 and "access_token" in json.loads(chunked.read())
    plain.close()


def test_faults_latency_and_log(sim):
    plain, _ = connections(sim)
    token = arm_token(sim)
    path = pools_path(sim, sim.clusters[0])
    sim.faults.add(server="azure", path_prefix=sim.clusters[0].id, status=429, retry_after=3)
    status, headers, _ = get(plain, path, token)
    assert status == 429 and headers["retry-after"] == "3"
    sim.faults.add(server="azure", path_prefix=sim.clusters[0].id, latency_ms=300)
    sim.clear_log()
    t0 = time.time()
    assert get(plain, path, token)[0] == 200
    assert time.time() - t0 >= 0.3
    [record] = sim.find(server="azure")
    assert record["status"] == 200 and record["t"] - record["start"] >= 0.3
    assert record["auth"] == "bearer:%s" % entra.DEFAULT_CLIENT_ID
    sim.faults.add(server="azure", path_prefix=sim.clusters[0].id, drop=True)
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        get(plain, path, token)
    assert sim.find(server="azure")[-1]["dropped"]
    plain.close()


def test_bad_request_line_closes_the_connection(sim):
    url = urlsplit(sim.serve_azure_plain())
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        sock.sendall(b"NONSENSE\r\n\r\n")
        answer = sock.recv(4096)
        assert answer.startswith(b"HTTP/1.1 400 ")
        assert sock.recv(4096) == b""
