"""Fixtures for the end-to-end suite (run with /usr/bin/python3 -m pytest).

`sim` is a started simulator serving the demo scenario; `make_sim(scenario)`
starts others. `env` is an isolated environment pointing at `sim`; `run(...)`
runs $AZLINUX_BIN in it. The CA is made once per session.
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import helpers  # noqa: E402  (needs the path above)
from sim import scenario as scenarios  # noqa: E402
from sim.pki import PKI  # noqa: E402
from sim.server import Sim  # noqa: E402


def pytest_configure(config):
    """Under pytest-xdist every worker gets a Secret Service of its own, as
    run-e2e.sh sets up for the whole run: the keyring tests clear and count
    our items, and every signed-in test writes some."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker and os.environ.get("AZL_E2E_SESSION"):
        config._azl_bus = start_secret_service(worker)


def pytest_unconfigure(config):
    bus = getattr(config, "_azl_bus", None)
    if bus:
        os.kill(bus[0], signal.SIGTERM)  # gnome-keyring-daemon leaves with its bus
        shutil.rmtree(bus[1], ignore_errors=True)


def start_secret_service(worker):
    base = tempfile.mkdtemp(prefix="azl-e2e-%s." % worker)
    home = os.path.join(base, "home")
    for d in (".local/share/keyrings", ".config", ".cache"):
        os.makedirs(os.path.join(home, d), mode=0o700)
    os.makedirs(os.path.join(base, "run"), mode=0o700)
    os.environ.update(HOME=home, XDG_RUNTIME_DIR=os.path.join(base, "run"),
                      XDG_DATA_HOME=os.path.join(home, ".local/share"),
                      XDG_CONFIG_HOME=os.path.join(home, ".config"),
                      XDG_CACHE_HOME=os.path.join(home, ".cache"))
    out = subprocess.run(["dbus-daemon", "--session", "--fork", "--print-address=1",
                          "--print-pid=1"], check=True, capture_output=True, text=True).stdout
    address, pid = out.split()[:2]
    os.environ["DBUS_SESSION_BUS_ADDRESS"] = address
    subprocess.run(["gnome-keyring-daemon", "--unlock", "--components=secrets"], check=True,
                   input=os.environ["AZL_E2E_KEYRING_PASSWORD"], capture_output=True, text=True)
    return int(pid), base


@pytest.fixture(scope="session")
def pki(tmp_path_factory):
    return PKI(str(tmp_path_factory.mktemp("pki")))


@pytest.fixture
def make_sim(pki, tmp_path):
    """Factory: make_sim(scenario=None, latency_ms=0, **Sim options) -> started Sim
    (demo by default)."""
    started = []

    def make(scenario=None, latency_ms=0, **options):
        sim = Sim(scenario or scenarios.demo_scenario(),
                  str(tmp_path / ("sim%d" % len(started))), latency_ms=latency_ms, pki=pki,
                  **options)
        started.append(sim)
        return sim.start()
    yield make
    for sim in started:
        sim.stop()


@pytest.fixture
def sim(make_sim):
    return make_sim()


@pytest.fixture
def env(sim, tmp_path):
    return helpers.make_env(sim, tmp_path / "home")


@pytest.fixture
def bin_path():
    path = helpers.plugin_bin()
    if not path:
        pytest.skip("AZLINUX_BIN is not set: run `make e2e` or set it to bin/kubectl-azlinux")
    return path


@pytest.fixture
def run(bin_path, env):
    """run(*args, env=None, input=None, timeout=60) -> CompletedProcess (text)."""
    def run_(*args, env=None, input=None, timeout=60):
        return helpers.run_cmd([bin_path, *args], env if env is not None else env_default,
                               input=input, timeout=timeout)
    env_default = env
    return run_
