"""krew packaging: scripts/dist.sh builds the archive and records it in the
manifest; scripts/check_krew.py accepts the result and rejects every
violation of the rules krew and krew-index enforce (one test per rule, each
breaking only that rule); the archive installs the way krew extracts it and
the extracted programs run.

dist.sh runs in a copy of the files it packs, so the committed manifest is
never rewritten by a test."""

import copy
import hashlib
import io
import os
import shutil
import subprocess
import tarfile

import pytest
import yaml

import helpers

ROOT = helpers.ROOT
PY = "/usr/bin/python3"
EPOCH = "1700000000"
MEMBERS = {"kubectl-azlinux", "kubectl_complete-azlinux", "LICENSE", "README.md",
           "completions", "completions/kubectl-azlinux.bash",
           "completions/kubectl-azlinux.zsh", "completions/kubectl-azlinux.fish"}


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def make_tree(t):
    """A copy of what dist.sh packs, with the committed manifest, in t."""
    (t / "scripts").mkdir(parents=True)
    for f in ("scripts/dist.sh", "scripts/check_krew.py"):
        shutil.copy2(os.path.join(ROOT, f), t / f)
    for f in ("LICENSE", "README.md", "krew-manifest.yaml"):
        assert os.path.exists(os.path.join(ROOT, f)), "%s is missing from the repository" % f
        shutil.copy2(os.path.join(ROOT, f), t / f)
    shutil.copytree(os.path.join(ROOT, "completions"), t / "completions")
    return t


@pytest.fixture
def tree(tmp_path):
    return make_tree(tmp_path / "tree")


def dist(tree, bin_path, version):
    env = dict(os.environ, BIN_DIR=os.path.dirname(bin_path), SOURCE_DATE_EPOCH=EPOCH)
    r = subprocess.run(["sh", str(tree / "scripts/dist.sh"), version], env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    archive = tree / r.stdout.split("\n")[0]
    assert archive.is_file(), r.stdout
    return archive


def check(manifest, archive=None):
    argv = [PY, os.path.join(ROOT, "scripts/check_krew.py"), str(manifest)]
    if archive:
        argv += ["--archive", str(archive)]
    return subprocess.run(argv, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """(tree, archive) after dist.sh v1.2.3; shared, so tests must not change it."""
    bin_path = helpers.plugin_bin()
    if not bin_path:
        pytest.skip("AZLINUX_BIN is not set")
    tree = make_tree(tmp_path_factory.mktemp("dist") / "tree")
    return tree, dist(tree, bin_path, "v1.2.3")


# --- what dist.sh produces ----------------------------------------------------

def test_dist_output_passes_every_check(built):
    tree, archive = built
    assert archive.name == "kubectl-azlinux_v1.2.3_linux_amd64.tar.gz"
    r = check(tree / "krew-manifest.yaml", archive)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stdout + r.stderr
    m = yaml.safe_load((tree / "krew-manifest.yaml").read_text())
    assert m["spec"]["version"] == "v1.2.3"
    plat = m["spec"]["platforms"][0]
    assert plat["sha256"] == sha256(archive)
    assert plat["uri"].endswith("/v1.2.3/" + archive.name)


def test_dist_keeps_the_rest_of_the_manifest(built):
    tree, _ = built
    before = open(os.path.join(ROOT, "krew-manifest.yaml")).read().split("\n")
    after = (tree / "krew-manifest.yaml").read_text().split("\n")
    assert len(before) == len(after)
    changed = [b for b, a in zip(before, after) if a != b]
    assert len(changed) <= 3, changed  # version, uri, sha256
    assert all(line.strip().split(":")[0] in ("version", "uri", "sha256") for line in changed)


def test_archive_holds_regular_files_owned_by_root(built, bin_path):
    _, archive = built
    with tarfile.open(archive, "r:gz") as tf:
        members = {m.name.rstrip("/"): m for m in tf.getmembers()}
        assert set(members) == MEMBERS
        for name, m in members.items():
            assert m.isreg() or m.isdir(), name
            assert (m.uid, m.gid, m.mtime) == (0, 0, int(EPOCH)), name
        for prog in ("kubectl-azlinux", "kubectl_complete-azlinux"):
            assert members[prog].mode == 0o755, prog
            assert tf.extractfile(prog).read() == open(bin_path, "rb").read(), prog
        for name in ("LICENSE", "README.md"):
            assert members[name].mode == 0o644
        assert b"Apache License" in tf.extractfile("LICENSE").read()


def test_dist_is_reproducible(tree, bin_path):
    first = sha256(dist(tree, bin_path, "v1.2.3"))
    second = sha256(dist(tree, bin_path, "v1.2.3"))
    assert first == second


def test_untagged_build_gets_a_semver_prerelease(tree, bin_path):
    archive = dist(tree, bin_path, "a1b2c3d-dirty")
    assert archive.name == "kubectl-azlinux_v0.0.0-ga1b2c3d-dirty_linux_amd64.tar.gz"
    r = check(tree / "krew-manifest.yaml", archive)
    assert r.returncode == 0, r.stdout


def test_extracted_like_krew_the_programs_run(built, tmp_path, env):
    _, archive = built
    dest = tmp_path / "store"
    with tarfile.open(archive, "r:gz") as tf:
        for m in tf.getmembers():
            # krew's extractTARGZ: only dirs and regular files, modes from the archive
            assert not (m.name.startswith(("/", "\\")) or ".." in m.name)
            assert m.isdir() or m.isreg()
        tf.extractall(dest)
    r = subprocess.run([str(dest / "kubectl-azlinux"), "version"], env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "kubectl-azlinux" in r.stdout, r.stderr
    r = subprocess.run([str(dest / "kubectl_complete-azlinux"), ""], env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "nodes\t" in r.stdout and r.stdout.endswith(":4\n")
    # krew links only bin; with the helper on PATH kubectl completes the plugin
    e = dict(env, PATH=str(dest) + os.pathsep + env["PATH"])
    r = helpers.kubectl(e, "__complete", "azlinux", "no")
    assert r.returncode == 0 and r.stdout.startswith("nodes\t"), r.stdout + r.stderr


def test_caveats_helper_recipe_works(built, tmp_path, env):
    """The caveats' shell lines make a working kubectl_complete-azlinux."""
    tree, _ = built
    caveats = yaml.safe_load((tree / "krew-manifest.yaml").read_text())["spec"]["caveats"]
    # the indented block that writes the helper
    blocks = [b for b in caveats.split("\n\n")
              if "kubectl_complete-azlinux" in b and b.startswith(" ")]
    assert len(blocks) == 1, caveats
    script = blocks[0]
    krew_root = tmp_path / "krew"
    (krew_root / "bin").mkdir(parents=True)
    e = dict(env, KREW_ROOT=str(krew_root))
    r = subprocess.run(["sh", "-c", script], env=e, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    helper = krew_root / "bin" / "kubectl_complete-azlinux"
    assert os.access(helper, os.X_OK)
    r = subprocess.run([str(helper), "no"], env=e, capture_output=True, text=True, timeout=60)
    assert r.stdout == "nodes\tList the cluster's nodes with their pool, OS and node image\n:4\n"


def test_committed_manifest_is_valid():
    r = check(os.path.join(ROOT, "krew-manifest.yaml"))
    assert r.returncode == 0, r.stdout


# --- every manifest rule, broken one at a time -----------------------------------

def plat0(m):
    return m["spec"]["platforms"][0]


def set_sel(m, sel):
    plat0(m)["selector"] = sel


MANIFEST_RULES = {
    "apiVersion": (lambda m: m.update(apiVersion="krew.googlecontainertools.github.com/v1"),
                   "apiVersion"),
    "kind": (lambda m: m.update(kind="Plugins"), "kind: must be Plugin"),
    "name-file": (lambda m: m["metadata"].update(name="az-linux"), "plugin should be named"),
    "name-unsafe": (lambda m: m["metadata"].update(name="az linux"), "not a safe plugin name"),
    "version-v": (lambda m: m["spec"].update(version="1.2.3"), "not starting with 'v'"),
    "version-semver": (lambda m: m["spec"].update(version="v1.2"), "not valid semver"),
    "version-missing": (lambda m: m["spec"].pop("version"), "spec.version: is required"),
    "short-empty": (lambda m: m["spec"].update(shortDescription=""), "is required"),
    "short-lines": (lambda m: m["spec"].update(shortDescription="Move pools\nto Azure Linux"),
                    "single line"),
    "short-long": (lambda m: m["spec"].update(shortDescription="x" * 51), "at most 50"),
    "short-kubectl": (lambda m: m["spec"].update(shortDescription="kubectl pools to Azure Linux"),
                      "'kubectl'"),
    "short-plugin": (lambda m: m["spec"].update(shortDescription="Azure Linux plugin"),
                     "'plugin'"),
    "description-missing": (lambda m: m["spec"].pop("description"),
                            "spec.description: is required"),
    "description-wrap": (lambda m: m["spec"].update(description="word " * 17 + "\n"),
                         "wrap at 80"),
    "description-usage": (lambda m: m["spec"].update(description="Finds pools.\n\n"
                                                     "  kubectl azlinux pools\n"),
                          "usage example"),
    "caveats-completion": (lambda m: m["spec"].update(caveats="Enjoy.\n"), "krew issue 812"),
    "platforms-empty": (lambda m: m["spec"].update(platforms=[]), "at least one platform"),
    "uri-missing": (lambda m: plat0(m).pop("uri"), "uri: is required"),
    "uri-http": (lambda m: plat0(m).update(uri=plat0(m)["uri"].replace("https:", "http:")),
                 "https .tar.gz or .zip"),
    "uri-version": (lambda m: plat0(m).update(uri=plat0(m)["uri"].replace("v1.2.3", "v9.9.9")),
                    "does not contain version"),
    "sha-upper": (lambda m: plat0(m).update(sha256=plat0(m)["sha256"].upper()),
                  "64 lowercase hex"),
    "sha-short": (lambda m: plat0(m).update(sha256=plat0(m)["sha256"][:63]), "64 lowercase hex"),
    "bin-missing": (lambda m: plat0(m).pop("bin"), "bin: is required"),
    "bin-wrong": (lambda m: plat0(m).update(bin="azlinux"), "should be kubectl-azlinux"),
    "files-empty": (lambda m: plat0(m).update(files=[]), "leave it out or list"),
    "files-no-to": (lambda m: plat0(m).update(files=[{"from": "*"}]), "needs from and to"),
    "selector-missing": (lambda m: plat0(m).pop("selector"), "selector: is required"),
    "selector-key": (lambda m: set_sel(m, {"matchLabels": {"os": "linux", "arch": "amd64",
                                                           "libc": "glibc"}}),
                     "key 'libc' is not allowed"),
    "selector-empty-labels": (lambda m: set_sel(m, {"matchLabels": {}, "matchExpressions": [
        {"key": "os", "operator": "In", "values": ["linux"]}]}), "present but empty"),
    "selector-unsupported": (lambda m: set_sel(m, {"matchLabels": {"os": "plan9",
                                                                   "arch": "amd64"}}),
                             "doesn't match any supported platforms"),
    "platform-twice": (lambda m: m["spec"]["platforms"].append(copy.deepcopy(plat0(m))),
                       "overlapping selectors"),
    "platform-overlap": (lambda m: m["spec"]["platforms"].append(dict(
        copy.deepcopy(plat0(m)), selector={"matchExpressions": [
            {"key": "os", "operator": "In", "values": ["linux", "darwin"]}]})),
        "overlapping selectors"),
}


@pytest.mark.parametrize("rule", sorted(MANIFEST_RULES))
def test_manifest_rule(built, tmp_path, rule):
    tree, _ = built
    mutate, expect = MANIFEST_RULES[rule]
    m = yaml.safe_load((tree / "krew-manifest.yaml").read_text())
    mutate(m)
    bad = tmp_path / "krew-manifest.yaml"
    bad.write_text(yaml.safe_dump(m, sort_keys=False))
    r = check(bad)
    assert r.returncode == 1, "check_krew accepted a manifest breaking %s" % rule
    assert expect in r.stdout, r.stdout


def test_manifest_with_matching_expressions_for_other_platforms_is_fine(built, tmp_path):
    """Sanity: a second, non-overlapping platform is accepted, so the
    overlap rule above is not simply rejecting any second entry."""
    tree, _ = built
    m = yaml.safe_load((tree / "krew-manifest.yaml").read_text())
    other = copy.deepcopy(plat0(m))
    other["selector"] = {"matchLabels": {"os": "darwin", "arch": "arm64"}}
    other["uri"] = other["uri"].replace("linux_amd64", "darwin_arm64")
    m["spec"]["platforms"].append(other)
    good = tmp_path / "krew-manifest.yaml"
    good.write_text(yaml.safe_dump(m, sort_keys=False))
    r = check(good)
    assert r.returncode == 0, r.stdout


# --- every archive rule, broken one at a time --------------------------------------

def add_file(tf, name, data, mode=0o644, uid=0):
    ti = tarfile.TarInfo(name)
    ti.size, ti.mode, ti.uid, ti.gid, ti.mtime = len(data), mode, uid, 0, int(EPOCH)
    tf.addfile(ti, io.BytesIO(data))


def good_files(tree):
    files = {}
    for name in sorted(MEMBERS - {"completions"}):
        with open(tree / name if "kubectl" not in name or "/" in name
                  else helpers.plugin_bin(), "rb") as f:
            files[name] = f.read()
    return files


def write_archive(path, tree, drop=(), modes=None, extra=None):
    modes = modes or {}
    with tarfile.open(path, "w:gz", format=tarfile.USTAR_FORMAT) as tf:
        for name, data in good_files(tree).items():
            if name in drop:
                continue
            default = 0o755 if name in ("kubectl-azlinux", "kubectl_complete-azlinux") else 0o644
            add_file(tf, name, data, modes.get(name, default))
        if extra:
            extra(tf)


def symlink(tf):
    ti = tarfile.TarInfo("kubectl-azlinux-link")
    ti.type, ti.linkname = tarfile.SYMTYPE, "kubectl-azlinux"
    tf.addfile(ti)


def hardlink(tf):
    ti = tarfile.TarInfo("hard")
    ti.type, ti.linkname = tarfile.LNKTYPE, "kubectl-azlinux"
    tf.addfile(ti)


ARCHIVE_RULES = {
    "symlink": (dict(extra=symlink), "is not a regular file or directory"),
    "hardlink": (dict(extra=hardlink), "is not a regular file or directory"),
    "absolute": (dict(extra=lambda tf: add_file(tf, "/etc/evil", b"x")), "absolute or '..'"),
    "dotdot": (dict(extra=lambda tf: add_file(tf, "completions/../../evil", b"x")),
               "absolute or '..'"),
    "owner": (dict(extra=lambda tf: add_file(tf, "NOTES", b"x", uid=1000)), "owner 1000:0"),
    "bin-missing": (dict(drop=("kubectl-azlinux",)), "is not a regular file in the archive"),
    "bin-not-exec": (dict(modes={"kubectl-azlinux": 0o644}), "is not executable"),
    "helper-not-exec": (dict(modes={"kubectl_complete-azlinux": 0o644}),
                        "kubectl_complete-azlinux: is not executable"),
    "license": (dict(drop=("LICENSE",)), "LICENSE (or alike) file is not extracted"),
    "readme": (dict(drop=("README.md",)), "README.md: missing"),
    "completion-script": (dict(drop=("completions/kubectl-azlinux.zsh",)),
                          "completions/kubectl-azlinux.zsh: missing"),
}


def manifest_for(tree, tmp_path, archive, sha=None):
    m = yaml.safe_load((tree / "krew-manifest.yaml").read_text())
    plat0(m)["sha256"] = sha or sha256(archive)
    path = tmp_path / "krew-manifest.yaml"
    path.write_text(yaml.safe_dump(m, sort_keys=False))
    return path


@pytest.mark.parametrize("rule", sorted(ARCHIVE_RULES))
def test_archive_rule(built, tmp_path, rule):
    tree, good = built
    kwargs, expect = ARCHIVE_RULES[rule]
    bad = tmp_path / good.name
    write_archive(bad, tree, **kwargs)
    r = check(manifest_for(tree, tmp_path, bad), bad)
    assert r.returncode == 1, "check_krew accepted an archive breaking %s" % rule
    assert expect in r.stdout, r.stdout


def test_rebuilt_good_archive_passes(built, tmp_path):
    """Sanity for the rules above: the same builder without a defect passes."""
    tree, good = built
    ok = tmp_path / good.name
    write_archive(ok, tree)
    r = check(manifest_for(tree, tmp_path, ok), ok)
    assert r.returncode == 0, r.stdout


def test_archive_checksum_mismatch(built, tmp_path):
    tree, archive = built
    r = check(manifest_for(tree, tmp_path, archive, sha="0" * 63 + "a"), archive)
    assert r.returncode == 1 and "checksum does not match" in r.stdout


def test_archive_not_gzip(built, tmp_path):
    tree, good = built
    bad = tmp_path / good.name
    with tarfile.open(bad, "w", format=tarfile.USTAR_FORMAT) as tf:  # plain tar
        add_file(tf, "kubectl-azlinux", b"x", 0o755)
    r = check(manifest_for(tree, tmp_path, bad), bad)
    assert r.returncode == 1 and "is not gzip data" in r.stdout


def test_archive_not_named_by_manifest(built, tmp_path):
    tree, good = built
    other = tmp_path / "kubectl-azlinux_v1.2.3_darwin_arm64.tar.gz"
    shutil.copy(good, other)
    r = check(tree / "krew-manifest.yaml", other)
    assert r.returncode == 1 and "no platform of the manifest downloads" in r.stdout
