"""A throw-away certificate authority for the simulator, made with the openssl CLI.

EC P-256 keys keep generation to a few milliseconds per certificate, and every
certificate is cached by what it says, so a pytest session pays for the CA once
and each simulator start costs at most one server certificate.
"""

import atexit
import os
import shutil
import subprocess
import tempfile
import threading

OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"

# A private config so the system openssl.cnf (whose x509 defaults mark
# certificates as CAs) never leaks into what we issue.
_CONFIG = """\
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca_ext]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = $ENV::AZL_SIM_SAN
[client_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth
"""


def _subject(cn, orgs=()):
    # openssl -subj uses '/' as separator; escape it inside values.
    parts = ["/O=" + o.replace("/", "\\/") for o in orgs]
    parts.append("/CN=" + cn.replace("/", "\\/"))
    return "".join(parts)


class Cert:
    """Paths and PEM text of one issued certificate and its key."""

    def __init__(self, cert_file, key_file):
        self.cert_file = cert_file
        self.key_file = key_file
        with open(cert_file, "rb") as f:
            self.cert_pem = f.read()
        with open(key_file, "rb") as f:
            self.key_pem = f.read()


class PKI:
    """A CA in `directory` that issues server and client certificates."""

    def __init__(self, directory):
        self.dir = os.path.abspath(directory)
        os.makedirs(self.dir, mode=0o700, exist_ok=True)
        self._lock = threading.Lock()
        self._cache = {}
        self._serial = 0
        self.config_file = os.path.join(self.dir, "openssl.cnf")
        with open(self.config_file, "w") as f:
            f.write(_CONFIG)
        self.ca_file = os.path.join(self.dir, "ca.crt")
        self.ca_key = os.path.join(self.dir, "ca.key")
        self._openssl("req", "-x509", "-newkey", "ec", "-pkeyopt",
                      "ec_paramgen_curve:prime256v1", "-nodes",
                      "-keyout", self.ca_key, "-out", self.ca_file,
                      "-days", "3650", "-subj", "/O=kubectl-azlinux/CN=azlinux-sim-ca",
                      "-extensions", "ca_ext")
        with open(self.ca_file, "rb") as f:
            self.ca_pem = f.read()

    def _openssl(self, *args, env=None):
        full_env = dict(os.environ, OPENSSL_CONF=self.config_file, AZL_SIM_SAN="DNS:unused")
        full_env.update(env or {})
        proc = subprocess.run([OPENSSL, *args, "-config", self.config_file]
                              if args[0] == "req" else [OPENSSL, *args],
                              env=full_env, capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError("openssl %s failed: %s" % (args[0], proc.stderr.strip()))

    def _issue(self, key, subject, ext, san=None, rsa=False):
        with self._lock:
            if key in self._cache:
                return self._cache[key]
            self._serial += 1
            base = os.path.join(self.dir, "cert%d" % self._serial)
            newkey = (["rsa:2048"] if rsa else
                      ["ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"])
            self._openssl("req", "-x509", "-CA", self.ca_file, "-CAkey", self.ca_key,
                          "-newkey", *newkey,
                          "-nodes", "-keyout", base + ".key", "-out", base + ".crt",
                          "-days", "825", "-subj", subject, "-extensions", ext,
                          env={"AZL_SIM_SAN": san or "DNS:unused"})
            if rsa:
                # PKCS#1 "RSA PRIVATE KEY", as AKS writes its admin credentials
                self._openssl("pkey", "-in", base + ".key", "-traditional",
                              "-out", base + ".pkcs1")
                os.replace(base + ".pkcs1", base + ".key")
            os.chmod(base + ".key", 0o600)
            cert = Cert(base + ".crt", base + ".key")
            self._cache[key] = cert
            return cert

    def server_cert(self, ips, dns=("localhost",)):
        """A serving certificate valid for every address in `ips`."""
        ips = tuple(sorted(set(ips)))
        san = ",".join(["IP:" + ip for ip in ips] + ["DNS:" + d for d in dns])
        return self._issue(("server", ips, tuple(dns)), "/CN=azlinux-sim", "server_ext", san)

    def client_cert(self, user, groups=(), rsa=False):
        """A client certificate for Kubernetes: CN is the user, each O a group.
        Its key is EC P-256 in PKCS#8, or with rsa RSA 2048 in PKCS#1."""
        groups = tuple(groups)
        return self._issue(("client", user, groups, rsa), _subject(user, groups),
                           "client_ext", rsa=rsa)


_default = None
_default_lock = threading.Lock()


def default_pki():
    """One PKI per process, in a temp dir removed at exit."""
    global _default
    with _default_lock:
        if _default is None:
            directory = tempfile.mkdtemp(prefix="azlsim-pki-")
            atexit.register(shutil.rmtree, directory, True)
            _default = PKI(directory)
        return _default
