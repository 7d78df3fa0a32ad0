"""Shared helpers for the end-to-end tests: isolated environments and runners."""

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if os.path.join(ROOT, "tests") not in sys.path:
    sys.path.insert(0, os.path.join(ROOT, "tests"))

KUBECTL = "/usr/bin/kubectl"

# Host variables that would let a test reach real Azure or a real cluster, or
# change output, are never passed on.
_DROP_PREFIXES = ("AZURE_", "AZLINUX_", "ARM_", "MSI_", "IDENTITY_", "KUBE", "MSAL_")
_DROP = {"NO_COLOR", "SSL_CERT_FILE", "SSL_CERT_DIR", "CURL_CA_BUNDLE", "HTTPS_PROXY",
         "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy",
         "DBUS_SESSION_BUS_ADDRESS"}


def plugin_bin():
    """Absolute path of the binary under test, or None when AZLINUX_BIN is unset."""
    path = os.environ.get("AZLINUX_BIN")
    return os.path.abspath(path) if path else None


def make_env(sim, home):
    """A fresh environment: HOME and XDG dirs under `home`, the simulator's
    KUBECONFIG and CA, the plugin's directory first on PATH."""
    env = {k: v for k, v in os.environ.items()
           if k not in _DROP and not k.startswith(_DROP_PREFIXES)}
    home = str(home)
    for sub in ("", ".config", ".cache"):
        os.makedirs(os.path.join(home, sub), mode=0o700, exist_ok=True)
    env.update(HOME=home, XDG_CONFIG_HOME=os.path.join(home, ".config"),
               XDG_CACHE_HOME=os.path.join(home, ".cache"))
    if sim is not None:
        env.update(sim.env_vars())
    path = env.get("PATH", "/usr/local/bin:/usr/bin:/bin")
    if plugin_bin():
        path = os.path.dirname(plugin_bin()) + os.pathsep + path
    env["PATH"] = path
    return env


def run_cmd(argv, env, input=None, timeout=60):
    return subprocess.run(argv, env=env, input=input, timeout=timeout, capture_output=True,
                          text=True)


def kubectl(env, *args, input=None, timeout=60):
    """The real kubectl against the simulator."""
    return run_cmd([KUBECTL, *args], env, input=input, timeout=timeout)
