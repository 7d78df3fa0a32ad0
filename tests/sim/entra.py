"""Entra ID (v2 token and device-code endpoints), IMDS and the App Service
managed-identity endpoint, for the simulator (shared/reference/credentials.md).

server.Sim loads this module and calls register(sim); the state lives in
`sim.entra` (an Entra), which tests read and change directly:

    sim.entra.add_app(client_id, tenant, secret=..., federated_tokens=[...])
    sim.entra.add_certificate(client_id)   -> path of a PEM (certificate + key)
    sim.entra.device_script = ["authorization_pending", "slow_down", "success"]
    sim.entra.managed_identities / system_identity
    sim.entra.install_fake_az(bindir, statefile) and az_login(statefile, ...)
    sim.entra.log: one dict per token request (grant, client, tenant; no secrets)

By default the simulator's environment (sim.env_vars()) carries a working
service principal (AZURE_TENANT_ID / AZURE_CLIENT_ID / AZURE_CLIENT_SECRET),
AZLINUX_TOKEN_CACHE=none, and points IMDS at the simulator, so other suites
get ARM tokens without any setup. Secrets are never logged.
"""

import base64
import hashlib
import json
import os
import secrets
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from urllib.parse import parse_qs

from .server import Response

OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"
HERE = os.path.dirname(os.path.abspath(__file__))

DEFAULT_TENANT = "5f1e0a4c-0000-4000-8000-00000000a2b1"
DEFAULT_CLIENT_ID = "3c7d9e1a-0000-4000-8000-00000000c1d2"
DEVICE_USER = "alice@contoso.example"
CLI_CLIENT_ID = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
DEVICE_GRANTS = ("urn:ietf:params:oauth:grant-type:device_code", "device_code")
USER_SCOPES = ("offline_access", "openid", "profile")

# AADSTS codes and texts as Entra ID sends them (reference-error-codes.md).
ERRORS = {
    "bad_secret": ("invalid_client", 7000215, "Invalid client secret provided. Ensure the "
                   "secret being sent in the request is the client secret value, not the client "
                   "secret ID, for a secret added to app '{client}'."),
    "no_app": ("unauthorized_client", 700016, "Application with identifier '{client}' was not "
               "found in the directory '{tenant}'."),
    "no_tenant": ("invalid_request", 90002, "Tenant '{tenant}' not found. Check to make sure "
                  "you have the correct tenant ID and are signing into the correct cloud."),
    "bad_assertion": ("invalid_client", 700027, "The certificate with identifier used to sign "
                      "the client assertion is not registered on application."),
    "no_federation": ("invalid_client", 70021, "No matching federated identity record found for "
                      "presented assertion."),
    "no_credential": ("invalid_client", 7000218, "The request body must contain the following "
                      "parameter: 'client_assertion' or 'client_secret'."),
    "bad_grant": ("unsupported_grant_type", 70003, "The app requested an unsupported grant "
                  "type '{grant}'."),
    "rt_revoked": ("invalid_grant", 50173, "The provided grant has expired due to it being "
                   "revoked, a fresh auth token is needed. The user might have changed or reset "
                   "their password."),
    "rt_unknown": ("invalid_grant", 9002313, "Invalid request. Request is malformed or invalid."),
    "authorization_pending": ("authorization_pending", 70016, "OAuth 2.0 device flow error. "
                              "Authorization is pending. Continue polling."),
    "slow_down": ("slow_down", 70016, "Polling too fast: slow down."),
    "expired_token": ("expired_token", 70019, "Verification code expired."),
    "authorization_declined": ("authorization_declined", 70000, "The user declined the "
                               "sign-in request."),
    "bad_verification_code": ("bad_verification_code", 70018, "Invalid verification code "
                              "entered."),
}


def aad_error(kind, status=400, **fmt):
    error, code, text = ERRORS[kind]
    trace, corr = str(uuid.uuid4()), str(uuid.uuid4())
    stamp = time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime())
    return Response(status, {
        "error": error,
        "error_description": "AADSTS%d: %s\r\nTrace ID: %s\r\nCorrelation ID: %s\r\n"
                             "Timestamp: %s" % (code, text.format(**fmt), trace, corr, stamp),
        "error_codes": [code], "timestamp": stamp, "trace_id": trace,
        "correlation_id": corr, "error_uri": "https://login.microsoftonline.com/error?code=%d"
                                             % code})


def _b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def _b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def audience_of(scope):
    """The resource a v2 scope list asks for (the first that is not an OIDC scope)."""
    for s in (scope or "").split():
        if s not in USER_SCOPES:
            return s[:-len("/.default")] if s.endswith("/.default") else s
    return ""


class App:
    def __init__(self, client_id, tenant, secret=None, federated_tokens=(), name=None):
        self.client_id = client_id
        self.tenant = tenant
        self.secret = secret
        self.federated_tokens = set(federated_tokens)
        self.certs = {}                 # x5t -> public key PEM path
        self.name = name or "app-" + client_id[:8]


class Entra:
    """Test-controllable identity state; see the module docstring."""

    def __init__(self, sim):
        self.sim = sim
        self.lock = threading.Lock()
        self.apps = {}
        self.tenants = {DEFAULT_TENANT}
        self.default_secret = "sim-sp-secret-" + secrets.token_hex(12)
        self.add_app(DEFAULT_CLIENT_ID, DEFAULT_TENANT, secret=self.default_secret)
        # the public client device-code sign-in uses by default
        self.add_app(CLI_CLIENT_ID, DEFAULT_TENANT, name="Microsoft Azure CLI")
        self.token_lifetime = 3600      # seconds, for every token issued
        self.device_script = ["success"]  # what successive polls of one code answer
        self.device_interval = 1
        self.device_expires_in = 900
        self.device_user = DEVICE_USER
        self.device_codes = {}          # device_code -> state
        self.rotate_refresh_tokens = True  # a used refresh token stops working
        self.refresh_tokens = {}        # token -> dict(tenant, client_id, user, valid)
        self.system_identity = None     # client id of the system-assigned identity, or None
        self.managed_identities = []    # [dict(client_id, object_id, resource_id)]
        self.identity_header = "sim-identity-header-" + secrets.token_hex(8)
        self.log = []                   # token requests, without secrets
        self.issued = []                # every access/refresh token handed out
        os.makedirs(sim.workdir, exist_ok=True)
        self._dir = tempfile.mkdtemp(prefix="entra-", dir=sim.workdir)

    # --- set-up helpers for tests ---------------------------------------

    def add_app(self, client_id, tenant, secret=None, federated_tokens=(), name=None):
        with self.lock:
            self.tenants.add(tenant)
            app = App(client_id, tenant, secret, federated_tokens, name)
            self.apps[(tenant, client_id)] = app
            return app

    def add_certificate(self, client_id, tenant=DEFAULT_TENANT):
        """Registers a new RSA certificate on the app; returns a PEM file holding
        the certificate and its private key (AZURE_CLIENT_CERTIFICATE_PATH)."""
        base = os.path.join(self._dir, "app-%s-%s" % (client_id[:8], secrets.token_hex(4)))
        subprocess.run([OPENSSL, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                        base + ".key", "-out", base + ".crt", "-days", "2", "-subj",
                        "/CN=" + client_id], check=True, capture_output=True)
        der = subprocess.run([OPENSSL, "x509", "-in", base + ".crt", "-outform", "DER"],
                             check=True, capture_output=True).stdout
        subprocess.run([OPENSSL, "x509", "-in", base + ".crt", "-pubkey", "-noout", "-out",
                        base + ".pub"], check=True, capture_output=True)
        with open(base + ".pem", "wb") as out:
            for part in (".crt", ".key"):
                with open(base + part, "rb") as f:
                    out.write(f.read())
        os.chmod(base + ".pem", 0o600)
        x5t = _b64url(hashlib.sha1(der).digest())
        with self.lock:
            self.apps[(tenant, client_id)].certs[x5t] = dict(
                pub=base + ".pub", s256=_b64url(hashlib.sha256(der).digest()))
        return base + ".pem"

    def add_managed_identity(self, client_id=None, object_id=None, resource_id=None):
        mi = dict(client_id=client_id or str(uuid.uuid4()), object_id=object_id or
                  str(uuid.uuid4()), resource_id=resource_id or
                  "/subscriptions/sim/resourceGroups/rg/providers/Microsoft.ManagedIdentity/"
                  "userAssignedIdentities/id-" + secrets.token_hex(3))
        self.managed_identities.append(mi)
        return mi

    def revoke_refresh_tokens(self):
        with self.lock:
            for rt in self.refresh_tokens.values():
                rt["valid"] = False

    def count(self, grant=None, tenant=None):
        return sum(1 for r in list(self.log)
                   if (grant is None or r["grant"] == grant)
                   and (tenant is None or r["tenant"] == tenant))

    def install_fake_az(self, bindir, statefile):
        """Puts `az` (tests/sim/fake_az) in bindir; returns env additions."""
        os.makedirs(bindir, exist_ok=True)
        target = os.path.join(bindir, "az")
        if not os.path.exists(target):
            os.symlink(os.path.join(HERE, "fake_az"), target)
        return {"FAKE_AZ_STATE": statefile, "FAKE_AZ_LOG": statefile + ".log"}

    def az_login(self, statefile, user="carol@contoso.example", tenant=DEFAULT_TENANT,
                 old_format=False, **extra):
        """Writes fake az's state: signed in as user, with an ARM token."""
        state = dict(logged_in=True, user=user, tenant=tenant, old_format=old_format,
                     tokens={})
        for resource in ("https://management.azure.com",
                         "https://management.chinacloudapi.cn",
                         "https://management.usgovcloudapi.net"):
            state["tokens"][resource] = self.sim.issue_azure_token(
                tenant, CLI_CLIENT_ID, resource,
                self.token_lifetime, upn=user)
        state["expires_on"] = int(time.time()) + self.token_lifetime
        state.update(extra)
        with open(statefile, "w") as f:
            json.dump(state, f)
        self.issued.extend(state["tokens"].values())
        return state

    def imds_env(self):
        """Points the managed-identity source at the simulator's IMDS (it is on
        the Azure server, whose URL is known once the simulator has started)."""
        return {"AZURE_POD_IDENTITY_AUTHORITY_HOST": self.sim.azure_url}

    def app_service_env(self):
        return {"IDENTITY_ENDPOINT": self.sim.azure_url + "/msi/token",
                "IDENTITY_HEADER": self.identity_header}

    def bare_env(self, env, **extra):
        """env without the default service principal, with IMDS pointed at the
        simulator (never at a real 169.254.169.254), plus extra."""
        out = {k: v for k, v in env.items()
               if k not in ("AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET")}
        out.update(self.imds_env())
        out.update({k: str(v) for k, v in extra.items()})
        return out

    def env(self):
        """What the simulator's default environment gets from us."""
        return {"AZURE_TENANT_ID": DEFAULT_TENANT, "AZURE_CLIENT_ID": DEFAULT_CLIENT_ID,
                "AZURE_CLIENT_SECRET": self.default_secret, "AZLINUX_TOKEN_CACHE": "none"}

    # --- issuing ----------------------------------------------------------

    def _issue(self, tenant, client_id, scope, user=None, refresh=False, **claims):
        audience = audience_of(scope)
        extra = dict(claims)
        if user:
            extra["upn"] = user
        at = self.sim.issue_azure_token(tenant, client_id, audience, self.token_lifetime,
                                        **extra)
        body = {"token_type": "Bearer", "expires_in": self.token_lifetime,
                "ext_expires_in": self.token_lifetime, "access_token": at, "scope": scope}
        self.issued.append(at)
        if refresh:
            rt = "sim-rt-" + secrets.token_urlsafe(32)
            with self.lock:
                self.refresh_tokens[rt] = dict(tenant=tenant, client_id=client_id,
                                               user=user, valid=True)
            body["refresh_token"] = rt
            self.issued.append(rt)
            idt = ".".join([_b64url(b'{"alg":"none","typ":"JWT"}'), _b64url(json.dumps(
                dict(aud=client_id, tid=tenant, preferred_username=user,
                     name=user.split("@")[0])).encode()), ""])
            body["id_token"] = idt
        return Response(200, body)

    # --- the token endpoint ---------------------------------------------

    def _client_auth(self, app, form, tenant, token_url):
        """None when the client proved itself, else the error Response."""
        if "client_secret" in form:
            if app.secret is None or not secrets.compare_digest(form["client_secret"],
                                                                app.secret):
                return aad_error("bad_secret", 401, client=app.client_id)
            return None
        if form.get("client_assertion_type") != ASSERTION_TYPE or "client_assertion" not in form:
            return aad_error("no_credential", 400)
        assertion = form["client_assertion"]
        if assertion in app.federated_tokens:
            return None
        if app.certs and self._verify_assertion(app, assertion, token_url):
            return None
        return aad_error("bad_assertion" if app.certs else "no_federation", 401)

    def _verify_assertion(self, app, assertion, token_url):
        try:
            h64, p64, s64 = assertion.split(".")
            header = json.loads(_b64url_decode(h64))
            claims = json.loads(_b64url_decode(p64))
        except ValueError:
            return False
        cert = app.certs.get(header.get("x5t"))
        if (cert is None or header.get("alg") != "RS256"
                or header.get("x5t#S256") != cert["s256"]
                or claims.get("iss") != app.client_id or claims.get("sub") != app.client_id
                or claims.get("aud") != token_url or claims.get("exp", 0) < time.time()):
            return False
        with tempfile.TemporaryDirectory(dir=self._dir) as d:
            data, sig = os.path.join(d, "data"), os.path.join(d, "sig")
            with open(data, "w") as f:
                f.write(h64 + "." + p64)
            with open(sig, "wb") as f:
                f.write(_b64url_decode(s64))
            proc = subprocess.run([OPENSSL, "dgst", "-sha256", "-verify", cert["pub"],
                                   "-signature", sig, data], capture_output=True)
        return proc.returncode == 0

    def _app(self, tenant, client_id):
        if tenant not in self.tenants and tenant not in ("organizations", "common"):
            return None, aad_error("no_tenant", 400, tenant=tenant)
        with self.lock:
            app = self.apps.get((tenant, client_id))
            if app is None and tenant in ("organizations", "common"):
                app = next((a for (t, c), a in self.apps.items() if c == client_id), None)
        if app is None:
            return None, aad_error("no_app", 400, client=client_id, tenant=tenant)
        return app, None

    def token(self, req, tenant):
        form = {k: v[0] for k, v in parse_qs(req.body.decode(), keep_blank_values=True).items()}
        grant = form.get("grant_type", "")
        client_id = form.get("client_id", "")
        self.log.append(dict(t=time.time(), tenant=tenant, grant=grant, client_id=client_id,
                             scope=form.get("scope", ""),
                             proof="secret" if "client_secret" in form else
                             "assertion" if "client_assertion" in form else "none"))
        if grant == "client_credentials":
            app, err = self._app(tenant, client_id)
            url = self.sim.azure_url + req.path
            err = err or self._client_auth(app, form, tenant, url)
            return err or self._issue(app.tenant, client_id, form.get("scope"))
        if grant in DEVICE_GRANTS:
            return self._poll(form.get("device_code", ""), client_id)
        if grant == "refresh_token":
            return self._refresh(tenant, client_id, form)
        return aad_error("bad_grant", 400, grant=grant)

    def _refresh(self, tenant, client_id, form):
        with self.lock:
            rt = self.refresh_tokens.get(form.get("refresh_token", ""))
            if rt is None:
                return aad_error("rt_unknown", 400)
            if not rt["valid"] or rt["client_id"] != client_id:
                return aad_error("rt_revoked", 400)
            if self.rotate_refresh_tokens:
                rt["valid"] = False
        return self._issue(rt["tenant"], client_id, form.get("scope"), user=rt["user"],
                           refresh=True)

    # --- device code ----------------------------------------------------

    def devicecode(self, req, tenant):
        form = {k: v[0] for k, v in parse_qs(req.body.decode(), keep_blank_values=True).items()}
        client_id = form.get("client_id", "")
        self.log.append(dict(t=time.time(), tenant=tenant, grant="devicecode",
                             client_id=client_id, scope=form.get("scope", ""), proof="none"))
        app, err = self._app(tenant, client_id)
        if err:
            return err
        code = "sim-dc-" + secrets.token_urlsafe(24)
        user_code = secrets.token_hex(4).upper()
        with self.lock:
            self.device_codes[code] = dict(script=list(self.device_script), tenant=app.tenant,
                                           client_id=client_id, scope=form.get("scope", ""),
                                           polls=0, done=False)
        uri = "https://microsoft.com/devicelogin"
        return Response(200, {
            "device_code": code, "user_code": user_code, "verification_uri": uri,
            "expires_in": self.device_expires_in, "interval": self.device_interval,
            "message": "To sign in, use a web browser to open the page %s and enter the code "
                       "%s to authenticate." % (uri, user_code)})

    def _poll(self, code, client_id):
        with self.lock:
            st = self.device_codes.get(code)
            if st is None or st["client_id"] != client_id or st["done"]:
                return aad_error("bad_verification_code", 400)
            st["polls"] += 1
            step = st["script"].pop(0) if len(st["script"]) > 1 else st["script"][0]
            if step == "success":
                st["done"] = True
        if step == "success":
            return self._issue(st["tenant"], client_id, st["scope"], user=self.device_user,
                               refresh="offline_access" in st["scope"].split())
        return aad_error(step, 400)

    # --- managed identity -------------------------------------------------

    def _mi_select(self, req, res_param):
        sel = [(k, req.q(k)) for k in ("client_id", "object_id", res_param) if req.q(k)]
        if not sel:
            if self.system_identity:
                return dict(client_id=self.system_identity)
            return self.managed_identities[0] if len(self.managed_identities) == 1 else None
        key, value = sel[0]
        key = "resource_id" if key == res_param else key
        return next((m for m in self.managed_identities if m[key] == value), None)

    def _mi_token(self, req, res_param):
        mi = self._mi_select(req, res_param)
        resource = req.q("resource", "")
        self.log.append(dict(t=time.time(), tenant="", grant="managed_identity",
                             client_id=mi["client_id"] if mi else "", scope=resource,
                             proof="imds" if res_param == "msi_res_id" else "app-service"))
        if mi is None:
            return Response(400, {"error": "invalid_request", "error_description":
                                  "Identity not found"})
        now = int(time.time())
        at = self.sim.issue_azure_token(DEFAULT_TENANT, mi["client_id"], resource.rstrip("/"),
                                        self.token_lifetime)
        self.issued.append(at)
        return Response(200, {"access_token": at, "client_id": mi["client_id"],
                              "expires_in": str(self.token_lifetime),
                              "expires_on": str(now + self.token_lifetime),
                              "ext_expires_in": str(self.token_lifetime),
                              "not_before": str(now), "resource": resource,
                              "token_type": "Bearer"})

    def imds(self, req):
        if req.headers.get("Metadata") != "true":
            return Response(400, {"error": "bad_request_102",
                                  "error_description": "Required metadata header not specified"})
        return self._mi_token(req, "msi_res_id")

    def app_service(self, req):
        if req.headers.get("X-IDENTITY-HEADER") != self.identity_header:
            return Response(401, {"statusCode": 401, "message": "Unauthorized: the "
                                  "X-IDENTITY-HEADER is missing or wrong."})
        return self._mi_token(req, "mi_res_id")


def handle(sim, req):
    parts = req.path.strip("/").split("/")
    if len(parts) == 4 and parts[1:3] == ["oauth2", "v2.0"] and req.method == "POST":
        if parts[3] == "token":
            return sim.entra.token(req, parts[0])
        if parts[3] == "devicecode":
            return sim.entra.devicecode(req, parts[0])
    if req.path == "/metadata/identity/oauth2/token" and req.method == "GET":
        return sim.entra.imds(req)
    if req.path == "/msi/token" and req.method == "GET":
        return sim.entra.app_service(req)
    return None


def register(sim):
    sim.entra = Entra(sim)
    sim.register_azure_handler(handle)
    sim.env_extra.update(sim.entra.env())

