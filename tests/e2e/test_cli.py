"""The command line itself: help, the command table, flag syntax, errors
and exit codes, the program name, version, and -v logging."""

import functools
import json
import os
import re
import subprocess

import pytest
import yaml

import helpers
from sim import entra


def ok(result):
    assert result.returncode == 0, "exit %d, stderr: %s" % (result.returncode, result.stderr)
    return result


def usage_error(result, message, command="nodes"):
    assert result.returncode == 1
    assert result.stdout == ""
    hint = "See 'kubectl azlinux%s --help' for usage." % (" " + command if command else "")
    assert result.stderr == "error: %s\n%s\n" % (message, hint)


def pkg_version(name):
    return subprocess.run(["pkg-config", "--modversion", name], capture_output=True,
                          text=True, check=True).stdout.strip()


# --- help and the command table -------------------------------------------------


def test_bare_invocation_is_help(run):
    r = ok(run())
    assert r.stderr == ""
    assert r.stdout.startswith("Inspect AKS node pools and plan their move to Azure Linux.\n")
    assert "\nAvailable Commands:\n" in r.stdout
    commands = dict(re.findall(r"^  (\S+)\s{3,}(.+)$", r.stdout, re.M))
    for name in ("nodes", "version", "help"):
        assert name in commands and commands[name]
    assert "__complete" not in commands          # hidden commands stay hidden
    assert "\nUsage:\n  kubectl azlinux <command> [flags] [options]\n" in r.stdout
    assert r.stdout.endswith('Use "kubectl azlinux <command> --help" for more information '
                             'about a given command.\n')


@pytest.mark.parametrize("args", [("--help",), ("-h",), ("help",)])
def test_help_spellings_agree(run, args):
    assert ok(run(*args)).stdout == ok(run()).stdout


@pytest.mark.parametrize("command", ["nodes", "version", "help"])
def test_command_help(run, command):
    r = ok(run(command, "--help"))
    assert r.stderr == ""
    assert "\nExamples:\n  # " in r.stdout
    assert re.search(r"\nUsage:\n  kubectl azlinux %s[ \n]" % command, r.stdout)
    assert ok(run(command, "-h")).stdout == r.stdout
    assert ok(run("help", command)).stdout == r.stdout


def test_nodes_help_lists_flags_with_defaults(run):
    out = ok(run("nodes", "--help")).stdout
    for line in ("    -o, --output='':", "    --pool='':", "    -l, --selector='':",
                 "    --no-headers=false:", "    --kubeconfig='':", "    --context='':",
                 "    -n, --namespace='':", "    -s, --server='':", "    --token='':",
                 "    --insecure-skip-tls-verify=false:", "    --request-timeout='0':",
                 "    -v, --v=0:", "    --tls-server-name='':", "    --cluster='':",
                 "    --user='':", "    --certificate-authority='':",
                 "    --client-certificate='':", "    --client-key='':"):
        assert "\n" + line + "\n\t" in out, line
    assert "\nKubernetes flags:\n" in out


def test_unknown_command(run):
    r = run("frobnicate")
    assert r.returncode == 1
    assert r.stdout == ""
    assert r.stderr == ('error: unknown command "frobnicate" for "kubectl azlinux"\n'
                        "See 'kubectl azlinux --help' for usage.\n")
    r = run("node")
    assert r.returncode == 1
    assert "Did you mean this?\n\tnodes\n" in r.stderr
    assert run("help", "frobnicate").returncode == 1


# --- flag syntax and errors ------------------------------------------------------


def test_unknown_flag(run):
    usage_error(run("nodes", "--foo"), "unknown flag: --foo")
    usage_error(run("nodes", "--foo=bar"), "unknown flag: --foo")
    usage_error(run("nodes", "-Z"), "unknown shorthand flag: 'Z' in -Z")
    usage_error(run("version", "--pool", "x"), "unknown flag: --pool", "version")
    r = run("--foo", "nodes")                     # before the command word
    assert r.returncode == 1 and r.stderr.startswith("error: unknown flag: --foo\n")
    # a mistyped secret-bearing flag is named, its value never echoed
    for args in (("--tokn=s3cret-value", "nodes"), ("nodes", "--tokn=s3cret-value")):
        r = run(*args)
        assert r.returncode == 1 and "unknown flag: --tokn\n" in r.stderr
        assert "s3cret" not in r.stderr + r.stdout


def test_flag_needs_argument(run):
    usage_error(run("nodes", "--output"), "flag needs an argument: --output")
    usage_error(run("nodes", "-o"), "flag needs an argument: 'o' in -o")
    usage_error(run("nodes", "--context"), "flag needs an argument: --context")


def test_bad_values(run):
    usage_error(run("nodes", "--v=loud"),
                'invalid argument "loud" for "--v" flag: not an integer')
    usage_error(run("nodes", "--no-headers=maybe"),
                'invalid argument "maybe" for "--no-headers" flag: expected true or false')


def test_output_formats_rejected_like_kubectl(run):
    r = run("nodes", "-o", "xml")
    assert r.returncode == 1
    assert r.stderr == ('error: unable to match a printer suitable for the output format '
                        '"xml", allowed formats are: json,name,wide,yaml\n')
    r = run("version", "-o", "wide")
    assert r.returncode == 1
    assert r.stderr == ('error: unable to match a printer suitable for the output format '
                        '"wide", allowed formats are: json,yaml\n')


def test_unexpected_argument(run):
    r = run("nodes", "extra")
    assert r.returncode == 1
    assert r.stderr.startswith('error: unexpected argument "extra"')


@pytest.mark.parametrize("form", [("-o", "name"), ("-oname",), ("-o=name",),
                                  ("--output", "name"), ("--output=name",)])
def test_output_flag_forms(run, form):
    r = ok(run("nodes", *form))
    assert r.stdout.startswith("node/")


def test_flags_anywhere(sim, run):
    want = ok(run("nodes", "-o", "name", "--pool", "gpu")).stdout
    assert want.startswith("node/")
    # global flags may precede the command word; command flags may not
    assert ok(run("-v=0", "--context", sim.clusters[0].name, "nodes", "--pool=gpu",
                  "-oname")).stdout == want
    r = run("--pool", "gpu", "nodes")
    assert r.returncode == 1 and r.stderr.startswith("error: unknown flag: --pool\n")
    # after --, words are arguments, not flags
    r = run("nodes", "-o", "name", "--", "--pool")
    assert r.returncode == 1 and 'unexpected argument "--pool"' in r.stderr


# Every command of the table, with arguments that change nothing, split where
# the global flags go in the middle: (before, after).
NODE = "<an ubuntu node>"              # its name, from the simulator
EVERY_COMMAND = {
    "nodes": (["--pool", "gpu"], ["-o", "name"]),
    "pools": (["gpu"], ["-o", "name"]),
    "check": (["gpu"], ["-o", "json"]),
    "migrate": (["ubuntu"], ["--dry-run"]),
    "add-pool": (["azl"], ["--like", "ubuntu", "--dry-run"]),
    "status": ([], ["-o", "json"]),
    "resume": ([], []),
    "abort": ([], []),
    "cordon": ([NODE], ["--dry-run=client"]),
    "uncordon": ([NODE], ["--dry-run=client"]),
    "drain": ([NODE], ["--ignore-daemonsets", "--dry-run=client"]),
    "upgrade": (["ubuntu", "mariner"], ["--node-image", "--dry-run", "-o", "json"]),
    "login": (["--service-principal"], ["--tenant", entra.DEFAULT_TENANT,
                                        "--client-id", entra.DEFAULT_CLIENT_ID]),
    "logout": ([], []),
    "auth": (["status"], ["-o", "json"]),
    "version": ([], ["-o", "json"]),
    "help": (["upgrade"], []),
    "completion": (["bash"], []),
}


def test_every_command_is_in_the_global_flags_table():
    out = subprocess.run([helpers.plugin_bin() or "true", "--help"], capture_output=True,
                         text=True).stdout
    listed = set(re.findall(r"^  (\S+)\s{3,}", out, re.M))
    assert listed <= set(EVERY_COMMAND), listed - set(EVERY_COMMAND)


@pytest.mark.parametrize("command", sorted(EVERY_COMMAND))
def test_global_flags_first_middle_and_last(sim, run, command):
    """kubectl takes its global flags anywhere: before the command word,
    among the arguments and after them, with `-v=9` and a flag whose value
    is the next word; the outcome is the command's without them."""
    glob = ["-v=9", "--request-timeout", "30s", "--context=" + sim.clusters[0].name]
    before, after = EVERY_COMMAND[command]
    node = sim.clusters[0].k8s.pool_nodes("ubuntu")[0]["metadata"]["name"]
    before = [node if a == NODE else a for a in before]
    stdin = sim.entra.default_secret if command == "login" else None
    plain = run(command, *before, *after, input=stdin)
    # a token fetched a second later expires a second later
    norm = functools.partial(re.sub, r'"expiresOn": "[^"]*"', '"expiresOn": ""')
    assert "-v=9" not in plain.stdout + plain.stderr
    for args in ([*glob, command, *before, *after], [command, *before, *glob, *after],
                 [command, *before, *after, *glob]):
        r = run(*args, input=stdin)
        assert (r.returncode, norm(r.stdout)) == (plain.returncode, norm(plain.stdout)), \
            (args, r.stderr)
        quiet = [l for l in helpers.diagnostics(r.stderr).splitlines() if not KLOG.match(l)]
        assert quiet == helpers.diagnostics(plain.stderr).splitlines(), args
        assert "-v=9" not in r.stdout + "\n".join(quiet)
    if command not in ("help", "completion", "version", "logout", "status", "resume", "abort"):
        assert any(KLOG.match(l) for l in r.stderr.splitlines()), "-v=9 logged nothing"
    if command == "upgrade":                # both pools, not a flag taken for one
        op = json.loads(plain.stdout)["operation"]
        assert {p["pool"] for p in op["steps"] + op["skipped"]} == {"ubuntu", "mariner"}


# --- version -----------------------------------------------------------------------


def test_version(run):
    tree = json.loads(ok(run("version", "-o", "json")).stdout)
    assert list(tree) == ["version", "armApiVersion", "libcurl", "cJSON", "libyaml",
                          "libsecret"]
    assert re.match(r"^(v?\d+\.\d+\.\d+.*|[0-9a-f]{7,}(-dirty)?)$", tree["version"])
    assert tree["armApiVersion"] == "2026-10-01"
    assert tree["cJSON"] == pkg_version("libcjson")
    assert tree["libyaml"] == pkg_version("yaml-0.1")
    assert tree["libsecret"] == pkg_version("libsecret-1")
    assert tree["libcurl"] == pkg_version("libcurl")
    assert yaml.safe_load(ok(run("version", "-o", "yaml")).stdout) == tree
    text = ok(run("version")).stdout
    assert text.splitlines()[0] == "kubectl-azlinux: " + tree["version"]
    assert "ARM API version: 2026-10-01" in text


def test_version_needs_no_cluster(run, env):
    e = dict(env, KUBECONFIG="/nonexistent/kubeconfig")
    ok(run("version", env=e))


# --- program name and completion entry -----------------------------------------


def test_program_name_from_argv0(bin_path, env, tmp_path):
    other = tmp_path / "azlinux-dev"
    os.symlink(bin_path, other)
    r = ok(helpers.run_cmd([str(other), "--help"], env))
    assert 'Use "kubectl-azlinux <command> --help"' in r.stdout
    r = helpers.run_cmd([str(other), "nodes", "--nope"], env)
    assert "See 'kubectl-azlinux nodes --help' for usage." in r.stderr


def test_completion_name_dispatches_to_complete(bin_path, env, tmp_path):
    completer = tmp_path / "kubectl_complete-azlinux"
    os.symlink(bin_path, completer)
    r = helpers.run_cmd([str(completer), "nod"], env)
    if r.returncode == 0:                          # __complete is registered
        assert r.stdout.splitlines()[-1].startswith(":")
    else:                                          # not yet: quietly fails
        assert r.returncode == 1 and r.stdout == "" and r.stderr == ""


# --- logging ------------------------------------------------------------------------


KLOG = re.compile(r"^I\d{4} \d\d:\d\d:\d\d\.\d{6} +\d+ azlinux\] ")


def test_verbose_logs_are_klog_lines(run):
    quiet = ok(run("nodes", "-o", "name"))
    assert quiet.stderr == ""
    loud = ok(run("nodes", "-o", "name", "-v=6"))
    assert loud.stdout == quiet.stdout
    lines = loud.stderr.splitlines()
    assert lines, "-v=6 logged nothing"
    assert all(KLOG.match(line) for line in lines), lines
    assert any("/api/v1/nodes" in line for line in lines)
    assert ok(run("nodes", "-o", "name", "--v", "6")).stderr.count("/api/v1/nodes") >= 1
