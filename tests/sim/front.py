"""ARM's and Entra ID's front door for the simulator: HTTP/2 over TLS.

The simulator (server.py) speaks HTTP/1.1 only; Azure's endpoints speak
HTTP/2, on which a client's concurrent requests are streams of one
connection. H2Front puts nghttpx (Debian's nghttp2-proxy, installed by
`make deps`) in front of the simulator's Azure server, and logs which
connection each request came on. Used by the benchmark and by the tests
that count connections.
"""

import os
import shutil
import socket
import subprocess
import time
from urllib.parse import urlsplit


class FrontError(RuntimeError):
    """nghttpx is missing or did not start."""


NGHTTPX = shutil.which("nghttpx") or "/usr/sbin/nghttpx"
# One line per request: the ALPN protocol the client negotiated with the
# front, and its source port (one port = one connection).
FRONT_LOG_FORMAT = "$alpn $remote_port $status $request"


class H2Front:
    """nghttpx (nghttp2-proxy) in front of the simulator's Azure server.

    ARM and Entra ID speak HTTP/2; the simulator speaks HTTP/1.1 only, so a
    wave of 100 GETs it would see over 100 connections, where ARM sees 100
    streams on one. The front terminates TLS with a certificate from the
    simulator's CA, negotiates h2 by ALPN, and passes every stream on over its
    own plain HTTP/1.1 connection on loopback to the simulator, which still
    injects its latency and logs each request with its own start and end
    times. (A backend hop over TLS cost the simulator and nghttpx CPU that
    the client's machine does not pay with the real ARM.)"""

    def __init__(self, sim, pki, workdir):
        self.sim = sim
        self.cert = pki.server_cert(["127.0.0.1"])
        self.access_log = os.path.join(workdir, "nghttpx-access.log")
        self.error_log = os.path.join(workdir, "nghttpx-error.log")
        self.proc = None
        self.url = None
        self.direct_url = None
        self._log_offset = 0

    def argv(self, port, backend_port):
        return [NGHTTPX,
                # Debian's /etc/nghttpx/nghttpx.conf adds a listener on port
                # 3000 and sends errors to syslog.
                "--conf=" + os.devnull,
                "--frontend=127.0.0.1,%d" % port,
                "--backend=127.0.0.1,%d;;proto=http/1.1" % backend_port,
                # Every stream of a wave needs its own HTTP/1.1 connection to
                # the simulator at the same time (0: no limit; the default).
                "--backend-connections-per-frontend=0",
                # Keep them between runs (the simulator drops idle ones after
                # 60 s), as ARM's front keeps its own.
                "--backend-keep-alive-timeout=30s",
                "--frontend-http2-max-concurrent-streams=100",
                "--no-via", "--no-ocsp",
                "--accesslog-file=" + self.access_log,
                "--accesslog-format=" + FRONT_LOG_FORMAT,
                "--errorlog-file=" + self.error_log,
                self.cert.key_file, self.cert.cert_file]

    def start(self):
        if not os.access(NGHTTPX, os.X_OK):
            raise FrontError("%s not found; run `make deps` (package nghttp2-proxy)" % NGHTTPX)
        self.direct_url = self.sim.azure_url
        backend_port = urlsplit(self.sim.serve_azure_plain()).port
        # A free port can be taken by another test process before nghttpx
        # binds it (the suite runs on several workers): try another.
        for attempt in range(3):
            port = free_port()
            self.proc = subprocess.Popen(self.argv(port, backend_port), stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                wait_listening(port, self.proc, self.error_log)
                break
            except FrontError:
                if attempt == 2:
                    raise
        self.url = "https://127.0.0.1:%d" % port
        # Links the simulator writes (nextLink) point at the front, as ARM's
        # point at ARM.
        self.sim.azure_url = self.url
        return self

    def stop(self):
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None
        if self.direct_url:
            self.sim.azure_url = self.direct_url

    def env(self):
        """Entra ID and ARM through the front."""
        return azure_env(self.url)

    def direct_env(self):
        """Entra ID and ARM straight to the simulator, over HTTP/1.1."""
        return azure_env(self.direct_url)

    def take_log(self):
        """[(alpn, client port, status, request line)] logged since the last call."""
        with open(self.access_log, encoding="utf-8", errors="replace") as f:
            f.seek(self._log_offset)
            text = f.read()
            self._log_offset = f.tell()
        return [tuple(line.split(" ", 3)) for line in text.splitlines() if line.strip()]

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def azure_env(url):
    return {"AZURE_AUTHORITY_HOST": url + "/", "AZLINUX_ARM_ENDPOINT": url + "/"}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port, proc, error_log, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise FrontError("nghttpx exited with %d: %s" % (proc.returncode, tail(error_log)))
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.02)
    proc.kill()
    raise FrontError("nghttpx did not listen on port %d within %g s: %s" % (
        port, timeout, tail(error_log)))


def tail(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return (f.read().strip().splitlines() or ["(empty log)"])[-1]
    except OSError:
        return "(no log)"
