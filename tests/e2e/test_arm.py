"""The ARM client against the simulator: nextLink paging, retries under
injected faults (429 with Retry-After, 500, 503, dropped connections) bounded
in count, ARM errors as one line with code and correlation id, a 401 answered
with a fresh token once, nextLink never followed off the ARM host, and
tokens never printed."""

import re
import time

import pytest

import helpers
from sim import scenario as scenarios

API_VERSION = "2026-10-01"


@pytest.fixture
def paged(make_sim, env):
    s = make_sim(scenarios.fleet_scenario(5, 5))
    s.arm.cluster_page_size = 2
    s.arm.pool_page_size = 2
    return s, helpers.make_env(s, env["HOME"])


def test_paging_follows_next_link(paged, run):
    s, e = paged
    c = s.cluster("fleet-05")
    same_sub = [x for x in s.clusters if x.subscription == c.subscription]
    r = run("pools", "--context", c.name, "-o", "name", env=e)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["agentpool/" + p.name for p in sorted(
        c.pools, key=lambda p: p.name)]
    lists = s.find(server="azure", path_prefix="/subscriptions/%s/providers/" % c.subscription)
    assert len(lists) == (len(same_sub) + 1) // 2
    assert "$skipToken" not in lists[0]["query"]
    assert [r_["query"]["$skipToken"] for r_ in lists[1:]] == [
        [str(2 * i)] for i in range(1, len(lists))]
    pools = [r_ for r_ in s.find(server="azure", path_prefix=c.id + "/agentPools")
             if r_["path"].endswith("/agentPools")]
    assert len(pools) == 3
    assert all(r_["query"]["api-version"] == [API_VERSION] for r_ in lists + pools)


def settle(sim):
    """Waits until the request log stops growing: the simulator logs a
    request just after answering it, so the client may exit first."""
    n, deadline = -1, time.monotonic() + 5
    while len(sim.requests) != n and time.monotonic() < deadline:
        n = len(sim.requests)
        time.sleep(0.2)
    return sim.requests.snapshot()


def statuses(sim, path):
    return [r["status"] for r in settle(sim) if r["server"] == "azure" and r["path"] == path]


def by_name(c):
    return ("-g", c.resource_group, "--name", c.name)


def test_429_with_retry_after_is_obeyed(sim, run):
    c = sim.clusters[0]
    path = c.id + "/agentPools"
    sim.faults.add(server="azure", path_prefix=path, status=429, retry_after=1)
    r = run("pools", *by_name(c), "-o", "name")
    assert r.returncode == 0, r.stderr
    reqs = [x for x in sim.find(server="azure") if x["path"] == path]
    assert [x["status"] for x in reqs] == [429, 200]
    # not before the server said (a lower bound only)
    assert reqs[1]["t"] - reqs[0]["t"] >= 0.95


def test_huge_retry_after_gives_up_at_once(sim, run):
    # issue 17: monotonic_ms() + 9223372036854775000 wrapped and the client
    # waited for ever; 2^31 s is past any budget, so it gives up instead
    c = sim.clusters[0]
    path = c.id + "/agentPools"
    sim.faults.add(server="azure", path_prefix=path, status=429,
                   retry_after=9223372036854775, times=None)
    r = run("pools", *by_name(c), "-o", "name", timeout=30)
    assert r.returncode == 1
    assert [x["status"] for x in settle(sim) if x["path"] == path] == [429]
    assert "(gave up: retrying would take longer than 60s)" in r.stderr


def test_500_and_503_are_retried(sim, run):
    c = sim.clusters[0]
    sim.faults.add(server="azure", path_prefix=c.id, status=500)
    sim.faults.add(server="azure", path_prefix=c.id, status=503, times=2)
    r = run("pools", *by_name(c), "-o", "name")
    assert r.returncode == 0, r.stderr
    assert statuses(sim, c.id) == [500, 503, 503, 200]


def test_dropped_connection_is_retried(sim, run):
    c = sim.clusters[0]
    path = c.id + "/upgradeProfiles/default"
    sim.faults.add(server="azure", path_prefix=path, drop=True)
    r = run("pools", *by_name(c), "-o", "name")
    assert r.returncode == 0, r.stderr
    assert [x["dropped"] for x in sim.find(server="azure") if x["path"] == path] == [True, False]


def test_retries_are_bounded(sim, run):
    c = sim.clusters[0]
    path = c.id + "/agentPools"
    sim.faults.add(server="azure", path_prefix=path, status=503, times=None)
    r = run("pools", *by_name(c))
    assert r.returncode == 1
    assert len([x for x in settle(sim) if x["path"] == path]) == 5
    lines = helpers.diagnostics(r.stderr).strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: GET %s: InternalServerError: " % path)
    assert "(HTTP 503) after 5 attempts" in lines[0]


def test_client_errors_are_not_retried_and_read_as_one_line(sim, run):
    c = sim.clusters[0]
    sim.faults.add(server="azure", path_prefix=c.id, status=403, times=None,
                   headers={"x-ms-correlation-request-id": "5c1e0b9a-corr-0001"},
                   body={"error": {"code": "AuthorizationFailed", "message":
                                   "The client 'x' does not have authorization to perform\n"
                                   "action 'Microsoft.ContainerService/managedClusters/read'."}})
    r = run("pools", *by_name(c))
    assert r.returncode == 1
    assert statuses(sim, c.id) == [403]
    assert helpers.diagnostics(r.stderr) == (
        "error: GET %s: AuthorizationFailed: The client 'x' does not have authorization to "
        "perform action 'Microsoft.ContainerService/managedClusters/read'. (HTTP 403, "
        "correlation id 5c1e0b9a-corr-0001): the identity needs read access (for example "
        "Reader) on the cluster\n" % c.id)


def test_arm_404_names_code_and_correlation_id(sim, run):
    r = run("pools", "--resource-group", "no-such-rg")
    assert r.returncode == 1
    assert re.match(r"error: GET /subscriptions/[^ ]+/resourceGroups/no-such-rg/providers/"
                    r"Microsoft\.ContainerService/managedClusters: ResourceGroupNotFound: "
                    r"Resource group 'no-such-rg' could not be found\. \(HTTP 404, "
                    r"correlation id [0-9a-f-]{36}\)$", r.stderr.strip()), r.stderr


def test_401_gets_a_fresh_token_once(sim, run):
    c = sim.clusters[0]
    sim.faults.add(server="azure", path_prefix=c.id, status=401,
                   body={"error": {"code": "InvalidAuthenticationToken",
                                   "message": "The access token expired."}})
    before = len(sim.entra.log)
    r = run("pools", *by_name(c), "-o", "name")
    assert r.returncode == 0, r.stderr
    assert statuses(sim, c.id) == [401, 200]
    assert len(sim.entra.log) - before == 2
    # still refused after that: one error, with what to do
    sim.faults.add(server="azure", path_prefix=c.id, status=401, times=None,
                   body={"error": {"code": "InvalidAuthenticationToken",
                                   "message": "The access token is invalid."}})
    sim.clear_log()
    r = run("pools", *by_name(c))
    assert r.returncode == 1
    assert statuses(sim, c.id) == [401, 401]
    assert "InvalidAuthenticationToken" in r.stderr and "sign in again" in r.stderr


def test_next_link_off_the_arm_host_is_refused(sim, run):
    c = sim.clusters[0]
    sim.faults.add(server="azure", method="GET",
                   path_prefix="/subscriptions/%s/providers/" % c.subscription, status=200,
                   body={"value": [], "nextLink": "https://attacker.example/steal?x=1"})
    r = run("pools")
    assert r.returncode == 1
    assert "refusing to send the token there" in r.stderr
    assert "attacker.example" in r.stderr


def test_response_that_is_not_json(sim, run):
    c = sim.clusters[0]
    sim.faults.add(server="azure", path_prefix=c.id, status=200, body=b"<html>proxy</html>")
    r = run("pools", *by_name(c))
    assert r.returncode == 1
    assert "GET %s: the response is not JSON" % c.id in r.stderr


def test_tokens_never_printed_even_at_v9(sim, run):
    r = run("pools", "-v=9")
    assert r.returncode == 0, r.stderr
    tokens = [t for t in sim.azure_tokens]
    assert tokens
    for t in tokens:
        assert t not in r.stdout and t not in r.stderr
        assert t.split(".")[2] not in r.stderr
    assert sim.entra.default_secret not in r.stderr


def test_unsupported_api_version_is_the_servers_message(sim, run):
    """Not something the client does: the simulator's check, seen through it."""
    c = sim.clusters[0]
    sim.faults.add(server="azure", path_prefix=c.id, status=400, body={"error": {
        "code": "InvalidApiVersionParameter",
        "message": "The api-version '%s' is invalid." % API_VERSION}})
    r = run("pools", *by_name(c))
    assert r.returncode == 1
    assert "InvalidApiVersionParameter" in r.stderr
    assert statuses(sim, c.id) == [400]
