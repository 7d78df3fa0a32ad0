"""`make demo`: the plugin's main job against the simulated demo cluster.

    /usr/bin/python3 tests/sim/demo.py --bin <absolute bin dir>

Runs each command of COMMANDS through the real /usr/bin/kubectl, which finds
kubectl-azlinux on PATH exactly as it would after a krew install.
"""

import argparse
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from sim.scenario import demo_scenario  # noqa: E402  (needs the path above)
from sim.server import Sim, client_env  # noqa: E402

KUBECTL = "/usr/bin/kubectl"

# === COMMANDS shown by the demo, in order. Later work adds `pools` and `check`. ===
COMMANDS = [
    ["azlinux", "nodes"],
    ["azlinux", "pools"], ["azlinux", "check"],
    ["azlinux", "migrate", "ubuntu", "--dry-run"],
    ["azlinux", "migrate", "ubuntu", "--yes"],
    ["azlinux", "migrate", "mariner", "--yes"],
    ["azlinux", "status"],
]
# === end of COMMANDS ===

# Exit statuses that are a result, not a failure: `check` answers 3 for
# warnings and 4 for errors found in the (deliberately flawed) demo cluster.
RESULT_STATUSES = {"check": (3, 4), "migrate": (3,)}

# Simulated seconds per wall second while it runs: the migrations' rolls
# (surge, drain, reimage, a minute or two a node) take seconds.
DEMO_TIME_SCALE = 120


def banner(args):
    print("\n==> kubectl " + " ".join(args), flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description="Demo kubectl-azlinux against the simulator.")
    parser.add_argument("--bin", required=True, help="directory holding kubectl-azlinux")
    args = parser.parse_args(argv)
    plugin = os.path.join(os.path.abspath(args.bin), "kubectl-azlinux")
    if not os.access(plugin, os.X_OK):
        print("demo: %s does not exist or is not executable; build it with `make` first"
              % plugin, file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="azlinux-demo-") as work:
        home = os.path.join(work, "home")
        scenario = demo_scenario()
        scenario.time_scale = DEMO_TIME_SCALE
        with Sim(scenario, work) as sim:
            env = client_env(sim, home, args.bin)
            status = 0
            for command in COMMANDS:
                banner(command)
                rc = subprocess.run([KUBECTL, *command], env=env).returncode
                if rc != 0:
                    print("(exit status %d)" % rc, flush=True)
                if rc != 0 and rc not in RESULT_STATUSES.get(command[1], ()):
                    status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
