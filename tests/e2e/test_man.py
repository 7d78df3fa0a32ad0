"""The man page, kubectl-azlinux(1): it renders without a single groff
warning, whatis can index it, it documents every command and global flag
the program actually has, and `make install` puts it (with the completion
helper and scripts) where man and the shells look."""

import os
import re
import subprocess

import pytest

import helpers

ROOT = helpers.ROOT
PAGE = os.path.join(ROOT, "docs", "kubectl-azlinux.1")


def render(width=80):
    env = dict(os.environ, MANWIDTH=str(width), MAN_KEEP_FORMATTING="", LC_ALL="C.UTF-8")
    r = subprocess.run(["man", "--warnings", "-l", PAGE], env=env, capture_output=True,
                       text=True, timeout=60)
    return r


def plain():
    """The rendered page without overstrike (bold/underline) sequences."""
    r = render()
    assert r.returncode == 0, r.stderr
    return re.sub(r".\x08", "", r.stdout)


def section(text, title):
    m = re.search(r"^%s\n(.*?)(?=^[A-Z][A-Z ]+\n|\Z)" % re.escape(title), text,
                  re.M | re.S)
    assert m, "no %s section" % title
    return m.group(1)


def completions(run, *words):
    r = run("__complete", *words)
    assert r.returncode == 0, r.stderr
    return [line.split("\t")[0] for line in r.stdout.split("\n")
            if line and not line.startswith(":")]


@pytest.mark.parametrize("width", [80, 60, 200])
def test_renders_without_warnings(width):
    r = render(width)
    assert r.returncode == 0
    assert r.stderr == "", r.stderr
    assert "KUBECTL-AZLINUX(1)" in r.stdout


def test_groff_is_silent_at_the_strictest_warning_level():
    r = subprocess.run(["groff", "-man", "-ww", "-z", PAGE], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0 and r.stderr == "", r.stderr


def test_whatis_can_index_the_name_line():
    r = subprocess.run(["lexgrog", PAGE], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "kubectl-azlinux - inspect AKS node pools and plan their move" in r.stdout


def source_text():
    """The roff source with its escaped minus signs as plain hyphens."""
    with open(PAGE) as f:
        return f.read().replace("\\-", "-")


def test_every_command_is_documented(run):
    text = section(plain(), "COMMANDS")
    cmds = completions(run, "")
    assert "nodes" in cmds
    for cmd in cmds:
        assert re.search(r"^   %s\b" % re.escape(cmd), text, re.M), \
            "command %r has no subsection in COMMANDS of docs/kubectl-azlinux.1" % cmd


def test_every_global_flag_is_documented(run):
    text = section(plain(), "GLOBAL OPTIONS")
    flags = [f for f in completions(run, "-") if f.startswith("--")]
    assert "--kubeconfig" in flags and "--context" in flags
    for flag in flags:
        assert re.search(r"^       (-\w, )?%s\b" % re.escape(flag), text, re.M), \
            "global flag %s missing from GLOBAL OPTIONS in docs/kubectl-azlinux.1" % flag


def test_every_flag_of_every_command_is_documented(run):
    src = source_text()
    missing = []
    for cmd in completions(run, ""):
        for flag in completions(run, cmd, "-"):
            if flag in ("-h", "--help"):
                continue
            if not re.search(r"(?<![\w-])%s(?![\w-])" % re.escape(flag), src):
                missing.append("%s %s" % (cmd, flag))
    assert not missing, "flags missing from docs/kubectl-azlinux.1: %s" % ", ".join(missing)


def test_exit_status_environment_and_files():
    text = plain()
    status = section(text, "EXIT STATUS")
    for code in ("0", "1", "3", "4"):
        assert re.search(r"^       %s\s+\S" % code, status, re.M), code
    env = section(text, "ENVIRONMENT")
    for var in ("KUBECONFIG", "AZLINUX_AUTH", "AZLINUX_CLOUD", "AZLINUX_TOKEN_CACHE",
                "AZURE_TENANT_ID", "XDG_CACHE_HOME", "NO_COLOR"):
        assert var in env, var
    files = section(text, "FILES")
    assert "~/.kube/config" in files and "kubectl-azlinux/" in files
    assert "kubectl_complete-azlinux" in section(text, "COMPLETION")


def test_make_install_places_page_helper_and_scripts(tmp_path, bin_path):
    dest = tmp_path / "root"
    # -o all: install what is built, do not rebuild here
    r = subprocess.run(["make", "--no-print-directory", "-o", "all", "install",
                        "DESTDIR=%s" % dest, "PREFIX=/usr",
                        "BIN=%s" % os.path.dirname(bin_path)],
                       cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    usr = dest / "usr"
    page = usr / "share/man/man1/kubectl-azlinux.1"
    assert page.read_text() == open(PAGE).read()
    for prog in ("kubectl-azlinux", "kubectl_complete-azlinux"):
        p = usr / "bin" / prog
        assert os.access(p, os.X_OK) and not p.is_symlink(), prog
    for path, shell in (("share/bash-completion/completions/kubectl-azlinux", "bash"),
                        ("share/zsh/site-functions/_kubectl-azlinux", "zsh"),
                        ("share/fish/vendor_completions.d/kubectl-azlinux.fish", "fish")):
        with open(os.path.join(ROOT, "completions", "kubectl-azlinux." + shell)) as f:
            assert (usr / path).read_text() == f.read(), path
    # man finds the installed page by name
    r = subprocess.run(["man", "-M", str(usr / "share/man"), "-w", "kubectl-azlinux"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout.strip() == str(page), r.stderr
    r = subprocess.run(["make", "--no-print-directory", "uninstall", "DESTDIR=%s" % dest,
                        "PREFIX=/usr"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    left = [os.path.join(d, f) for d, _, fs in os.walk(dest) for f in fs]
    assert left == [], left
