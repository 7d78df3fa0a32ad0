"""Azure identity end to end (issue 3): every credential source, the chain,
--auth/AZLINUX_AUTH, Entra ID errors, login/logout/auth status, clouds and
the file token cache. The keyring backend is in test_keyring.py, the leak
test in test_secrets.py. Tokens are counted in the simulator's own log
(sim.entra.log), never guessed.
"""

import json
import os
import stat
import subprocess
import time

import pytest

import helpers
from sim import entra

T = entra.DEFAULT_TENANT
C = entra.DEFAULT_CLIENT_ID
ARM_SCOPE = "https://management.azure.com/.default"


def status(run, env, *args):
    p = run("auth", "status", "-o", "json", *args, env=env)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def fails(run, env, *args, input=None):
    """The one-line error of a failing command (login may prompt first)."""
    p = run(*args, env=env, input=input)
    assert p.returncode == 1, (p.stdout, p.stderr)
    lines = p.stderr.strip().splitlines()
    assert lines and lines[-1].startswith("error: "), p.stderr
    assert sum(1 for line in lines if line.startswith("error")) == 1, p.stderr
    return lines[-1] + "\n"


@pytest.fixture
def bare(sim, env):
    """No credentials at all; token cache off unless a test says otherwise."""
    return sim.entra.bare_env(env, AZLINUX_TOKEN_CACHE="none")


@pytest.fixture
def sp_env(sim, env):
    """The simulator's default service principal in the environment."""
    return sim.entra.bare_env(env, AZURE_TENANT_ID=T, AZURE_CLIENT_ID=C,
                              AZURE_CLIENT_SECRET=sim.entra.default_secret,
                              AZLINUX_TOKEN_CACHE="none")


@pytest.fixture
def az(sim, tmp_path):
    """fake az on PATH; returns (env additions, state file)."""
    state = str(tmp_path / "az-state.json")
    extra = sim.entra.install_fake_az(str(tmp_path / "azbin"), state)
    return extra, state


def with_az(env, az_fixture):
    extra, _ = az_fixture
    out = dict(env, **extra)
    out["PATH"] = os.path.dirname(extra["FAKE_AZ_LOG"]) + "/azbin" + os.pathsep + env["PATH"]
    return out


def az_calls(az_fixture):
    path = az_fixture[0]["FAKE_AZ_LOG"]
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f]


# --- 1. environment service principal ---------------------------------------

def test_env_client_secret(sim, run, sp_env):
    st = status(run, sp_env)
    assert (st["source"], st["method"], st["tenant"], st["clientId"]) == \
        ("env", "client-secret", T, C)
    assert st["cloud"] == "AzureCloud" and st["expiresOn"].endswith("Z")
    reqs = [r for r in sim.entra.log if r["grant"] == "client_credentials"]
    assert len(reqs) == 1 and reqs[0]["proof"] == "secret" and reqs[0]["scope"] == ARM_SCOPE


def test_env_client_certificate(sim, run, bare):
    pem = sim.entra.add_certificate(C)
    e = dict(bare, AZURE_TENANT_ID=T, AZURE_CLIENT_ID=C, AZURE_CLIENT_CERTIFICATE_PATH=pem)
    st = status(run, e)
    assert (st["source"], st["method"]) == ("env", "client-certificate")
    assert [r["proof"] for r in sim.entra.log] == ["assertion"]


def test_env_certificate_not_registered(sim, run, bare):
    pem = sim.entra.add_certificate(C)
    sim.entra.apps[(T, C)].certs.clear()
    sim.entra.add_certificate(C)            # a different one is registered
    e = dict(bare, AZURE_TENANT_ID=T, AZURE_CLIENT_ID=C, AZURE_CLIENT_CERTIFICATE_PATH=pem)
    err = fails(run, e, "auth", "status", "--auth", "env")
    assert "invalid_client" in err and "AADSTS700027" in err
    assert "check the client id and its secret or certificate" in err


def test_env_certificate_unreadable(run, bare, tmp_path):
    bad = tmp_path / "bad.pem"
    bad.write_text("not a certificate\n")
    e = dict(bare, AZURE_TENANT_ID=T, AZURE_CLIENT_ID=C, AZURE_CLIENT_CERTIFICATE_PATH=str(bad))
    err = fails(run, e, "auth", "status", "--auth", "env")
    assert str(bad) in err and "no PEM certificate" in err


def test_env_wrong_secret_shows_aadsts_and_what_to_do(run, sp_env):
    e = dict(sp_env, AZURE_CLIENT_SECRET="wrong-secret-value")
    err = fails(run, e, "auth", "status", "--auth", "env")
    assert "Entra ID returned invalid_client: AADSTS7000215: Invalid client secret" in err
    assert "trace ID" in err and "correlation ID" in err
    assert "check the client id and its secret or certificate" in err
    assert "wrong-secret-value" not in err


@pytest.mark.parametrize("tenant,client,code,error", [
    ("0badbad0-0000-4000-8000-000000000000", C, "AADSTS90002", "invalid_request"),
    (T, "0badbad0-1111-4000-8000-000000000000", "AADSTS700016", "unauthorized_client"),
])
def test_env_unknown_tenant_or_app(run, sp_env, tenant, client, code, error):
    e = dict(sp_env, AZURE_TENANT_ID=tenant, AZURE_CLIENT_ID=client)
    err = fails(run, e, "auth", "status", "--auth", "env")
    assert error in err and code in err


def test_env_tenant_must_be_an_id_or_domain(run, sp_env):
    err = fails(run, dict(sp_env, AZURE_TENANT_ID="../evil"), "auth", "status", "--auth", "env")
    assert "tenant '../evil' is not a tenant id or domain" in err


def test_env_partial_configuration_is_named(run, bare):
    err = fails(run, dict(bare, AZURE_TENANT_ID=T), "auth", "status", "--auth", "env")
    assert "AZURE_CLIENT_ID not set" in err
    err = fails(run, dict(bare, AZURE_TENANT_ID=T, AZURE_CLIENT_ID=C), "auth", "status",
                "--auth", "env")
    assert "AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH not set" in err


# --- 2. workload identity -----------------------------------------------------

def test_workload_identity_rereads_rotated_token_file(sim, run, bare, tmp_path):
    app = sim.entra.add_app("77777777-0000-4000-8000-000000000077", T,
                            federated_tokens=["federated-one"])
    f = tmp_path / "token"
    f.write_text("federated-one\n")
    e = dict(bare, AZURE_TENANT_ID=T, AZURE_CLIENT_ID=app.client_id,
             AZURE_FEDERATED_TOKEN_FILE=str(f))
    st = status(run, e)
    assert (st["source"], st["method"], st["clientId"]) == \
        ("workload-identity", "federated-token", app.client_id)
    # kubelet rotates the file: only the new token is valid now
    app.federated_tokens = {"federated-two"}
    f.write_text("federated-two")
    assert status(run, e)["source"] == "workload-identity"
    assert [r["proof"] for r in sim.entra.log] == ["assertion", "assertion"]


def test_workload_identity_unknown_token(sim, run, bare, tmp_path):
    app = sim.entra.add_app("77777777-0000-4000-8000-000000000078", T,
                            federated_tokens=["the-right-one"])
    f = tmp_path / "token"
    f.write_text("some-other-token")
    e = dict(bare, AZURE_TENANT_ID=T, AZURE_CLIENT_ID=app.client_id,
             AZURE_FEDERATED_TOKEN_FILE=str(f))
    err = fails(run, e, "auth", "status", "--auth", "workload-identity")
    assert "AADSTS70021" in err and "invalid_client" in err


def test_workload_identity_missing_file(run, bare, tmp_path):
    e = dict(bare, AZURE_TENANT_ID=T, AZURE_CLIENT_ID=C,
             AZURE_FEDERATED_TOKEN_FILE=str(tmp_path / "absent"))
    err = fails(run, e, "auth", "status", "--auth", "workload-identity")
    assert "cannot read the federated token file" in err and "absent" in err


# --- 4. Azure CLI -------------------------------------------------------------

def test_azure_cli_token_is_used_and_not_cached(sim, run, bare, az, tmp_path):
    sim.entra.az_login(az[1])
    e = with_az(dict(bare, AZLINUX_TOKEN_CACHE="file"), az)
    for _ in range(2):
        st = status(run, e)
        assert (st["source"], st["method"], st["principal"]) == \
            ("azure-cli", "azure-cli", "carol@contoso.example")
    calls = az_calls(az)
    assert len(calls) == 2
    assert calls[0][:5] == ["account", "get-access-token", "--resource",
                            "https://management.azure.com", "-o"]
    assert sim.entra.log == []
    cache = tmp_path / "home" / ".cache" / "kubectl-azlinux" / "tokens.json"
    state = json.load(open(az[1]))
    assert not cache.exists() or state["tokens"]["https://management.azure.com"] \
        not in cache.read_text()
    # a later `az logout` takes effect at once
    json.dump({"logged_in": False}, open(az[1], "w"))
    err = fails(run, e, "auth", "status")
    assert "azure-cli: the Azure CLI is not signed in: run 'az login'" in err


def test_azure_cli_old_format_and_tenant(sim, run, bare, az):
    sim.entra.az_login(az[1], old_format=True)
    e = with_az(bare, az)
    p = run("auth", "status", "-o", "json", "--tenant", T, "--auth", "azure-cli", env=e)
    assert p.returncode == 0, p.stderr
    st = json.loads(p.stdout)
    assert st["source"] == "azure-cli" and st["expiresOn"]
    assert az_calls(az)[0][-2:] == ["--tenant", T]


def test_azure_cli_errors(sim, run, bare, az):
    e = with_az(bare, az)
    sim.entra.az_login(az[1], fail="ERROR: AADSTS700082: The refresh token has expired.",
                       exit=1)
    err = fails(run, e, "auth", "status", "--auth", "azure-cli")
    assert "'az account get-access-token' failed (exit 1): ERROR: AADSTS700082" in err
    err = fails(run, bare, "auth", "status", "--auth", "azure-cli")
    assert "the Azure CLI (az) is not on PATH" in err


def test_azure_cli_timeout(sim, run, bare, az):
    sim.entra.az_login(az[1], sleep=5)
    e = with_az(dict(bare, AZLINUX_AZ_TIMEOUT="1"), az)
    err = fails(run, e, "auth", "status", "--auth", "azure-cli")
    assert "did not finish within 1s" in err


# --- 5. managed identity ------------------------------------------------------

def test_imds_system_assigned(sim, run, bare):
    sim.entra.system_identity = "99999999-0000-4000-8000-000000000099"
    st = status(run, bare)
    assert (st["source"], st["method"], st["principal"]) == \
        ("managed-identity", "imds", "99999999-0000-4000-8000-000000000099")
    (req,) = sim.find(path_prefix="/metadata/identity/oauth2/token")
    assert req["query"]["resource"] == ["https://management.azure.com"]
    assert req["query"]["api-version"] == ["2018-02-01"]


def test_imds_user_assigned_selectors(sim, run, bare):
    a = sim.entra.add_managed_identity()
    b = sim.entra.add_managed_identity()
    st = status(run, dict(bare, AZURE_CLIENT_ID=b["client_id"]))
    assert st["principal"] == b["client_id"]
    assert sim.find(path_prefix="/metadata")[0]["query"]["client_id"] == [b["client_id"]]
    p = run("login", "--managed-identity", "--object-id", a["object_id"],
            env=dict(bare, AZLINUX_TOKEN_CACHE="file"))
    assert p.returncode == 0, p.stderr
    assert sim.find(path_prefix="/metadata")[1]["query"]["object_id"] == [a["object_id"]]
    p = run("login", "--managed-identity", "--resource-id", b["resource_id"], env=bare)
    assert p.returncode == 0, p.stderr
    assert sim.find(path_prefix="/metadata")[2]["query"]["msi_res_id"] == [b["resource_id"]]


def test_imds_no_identity_assigned(sim, run, bare):
    err = fails(run, bare, "auth", "status", "--auth", "managed-identity")
    assert "Identity not found" in err and "no identity is assigned" in err


def test_imds_unreachable(run, bare):
    e = dict(bare, AZURE_POD_IDENTITY_AUTHORITY_HOST="http://127.0.0.1:9")
    err = fails(run, e, "auth", "status", "--auth", "managed-identity")
    assert "no managed identity endpoint answers at http://127.0.0.1:9" in err


def test_imds_retries_transient_errors(sim, run, bare):
    sim.entra.system_identity = "99999999-0000-4000-8000-000000000098"
    sim.faults.add(path_prefix="/metadata/", status=503, times=1,
                   body={"error": "busy", "error_description": "IMDS is busy"})
    assert status(run, bare)["source"] == "managed-identity"
    assert sim.count(path_prefix="/metadata/") == 2


def test_app_service_identity(sim, run, bare):
    mi = sim.entra.add_managed_identity()
    e = dict(bare, **sim.entra.app_service_env())
    st = status(run, e)
    assert (st["source"], st["method"], st["principal"]) == \
        ("managed-identity", "app-service", mi["client_id"])
    (req,) = sim.find(path_prefix="/msi/token")
    assert req["query"]["api-version"] == ["2019-08-01"]
    err = fails(run, dict(e, IDENTITY_HEADER="bad-header-value"), "auth", "status")
    assert "managed identity" in err and "HTTP 401: Unauthorized" in err
    assert "bad-header-value" not in err


# --- the chain ----------------------------------------------------------------

def test_chain_order(sim, run, bare, az, tmp_path):
    """Every source configured; taking each away reveals the next."""
    app = sim.entra.add_app("77777777-0000-4000-8000-000000000079", T,
                            federated_tokens=["wi-token"])
    wi = tmp_path / "wi"
    wi.write_text("wi-token")
    sim.entra.system_identity = "99999999-0000-4000-8000-000000000097"
    sim.entra.az_login(az[1])
    e = with_az(dict(bare, AZLINUX_TOKEN_CACHE="file"), az)
    p = run("login", "--service-principal", "--tenant", T, "--client-id", C,
            input=sim.entra.default_secret, env=e)
    assert p.returncode == 0, p.stderr
    full = dict(e, AZURE_TENANT_ID=T, AZURE_CLIENT_ID=C,
                AZURE_CLIENT_SECRET=sim.entra.default_secret)
    assert status(run, full)["source"] == "env"
    full.pop("AZURE_CLIENT_SECRET")
    full.update(AZURE_CLIENT_ID=app.client_id, AZURE_FEDERATED_TOKEN_FILE=str(wi))
    assert status(run, full)["source"] == "workload-identity"
    for k in ("AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_FEDERATED_TOKEN_FILE"):
        full.pop(k)
    assert status(run, full)["source"] == "login"
    assert run("logout", env=full).returncode == 0
    assert status(run, full)["source"] == "azure-cli"
    json.dump({"logged_in": False}, open(az[1], "w"))
    assert status(run, full)["source"] == "managed-identity"


def test_auth_flag_and_env_pick_one_source(sim, run, sp_env, az):
    sim.entra.az_login(az[1])
    sim.entra.system_identity = "99999999-0000-4000-8000-000000000096"
    e = with_az(sp_env, az)
    assert status(run, e)["source"] == "env"
    assert status(run, e, "--auth", "azure-cli")["source"] == "azure-cli"
    # (AZURE_CLIENT_ID would select a user-assigned identity)
    mi = {k: v for k, v in e.items() if k != "AZURE_CLIENT_ID"}
    assert status(run, dict(mi, AZLINUX_AUTH="managed-identity"))["source"] == \
        "managed-identity"
    # the flag wins over the variable
    assert status(run, dict(e, AZLINUX_AUTH="managed-identity"), "--auth", "env")["source"] \
        == "env"
    err = fails(run, e, "auth", "status", "--auth", "bogus")
    assert "--auth: unknown credential source 'bogus'" in err
    err = fails(run, dict(e, AZLINUX_AUTH="bogus"), "auth", "status")
    assert "AZLINUX_AUTH: unknown credential source 'bogus'" in err


def test_all_sources_fail_lists_each(run, bare):
    err = fails(run, bare, "auth", "status")
    assert err.startswith("error: no Azure credentials worked (")
    for part in ("env: AZURE_TENANT_ID and AZURE_CLIENT_ID not set",
                 "workload-identity: AZURE_FEDERATED_TOKEN_FILE not set",
                 "login: no saved sign-in",
                 "azure-cli: the Azure CLI (az) is not on PATH",
                 "managed-identity: managed identity (https://127.0.0.1"):
        assert part in err
    assert err.index("env:") < err.index("workload-identity:") < err.index("login:") \
        < err.index("azure-cli:") < err.index("managed-identity:")


def test_failed_source_is_warned_when_a_later_one_works(sim, run, sp_env, az):
    sim.entra.az_login(az[1])
    e = with_az(dict(sp_env, AZURE_CLIENT_SECRET="nope"), az)
    p = run("auth", "status", "-o", "json", env=e)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["source"] == "azure-cli"
    assert p.stderr.startswith("Warning: using azure-cli credentials because env:")
    assert "AADSTS7000215" in p.stderr


# --- login / logout / status ------------------------------------------------

@pytest.fixture
def fenv(bare):
    """The opt-in file cache, so that these tests need no Secret Service."""
    return dict(bare, AZLINUX_TOKEN_CACHE="file")


def test_login_device_code_then_no_token_request(sim, run, fenv):
    p = run("login", "--device-code", env=fenv)
    assert p.returncode == 0, p.stderr
    assert "https://microsoft.com/devicelogin" in p.stderr
    code = next(iter(sim.entra.device_codes))
    assert "Logged in to AzureCloud as alice@contoso.example" in p.stdout
    assert sim.entra.count(grant="devicecode") == 1
    assert "offline_access" in sim.entra.log[0]["scope"]
    before = len(sim.entra.log)
    st = status(run, fenv)
    assert (st["source"], st["method"], st["principal"], st["tokenCache"]) == \
        ("login", "device-code", "alice@contoso.example", "file")
    # signed in through "organizations", saved under the home tenant
    assert st["tenant"] == T
    assert len(sim.entra.log) == before, "a second command made a token request"
    assert code not in p.stdout + p.stderr


@pytest.mark.parametrize("script,polls", [
    (["authorization_pending", "authorization_pending", "success"], 3),
    (["slow_down", "success"], 2),
])
def test_device_code_polling(sim, run, fenv, script, polls):
    sim.entra.device_script = script
    p = run("login", env=fenv, timeout=120)
    assert p.returncode == 0, p.stderr
    (st,) = sim.entra.device_codes.values()
    assert st["polls"] == polls


@pytest.mark.parametrize("state,text", [
    ("authorization_declined", "the sign-in was declined"),
    ("expired_token", "the code expired before the sign-in finished"),
    ("bad_verification_code", "run 'kubectl azlinux login' again"),
])
def test_device_code_failures(sim, run, fenv, state, text):
    sim.entra.device_script = ["authorization_pending", state]
    err = fails(run, fenv, "login")
    assert state in err and text in err and "AADSTS" in err
    assert fails(run, fenv, "auth", "status", "--auth", "login")


def test_device_code_expires_while_waiting(sim, run, fenv):
    sim.entra.device_script = ["authorization_pending"]
    sim.entra.device_expires_in = 2
    err = fails(run, fenv, "login")
    assert "the code expired before the sign-in finished" in err


def test_device_code_unknown_tenant(run, fenv):
    err = fails(run, fenv, "login", "--tenant", "0badbad0-0000-4000-8000-000000000001")
    assert "AADSTS90002" in err


def test_login_service_principal_secret_from_stdin(sim, run, fenv):
    p = run("login", "--service-principal", "--tenant", T, "--client-id", C,
            input=sim.entra.default_secret + "\n", env=fenv)
    assert p.returncode == 0, p.stderr
    assert "with client-secret" in p.stdout
    sim.entra.token_lifetime = 3600
    sim.entra.log.clear()
    # the cached token: no request
    assert status(run, fenv)["source"] == "login"
    assert sim.entra.log == []
    # the cached token gone, the saved secret gets a new one
    cache = os.path.join(fenv["XDG_CACHE_HOME"], "kubectl-azlinux", "tokens.json")
    doc = json.load(open(cache))
    doc["entries"] = [x for x in doc["entries"] if x["kind"] != "access_token"]
    json.dump(doc, open(cache, "w"))
    st = status(run, fenv)
    assert (st["source"], st["method"]) == ("login", "client-secret")
    assert [r["proof"] for r in sim.entra.log] == ["secret"]


def test_login_service_principal_errors(sim, run, fenv):
    err = fails(run, fenv, "login", "--service-principal", "--tenant", T, "--client-id", C,
                input="")
    assert "no client secret on stdin" in err
    err = fails(run, fenv, "login", "--service-principal", "--client-id", C, input="x")
    assert "--service-principal needs --tenant" in err
    err = fails(run, fenv, "login", "--service-principal", "--tenant", T, "--client-id", C,
                input="bad-secret")
    assert "AADSTS7000215" in err
    # there is no flag to put a secret on argv
    p = run("login", "--service-principal", "--client-secret", "x", env=fenv)
    assert p.returncode == 1 and "unknown flag" in p.stderr
    err = fails(run, fenv, "login", "--managed-identity", "--use-azure-cli")
    assert "mutually exclusive" in err


def test_login_service_principal_certificate(sim, run, fenv):
    pem = sim.entra.add_certificate(C)
    p = run("login", "--service-principal", "--tenant", T, "--client-id", C,
            "--certificate", pem, env=fenv)
    assert p.returncode == 0, p.stderr
    assert "with client-certificate" in p.stdout


def test_login_use_azure_cli(sim, run, fenv, az):
    sim.entra.az_login(az[1])
    e = with_az(fenv, az)
    p = run("login", "--use-azure-cli", env=e)
    assert p.returncode == 0, p.stderr
    st = status(run, e, "--auth", "login")
    assert (st["source"], st["method"]) == ("login", "azure-cli")
    assert len(az_calls(az)) == 2   # az's tokens are never copied


def test_login_managed_identity(sim, run, fenv):
    sim.entra.system_identity = "99999999-0000-4000-8000-000000000095"
    p = run("login", "--managed-identity", env=fenv)
    assert p.returncode == 0, p.stderr
    st = status(run, fenv, "--auth", "login")
    assert (st["source"], st["method"]) == ("login", "imds")


def test_logout(sim, run, fenv):
    other = "6a0b0c0d-0000-4000-8000-0000000000ef"
    helpers.sign_in_to_two_tenants(sim, run, fenv, other)
    assert status(run, fenv)["tenant"] == other      # the newest sign-in
    # --tenant removes only that tenant's
    p = run("logout", "--tenant", other, env=fenv)
    assert p.returncode == 0 and "removed 3" in p.stdout and other in p.stdout
    assert status(run, fenv)["method"] == "device-code"
    p = run("logout", env=fenv)
    assert p.returncode == 0 and "Logged out: removed" in p.stdout
    err = fails(run, fenv, "auth", "status", "--auth", "login")
    assert "no saved sign-in" in err
    assert "Nothing to remove" in run("logout", env=fenv).stdout


def test_status_never_prints_a_token(sim, run, sp_env):
    for args in ([], ["-o", "json"], ["-o", "yaml"]):
        p = run("auth", "status", *args, env=sp_env)
        assert p.returncode == 0, p.stderr
        for tok in sim.entra.issued:
            assert tok not in p.stdout + p.stderr
    assert "Signed in as:" in run("auth", "status", env=sp_env).stdout


# --- refresh tokens -----------------------------------------------------------

def test_refresh_before_expiry_replaces_refresh_token(sim, run, fenv):
    sim.entra.token_lifetime = 200     # inside the 5-minute margin: always refresh
    assert run("login", env=fenv).returncode == 0
    rts = set(sim.entra.refresh_tokens)
    for i in range(2):
        st = status(run, fenv)
        assert st["source"] == "login"
        assert sim.entra.count(grant="refresh_token") == i + 1
    # each refresh used the newest refresh token (old ones die when used)
    used = [rt for rt, v in sim.entra.refresh_tokens.items() if not v["valid"]]
    assert len(used) == 2 and set(used) >= rts


def test_token_outside_margin_is_reused(sim, run, fenv):
    sim.entra.token_lifetime = 301 + 60
    assert run("login", env=fenv).returncode == 0
    status(run, fenv)
    assert sim.entra.count(grant="refresh_token") == 0


def test_revoked_refresh_token(sim, run, fenv):
    sim.entra.token_lifetime = 200
    assert run("login", env=fenv).returncode == 0
    sim.entra.revoke_refresh_tokens()
    err = fails(run, fenv, "auth", "status", "--auth", "login")
    assert "invalid_grant" in err and "AADSTS50173" in err
    assert "run 'kubectl azlinux login' again" in err
    # the dead refresh token was dropped, not retried
    err = fails(run, fenv, "auth", "status", "--auth", "login")
    assert "no refresh token" in err
    assert sim.entra.count(grant="refresh_token") == 1


# --- clouds and endpoints -----------------------------------------------------

@pytest.mark.parametrize("how,cloud,scope", [
    ("flag", "AzureChinaCloud", "https://management.chinacloudapi.cn/.default"),
    ("env", "AzureUSGovernment", "https://management.usgovcloudapi.net/.default"),
    ("flag", "azurecloud", ARM_SCOPE),
])
def test_clouds(sim, run, sp_env, how, cloud, scope):
    args = ["--cloud", cloud] if how == "flag" else []
    e = dict(sp_env, AZLINUX_CLOUD=cloud) if how == "env" else sp_env
    st = status(run, e, *args)
    assert st["cloud"].lower() == cloud.lower()
    assert sim.entra.log[0]["scope"] == scope


def test_cloud_errors(run, sp_env):
    assert "unknown cloud 'Mars'" in fails(run, sp_env, "auth", "status", "--cloud", "Mars")
    err = fails(run, dict(sp_env, AZLINUX_CLOUD="Mars"), "auth", "status")
    assert err.startswith("error: AZLINUX_CLOUD: unknown cloud")


def test_authority_must_be_https(run, sp_env):
    err = fails(run, dict(sp_env, AZURE_AUTHORITY_HOST="http://127.0.0.1:1"), "auth", "status")
    assert "AZURE_AUTHORITY_HOST 'http://127.0.0.1:1' must be an https:// URL" in err


def test_ssl_cert_file_is_the_ca(run, sp_env):
    e = dict(sp_env)
    e.pop("SSL_CERT_FILE")
    e["SSL_CERT_DIR"] = "/nonexistent"
    err = fails(run, e, "auth", "status", "--auth", "env")
    assert "Entra ID" in err and "127.0.0.1" in err


def test_ssl_cert_file_bundle_is_all_that_is_trusted(run, sp_env, tmp_path):
    """A system-sized bundle (parsed once per process, core/castore.c) trusts
    its certificates and nothing else."""
    system = open("/etc/ssl/certs/ca-certificates.crt").read()
    alone, both = tmp_path / "system.pem", tmp_path / "both.pem"
    alone.write_text(system)
    both.write_text(system + open(sp_env["SSL_CERT_FILE"]).read())
    err = fails(run, dict(sp_env, SSL_CERT_FILE=str(alone)), "auth", "status", "--auth", "env")
    assert "Entra ID" in err and "127.0.0.1" in err
    ok = run("auth", "status", "--auth", "env", env=dict(sp_env, SSL_CERT_FILE=str(both)))
    assert ok.returncode == 0, ok.stderr


def test_unusable_ssl_cert_file_is_named(run, sp_env, tmp_path):
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate\n")
    for path in (str(junk), str(tmp_path / "missing.pem")):
        err = fails(run, dict(sp_env, SSL_CERT_FILE=path), "auth", "status", "--auth", "env")
        assert "error setting certificate file: %s" % path in err


# --- the file cache -----------------------------------------------------------

def test_file_cache_permissions_rechecked(sim, run, fenv):
    d = os.path.join(fenv["XDG_CACHE_HOME"], "kubectl-azlinux")
    os.makedirs(d, mode=0o755)
    os.chmod(d, 0o755)
    tokens = os.path.join(d, "tokens.json")
    with open(tokens, "w") as f:
        f.write("{}")
    os.chmod(tokens, 0o644)
    assert run("login", env=fenv).returncode == 0
    assert stat.S_IMODE(os.stat(d).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(tokens).st_mode) == 0o600
    os.chmod(tokens, 0o666)
    os.chmod(d, 0o777)
    status(run, fenv)
    assert stat.S_IMODE(os.stat(d).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(tokens).st_mode) == 0o600


def test_file_cache_refuses_symlink(sim, run, fenv, tmp_path):
    d = os.path.join(fenv["XDG_CACHE_HOME"], "kubectl-azlinux")
    os.makedirs(d, mode=0o700)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.write_text("untouched")
    os.symlink(str(elsewhere), os.path.join(d, "tokens.json"))
    e = dict(fenv, AZURE_TENANT_ID=T, AZURE_CLIENT_ID=C,
             AZURE_CLIENT_SECRET=sim.entra.default_secret)
    p = run("auth", "status", env=e)
    assert p.returncode == 0, p.stderr
    assert "not cached" in p.stderr
    assert elsewhere.read_text() == "untouched"


@pytest.mark.parametrize("content", [
    "garbage{",
    json.dumps({"version": 2, "entries": []}),
    "VALID-WITH-BAD-ENTRY",
])
def test_file_cache_corrupt_is_ignored(sim, run, fenv, content):
    e = dict(fenv, AZURE_TENANT_ID=T, AZURE_CLIENT_ID=C,
             AZURE_CLIENT_SECRET=sim.entra.default_secret)
    d = os.path.join(fenv["XDG_CACHE_HOME"], "kubectl-azlinux")
    os.makedirs(d, mode=0o700)
    if content == "VALID-WITH-BAD-ENTRY":
        key = dict(cloud="AzureCloud", tenant=T, client_id=C, kind="access_token",
                   scope=ARM_SCOPE)
        content = json.dumps({"version": 1, "entries": [
            dict(key, payload={"version": 9, "value": "x", "expires_on": 1})]})
    with open(os.path.join(d, "tokens.json"), "w") as f:
        f.write(content)
    assert status(run, e)["source"] == "env"
    assert status(run, e)["source"] == "env"
    assert sim.entra.count(grant="client_credentials") == 1


def test_parallel_invocations_share_one_token(sim, run, fenv, bin_path):
    e = dict(fenv, AZURE_TENANT_ID=T, AZURE_CLIENT_ID=C,
             AZURE_CLIENT_SECRET=sim.entra.default_secret)
    procs = [subprocess.Popen([bin_path, "auth", "status", "-o", "json"], env=e,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(8)]
    outs = [p.communicate(timeout=60) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    assert sim.entra.count(grant="client_credentials") == 1
    cache = os.path.join(fenv["XDG_CACHE_HOME"], "kubectl-azlinux", "tokens.json")
    doc = json.load(open(cache))
    assert doc["version"] == 1 and len(doc["entries"]) == 1


def test_token_cache_mode_errors(run, sp_env):
    err = fails(run, dict(sp_env, AZLINUX_TOKEN_CACHE="disk"), "auth", "status")
    assert "AZLINUX_TOKEN_CACHE: unknown token cache 'disk'" in err


def test_auth_usage(run, sp_env):
    p = run("auth", env=sp_env)
    assert p.returncode == 1 and "auth takes one subcommand: status" in p.stderr
    assert run("auth", "--help", env=sp_env).returncode == 0


def test_after_login_pools_makes_no_token_request(sim, run, fenv):
    assert run("login", env=fenv).returncode == 0
    before = len(sim.entra.log)
    p = run("pools", env=fenv)
    assert p.returncode == 0, p.stderr
    assert len(sim.entra.log) == before, "pools asked Entra ID for a token again"
    arm = [r for r in sim.requests if r["server"] == "azure"
           and r["path"].startswith("/subscriptions/")]
    assert arm and all(r["auth"] == "bearer:" + entra.CLI_CLIENT_ID for r in arm)


def test_imds_bypasses_proxies(sim, run, bare):
    sim.entra.system_identity = "99999999-0000-4000-8000-000000000094"
    e = dict(bare, https_proxy="http://127.0.0.1:9", HTTPS_PROXY="http://127.0.0.1:9",
             http_proxy="http://127.0.0.1:9", ALL_PROXY="http://127.0.0.1:9")
    e.pop("NO_PROXY", None)
    e.pop("no_proxy", None)
    assert status(run, e, "--auth", "managed-identity")["source"] == "managed-identity"
    # the same proxy does apply to Entra ID, so it was really in effect
    e.update(AZURE_TENANT_ID=T, AZURE_CLIENT_ID=C, AZURE_CLIENT_SECRET=sim.entra.default_secret)
    fails(run, e, "auth", "status", "--auth", "env")


def test_login_with_cache_off_says_nothing_is_saved(run, bare):
    p = run("login", env=bare)
    assert p.returncode == 0, p.stderr
    warnings = [line for line in p.stderr.splitlines() if line.startswith("Warning:")]
    assert warnings == ["Warning: the token cache is off (AZLINUX_TOKEN_CACHE=none): "
                        "this sign-in is not saved"]
    assert "saved in the token cache: none" in p.stdout


@pytest.mark.parametrize("error,code,hint", [
    ("temporarily_unavailable", 90006, "Entra ID is busy: try again in a few minutes"),
    ("invalid_scope", 70011, "check the cloud (--cloud or AZLINUX_CLOUD)"),
    ("interaction_required", 50076, "run 'kubectl azlinux login' to sign in interactively"),
    ("consent_required", 65001, "ask an administrator to consent to the application"),
    ("some_new_error", 12345, "see https://login.microsoftonline.com/error?code=12345"),
])
def test_entra_errors_say_what_to_do(sim, run, sp_env, error, code, hint):
    sim.faults.add(path_prefix="/%s/oauth2/v2.0/token" % T, status=400, body={
        "error": error, "error_description": "AADSTS%d: Something happened.\r\nTrace ID: x"
        % code, "error_codes": [code], "trace_id": "t-1", "correlation_id": "c-1"})
    err = fails(run, sp_env, "auth", "status", "--auth", "env")
    assert "Entra ID returned %s: AADSTS%d: Something happened." % (error, code) in err
    assert "(trace ID t-1, correlation ID c-1)" in err and hint in err


def test_entra_non_oauth_answer_and_unreachable(sim, run, sp_env):
    sim.faults.add(path_prefix="/%s/oauth2/" % T, status=502, body=b"<html>bad gateway</html>")
    err = fails(run, sp_env, "auth", "status", "--auth", "env")
    assert "Entra ID answered HTTP 502 without an OAuth error" in err
    err = fails(run, dict(sp_env, AZURE_AUTHORITY_HOST="https://127.0.0.1:9"), "auth",
                "status", "--auth", "env")
    assert "Entra ID (https://127.0.0.1:9)" in err
