#!/usr/bin/python3
"""Validates krew-manifest.yaml, and optionally a release archive, against
the rules krew and krew-index enforce (docs: shared reference
kubectl-plugin.md §1.2-§1.4), plus the review norms of krew-index and what
this project promises to ship in every archive.

    scripts/check_krew.py [--name azlinux] [--archive FILE.tar.gz] [MANIFEST]

Prints one line per violation and exits 1, or prints "ok" and exits 0.

The manifest lives at the top of the repository as krew-manifest.yaml, while
krew-index names it plugins/<name>.yaml and takes the plugin name from the
file name; so it is copied to <name>.yaml and checked under that name, as
validate-krew-manifest would. When `kubectl krew` is installed, the archive
is also installed with it into a temporary KREW_ROOT.
"""

import argparse
import fnmatch
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile

try:
    import yaml
except ImportError:  # pragma: no cover - depends on the machine
    sys.exit("check_krew: PyYAML is missing: apt-get install python3-yaml")

API_VERSION = "krew.googlecontainertools.github.com/v1alpha2"
SAFE_NAME = re.compile(r"^[\w-]+$")
WINDOWS_RESERVED = {"con", "prn", "aux", "nul"} | {
    "%s%d" % (p, i) for p in ("com", "lpt") for i in range(1, 10)}
# semver 2.0.0 with krew's mandatory "v" (internal/installation/semver).
SEMVER = re.compile(
    r"^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)"
    r"(?:\.(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*))*))?"
    r"(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$")
SHA256 = re.compile(r"^[a-f0-9]{64}$")
# cmd/validate-krew-manifest: the platforms krew-index accepts.
SUPPORTED = [("windows", a) for a in ("386", "amd64", "arm64")] + \
    [("linux", a) for a in ("386", "amd64", "arm", "arm64", "ppc64le")] + \
    [("darwin", a) for a in ("386", "amd64", "arm64")]
LICENSE_NAMES = {"license", "license.txt", "license.md", "licenses",
                 "licenses.txt", "licenses.md", "copying", "copying.txt"}
SHORT_MAX = 50        # krew-index bot; `krew search` cuts at 50
WRAP = 80             # krew-index bot: description wrapped at 80 columns
# What this project ships in every archive besides bin and the licence.
PROJECT_FILES = ["README.md", "kubectl_complete-azlinux",
                 "completions/kubectl-azlinux.bash",
                 "completions/kubectl-azlinux.zsh",
                 "completions/kubectl-azlinux.fish"]
PROJECT_EXECUTABLES = ["kubectl_complete-azlinux"]


class Checker:
    def __init__(self, label):
        self.label = label
        self.errors = []

    def fail(self, field, msg):
        self.errors.append("%s: %s: %s" % (self.label, field, msg))


# --- manifest -------------------------------------------------------------

def check_top(c, m, name):
    if m.get("apiVersion") != API_VERSION:
        c.fail("apiVersion", "must be %s (not supported in this version of "
               "krew otherwise)" % API_VERSION)
    if m.get("kind") != "Plugin":
        c.fail("kind", "must be Plugin")
    meta_name = (m.get("metadata") or {}).get("name")
    if not isinstance(meta_name, str) or not SAFE_NAME.match(meta_name) \
            or meta_name.lower() in WINDOWS_RESERVED:
        c.fail("metadata.name", "%r is not a safe plugin name" % meta_name)
    if meta_name != name:
        c.fail("metadata.name", "plugin should be named %r (the manifest's "
               "file name), not %r" % (name, meta_name))


def check_version(c, spec):
    v = spec.get("version")
    if not isinstance(v, str) or not v:
        c.fail("spec.version", "is required")
    elif not v.startswith("v"):
        c.fail("spec.version", "version string %r not starting with 'v'" % v)
    elif not SEMVER.match(v):
        c.fail("spec.version", "%r is not valid semver" % v)


def check_short(c, spec):
    s = spec.get("shortDescription")
    if not isinstance(s, str) or not s.strip():
        c.fail("spec.shortDescription", "is required")
        return
    if "\r" in s or "\n" in s:
        c.fail("spec.shortDescription", "must be a single line")
    if len(s) > SHORT_MAX:
        c.fail("spec.shortDescription", "is %d characters; at most %d"
               % (len(s), SHORT_MAX))
    for word in ("kubectl", "plugin"):
        if word in s.lower():
            c.fail("spec.shortDescription", "must not say %r (redundant in "
                   "krew search)" % word)


def looks_like_usage(line):
    """A shell prompt, an indented (code) line, or a usage heading; prose
    that merely starts with "kubectl" after wrapping is fine."""
    return line.startswith((" ", "\t", "$ ")) or \
        re.match(r"^(usage|examples?):", line.strip(), re.I) is not None


def check_description(c, spec):
    d = spec.get("description")
    if not isinstance(d, str) or not d.strip():
        c.fail("spec.description", "is required")
        return
    for i, line in enumerate(d.split("\n"), 1):
        if len(line) > WRAP:
            c.fail("spec.description", "line %d is %d columns; wrap at %d"
                   % (i, len(line), WRAP))
        if looks_like_usage(line):
            c.fail("spec.description", "line %d is a usage example; the "
                   "plugin's --help is the place for those" % i)


def check_caveats(c, spec, name):
    cav = spec.get("caveats") or ""
    helper = "kubectl_complete-" + name.replace("-", "_")
    # krew issue 812: krew cannot install the completion helper.
    if helper not in cav or "completion" not in cav:
        c.fail("spec.caveats", "must say how to enable completion (install "
               "%s on PATH; krew cannot, krew issue 812)" % helper)


def expr_matches(expr, labels):
    key, op, values = expr.get("key"), expr.get("operator"), \
        expr.get("values") or []
    if op == "In":
        return labels.get(key) in values
    if op == "NotIn":
        return labels.get(key) not in values
    if op == "Exists":
        return key in labels
    if op == "DoesNotExist":
        return key not in labels
    return False


def selector_matches(sel, os_, arch):
    labels = {"os": os_, "arch": arch}
    for k, v in (sel.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    return all(expr_matches(e, labels)
               for e in sel.get("matchExpressions") or [])


def check_selector(c, field, sel):
    if not isinstance(sel, dict) or not sel:
        c.fail(field, "is required and must not be empty")
        return False
    for part in ("matchLabels", "matchExpressions"):
        if part in sel and not sel[part]:
            c.fail("%s.%s" % (field, part), "is present but empty")
    keys = list((sel.get("matchLabels") or {}).keys()) + \
        [e.get("key") for e in sel.get("matchExpressions") or []]
    for k in keys:
        if k not in ("os", "arch"):
            c.fail(field, "key %r is not allowed; only os and arch" % k)
    for e in sel.get("matchExpressions") or []:
        if e.get("operator") not in ("In", "NotIn", "Exists", "DoesNotExist"):
            c.fail(field, "unknown operator %r" % e.get("operator"))
    return True


def check_platform(c, i, p, name, version):
    field = "spec.platforms[%d]" % i
    if not isinstance(p, dict):
        c.fail(field, "must be a mapping")
        return
    uri = p.get("uri") or ""
    if not uri:
        c.fail(field + ".uri", "is required")
    elif not uri.startswith("https://") or \
            not uri.endswith((".tar.gz", ".zip")):
        c.fail(field + ".uri", "%r must be an https .tar.gz or .zip" % uri)
    elif version and version not in uri:
        c.fail(field + ".uri", "%r does not contain version %s"
               % (uri, version))
    if not SHA256.match(str(p.get("sha256") or "")):
        c.fail(field + ".sha256", "must be 64 lowercase hex digits")
    want_bin = "kubectl-" + name.replace("-", "_")
    if not p.get("bin"):
        c.fail(field + ".bin", "is required")
    elif os.path.basename(str(p["bin"])) not in (want_bin, want_bin + ".exe"):
        c.fail(field + ".bin", "%r should be %s" % (p["bin"], want_bin))
    if "files" in p:
        files = p["files"]
        if not files:
            c.fail(field + ".files", "leave it out or list at least one")
        for j, f in enumerate(files or []):
            if not isinstance(f, dict) or not f.get("from") or not f.get("to"):
                c.fail("%s.files[%d]" % (field, j), "needs from and to")
    check_selector(c, field + ".selector", p.get("selector"))


def check_platforms(c, spec, name):
    plats = spec.get("platforms")
    if not isinstance(plats, list) or not plats:
        c.fail("spec.platforms", "at least one platform is required")
        return
    version = spec.get("version") if isinstance(spec.get("version"), str) \
        else ""
    for i, p in enumerate(plats):
        check_platform(c, i, p, name, version)
    sels = [p.get("selector") or {} if isinstance(p, dict) else {}
            for p in plats]
    for i, sel in enumerate(sels):
        if sel and not any(selector_matches(sel, o, a) for o, a in SUPPORTED):
            c.fail("spec.platforms[%d].selector" % i, "(%s) doesn't match "
                   "any supported platforms" % sel)
    for o, a in SUPPORTED:
        hits = [i for i, sel in enumerate(sels)
                if sel and selector_matches(sel, o, a)]
        if len(hits) > 1:
            c.fail("spec.platforms", "multiple spec.platforms (at indexes %s)"
                   " have overlapping selectors (%s/%s)" % (hits, o, a))


def check_manifest(path, name):
    """Copies the manifest to <name>.yaml and validates it as krew-index would."""
    c = Checker(os.path.basename(path))
    tmp = tempfile.mkdtemp()
    try:
        copy = os.path.join(tmp, name + ".yaml")
        shutil.copyfile(path, copy)
        file_name = os.path.basename(copy)[:-len(".yaml")]
        with open(copy, encoding="utf-8") as f:
            m = yaml.safe_load(f)
    except (OSError, yaml.YAMLError) as e:
        c.fail("file", "cannot read: %s" % e)
        return c, None
    finally:
        shutil.rmtree(tmp)
    if not isinstance(m, dict):
        c.fail("file", "is not a YAML mapping")
        return c, None
    check_top(c, m, file_name)
    spec = m.get("spec")
    if not isinstance(spec, dict):
        c.fail("spec", "is required")
        return c, m
    check_version(c, spec)
    check_short(c, spec)
    check_description(c, spec)
    check_caveats(c, spec, file_name)
    check_platforms(c, spec, file_name)
    return c, m


# --- archive --------------------------------------------------------------

def platform_for(m, archive):
    """The platform whose uri names this archive, and its os/arch."""
    base = os.path.basename(archive)
    for i, p in enumerate(m["spec"]["platforms"]):
        if isinstance(p, dict) and str(p.get("uri", "")).endswith("/" + base):
            sel = p.get("selector") or {}
            for o, a in SUPPORTED:
                if selector_matches(sel, o, a):
                    return i, p, o, a
            return i, p, None, None
    return None, None, None, None


def suspicious(path):
    # internal/download/downloader.go: suspiciousPath
    return ".." in path or path.startswith(("/", "\\"))


def extracted_files(names, files):
    """Applies the platform's files: (or krew's default "*" -> ".")."""
    if not files:
        return list(names)
    out = []
    for op in files:
        pat = op["from"].lstrip("./")
        for n in names:
            if fnmatch.fnmatch(n, pat) or n.startswith(pat.rstrip("/") + "/"):
                out.append(os.path.normpath(os.path.join(op["to"], n)))
    return out


def check_members(c, tf, p):
    regular = {}
    for ti in tf.getmembers():
        if ti.name == "pax_global_header":
            continue
        if suspicious(ti.name):
            c.fail(ti.name, "absolute or '..' path; krew refuses it")
        if not (ti.isreg() or ti.isdir()):
            c.fail(ti.name, "is not a regular file or directory (type %r); "
                   "krew fails with \"unable to handle file type\"" % ti.type)
        if ti.uid != 0 or ti.gid != 0:
            c.fail(ti.name, "owner %d:%d; build with --owner=0 --group=0"
                   % (ti.uid, ti.gid))
        if ti.isreg():
            regular[os.path.normpath(ti.name)] = ti
    bin_ = os.path.normpath(str(p.get("bin", "")))
    if bin_ not in regular:
        c.fail("bin", "%s is not a regular file in the archive" % bin_)
    elif not regular[bin_].mode & 0o111:
        c.fail("bin", "%s is not executable (mode %o)"
               % (bin_, regular[bin_].mode))
    installed = extracted_files(regular, p.get("files"))
    if not any(os.path.basename(n).lower() in LICENSE_NAMES
               for n in installed):
        c.fail("files", "LICENSE (or alike) file is not extracted from the "
               "archive as part of installation")
    for f in PROJECT_FILES:
        if f not in regular:
            c.fail(f, "missing from the archive")
    for f in PROJECT_EXECUTABLES:
        if f in regular and not regular[f].mode & 0o111:
            c.fail(f, "is not executable")


def check_archive(m, archive, name):
    c = Checker(os.path.basename(archive))
    i, p, os_, arch = platform_for(m, archive)
    if p is None:
        c.fail("uri", "no platform of the manifest downloads %s"
               % os.path.basename(archive))
        return c
    want = "kubectl-%s_%s_%s_%s.tar.gz" % (name, m["spec"].get("version"),
                                          os_, arch)
    if os.path.basename(archive) != want:
        c.fail("name", "should be %s for spec.platforms[%d]" % (want, i))
    with open(archive, "rb") as f:
        data = f.read()
    got = hashlib.sha256(data).hexdigest()
    if got != p.get("sha256"):
        c.fail("sha256", "checksum does not match, want: %s, got %s"
               % (p.get("sha256"), got))
    # krew sniffs the MIME type; only gzip and zip are handled.
    if not data.startswith(b"\x1f\x8b"):
        c.fail("format", "is not gzip data")
        return c
    try:
        with tarfile.open(archive, "r:gz") as tf:
            check_members(c, tf, p)
    except tarfile.TarError as e:
        c.fail("format", "unreadable tar: %s" % e)
    return c


def krew_install(manifest, archive, name):
    """Runs the real `kubectl krew install` when krew is present."""
    kubectl = shutil.which("kubectl")
    if not kubectl or subprocess.run([kubectl, "krew", "version"],
                                     capture_output=True).returncode != 0:
        return None
    c = Checker("kubectl krew install")
    with tempfile.TemporaryDirectory() as root:
        copy = os.path.join(root, name + ".yaml")
        shutil.copyfile(manifest, copy)
        r = subprocess.run([kubectl, "krew", "install", "--manifest=" + copy,
                            "--archive=" + archive],
                           env=dict(os.environ, KREW_ROOT=root),
                           capture_output=True, text=True)
        if r.returncode:
            c.fail("install", r.stderr.strip().splitlines()[-1:] or "failed")
    return c


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("manifest", nargs="?", default="krew-manifest.yaml")
    ap.add_argument("--name", default="azlinux",
                    help="the plugin's name in krew-index")
    ap.add_argument("--archive", help="release archive to check")
    args = ap.parse_args()

    checkers = []
    c, m = check_manifest(args.manifest, args.name)
    checkers.append(c)
    if args.archive and m is not None and not c.errors:
        checkers.append(check_archive(m, args.archive, args.name))
        if not checkers[-1].errors:
            checkers.append(krew_install(args.manifest, args.archive,
                                         args.name))
    errors = [e for ch in checkers if ch for e in ch.errors]
    for e in errors:
        print(e)
    if errors:
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
