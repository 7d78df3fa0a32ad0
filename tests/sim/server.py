"""The simulator's servers: Azure, and one API server per cluster.

Azure (Entra ID + ARM) listens on 127.0.0.1; cluster i listens on its own
loopback address 127.0.0.(i+2), so its ARM fqdn is the host of its kubeconfig
server, as on real AKS. Azure routes come from handlers that arm.py and
entra.py register; Kubernetes routes come from k8s.py. The Azure server
speaks HTTPS with a thread per connection, and plain HTTP on one event loop
(uvloop's) behind a front that terminates TLS and HTTP/2 (front.py); the API
servers speak HTTPS, all on one more loop, which also streams their
watches (k8s.Watch, chunked). Every server handles a request the same way.
`sim.clock` (clock.py) is the simulated time of every cluster; it starts
and stops with the servers."""

import asyncio
import base64
import ctypes
import ctypes.util
import functools
import importlib
import importlib.util
import json
import os
import secrets
import select
import socket
import ssl
import sys
import threading
import time
import traceback
from email.utils import formatdate
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from . import k8s
from .clock import Clock
from .pki import default_pki

try:
    import uvloop
except ImportError:
    raise ImportError("the simulator needs uvloop (Debian's python3-uvloop): run `make deps`") \
        from None


class Headers(dict):
    """A request's headers by lower-cased name; get() takes any case and,
    like http.client.HTTPMessage, gives the first of repeated headers."""

    def get(self, name, default=None):
        return dict.get(self, name.lower(), default)

    def __getitem__(self, name):
        return dict.get(self, name.lower())

    def __contains__(self, name):
        return dict.__contains__(self, name.lower())


MAX_HEADERS = 100           # http.client's limits
MAX_LINE = 65536


class Response:
    """What a handler answers: body is a dict (sent as JSON), bytes or None."""

    def __init__(self, status=200, body=None, headers=None):
        self.status = status
        self.body = body
        self.headers = dict(headers or {})

    def encode(self):
        if self.body is None:
            return b""
        if isinstance(self.body, (bytes, bytearray)):
            return bytes(self.body)
        self.headers.setdefault("Content-Type", "application/json")
        return json.dumps(self.body).encode()


class Request:
    """One parsed HTTP request as handlers see it."""

    def __init__(self, method, target, headers, body, server, client_cert):
        parts = urlsplit(target)
        self.method = method
        self.path = parts.path
        self.raw_query = parts.query
        self.query = parse_qs(parts.query, keep_blank_values=True)
        self.headers = headers          # case-insensitive (Headers)
        self.body = body
        self.server = server            # "azure" or a cluster name
        self.client_cert = client_cert  # {"CN": str, "O": [str]} or None
        auth = headers.get("Authorization", "")
        self.bearer = auth[7:].strip() if auth[:7].lower() == "bearer " else None
        self.auth = "none"              # set by whoever authenticates it; never a secret

    def q(self, name, default=None):
        """The first value of a query parameter."""
        values = self.query.get(name)
        return values[0] if values else default

    def json(self):
        return json.loads(self.body or b"null")

    @property
    def content_type(self):
        return (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()


class RequestLog:
    """Thread-safe list of request records (dicts); reads return copies."""

    def __init__(self):
        self._lock = threading.Lock()
        self._items = []

    def append(self, item):
        with self._lock:
            self._items.append(item)

    def snapshot(self):
        with self._lock:
            return list(self._items)

    def clear(self):
        with self._lock:
            self._items.clear()

    def __iter__(self):
        return iter(self.snapshot())

    def __len__(self):
        with self._lock:
            return len(self._items)

    def __getitem__(self, i):
        with self._lock:
            return self._items[i]


def _matches(record_or_req, server, method, path_prefix):
    get = (record_or_req.get if isinstance(record_or_req, dict)
           else lambda k: getattr(record_or_req, k))
    return ((server is None or get("server") == server)
            and (method is None or get("method") == method.upper())
            and (path_prefix is None or get("path").startswith(path_prefix)))


class Fault:
    def __init__(self, server, method, path_prefix, status, retry_after, times, drop,
                 latency_ms, body, headers, after=False, then=None, match=None, hold=False):
        self.hold = hold
        self.after = after
        self.then = then
        self.match = match
        self.server = server
        self.method = method
        self.path_prefix = path_prefix
        self.status = status
        self.retry_after = retry_after
        self.remaining = times          # None = every matching request
        self.drop = drop
        self.latency_ms = latency_ms
        self.body = body
        self.headers = headers or {}
        self.hits = 0


class Faults:
    """Injected failures, consumed in the order they were added."""

    def __init__(self):
        self._lock = threading.Lock()
        self._faults = []

    def add(self, server=None, method=None, path_prefix=None, status=None, retry_after=None,
            times=1, drop=False, latency_ms=0, body=None, headers=None, after=False,
            then=None, match=None, hold=False):
        """Fail the next `times` matching requests (None: all of them).

        server/method/path_prefix select requests (None matches any), and
        match(req), when given, narrows them (e.g. GET but not a watch);
        status answers with that code and `body` (default: an ARM error or
        a Status); drop closes the connection without an answer, before the
        request is handled (a reset before it was sent: nothing happened),
        or with after=True once it was handled (a reset after it was sent:
        the change is made, its answer lost); latency_ms delays first
        (alone, it only slows the request down; longer than the client's
        timeout, it is one that comes too late); hold keeps the connection
        open and never answers, until the client hangs up (HOLD_LIMIT_S at
        most): a response that never comes, before the request is handled,
        or with after=True once it was (the change is made, its answer
        never sent). then(req) runs when
        the fault takes a request, before anything else: a step's hook for
        what someone else does at that moment (expire the tokens, abort
        the operation, change the resource). Returns the Fault, whose
        `hits` counts the requests it took."""
        fault = Fault(server, method, path_prefix, status, retry_after, times, drop,
                      latency_ms, body, headers, after=after, then=then, match=match,
                      hold=hold)
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self):
        with self._lock:
            self._faults.clear()

    def take(self, req):
        """The first live fault matching req, with one use consumed."""
        with self._lock:
            for fault in self._faults:
                if fault.remaining == 0 or not _matches(req, fault.server, fault.method,
                                                        fault.path_prefix):
                    continue
                if fault.match is not None and not fault.match(req):
                    continue
                fault.hits += 1
                if fault.remaining is not None:
                    fault.remaining -= 1
                return fault
        return None


def fault_response(fault, server):
    headers = dict(fault.headers)
    if fault.retry_after is not None:
        headers["Retry-After"] = str(fault.retry_after)
    if fault.body is not None:
        return Response(fault.status, fault.body, headers)
    if server == "azure":
        code = {429: "TooManyRequests", 409: "OperationNotAllowed"}.get(
            fault.status, "InternalServerError")
        return Response(fault.status, {"error": {
            "code": code, "message": "Injected fault: HTTP %d." % fault.status}}, headers)
    return Response(fault.status, k8s.status_body(
        fault.status, k8s.REASONS.get(fault.status, "InternalError"),
        "Injected fault: HTTP %d." % fault.status), headers)


def _subject(cert):
    if not cert:
        return None
    cn, orgs = None, []
    for rdn in cert.get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                cn = value
            elif key == "organizationName":
                orgs.append(value)
    return {"CN": cn, "O": orgs}


# --- one request's life, shared by both servers ---------------------------
#
# Each is a generator of the I/O it needs: it yields None for a line, a
# number n for n bytes or a delay in seconds, and is sent what was read. A
# thread answers it with blocking calls (_run), the asyncio server with
# awaits (_run_async): the same request handling either way.

class _BadRequest(Exception):
    def __init__(self, status, message=None):
        super().__init__(message)
        self.status, self.message = status, message


def _head_steps(raw_requestline):
    """The request line and headers, as http.client would take them; returns
    (command, path, version, headers) or raises _BadRequest."""
    words = str(raw_requestline, "iso-8859-1").rstrip("\r\n").split()
    if len(words) != 3 or words[2] not in ("HTTP/1.0", "HTTP/1.1"):
        raise _BadRequest(HTTPStatus.BAD_REQUEST, "Bad request line %r" % " ".join(words))
    command, path, version = words
    if path.startswith("//"):
        path = "/" + path.lstrip("/")      # as http.server does
    headers = Headers()
    while True:
        line = yield None
        if len(line) > MAX_LINE or len(headers) > MAX_HEADERS:
            raise _BadRequest(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE)
        if line in (b"\r\n", b"\n", b""):
            return command, path, version, headers
        name, sep, value = str(line, "iso-8859-1").partition(":")
        if not sep or not name.strip():
            raise _BadRequest(HTTPStatus.BAD_REQUEST, "Bad header line %r" % line[:80])
        headers.setdefault(name.strip().lower(), value.strip())


def _wants_close(headers, version):
    connection = headers.get("connection", "").lower()
    return connection == "close" or (version == "HTTP/1.0" and connection != "keep-alive")


def _body_steps(headers):
    if headers.get("Transfer-Encoding", "").lower() == "chunked":
        chunks = []
        while True:
            size = int((yield None).split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while (yield None) not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(chunks)
            chunks.append((yield size))
            yield None
    length = int(headers.get("Content-Length") or 0)
    return (yield length) if length else b""


# A held request (Faults.add(hold=True)) waits at most this long for its
# client to hang up: longer than any test waits for a command, so a client
# that ignores its request timeout is stuck, never rescued by a reset.
HOLD_LIMIT_S = 600.0
# What _answer_steps yields for "wait until the client hangs up".
HOLD = "hold"


def _answer_steps(sim, req, start):
    """Faults, the injected latency, the answer and its log record: yields
    the delays (HOLD: until the client goes); returns (response, record),
    or None to drop the connection."""
    fault = sim.faults.take(req)
    if fault is not None and fault.then is not None:
        fault.then(req)
    if fault is not None and fault.latency_ms:
        yield fault.latency_ms / 1000.0
    lost = fault is not None and (fault.drop or fault.hold)
    if lost and not fault.after:
        sim._log(req, 0, fault=True, dropped=True, start=start)
        if fault.hold:
            yield HOLD
        return None
    if sim.latency_ms:
        yield sim.latency_ms / 1000.0
    if fault is not None and fault.status:
        resp = fault_response(fault, req.server)
        sim._authenticate(req)
    else:
        resp = sim._dispatch(req)
    if lost:                                      # after=True: handled, answer lost
        if getattr(resp, "stream", None) is not None:
            resp.stream.close()
        sim._log(req, resp.status, fault=True, dropped=True, start=start)
        if fault.hold:
            yield HOLD
        return None
    # Logged before the answer goes out, so a client holding it finds it
    # in the log.
    return resp, sim._log(req, resp.status, fault=fault is not None, start=start)


SERVER_VERSION = "azlinux-sim "         # BaseHTTPRequestHandler.version_string()


def _response_bytes(resp, command, close_connection):
    """(head and body as one write, whether the connection closes after it).

    One write, as a real server's buffered writer sends them:
    send_response/end_headers and a second write cost two TLS records and two
    syscalls per answer, a sixth of the simulator's CPU on the bench fleet."""
    data = b"" if command == "HEAD" else resp.encode()
    reason = BaseHTTPRequestHandler.responses.get(resp.status, ("",))[0]
    head = ["HTTP/1.1 %d %s" % (resp.status, reason), "Server: " + SERVER_VERSION]
    if not any(key.lower() == "date" for key in resp.headers):
        head.append("Date: " + formatdate(time.time(), usegmt=True))
    for key, value in resp.headers.items():
        head.append("%s: %s" % (key, value))
        if key.lower() == "connection":     # as send_header() does
            close_connection = {"close": True, "keep-alive": False}.get(
                str(value).lower(), close_connection)
    head.append("Content-Length: %d" % len(data))
    head.append("\r\n")
    return "\r\n".join(head).encode("latin-1", "strict") + data, close_connection


def _stream_head(resp):
    """The head of a streamed (chunked) answer, as a watch is sent."""
    reason = BaseHTTPRequestHandler.responses.get(resp.status, ("",))[0]
    head = ["HTTP/1.1 %d %s" % (resp.status, reason), "Server: " + SERVER_VERSION,
            "Date: " + formatdate(time.time(), usegmt=True)]
    head += ["%s: %s" % kv for kv in resp.headers.items()]
    head += ["Transfer-Encoding: chunked", "\r\n"]
    return "\r\n".join(head).encode("latin-1", "strict")


def _chunk(data):
    return b"%x\r\n%s\r\n" % (len(data), data) if data else b""


def _run(steps, answer):
    """Runs a steps generator, sending it answer(step) for each step."""
    try:
        step = next(steps)
        while True:
            step = steps.send(answer(step))
    except StopIteration as done:
        return done.value


async def _run_async(steps, answer):
    try:
        step = next(steps)
        while True:
            step = steps.send(await answer(step))
    except StopIteration as done:
        return done.value


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"       # keep-alive: libcurl reuses connections
    # Headers and body go out in separate writes; with Nagle on, the body
    # waits for the client's delayed ACK (40 ms) on every reused connection.
    disable_nagle_algorithm = True
    server_version = "azlinux-sim"
    sys_version = ""
    timeout = 60                        # idle keep-alive connections end eventually

    def parse_request(self):
        """BaseHTTPRequestHandler.parse_request for HTTP/1.x, without the
        email package it reads headers with: that took a tenth of the
        simulator's CPU on the bench fleet (~90 us a request), which a real
        server's request parser does not cost."""
        self.command = None
        self.request_version = self.default_request_version
        self.close_connection = True
        try:
            head = _run(_head_steps(self.raw_requestline),
                        lambda _: self.rfile.readline(MAX_LINE + 1))
        except _BadRequest as bad:
            self.send_error(bad.status, bad.message)
            return False
        self.command, self.path, self.request_version, self.headers = head
        self.close_connection = _wants_close(self.headers, self.request_version)
        if (self.headers.get("expect", "").lower() == "100-continue"
                and self.request_version == "HTTP/1.1"):
            return self.handle_expect_100()
        return True

    def setup(self):
        # The TLS handshake runs here, in the connection's own thread, so a
        # slow or failing client never stalls the accept loop.
        self.request.settimeout(self.timeout)
        self.handshake_ok = True
        if isinstance(self.request, ssl.SSLSocket):
            try:
                self.request.do_handshake()
            except (ssl.SSLError, OSError):
                self.handshake_ok = False   # handle() skips it; finish() closes it
        super().setup()

    def handle(self):
        if self.handshake_ok:
            try:
                super().handle()
            except (ssl.SSLError, ConnectionError, socket.timeout):
                pass

    def log_message(self, fmt, *args):
        pass

    def _read(self, n):
        return self.rfile.readline() if n is None else self.rfile.read(n)

    def _wait(self, step):
        """A delay, or HOLD: until the client hangs up (its socket reads
        EOF; it sends nothing more while it waits for an answer)."""
        if step != HOLD:
            return time.sleep(step)
        select.select([self.request], [], [], HOLD_LIMIT_S)

    def _serve(self):
        start = time.time()             # with the log's end time: round-trip analysis
        srv = self.server
        body = _run(_body_steps(self.headers), self._read)
        cert = _subject(self.request.getpeercert()) if srv.role != "azure" else None
        req = Request(self.command, self.path, self.headers, body, srv.role, cert)
        outcome = _run(_answer_steps(srv.sim, req, start), self._wait)
        if outcome is None:
            self.close_connection = True
            self.request.shutdown(socket.SHUT_RDWR)
            return
        resp, record = outcome
        data, self.close_connection = _response_bytes(resp, self.command,
                                                      self.close_connection)
        # t is when the answer starts to go out: a request that depends on it
        # starts after t, which a time taken after the write cannot promise
        # (the client may answer before this thread runs again).
        record["t"] = time.time()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    # socketserver's default backlog of 5 overflows when a fleet run opens
    # dozens of connections at once; the kernel then drops SYNs and the client
    # stalls for a 1 s retransmit that no real server would cause.
    request_queue_size = 128

    def __init__(self, sim, role, address, ctx):
        self.sim = sim
        self.role = role
        self._conns = set()
        self._conns_lock = threading.Lock()
        super().__init__((address, 0), _Handler)
        if ctx is not None:
            self.socket = ctx.wrap_socket(self.socket, server_side=True,
                                          do_handshake_on_connect=False)
        self.port = self.server_address[1]
        self.url = "%s://%s:%d" % ("https" if ctx else "http", address, self.port)

    def process_request(self, request, client_address):
        with self._conns_lock:
            self._conns.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        with self._conns_lock:
            self._conns.discard(request)
        super().shutdown_request(request)

    def close_connections(self):
        with self._conns_lock:
            conns = list(self._conns)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        # Clients that hang up or fail TLS are normal; anything else is a bug.
        if not isinstance(exc, OSError):
            super().handle_error(request, client_address)


class _AsyncServer:
    """Listeners on one event loop, with _Server's interface: the Azure
    server once more over plain HTTP behind a front that terminates TLS
    (front.py), or all the clusters' API servers over TLS.

    With a thread per connection, as _Server has, each request of a wave
    (100 at once on the bench fleet) woke its own thread after its injected
    latency, and they took turns at the GIL: an ARM GET cost the simulator
    0.5 ms of CPU against 0.22 ms one at a time, the largest part of its CPU
    on the bench fleet, on the 2 cores it shares with the client. A real
    ARM front end or API server spends nothing of the client's machine. On
    one loop the same requests are served by one thread; the handling is
    _Handler's. The loop is uvloop's, whose transports and TLS are compiled
    where asyncio's are Python: on the bench fleet the API servers took 51
    ms of CPU a run against 70, and the Azure backend 47 against 61."""

    def __init__(self, sim, role):
        self.sim = sim
        self.role = role
        self._loop = uvloop.new_event_loop()
        self._listeners = []            # (socket, role, TLS context or None)
        self._writers = set()

    def listen(self, role, address, ctx=None):
        """Adds a listener for `role` (before serve_forever); returns its URL."""
        sock = socket.create_server((address, 0), backlog=_Server.request_queue_size)
        self._listeners.append((sock, role, ctx))
        return "%s://%s:%d" % ("https" if ctx else "http", address, sock.getsockname()[1])

    def serve_forever(self, poll_interval=None):
        asyncio.set_event_loop(self._loop)
        servers = [self._loop.run_until_complete(asyncio.start_server(
            functools.partial(self._connection, role), sock=sock, ssl=ctx,
            # asyncio refuses a handshake timeout without TLS
            ssl_handshake_timeout=_Handler.timeout if ctx else None))
            for sock, role, ctx in self._listeners]
        try:
            self._loop.run_forever()
        finally:
            for server in servers:
                server.close()
            for writer in list(self._writers):
                writer.transport.abort()
            tasks = asyncio.all_tasks(self._loop)
            for task in tasks:
                task.cancel()
            self._loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
            self._loop.close()

    def shutdown(self):
        self._loop.call_soon_threadsafe(self._loop.stop)

    def close_connections(self):
        pass                            # serve_forever's end closes them

    def server_close(self):
        pass

    async def _connection(self, role, reader, writer):
        self._writers.add(writer)
        writer.transport.get_extra_info("socket").setsockopt(
            socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        cert = _subject(writer.get_extra_info("peercert")) if role != "azure" else None
        try:
            while await self._serve(role, cert, reader, writer):
                pass
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.TimeoutError,
                ssl.SSLError, ValueError):  # ValueError: a line over the reader's limit
            pass
        finally:
            self._writers.discard(writer)
            writer.close()

    async def _serve(self, role, cert, reader, writer):
        """Serves one request; False when the connection is to close."""
        raw = await asyncio.wait_for(reader.readline(), _Handler.timeout)
        if not raw:
            return False
        start = time.time()

        async def read(n):
            return await (reader.readline() if n is None else reader.readexactly(n))
        try:
            command, path, version, headers = await _run_async(_head_steps(raw), read)
        except _BadRequest as bad:
            writer.write(_response_bytes(Response(bad.status, {"error": {
                "code": "BadRequest", "message": bad.message or bad.status.phrase}}),
                "GET", True)[0])
            return False
        body = await _run_async(_body_steps(headers), read)
        req = Request(command, path, headers, body, role, cert)

        async def wait(step):
            if step != HOLD:
                return await asyncio.sleep(step)
            try:                        # as _Handler._wait: until EOF
                await asyncio.wait_for(reader.read(1), HOLD_LIMIT_S)
            except asyncio.TimeoutError:
                pass
        outcome = await _run_async(_answer_steps(self.sim, req, start), wait)
        if outcome is None:
            writer.transport.abort()
            return False
        resp, record = outcome
        if getattr(resp, "stream", None) is not None:
            record["t"] = time.time()
            await self._stream(resp, reader, writer)
            return False
        data, close = _response_bytes(resp, command, _wants_close(headers, version))
        record["t"] = time.time()       # as in _Handler._serve
        writer.write(data)
        await writer.drain()
        return not close


    async def _stream(self, resp, reader, writer):
        """Send a watch (k8s.Watch) as chunked JSON lines until it ends, its
        time is up (then the last chunk, as an API server closes a watch),
        or the client goes."""
        watch = resp.stream
        more = asyncio.Event()
        loop = asyncio.get_running_loop()
        watch.attach(lambda: loop.call_soon_threadsafe(more.set))
        gone = loop.create_task(reader.read(1))     # EOF: the client hung up
        try:
            writer.write(_stream_head(resp))
            end = loop.time() + watch.duration
            bookmark_at = loop.time() + watch.bookmark_seconds
            while not gone.done():
                writer.write(_chunk(watch.take()))
                await writer.drain()
                if watch.finished or loop.time() >= end:
                    break
                if loop.time() >= bookmark_at:
                    writer.write(_chunk(watch.bookmark()))
                    bookmark_at = loop.time() + watch.bookmark_seconds
                    continue
                wake = loop.create_task(more.wait())
                await asyncio.wait([wake, gone], return_when=asyncio.FIRST_COMPLETED,
                                   timeout=max(0.0, min(end, bookmark_at) - loop.time()))
                wake.cancel()
                more.clear()
            if watch.was_cut:
                writer.transport.abort()
            elif not gone.done():
                writer.write(_chunk(watch.take()) + b"0\r\n\r\n")
                await writer.drain()
        finally:
            watch.close()
            gone.cancel()


_libssl = None


def _send_certificate_alone(ctx):
    """SSL_MODE_NO_AUTO_CHAIN on ctx, which Python's ssl does not expose.

    An API server's serving certificate goes alone, as Go's crypto/tls sends
    exactly the chain it is configured with. OpenSSL instead completes it
    from the store that verifies client certificates, which holds the
    cluster CA: every handshake then built and sent the CA, and each client
    parsed a second certificate (a quarter of the certificates kubectl-azlinux
    parses per API server; OpenSSL 3.0 spends ~0.4 ms on each). The pointer
    is PySSLContext's first field; it is used only when OpenSSL reports the
    options Python does for the context, so a different layout changes
    nothing."""
    global _libssl
    if _libssl is None:
        _libssl = ctypes.CDLL(ctypes.util.find_library("ssl") or "libssl.so.3")
        _libssl.SSL_CTX_ctrl.restype = ctypes.c_long
        _libssl.SSL_CTX_ctrl.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_long,
                                         ctypes.c_void_p]
        _libssl.SSL_CTX_get_options.restype = ctypes.c_uint64
        _libssl.SSL_CTX_get_options.argtypes = [ctypes.c_void_p]
    header = ctypes.sizeof(ctypes.c_ssize_t) + ctypes.sizeof(ctypes.c_void_p)
    ssl_ctx = ctypes.c_void_p.from_address(id(ctx) + header).value
    if ssl_ctx and _libssl.SSL_CTX_get_options(ssl_ctx) == ctx.options:
        _libssl.SSL_CTX_ctrl(ssl_ctx, SSL_CTRL_MODE, SSL_MODE_NO_AUTO_CHAIN, None)


SSL_CTRL_MODE = 33              # openssl/ssl.h
SSL_MODE_NO_AUTO_CHAIN = 0x8


def cluster_address(index):
    """Loopback address of the index-th cluster: 127.0.0.2, 127.0.0.3, ..."""
    if index > 250:
        raise ValueError("the simulator serves at most 251 clusters")
    return "127.0.0.%d" % (index + 2)


def _b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Sim:
    """The whole simulator. Use as a context manager or call start()/stop()."""

    def __init__(self, scenario, workdir, latency_ms=0, pki=None, cache_lists=False):
        self.scenario = scenario
        self.clusters = scenario.clusters
        self.workdir = os.path.abspath(workdir)
        self.latency_ms = latency_ms
        self.pki = pki or default_pki()
        self.ca_file = self.pki.ca_file
        self.requests = RequestLog()
        self.faults = Faults()
        self.azure_tokens = {}
        self._tokens_lock = threading.Lock()
        self._azure_handlers = []
        self.env_extra = {}             # arm.py / entra.py add variables here
        self.kubeconfig = os.path.join(self.workdir, "kubeconfig")
        self.azure_url = None
        self._servers = []
        self._threads = []
        # Simulated time for every cluster (clock.py); runs from start().
        self.clock = Clock(scale=getattr(scenario, "time_scale", 1.0))
        for cluster in self.clusters:
            cluster.k8s = k8s.K8sState(cluster, clock=self.clock,
                                       delays=getattr(scenario, "delays", None))
            cluster.k8s.cache_lists = cache_lists   # see K8sState.cache_lists
        self._load_plugins()

    # --- Azure side -----------------------------------------------------

    def register_azure_handler(self, fn):
        """fn(sim, req) -> Response, or None when the request is not its."""
        self._azure_handlers.append(fn)

    def _load_plugins(self):
        # arm.py and entra.py are written separately; use them when present.
        for name in ("arm", "entra"):
            full = "%s.%s" % (__package__, name) if __package__ else name
            if importlib.util.find_spec(full) is not None:
                importlib.import_module(full).register(self)

    def issue_azure_token(self, tenant, client_id, audience, lifetime_s=3600, **claims):
        """A JWT-shaped access token that check_azure_token() will accept."""
        now = int(time.time())
        payload = dict(aud=audience, iss="https://sts.windows.net/%s/" % tenant, iat=now,
                       nbf=now, exp=now + int(lifetime_s), tid=tenant, appid=client_id,
                       oid=claims.pop("oid", client_id), **claims)
        token = ".".join([_b64url(json.dumps({"typ": "JWT", "alg": "RS256"}).encode()),
                          _b64url(json.dumps(payload).encode()),
                          _b64url(secrets.token_bytes(32))])
        with self._tokens_lock:
            self.azure_tokens[token] = dict(tenant=tenant, client_id=client_id,
                                            audience=audience, expires_on=now + int(lifetime_s))
        return token

    def expire_azure_tokens(self):
        """Every access token issued so far expires now (a token that runs
        out during a long operation); new ones are issued as before."""
        with self._tokens_lock:
            for info in self.azure_tokens.values():
                info["expires_on"] = 0

    def check_azure_token(self, req):
        """The issued token's info if req carries a live one, else None."""
        if not req.bearer:
            return None
        with self._tokens_lock:
            info = self.azure_tokens.get(req.bearer)
        if info is None or info["expires_on"] <= time.time():
            return None
        return dict(info)

    # --- dispatch and log -----------------------------------------------

    def _authenticate(self, req):
        if req.server == "azure":
            info = self.check_azure_token(req)
            req.auth = ("bearer:%s" % info["client_id"] if info
                        else "bearer:invalid" if req.bearer else "none")
        else:
            self.cluster(req.server).k8s.authenticate(req)

    def _dispatch(self, req):
        try:
            if req.server != "azure":
                return self.cluster(req.server).k8s.handle(req)
            self._authenticate(req)
            for fn in self._azure_handlers:
                resp = fn(self, req)
                if resp is not None:
                    return resp
            return Response(404, {"error": {
                "code": "NotFound",
                "message": "The simulator has no Azure handler for %s %s." % (req.method,
                                                                               req.path)}})
        except Exception:               # a simulator bug must not hang the client
            traceback.print_exc()
            message = "simulator error, see its stderr"
            if req.server != "azure":
                return Response(500, k8s.status_body(500, "InternalError", message))
            return Response(500, {"error": {"code": "InternalServerError", "message": message}})

    def _log(self, req, status, fault=False, dropped=False, start=None):
        # t is when the answer was sent; start when the request was read.
        now = time.time()
        record = dict(
            t=now, start=now if start is None else start, server=req.server,
            method=req.method, path=req.path,
            query=req.query, status=status, auth=req.auth, content_type=req.content_type,
            user_agent=req.headers.get("User-Agent", ""), accept=req.headers.get("Accept", ""),
            fault=fault, dropped=dropped, if_match=req.headers.get("If-Match") or "",
            # ARM writes' JSON bodies, for tests of what a client sends
            body=req.body.decode("utf-8", "replace") if req.server == "azure" and req.body
            and req.content_type == "application/json" and req.method in ("PUT", "POST", "PATCH")
            else None)
        self.requests.append(record)
        return record

    def count(self, server=None, method=None, path_prefix=None, status=None):
        return sum(1 for r in self.requests.snapshot()
                   if _matches(r, server, method, path_prefix)
                   and (status is None or r["status"] == status))

    def find(self, server=None, method=None, path_prefix=None):
        return [r for r in self.requests.snapshot() if _matches(r, server, method, path_prefix)]

    def clear_log(self):
        self.requests.clear()

    # --- lifecycle ------------------------------------------------------

    def cluster(self, name):
        return self.scenario.cluster(name)

    def _context(self, cert, verify_clients):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(cert.cert_file, cert.key_file)
        ctx.set_alpn_protocols(["http/1.1"])
        # No TLS 1.3 session tickets: no client of the simulator resumes a
        # session (kubectl keeps no session cache, and kubectl-azlinux keeps
        # one connection per server for a run), and OpenSSL 3.0 re-encodes
        # the session with the client's certificate for each ticket: with
        # the default 2, a quarter of each handshake's CPU (1.8 against
        # 2.6 ms per handshake, measured in a loop).
        ctx.num_tickets = 0
        if verify_clients:
            ctx.load_verify_locations(self.ca_file)
            ctx.verify_mode = ssl.CERT_OPTIONAL
            _send_certificate_alone(ctx)
        return ctx

    def _serve(self, role, address, ctx):
        return self._start_server(_Server(self, role, address, ctx))

    def _start_server(self, srv):
        thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05},
                                  name="sim-" + srv.role, daemon=True)
        thread.start()
        self._servers.append(srv)
        self._threads.append(thread)
        return srv

    def start(self):
        os.makedirs(self.workdir, exist_ok=True)
        addresses = [cluster_address(i) for i in range(len(self.clusters))]
        cert = self.pki.server_cert(["127.0.0.1"] + addresses)
        self.azure_url = self._serve("azure", "127.0.0.1", self._context(cert, False)).url
        k8s_ctx = self._context(cert, True)
        api_servers = _AsyncServer(self, "api-servers")
        for cluster, address in zip(self.clusters, addresses):
            cluster.fqdn = address
            cluster.server_url = api_servers.listen(cluster.name, address, k8s_ctx)
        self._start_server(api_servers)
        write_kubeconfig(self, self.kubeconfig)
        self.clock.start()
        return self

    def serve_azure_plain(self):
        """The Azure server once more, over plain HTTP on loopback, for a
        front that terminates TLS itself (front.py), as a load balancer hands
        requests on to its backends. Returns its URL."""
        srv = _AsyncServer(self, "azure-plain")
        url = srv.listen("azure", "127.0.0.1")
        self._start_server(srv)
        return url

    def stop(self):
        self.clock.stop()
        # Shut the servers down in parallel: each waits up to a poll interval.
        stoppers = [threading.Thread(target=srv.shutdown) for srv in self._servers]
        for t in stoppers:
            t.start()
        for t in stoppers:
            t.join()
        for srv, thread in zip(self._servers, self._threads):
            srv.close_connections()
            srv.server_close()
            thread.join(timeout=2)
        self._servers, self._threads = [], []

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def client_cert(self, user, groups=(), rsa=False):
        return self.pki.client_cert(user, groups, rsa)

    def env_vars(self):
        """Environment a client needs to use this simulator."""
        env = {"KUBECONFIG": self.kubeconfig, "SSL_CERT_FILE": self.ca_file,
               "AZURE_AUTHORITY_HOST": self.azure_url + "/",
               "AZLINUX_ARM_ENDPOINT": self.azure_url + "/"}
        env.update(self.env_extra)
        return env

    def write_env(self, path):
        with open(path, "w") as f:
            for key, value in self.env_vars().items():
                f.write("export %s=%s\n" % (key, _shell_quote(value)))

    def write_requests(self, path):
        with open(path, "w") as f:
            for record in self.requests.snapshot():
                f.write(json.dumps(record) + "\n")


# Host variables that would reach real Azure or a real cluster, or change a
# client's output, never pass into a client_env().
_DROP_PREFIXES = ("AZURE_", "AZLINUX_", "ARM_", "MSI_", "IDENTITY_", "KUBE", "MSAL_")
_DROP = {"NO_COLOR", "SSL_CERT_FILE", "SSL_CERT_DIR", "CURL_CA_BUNDLE", "HTTPS_PROXY",
         "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"}


def client_env(sim, home, bin_dir=None):
    """An isolated environment for a client of `sim` (None: no simulator):
    HOME and XDG config/cache dirs under `home`, the simulator's variables,
    and bin_dir first on PATH. XDG_RUNTIME_DIR and the D-Bus session address
    stay, so a keyring daemon the caller started remains reachable."""
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
    env["PATH"] = os.path.abspath(bin_dir) + os.pathsep + path if bin_dir else path
    return env


def _shell_quote(value):
    return "'" + value.replace("'", "'\\''") + "'"


def _b64(data):
    return base64.b64encode(data).decode()


def cluster_user_name(cluster):
    return "clusterUser_%s_%s" % (cluster.resource_group, cluster.name)


# The identity `az aks get-credentials` gives a local-accounts cluster.
DEFAULT_USER = "masterclient"
DEFAULT_GROUPS = ("system:masters",)


def write_kubeconfig(sim, path, users=None, clusters=None, current=None):
    """Write a kubeconfig like `az aks get-credentials` merges.

    One context per cluster, named after it; its user is clusterUser_<rg>_<name>
    with client-certificate data. users maps a cluster name to a replacement user
    dict, e.g. {"name": "bob", "token": "..."} or {"name": "alice", "cert": ("alice",
    ["devs"])} (with "rsa": True, an RSA key as AKS writes); clusters limits which
    clusters appear; current names the current context (default: the first).
    """
    users = users or {}
    chosen = [sim.cluster(n) for n in clusters] if clusters else sim.clusters
    ca = _b64(sim.pki.ca_pem)
    lines = ["apiVersion: v1", "clusters:"]
    for c in chosen:
        lines += ["- cluster:", "    certificate-authority-data: " + ca,
                  "    server: " + c.server_url, "  name: " + json.dumps(c.name)]
    lines.append("contexts:")
    entries = []
    for c in chosen:
        user = dict(users.get(c.name) or {})
        name = user.pop("name", cluster_user_name(c))
        lines += ["- context:", "    cluster: " + json.dumps(c.name),
                  "    user: " + json.dumps(name), "  name: " + json.dumps(c.name)]
        entries.append((name, user))
    current = current or (chosen[0].name if chosen else "")
    lines += ["current-context: " + json.dumps(current), "kind: Config", "preferences: {}",
              "users:"]
    for name, user in entries:
        lines += ["- name: " + json.dumps(name), "  user:"]
        lines += ["    %s: %s" % (k, json.dumps(v)) for k, v in _user_fields(sim, user)]
    text = "\n".join(lines) + "\n"
    tmp = path + ".tmp"
    with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        f.write(text)
    os.replace(tmp, path)
    return path


def _user_fields(sim, user):
    if "cert" in user:
        cn, groups = user.pop("cert")
        cert = sim.client_cert(cn, groups, user.pop("rsa", False))
        user["client-certificate-data"] = _b64(cert.cert_pem)
        user["client-key-data"] = _b64(cert.key_pem)
    if not user:
        cert = sim.client_cert(DEFAULT_USER, DEFAULT_GROUPS)
        user = {"client-certificate-data": _b64(cert.cert_pem),
                "client-key-data": _b64(cert.key_pem)}
    return sorted(user.items())
