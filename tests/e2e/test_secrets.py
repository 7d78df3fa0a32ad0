"""The leak test (issue 3 §5): every identity command at -v=9 with known
secrets, through every source; no secret may appear in stdout, stderr or any
file the tool wrote outside the keyring.

Secrets: client secrets (right and wrong), the certificate's private key,
the federated token, the App Service identity header, and every access
token, refresh token, id token and device code the simulator handed out.
"""

import os

import pytest

from sim import entra

T = entra.DEFAULT_TENANT
C = entra.DEFAULT_CLIENT_ID
BUS = os.environ.get("DBUS_SESSION_BUS_ADDRESS")


def pem_body_lines(path):
    with open(path) as f:
        lines = f.read().splitlines()
    start = next(i for i, line in enumerate(lines) if "PRIVATE KEY" in line)
    return [line for line in lines[start + 1:] if line and "-----" not in line]


@pytest.mark.skipif(not (BUS and os.environ.get("AZL_E2E_SESSION")),
                    reason="needs the Secret Service session tests/run-e2e.sh starts")
def test_no_secret_leaks_at_highest_verbosity(sim, run, env, tmp_path):
    home = env["HOME"]
    sim.entra.token_lifetime = 200      # every command fetches or refreshes: more traffic
    other_secret = "leaktest-sp-secret-7f3a9c"
    wrong_secret = "leaktest-wrong-secret-55e1"
    federated = "leaktest-federated-token-0c8d"
    app = sim.entra.add_app("77777777-0000-4000-8000-0000000000aa", T, secret=other_secret,
                            federated_tokens=[federated])
    pem = sim.entra.add_certificate(C)
    token_file = tmp_path / "federated"
    token_file.write_text(federated)
    mi = sim.entra.add_managed_identity()
    az_state = str(tmp_path / "az.json")
    az_env = sim.entra.install_fake_az(str(tmp_path / "azbin"), az_state)
    sim.entra.az_login(az_state)

    base = sim.entra.bare_env(env, DBUS_SESSION_BUS_ADDRESS=BUS, AZLINUX_TOKEN_CACHE="keyring",
                              PATH=str(tmp_path / "azbin") + os.pathsep + env["PATH"], **az_env)
    sp = dict(base, AZURE_TENANT_ID=T, AZURE_CLIENT_ID=C,
              AZURE_CLIENT_SECRET=sim.entra.default_secret)
    cert = dict(base, AZURE_TENANT_ID=T, AZURE_CLIENT_ID=C, AZURE_CLIENT_CERTIFICATE_PATH=pem)
    wi = dict(base, AZURE_TENANT_ID=T, AZURE_CLIENT_ID=app.client_id,
              AZURE_FEDERATED_TOKEN_FILE=str(token_file))
    appsvc = dict(base, **sim.entra.app_service_env())

    runs = [
        (sp, ["auth", "status"], None),
        (sp, ["auth", "status", "-o", "json"], None),
        (sp, ["auth", "status", "-o", "yaml"], None),
        (dict(sp, AZURE_CLIENT_SECRET=wrong_secret), ["auth", "status", "--auth", "env"], None),
        (cert, ["auth", "status"], None),
        (wi, ["auth", "status"], None),
        (appsvc, ["auth", "status"], None),
        (dict(base, AZURE_CLIENT_ID=mi["client_id"]), ["auth", "status", "--auth",
                                                       "managed-identity"], None),
        (base, ["auth", "status", "--auth", "azure-cli"], None),
        (base, ["login", "--device-code"], None),
        (base, ["auth", "status", "--auth", "login"], None),   # refresh grant
        (base, ["auth", "status", "--auth", "login"], None),   # and again, rotated
        (base, ["pools"], None),                                # ARM with the token
        (sp, ["pools", "-o", "json"], None),
        (base, ["login", "--service-principal", "--tenant", T, "--client-id", app.client_id],
         other_secret + "\n"),
        (base, ["auth", "status", "--auth", "login", "--client-id", app.client_id], None),
        (base, ["login", "--service-principal", "--tenant", T, "--client-id", C],
         wrong_secret),
        (base, ["login", "--service-principal", "--tenant", T, "--client-id", C,
                "--certificate", pem], None),
        (base, ["login", "--managed-identity", "--client-id", mi["client_id"]], None),
        (base, ["login", "--use-azure-cli"], None),
        (dict(base, AZLINUX_TOKEN_CACHE="none"), ["auth", "status", "--auth", "login"], None),
        (base, ["logout", "--tenant", T], None),
        (base, ["logout"], None),
    ]
    outputs = []
    for e, args, stdin in runs:
        p = run(*args, "-v=9", env=e, input=stdin, timeout=120)
        outputs.append((args, p.stdout + p.stderr))
    # the runs did exercise the traffic that carries secrets
    traces = "".join(out for _, out in outputs)
    assert "Request Body" in traces and "Response Body" in traces
    assert "Authorization: Bearer <redacted>" in traces
    assert sim.entra.count(grant="refresh_token") >= 2
    assert sim.entra.count(grant="devicecode") == 1

    secrets = {other_secret, wrong_secret, federated, sim.entra.default_secret,
               sim.entra.identity_header}
    secrets.update(sim.entra.issued)
    secrets.update(sim.entra.device_codes)
    secrets.update(line for line in pem_body_lines(pem) if len(line) > 20)
    assert len(secrets) > 20

    for args, out in outputs:
        for s in secrets:
            assert s not in out, "a secret leaked in the output of %s" % " ".join(args)

    written = []
    for root, _, files in os.walk(home):
        for name in files:
            path = os.path.join(root, name)
            written.append(path)
            with open(path, "rb") as f:
                data = f.read().decode("utf-8", "replace")
            for s in secrets:
                assert s not in data, "a secret leaked into %s" % path
