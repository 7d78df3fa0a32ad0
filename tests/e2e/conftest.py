"""Fixtures for the end-to-end suite (run with /usr/bin/python3 -m pytest).

`sim` is a started simulator serving the demo scenario; `make_sim(scenario)`
starts others. `env` is an isolated environment pointing at `sim`; `run(...)`
runs $AZLINUX_BIN in it. The CA is made once per session.
"""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import helpers  # noqa: E402  (needs the path above)
from sim import scenario as scenarios  # noqa: E402
from sim.pki import PKI  # noqa: E402
from sim.server import Sim  # noqa: E402


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
