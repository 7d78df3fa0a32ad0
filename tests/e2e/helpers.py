"""Shared helpers for the end-to-end tests: isolated environments and runners."""

import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if os.path.join(ROOT, "tests") not in sys.path:
    sys.path.insert(0, os.path.join(ROOT, "tests"))

from sim import entra  # noqa: E402  (needs the path above)

KUBECTL = "/usr/bin/kubectl"


def plugin_bin():
    """Absolute path of the binary under test, or None when AZLINUX_BIN is unset."""
    path = os.environ.get("AZLINUX_BIN")
    return os.path.abspath(path) if path else None


def make_env(sim, home):
    """A fresh environment for `sim` (see sim.server.client_env) with the
    plugin's directory first on PATH."""
    from sim.server import client_env
    return client_env(sim, home, os.path.dirname(plugin_bin()) if plugin_bin() else None)


def run_cmd(argv, env, input=None, timeout=60):
    return subprocess.run(argv, env=env, input=input, timeout=timeout, capture_output=True,
                          text=True)


def kubectl(env, *args, input=None, timeout=60):
    """The real kubectl against the simulator."""
    return run_cmd([KUBECTL, *args], env, input=input, timeout=timeout)


PROGRESS_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ ")


def sign_in_to_two_tenants(sim, run, env, other):
    """`login` (device code, the default tenant), then `login --service-principal`
    to tenant `other` with its secret on stdin: what the logout tests undo."""
    sim.entra.add_app(entra.DEFAULT_CLIENT_ID, other, secret="other-tenant-secret")
    assert run("login", env=env).returncode == 0
    p = run("login", "--service-principal", "--tenant", other,
            "--client-id", entra.DEFAULT_CLIENT_ID, input="other-tenant-secret", env=env)
    assert p.returncode == 0, p.stderr


def diagnostics(stderr):
    """stderr without the timestamped progress lines a wait over a second
    prints when stderr is not a terminal (test_progress.py tests those), so
    error and warning assertions hold however slow the machine is."""
    return "".join(l for l in stderr.splitlines(True) if not PROGRESS_LINE.match(l))
