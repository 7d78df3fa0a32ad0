"""Shell completion, driven for real: the `__complete` protocol itself, the
generated bash (with bash-completion, and without it), zsh and fish scripts
each through its own shell's completion machinery, and kubectl's plugin
completion (`kubectl __complete azlinux ...` running kubectl_complete-azlinux
from PATH). Pool names come from the pool cache (no network at all) or from
the simulator's node labels."""

import json
import os
import re
import shutil
import subprocess

import pytest

import helpers

ROOT = helpers.ROOT
SHELLS = ["bash", "zsh", "fish"]
DEMO_POOLS = ["gpu", "mariner", "system", "ubuntu"]
NO_FILE_COMP = 4
DEFAULT = 0


# --- helpers ----------------------------------------------------------------

def parse(stdout):
    """(candidates [(name, description)], directive) from __complete output."""
    lines = [line for line in stdout.split("\n") if line]
    assert lines and re.fullmatch(r":\d+", lines[-1]), "no directive line: %r" % stdout
    cands = []
    for line in lines[:-1]:
        name, _, desc = line.partition("\t")
        cands.append((name, desc))
    return cands, int(lines[-1][1:])


def names(cands):
    return [c[0] for c in cands]


@pytest.fixture
def complete(run):
    """complete(*words) -> (candidates, directive); the last word is partial."""
    def complete_(*words, env=None):
        r = run("__complete", *words, env=env)
        assert r.returncode == 0, r.stderr
        assert r.stderr == "", "completion must not write to the terminal: %r" % r.stderr
        return parse(r.stdout)
    return complete_


def commands(complete):
    return names(complete("")[0])


def fnv1a64(data):
    h = 14695981039346656037
    for b in data.encode():
        h = ((h ^ b) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return h


def write_pool_cache(env, context, server, pools):
    """Writes a pool-cache entry in the format documented in core/poolcache.h,
    as `pools` leaves it."""
    key = context + "\n" + server
    d = os.path.join(env["XDG_CACHE_HOME"], "kubectl-azlinux")
    os.makedirs(d, mode=0o700, exist_ok=True)
    with open(os.path.join(d, "pools-%016x" % fnv1a64(key)), "w") as f:
        json.dump({"version": 2, "key": key, "pools": pools}, f)


def kubeconfig_context(sim):
    """(context name, server) of the simulator's current context."""
    c = sim.clusters[0]
    return c.name, c.server_url


def node_requests(sim):
    return [r for r in sim.requests.snapshot() if r["path"].startswith("/api/v1/nodes")]


# --- the scripts ------------------------------------------------------------

@pytest.mark.parametrize("shell", SHELLS)
def test_committed_scripts_are_current(run, shell):
    r = run("completion", shell)
    assert r.returncode == 0, r.stderr
    with open(os.path.join(ROOT, "completions", "kubectl-azlinux." + shell)) as f:
        committed = f.read()
    assert r.stdout == committed, \
        "completions/kubectl-azlinux.%s is stale: run `make completions`" % shell
    assert "__complete" in r.stdout


def test_completion_rejects_unknown_shell(run):
    r = run("completion", "powershell")
    assert r.returncode == 1
    assert r.stderr.startswith("error: ") and "powershell" in r.stderr
    assert r.stdout == ""
    r = run("completion")
    assert r.returncode == 1 and "bash, zsh or fish" in r.stderr


# --- the protocol -----------------------------------------------------------

def test_commands_with_descriptions(complete, run):
    cands, directive = complete("")
    got = dict(cands)
    assert directive == NO_FILE_COMP
    for cmd in ("nodes", "version", "help", "completion"):
        assert cmd in got and got[cmd], "no %s (or no description) in %r" % (cmd, cands)
    assert "__complete" not in got, "hidden commands must not be offered"
    # every command offered is one the program runs
    for cmd in got:
        assert run(cmd, "--help").returncode == 0, cmd


def test_prefix_filters_commands(complete):
    assert names(complete("no")[0]) == ["nodes"]
    assert names(complete("zzz")[0]) == []


def test_flags_long_and_short(complete):
    cands, directive = complete("nodes", "-")
    got = dict(cands)
    assert directive == NO_FILE_COMP
    for flag in ("--pool", "--output", "-o", "--selector", "-l", "--no-headers",
                 "--kubeconfig", "--context", "-n", "--namespace", "--help", "-h"):
        assert flag in got, flag
    assert "Output format" in got["--output"]
    assert all("\t" not in d and "\n" not in d for d in got.values())
    assert set(names(complete("nodes", "--o")[0])) == {"--output"}


def test_flags_already_given_are_not_offered(complete):
    got = names(complete("nodes", "--pool", "x", "--")[0])
    assert "--pool" not in got and "--output" in got
    got = names(complete("nodes", "-o", "json", "--")[0])
    assert "--output" not in got


def test_global_flags_before_the_command(complete):
    got = names(complete("--")[0])
    assert "--context" in got and "--kubeconfig" in got and "--pool" not in got
    cands, _ = complete("--context", "x", "")
    assert "nodes" in names(cands)


def test_output_formats_per_command(complete):
    cands, directive = complete("nodes", "-o", "")
    assert sorted(names(cands)) == ["json", "name", "wide", "yaml"]
    assert directive == NO_FILE_COMP
    assert sorted(names(complete("version", "--output", "")[0])) == ["json", "yaml"]
    assert names(complete("nodes", "--output=j")[0]) == ["json"]
    assert names(complete("nodes", "-o=y")[0]) == ["yaml"]


def test_file_flags_ask_for_file_completion(complete):
    for flag in ("--kubeconfig", "--certificate-authority", "--client-key"):
        cands, directive = complete("nodes", flag, "")
        assert cands == [] and directive == DEFAULT, flag


def test_flag_without_completion(complete):
    cands, directive = complete("nodes", "--selector", "")
    assert cands == [] and directive == NO_FILE_COMP


def test_contexts_from_kubeconfig(complete, sim):
    context, _ = kubeconfig_context(sim)
    assert names(complete("nodes", "--context", "")[0]) == [c.name for c in sim.clusters]
    assert names(complete("--context=" + context[:2])[0]) == [context]


def write_other_kubeconfig(path, contexts):
    lines = ["apiVersion: v1", "kind: Config", "clusters:"]
    for i, _ in enumerate(contexts):
        lines += ["- name: cl%d" % i, "  cluster:",
                  "    server: https://127.0.0.1:%d" % (1 + i)]
    lines.append("users:")
    for i, _ in enumerate(contexts):
        lines += ["- name: us%d" % i, "  user:", "    token: t%d" % i]
    lines.append("contexts:")
    for i, ctx in enumerate(contexts):
        lines += ["- name: %s" % ctx, "  context:", "    cluster: cl%d" % i,
                  "    user: us%d" % (i % 2)]
    path.write_text("\n".join(lines) + "\n")


def test_kubeconfig_flag_on_the_line_is_honoured(complete, tmp_path, env):
    other = tmp_path / "other.yaml"
    write_other_kubeconfig(other, ["alpha", "beta", "arn:aws:eks:x"])
    got = names(complete("nodes", "--kubeconfig", str(other), "--context", "")[0])
    assert got == ["alpha", "beta", "arn:aws:eks:x"]
    got = names(complete("--kubeconfig=" + str(other), "nodes", "--cluster", "")[0])
    assert got == ["cl0", "cl1", "cl2"]
    got = names(complete("nodes", "--kubeconfig", str(other), "--user", "")[0])
    assert got == ["us0", "us1"]


def test_context_lists(complete, tmp_path):
    other = tmp_path / "other.yaml"
    write_other_kubeconfig(other, ["alpha", "beta", "gamma"])
    kc = "--kubeconfig=" + str(other)
    assert names(complete(kc, "pools", "--contexts", "alpha,")[0]) == \
        ["alpha,beta", "alpha,gamma"]
    assert names(complete(kc, "pools", "--contexts=beta,alpha,g")[0]) == ["beta,alpha,gamma"]


def test_kubeconfig_env_list_is_merged(complete, tmp_path, env, sim):
    other = tmp_path / "other.yaml"
    write_other_kubeconfig(other, ["alpha"])
    merged = dict(env, KUBECONFIG=env["KUBECONFIG"] + os.pathsep + str(other))
    got = names(complete("nodes", "--context", "", env=merged)[0])
    assert got == [c.name for c in sim.clusters] + ["alpha"]


def test_broken_kubeconfig_gives_nothing_quietly(complete, tmp_path, env):
    bad = tmp_path / "bad.yaml"
    bad.write_text("clusters: [\n")
    cands, directive = complete("nodes", "--kubeconfig", str(bad), "--context", "")
    assert cands == [] and directive == NO_FILE_COMP


def test_literal_arguments_from_usage(complete, run):
    shells = names(complete("completion", "")[0])
    assert shells == ["bash", "zsh", "fish"]
    for shell in shells:  # every shell offered is one the command writes
        assert run("completion", shell).returncode == 0, shell
    assert names(complete("completion", "bash", "")[0]) == []
    assert "nodes" in names(complete("help", "")[0])
    assert names(complete("auth", "")[0]) == ["status"]
    assert names(complete("auth", "status", "")[0]) == []


def test_clouds_and_credential_sources(complete):
    got = dict(complete("login", "--cloud", "")[0])
    assert list(got) == ["AzureCloud", "AzureChinaCloud", "AzureUSGovernment"]
    assert got["AzureChinaCloud"] == "https://management.chinacloudapi.cn"
    got = names(complete("auth", "status", "--auth", "")[0])
    assert got == ["env", "workload-identity", "login", "azure-cli", "managed-identity"]
    assert names(complete("auth", "--auth=a")[0]) == ["azure-cli"]


def test_unknown_command_completes_nothing(complete):
    assert complete("frobnicate", "")[0] == []


def test_after_double_dash_no_flags(complete):
    assert names(complete("nodes", "--", "-")[0]) == []


# --- pool names ---------------------------------------------------------------

def test_pool_names_from_node_labels(complete, sim):
    cands, directive = complete("nodes", "--pool", "")
    assert names(cands) == DEMO_POOLS
    assert directive == NO_FILE_COMP
    assert node_requests(sim), "a cold cache must ask the cluster"
    assert not sim.find(server="azure"), \
        "completion must never call ARM or Entra ID"


def test_pool_names_from_warm_cache_make_no_request(complete, sim, env):
    context, server = kubeconfig_context(sim)
    write_pool_cache(env, context, server, ["zeta", "alpha", "empty0"])
    sim.clear_log()
    cands, _ = complete("nodes", "--pool", "")
    assert names(cands) == ["alpha", "empty0", "zeta"]
    assert names(complete("nodes", "--pool=ze")[0]) == ["zeta"]
    assert len(sim.requests.snapshot()) == 0, "a warm cache must not touch the network"


def test_pools_command_fills_the_cache(complete, run, sim):
    r = run("pools")
    assert r.returncode == 0, r.stderr
    sim.clear_log()
    assert names(complete("check", "")[0]) == DEMO_POOLS
    assert names(complete("nodes", "--pool", "u")[0]) == ["ubuntu"]
    assert len(sim.requests.snapshot()) == 0, "after `pools`, TAB must not touch the network"


def test_pool_cache_is_per_context(complete, sim, env):
    context, server = kubeconfig_context(sim)
    write_pool_cache(env, "elsewhere", server, ["not-this"])
    write_pool_cache(env, context, "https://10.9.9.9:443", ["nor-this"])
    assert names(complete("nodes", "--pool", "")[0]) == DEMO_POOLS


def test_pool_names_follow_context_on_the_line(complete, sim, env, tmp_path):
    other = tmp_path / "other.yaml"
    write_other_kubeconfig(other, ["alpha"])
    write_pool_cache(env, "alpha", "https://127.0.0.1:1", ["from-alpha"])
    merged = dict(env, KUBECONFIG=env["KUBECONFIG"] + os.pathsep + str(other))
    got = names(complete("nodes", "--context", "alpha", "--pool", "", env=merged)[0])
    assert got == ["from-alpha"]


def test_unreachable_cluster_gives_no_pools(complete, tmp_path, env):
    other = tmp_path / "down.yaml"
    write_other_kubeconfig(other, ["down"])  # https://127.0.0.1:1 refuses
    cands, directive = complete("nodes", "--kubeconfig", str(other), "--pool", "")
    assert cands == [] and directive == NO_FILE_COMP


@pytest.mark.parametrize("cmd", ["pools", "check"])
def test_pool_positional_arguments(complete, sim, env, cmd):
    context, server = kubeconfig_context(sim)
    write_pool_cache(env, context, server, ["p1", "p2", "p3"])
    assert names(complete(cmd, "")[0]) == ["p1", "p2", "p3"]
    # a pool already named is not offered again
    assert names(complete(cmd, "p2", "")[0]) == ["p1", "p3"]


# --- kubectl's plugin completion (kubectl 1.26+) ------------------------------

def kubectl_complete(env, *words):
    r = helpers.kubectl(env, "__complete", *words)
    assert r.returncode == 0, r.stderr
    return parse(r.stdout)


def test_kubectl_finds_the_plugin_and_its_helper(env, bin_path):
    helper = os.path.join(os.path.dirname(bin_path), "kubectl_complete-azlinux")
    assert os.access(helper, os.X_OK), "make builds the helper next to the binary"
    assert "azlinux" in names(kubectl_complete(env, "az")[0])


def test_kubectl_completes_commands_flags_and_values(env):
    cands, directive = kubectl_complete(env, "azlinux", "")
    assert {"nodes", "version", "completion"} <= set(names(cands))
    assert directive == NO_FILE_COMP
    assert "--output" in names(kubectl_complete(env, "azlinux", "nodes", "--o")[0])
    assert sorted(names(kubectl_complete(env, "azlinux", "version", "-o", "")[0])) == \
        ["json", "yaml"]


def test_kubectl_completes_pool_names(env, sim):
    assert names(kubectl_complete(env, "azlinux", "nodes", "--pool", "")[0]) == DEMO_POOLS


def test_kubectl_without_helper_on_path(env, tmp_path):
    """Without kubectl_complete-azlinux kubectl offers nothing for the
    plugin: the helper is what makes it work."""
    lone = tmp_path / "lone"
    lone.mkdir()
    shutil.copy(helpers.plugin_bin(), lone / "kubectl-azlinux")
    path = os.pathsep.join(p for p in env["PATH"].split(os.pathsep)
                           if not os.path.exists(os.path.join(p, "kubectl_complete-azlinux")))
    e = dict(env, PATH=str(lone) + os.pathsep + path)
    assert "nodes" not in names(kubectl_complete(e, "azlinux", "")[0])


# --- bash ---------------------------------------------------------------------

BASH_DRIVER = r'''
if [[ -n $WITH_BASH_COMPLETION ]]; then
    source /usr/share/bash-completion/bash_completion
fi
source "$SCRIPT"
COMP_WORDS=("$@")
COMP_CWORD=$(( $# - 1 ))
COMP_LINE=$LINE
COMP_POINT=${#COMP_LINE}
COMP_TYPE=$TEST_COMP_TYPE
COMPREPLY=()
__start_kubectl_azlinux
printf '%s\n' "${COMPREPLY[@]}"
'''


def bash_words(line):
    """COMP_WORDS as readline splits them: at blanks, and with "=" and ":"
    (both in COMP_WORDBREAKS) as words of their own."""
    words = []
    for w in line.split(" "):
        parts = [p for p in re.split(r"([=:]+)", w) if p]
        words.extend(parts or [""])
    return words


def bash_complete(env, line, with_bash_completion=True, comp_type=9):
    e = dict(env, SCRIPT=os.path.join(ROOT, "completions", "kubectl-azlinux.bash"),
             LINE=line, TEST_COMP_TYPE=str(comp_type), COLUMNS="200",
             WITH_BASH_COMPLETION="1" if with_bash_completion else "")
    r = subprocess.run(["bash", "-c", BASH_DRIVER, "bash", *bash_words(line)],
                       env=e, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return [x for x in r.stdout.split("\n") if x]


@pytest.mark.parametrize("with_bc", [True, False], ids=["bash-completion", "plain-bash"])
def test_bash(env, sim, with_bc):
    assert bash_complete(env, "kubectl-azlinux no", with_bc) == ["nodes"]
    assert set(bash_complete(env, "kubectl-azlinux ", with_bc)) >= \
        {"nodes", "version", "help", "completion"}
    assert bash_complete(env, "kubectl-azlinux nodes --o", with_bc) == ["--output"]
    assert sorted(bash_complete(env, "kubectl-azlinux nodes -o ", with_bc)) == \
        ["json", "name", "wide", "yaml"]
    assert bash_complete(env, "kubectl-azlinux nodes --pool ", with_bc) == DEMO_POOLS
    assert bash_complete(env, "kubectl-azlinux nodes --pool m", with_bc) == ["mariner"]


def test_bash_flag_equals_value(env):
    # readline replaces only the text after "=", so candidates are bare values
    assert bash_complete(env, "kubectl-azlinux nodes --output=j") == ["json"]
    assert sorted(bash_complete(env, "kubectl-azlinux version --output=")) == ["json", "yaml"]


def test_bash_context_with_colons(env, tmp_path):
    other = tmp_path / "other.yaml"
    write_other_kubeconfig(other, ["arn:aws:eks:us-east-1:1:cluster/a", "plain"])
    line = "kubectl-azlinux nodes --kubeconfig %s --context arn:aws:eks:us" % other
    # "arn:aws:eks:" is already on the line, before readline's last break
    assert bash_complete(env, line) == ["us-east-1:1:cluster/a"]


def test_bash_descriptions_when_listing(env):
    listed = bash_complete(env, "kubectl-azlinux ", comp_type=63)
    nodes = [x for x in listed if x.startswith("nodes ")]
    assert nodes and "(List the cluster's nodes" in nodes[0]
    # a single candidate is inserted bare, without its description
    assert bash_complete(env, "kubectl-azlinux no", comp_type=63) == ["nodes"]


def test_bash_file_completion_for_file_flags(env, tmp_path):
    (tmp_path / "kubeconfig-a.yaml").write_text("")
    line = "kubectl-azlinux nodes --kubeconfig %s/kubeconfig-" % tmp_path
    assert bash_complete(env, line) == [str(tmp_path / "kubeconfig-a.yaml")]


# --- zsh ------------------------------------------------------------------------

ZSH_CAPTURE = r'''
zmodload zsh/zpty || exit 1
zpty z zsh -f -i
zpty -w z "source ${0:h}/init.zsh ${(q)1}"
local line
repeat 50; do
  zpty -r z line
  [[ $line == ok* ]] && break
done
zpty -w z "$2"$'\t'
integer tog=0
while zpty -r z line; do
  if [[ $line == *$'\0'* ]]; then
    (( tog++ )) && break || continue
  fi
  (( tog )) && print -r -- "${line%$'\r'}"
done
zpty -d z
'''

# After Valodim's zsh-capture-completion: compadd is wrapped so that every
# match zsh's completion system would offer is printed, with its prefix.
ZSH_INIT = r'''
PROMPT=
autoload -Uz compinit
compinit -u -d "$HOME/.zcompdump-test"
source "$1"
bindkey '^M' undefined
bindkey '^J' undefined
bindkey '^I' complete-word
null-line () { echo -E - $'\0' }
compprefuncs=( null-line )
comppostfuncs=( null-line exit )
zstyle ':completion:*' menu no
zmodload zsh/zutil
compadd () {
    if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then
        builtin compadd "$@"
        return $?
    fi
    typeset -a __hits __dscr __tmp
    if (( $@[(I)-d] )); then
        __tmp=${@[$[${@[(i)-d]}+1]]}
        if [[ $__tmp == \(* ]]; then
            eval "__dscr=$__tmp"
        else
            __dscr=( "${(@P)__tmp}" )
        fi
    fi
    builtin compadd -A __hits -D __dscr "$@"
    setopt localoptions norcexpandparam extendedglob
    typeset -A apre hpre
    zparseopts -E P:=apre p:=hpre
    [[ -n $__hits ]] || return
    local i
    for i in {1..$#__hits}; do
        echo -E - "$apre$hpre$__hits[$i]"$'\t'"${__dscr[$i]}"
    done
}
echo ok
'''


def zsh_complete(env, line, tmp_path):
    d = tmp_path / "zsh"
    d.mkdir(exist_ok=True)
    (d / "capture.zsh").write_text(ZSH_CAPTURE)
    (d / "init.zsh").write_text(ZSH_INIT)
    r = subprocess.run(["zsh", "-f", str(d / "capture.zsh"),
                        os.path.join(ROOT, "completions", "kubectl-azlinux.zsh"), line],
                       env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    out = {}
    for x in r.stdout.split("\n"):
        if x.strip():
            name, _, desc = x.partition("\t")
            out[name] = desc
    return out


def test_zsh(env, sim, tmp_path):
    got = zsh_complete(env, "kubectl-azlinux no", tmp_path)
    assert list(got) == ["nodes"]
    assert "List the cluster's nodes" in got["nodes"]
    got = zsh_complete(env, "kubectl-azlinux ", tmp_path)
    assert {"nodes", "version", "help", "completion"} <= set(got)
    assert "__complete" not in got
    assert sorted(zsh_complete(env, "kubectl-azlinux nodes -o ", tmp_path)) == \
        ["json", "name", "wide", "yaml"]
    assert "--output" in zsh_complete(env, "kubectl-azlinux nodes --ou", tmp_path)
    assert sorted(zsh_complete(env, "kubectl-azlinux nodes --pool ", tmp_path)) == DEMO_POOLS


def test_zsh_flag_equals_value(env, tmp_path):
    assert list(zsh_complete(env, "kubectl-azlinux nodes --output=j", tmp_path)) == \
        ["--output=json"]


# --- fish -----------------------------------------------------------------------

def fish_complete(env, line):
    script = os.path.join(ROOT, "completions", "kubectl-azlinux.fish")
    r = subprocess.run(["fish", "--no-config", "-c",
                        "source %s; complete -C %s" % (script, shlex_quote(line))],
                       env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    out = {}
    for x in r.stdout.split("\n"):
        if x:
            name, _, desc = x.partition("\t")
            out[name] = desc
    return out


def shlex_quote(s):
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"


def test_fish(env, sim):
    got = fish_complete(env, "kubectl-azlinux no")
    assert list(got) == ["nodes"] and "List the cluster's nodes" in got["nodes"]
    assert {"nodes", "version", "help", "completion"} <= set(fish_complete(env, "kubectl-azlinux "))
    assert sorted(fish_complete(env, "kubectl-azlinux nodes -o ")) == \
        ["json", "name", "wide", "yaml"]
    assert sorted(fish_complete(env, "kubectl-azlinux nodes --output=")) == \
        ["--output=json", "--output=name", "--output=wide", "--output=yaml"]
    assert sorted(fish_complete(env, "kubectl-azlinux nodes --pool ")) == DEMO_POOLS


def test_fish_file_completion_for_file_flags(env, tmp_path):
    (tmp_path / "kubeconfig-a.yaml").write_text("")
    got = fish_complete(env, "kubectl-azlinux nodes --kubeconfig %s/kubeconfig-" % tmp_path)
    assert list(got) == [str(tmp_path / "kubeconfig-a.yaml")]


def test_migration_commands_and_their_flags(complete, sim):
    got = dict(complete("")[0])
    for cmd in ("migrate", "add-pool", "status", "resume", "abort"):
        assert cmd in got and got[cmd], cmd
    flags = dict(complete("migrate", "-")[0])
    for flag in ("--to", "--strategy", "--new-pool", "--max-surge", "--drain-timeout",
                 "--node-soak", "--canary", "--dry-run", "--yes", "--no-wait", "--output"):
        assert flag in flags, flag
    assert "--like" in dict(complete("add-pool", "-")[0])
    assert names(complete("migrate", "")[0]) == DEMO_POOLS       # POOL from the cluster
    assert "--like" in names(complete("add-pool", "x", "--l")[0])


def test_upgrade_node_os_channel_values(complete):
    assert names(complete("upgrade", "--node-os-channel", "")[0]) == [
        "None", "Unmanaged", "SecurityPatch", "NodeImage"]
    assert names(complete("upgrade", "--node-os-channel=Se")[0]) == ["SecurityPatch"]
    assert "--node-os-channel" in names(complete("upgrade", "--node-")[0])
