"""Run the simulator standalone (for `make demo`, `make bench`, manual testing).

    /usr/bin/python3 tests/sim/azsim.py --scenario demo|large|fleet --dir DIR [--latency-ms N]

Writes DIR/kubeconfig and DIR/env (source it), prints "ready" once serving,
runs until SIGTERM or SIGINT, then writes DIR/requests.jsonl.
"""

import argparse
import os
import signal
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from sim.pki import PKI  # noqa: E402  (needs the path above)
from sim.scenario import SCENARIOS  # noqa: E402
from sim.server import Sim  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description="Run the kubectl-azlinux simulator.")
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), default="demo")
    parser.add_argument("--dir", required=True, help="where kubeconfig, env and logs go")
    parser.add_argument("--latency-ms", type=int, default=0, help="delay added to each request")
    args = parser.parse_args(argv)

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    os.makedirs(args.dir, exist_ok=True)
    # The CA lives in DIR so the env file's SSL_CERT_FILE outlives this process.
    pki = PKI(os.path.join(args.dir, "pki"))
    sim = Sim(SCENARIOS[args.scenario](), args.dir, latency_ms=args.latency_ms, pki=pki).start()
    try:
        sim.write_env(os.path.join(args.dir, "env"))
        print("ready", flush=True)
        while not stop.wait(3600):
            pass
    finally:
        sim.stop()
        sim.write_requests(os.path.join(args.dir, "requests.jsonl"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
