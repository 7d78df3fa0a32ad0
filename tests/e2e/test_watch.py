"""core/watch against the simulator's API server, through the hidden
`__watch` command: each watch stream ends after a fraction of a second
(watch_close_seconds), so the client must reconnect from the last
resourceVersion it saw without listing again; after a compaction its
version is too old (ERROR 410 Expired) and it must list again, then keep
watching from the new list."""
import queue
import re
import subprocess
import threading
import time

CLUSTER = "demo-aks"


def _reader(stream, lines):
    for line in stream:
        lines.put(line.rstrip("\n"))
    lines.put(None)


def _wait_for(lines, seen, pattern, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.2)
        except queue.Empty:
            continue
        if line is None:
            break
        seen.append(line)
        if re.search(pattern, line):
            return line
    raise AssertionError("no line matching %r in %r" % (pattern, seen))


def _until(cond, timeout=30):
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "condition not met"
        time.sleep(0.05)


def test_watch_reconnects_and_relists_after_gone(sim, env, bin_path):
    k8s = sim.cluster(CLUSTER).k8s
    k8s.watch_close_seconds = (0.2, 0.4)
    node = k8s.nodes()[0]["metadata"]["name"]
    proc = subprocess.Popen([bin_path, "__watch", "nodes", "--stop-after", "2"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines, seen = queue.Queue(), []
    threading.Thread(target=_reader, args=(proc.stdout, lines), daemon=True).start()
    try:
        _wait_for(lines, seen, r"^SYNCED - \d+$")
        watches = lambda: len([r for r in sim.find(server=CLUSTER, method="GET",
                                                   path_prefix="/api/v1/nodes")
                               if r["query"].get("watch") == ["1"]])
        # the server has ended a stream and the client came back
        _until(lambda: watches() >= 2)
        k8s.label_node(node, "azl-watch", "1")
        first = _wait_for(lines, seen, r"^MODIFIED %s \d+$" % re.escape(node))
        # the cluster moves on and etcd compacts: the client's version is gone
        with k8s.lock:
            k8s.add_namespace("azl-watch")
        k8s.compact()
        _wait_for(lines, seen, r"^RELIST - ")
        _wait_for(lines, seen, r"^SYNCED - \d+$")
        k8s.label_node(node, "azl-watch", "2")
        second = _wait_for(lines, seen, r"^MODIFIED %s \d+$" % re.escape(node))
        stats = _wait_for(lines, seen, r"^STATS ")
        assert proc.wait(timeout=30) == 0, proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert int(second.split()[2]) > int(first.split()[2])
    counts = dict(kv.split("=") for kv in stats.split()[1:])
    assert int(counts["lists"]) == 2
    assert int(counts["relists"]) == 1
    assert int(counts["reconnects"]) >= 2
    # the node's ADDED came once per list, never from a reconnect
    assert len([s for s in seen if s.startswith("ADDED %s " % node)]) == 2
    # every watch asked for bookmarks, from the version it last saw
    reqs = [r for r in sim.find(server=CLUSTER, method="GET", path_prefix="/api/v1/nodes")]
    streams = [r["query"] for r in reqs if r["query"].get("watch") == ["1"]]
    assert streams and all(q.get("allowWatchBookmarks") == ["true"] and q.get("resourceVersion")
                           for q in streams)


def test_watch_at_v9_keeps_the_token_out(sim, env, bin_path):
    k8s = sim.cluster(CLUSTER).k8s
    token = "tok-watch-4d1e9b"
    k8s.tokens[token] = "erin"
    node = k8s.nodes()[0]["metadata"]["name"]
    proc = subprocess.Popen([bin_path, "__watch", "nodes", "--stop-after", "1", "--token", token,
                             "-v=9"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    lines, seen = queue.Queue(), []
    threading.Thread(target=_reader, args=(proc.stdout, lines), daemon=True).start()
    try:
        _wait_for(lines, seen, r"^SYNCED - \d+$")
        _until(lambda: any(r["query"].get("watch") == ["1"] and r["auth"] == "token:erin"
                           for r in sim.find(server=CLUSTER, method="GET",
                                             path_prefix="/api/v1/nodes")) or
               proc.poll() is not None)
        k8s.label_node(node, "azl-watch", "secret-test")
        _wait_for(lines, seen, r"^STATS ")
        stderr = proc.stderr.read()
        assert proc.wait(timeout=30) == 0, stderr
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "Authorization: Bearer <redacted>" in stderr
    assert "watch=1" in stderr
    assert token not in stderr and token not in "\n".join(seen)


def test_watch_command_is_hidden(run):
    assert "__watch" not in run("--help").stdout
    assert "__watch" not in run("__complete", "").stdout
