"""The token cache in a real Secret Service (issue 3 §3).

tests/run-e2e.sh runs the suite inside a private D-Bus session with an
unlocked gnome-keyring-daemon; these tests use that session (helpers drop
DBUS_SESSION_BUS_ADDRESS from the default environment, so they add it back).
"A locked keyring", "no Secret Service" and "a hung Secret Service" each get
their own private bus and daemons, started and stopped here by pid.
"""

import json
import os
import shutil
import subprocess
import tempfile
import time

import pytest

import helpers
from sim import entra

T = entra.DEFAULT_TENANT
C = entra.DEFAULT_CLIENT_ID
SCHEMA = "io.github.kubectl_azlinux.Token"
BUS = os.environ.get("DBUS_SESSION_BUS_ADDRESS")

pytestmark = pytest.mark.skipif(
    not (BUS and os.environ.get("AZL_E2E_SESSION")),
    reason="needs the Secret Service session tests/run-e2e.sh starts")

BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:tmpdir=%s</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""

# A Secret Service that takes the name and never answers: no main loop, so
# method calls queue up unanswered.
HUNG_SERVICE = """
import sys, time, dbus
bus = dbus.bus.BusConnection(sys.argv[1])
bus.request_name("org.freedesktop.secrets")
print("ready", flush=True)
time.sleep(600)
"""


def secret_tool(*args, input=None):
    env = dict(os.environ, DBUS_SESSION_BUS_ADDRESS=BUS)
    return subprocess.run(["secret-tool", *args], env=env, input=input, capture_output=True,
                          text=True, timeout=30)


def items():
    """Our keyring items: [{"label", "secret", attribute: value...}]."""
    # secret-tool prints attributes on stderr and the rest on stdout, so the
    # two cannot be matched up; libsecret's own Python binding can.
    import gi
    gi.require_version("Secret", "1")
    from gi.repository import Secret
    schema = Secret.Schema.new(SCHEMA, Secret.SchemaFlags.NONE, {})
    flags = Secret.SearchFlags.ALL | Secret.SearchFlags.LOAD_SECRETS
    found = []
    for item in Secret.password_search_sync(schema, {}, flags, None):
        d = dict(item.get_attributes())
        d.update(label=item.get_label(), secret=item.retrieve_secret_sync(None).get_text())
        found.append(d)
    return found


def clear_keyring():
    secret_tool("clear", "xdg:schema", SCHEMA)


@pytest.fixture
def kenv(sim, env):
    clear_keyring()
    yield sim.entra.bare_env(env, DBUS_SESSION_BUS_ADDRESS=BUS, AZLINUX_TOKEN_CACHE="keyring")
    clear_keyring()


@pytest.fixture
def sp(sim):
    return dict(AZURE_TENANT_ID=T, AZURE_CLIENT_ID=C, AZURE_CLIENT_SECRET=sim.entra.default_secret)


def status(run, env, *args):
    p = run("auth", "status", "-o", "json", *args, env=env)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout), p.stderr


def test_login_stores_in_keyring_and_no_files(sim, run, kenv):
    p = run("login", env=kenv)
    assert p.returncode == 0, p.stderr
    assert "saved in the token cache: keyring" in p.stdout
    kinds = sorted(i["kind"] for i in items())
    assert kinds == ["access_token", "account", "refresh_token"]
    for item in items():
        assert item["cloud"] == "AzureCloud" and item["client_id"] and item["tenant"]
        assert item["label"].startswith("kubectl-azlinux ")
        entry = json.loads(item["secret"])
        assert entry["version"] == 1 and "value" in entry and "expires_on" in entry
        # attributes are stored unencrypted: never a token in them
        for key, value in item.items():
            if key != "secret":
                assert not any(tok in value for tok in sim.entra.issued), key
    cache = os.path.join(kenv["XDG_CACHE_HOME"], "kubectl-azlinux")
    assert not os.path.exists(os.path.join(cache, "tokens.json"))
    # lookup: the next command makes no token request
    before = len(sim.entra.log)
    st, err = status(run, kenv)
    assert (st["source"], st["tokenCache"], st["principal"]) == \
        ("login", "keyring", "alice@contoso.example")
    assert len(sim.entra.log) == before and err == ""
    # nor does a command that calls ARM with it
    p = run("pools", env=kenv)
    assert p.returncode == 0, p.stderr
    assert len(sim.entra.log) == before


def test_env_tokens_cached_in_keyring(sim, run, kenv, sp):
    e = dict(kenv, **sp)
    for _ in range(3):
        st, _ = status(run, e)
        assert (st["source"], st["tokenCache"]) == ("env", "keyring")
    assert sim.entra.count(grant="client_credentials") == 1
    (item,) = items()
    assert (item["kind"], item["scope"], item["tenant"], item["client_id"]) == \
        ("access_token", "https://management.azure.com/.default", T, C)


def test_expiry_refresh_replaces_refresh_token_in_keyring(sim, run, kenv):
    sim.entra.token_lifetime = 200        # within the 5-minute margin
    assert run("login", env=kenv).returncode == 0
    (old_rt,) = [json.loads(i["secret"])["value"] for i in items() if i["kind"] == "refresh_token"]
    status(run, kenv)
    assert sim.entra.count(grant="refresh_token") == 1
    rts = [json.loads(i["secret"])["value"] for i in items() if i["kind"] == "refresh_token"]
    assert len(rts) == 1 and rts[0] != old_rt
    assert sim.entra.refresh_tokens[rts[0]]["valid"] and not sim.entra.refresh_tokens[old_rt]["valid"]


def test_logout_removes_everything_from_keyring(sim, run, kenv):
    other = "6a0b0c0d-0000-4000-8000-0000000000ee"
    helpers.sign_in_to_two_tenants(sim, run, kenv, other)
    assert "client_secret" in [i["kind"] for i in items()]
    p = run("logout", "--tenant", other, env=kenv)
    assert p.returncode == 0 and "removed 3" in p.stdout, p.stdout
    assert {i["tenant"] for i in items()} == {T}     # the device-code sign-in's home tenant
    p = run("logout", env=kenv)
    assert p.returncode == 0 and "removed 3" in p.stdout, p.stdout
    assert items() == []


@pytest.mark.parametrize("payload", ["not json", '{"version": 7, "value": "x", "expires_on": 1}'])
def test_corrupt_keyring_entry_is_ignored(sim, run, kenv, sp, payload):
    r = secret_tool("store", "--label=planted", "xdg:schema", SCHEMA, "cloud", "AzureCloud",
                    "tenant", T, "client_id", C, "kind", "access_token", "scope",
                    "https://management.azure.com/.default", input=payload)
    assert r.returncode == 0, r.stderr
    st, err = status(run, dict(kenv, **sp))
    assert st["source"] == "env" and err == ""
    assert sim.entra.count(grant="client_credentials") == 1
    (item,) = items()
    assert json.loads(item["secret"])["version"] == 1


def test_parallel_invocations_with_keyring(sim, run, kenv, sp, bin_path):
    e = dict(kenv, **sp)
    procs = [subprocess.Popen([bin_path, "auth", "status", "-o", "json"], env=e,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(6)]
    outs = [p.communicate(timeout=60) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    assert sim.entra.count(grant="client_credentials") == 1
    assert len(items()) == 1


def test_keyring_needs_no_writable_cache_dir(sim, run, kenv, sp):
    # the cross-process lock lives in XDG_CACHE_HOME; without it, still no error
    e = dict(kenv, XDG_CACHE_HOME="/dev/null/unwritable", **sp)
    for _ in range(2):
        st, err = status(run, e)
        assert (st["source"], st["tokenCache"]) == ("env", "keyring") and err == ""
    assert sim.entra.count(grant="client_credentials") == 1


# --- when the keyring cannot be used -------------------------------------------

class PrivateBus:
    """A dbus-daemon with no service files (nothing auto-starts), and any
    daemons started on it; everything stopped by pid."""

    def __init__(self):
        # Short, not under tmp_path: the bus and gnome-keyring's control
        # socket live in it, and a socket path has 107 bytes at most (the
        # xdist worker's tmp_path is longer).
        self.dir = self.own_dir = tempfile.mkdtemp(prefix="azl-bus.")
        for sub in ("data", "run"):
            os.makedirs(os.path.join(self.dir, sub), mode=0o700)
        conf = os.path.join(self.dir, "bus.conf")
        with open(conf, "w") as f:
            f.write(BUS_CONFIG % self.dir)
        self.procs = []
        bus = subprocess.Popen(["dbus-daemon", "--config-file=" + conf, "--nofork",
                                "--print-address=1"], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True)
        self.procs.append(bus)
        self.address = bus.stdout.readline().strip()
        # The keyring daemons must not find the suite's own daemon through
        # XDG_RUNTIME_DIR, nor its keyrings through XDG_DATA_HOME.
        self.env = dict(os.environ, DBUS_SESSION_BUS_ADDRESS=self.address,
                        XDG_DATA_HOME=os.path.join(self.dir, "data"),
                        XDG_RUNTIME_DIR=os.path.join(self.dir, "run"))

    def start(self, argv, input=None, **kw):
        p = subprocess.Popen(argv, env=self.env, stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, **kw)
        self.procs.append(p)
        if input is not None:
            p.stdin.write(input)
        p.stdin.close()
        return p

    def keyring(self, password):
        p = self.start(["gnome-keyring-daemon", "--foreground", "--unlock",
                        "--components=secrets"], input=password)
        self.wait_for_name()
        return p

    def wait_for_name(self, name="org.freedesktop.secrets"):
        for _ in range(100):
            r = subprocess.run(["dbus-send", "--print-reply", "--dest=org.freedesktop.DBus",
                                "/org/freedesktop/DBus", "org.freedesktop.DBus.NameHasOwner",
                                "string:" + name], env=self.env, capture_output=True, text=True)
            if "boolean true" in r.stdout:
                return
            time.sleep(0.1)
        raise AssertionError("%s never appeared on the private bus" % name)

    def stop(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()


@pytest.fixture
def private_bus():
    buses = []

    def make():
        buses.append(PrivateBus())
        return buses[-1]
    yield make
    for b in buses:
        b.stop()
    for b in buses:
        shutil.rmtree(b.own_dir, ignore_errors=True)


def one_warning(stderr, *texts):
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Warning: system keyring: "), stderr
    assert lines[0].endswith("continuing without a persistent token cache")
    for text in texts:
        assert text in lines[0], lines[0]


def test_locked_keyring_warns_once_and_continues(sim, run, kenv, sp, private_bus):
    first = private_bus()
    first.keyring("first-password")
    r = subprocess.run(["secret-tool", "store", "--label=x", "k", "v"], input="v",
                       env=first.env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    first.stop()
    # The same keyring file, opened with another password: locked
    bus = private_bus()
    bus.dir = first.dir
    bus.env.update(XDG_DATA_HOME=first.env["XDG_DATA_HOME"])
    bus.keyring("second-password")
    e = dict(kenv, **sp)
    e.update(DBUS_SESSION_BUS_ADDRESS=bus.address)
    st, err = status(run, e)
    assert st["source"] == "env" and st["tokenCache"] == "none"
    one_warning(err, "locked")
    # login still works, says once that nothing is kept
    p = run("login", env=e, timeout=60)
    assert p.returncode == 0, p.stderr
    assert sum(1 for line in p.stderr.splitlines() if line.startswith("Warning:")) == 1


def test_no_session_bus(sim, run, kenv, sp, tmp_path):
    e = dict(kenv, **sp)
    e["DBUS_SESSION_BUS_ADDRESS"] = "unix:path=" + str(tmp_path / "no-such-bus")
    st, err = status(run, e)
    assert st["source"] == "env"
    one_warning(err, "connecting to the Secret Service failed")
    e.pop("DBUS_SESSION_BUS_ADDRESS")
    e["XDG_RUNTIME_DIR"] = str(tmp_path)
    e.pop("DISPLAY", None)
    st, err = status(run, e)
    one_warning(err, "Cannot autolaunch D-Bus")


def test_bus_without_secret_service(sim, run, kenv, sp, private_bus):
    bus = private_bus()
    e = dict(kenv, **sp)
    e["DBUS_SESSION_BUS_ADDRESS"] = bus.address
    st, err = status(run, e)
    assert st["source"] == "env"
    one_warning(err, "org.freedesktop.secrets")


def test_hung_secret_service_times_out(sim, run, kenv, sp, private_bus):
    bus = private_bus()
    hung = bus.start(["/usr/bin/python3", "-c", HUNG_SERVICE, bus.address])
    assert hung.stdout.readline().strip() == "ready"
    e = dict(kenv, AZLINUX_KEYRING_TIMEOUT="2", **sp)
    e["DBUS_SESSION_BUS_ADDRESS"] = bus.address
    st, err = status(run, e)
    assert st["source"] == "env"
    one_warning(err, "got no answer within 2s", "AZLINUX_TOKEN_CACHE=none")
