#!/usr/bin/env python3
"""Hostile-traffic figures for the README ("Running on the public internet").

Usage: benches/hostile/measure.py BINARY [health|cursors|silent|all]

Starts `BINARY serve` on a fresh SQLite database in a temporary directory
(soft open-file limit 1024, hard 20000, as a service manager would start
it), then measures, against 127.0.0.0/8 only:

  health   /healthz latency (median, max of 50 probes) while 8 clients keep
           previews of 20,000 characters of `x<y ` in flight;
  cursors  the server's RSS before and after 300 listings of a 200-comment
           thread, each with a made-up cursor;
  silent   how many silent connections (sending nothing) the server holds
           while a client from another address is still answered.

Every loop is bounded in count and time; the server is stopped at the end.
"""

import base64
import http.client
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ADMIN = "measure-admin-token-0123456789"


def start(binary, extra_env=None):
    work = tempfile.mkdtemp(prefix="colloquy-hostile-")
    env = dict(os.environ)
    env.update({
        "COLLOQUY_ADMIN_TOKEN": ADMIN,
        "COLLOQUY_RATE_LIMIT": "off",
        "COLLOQUY_LOG": "warn",
    })
    env.update(extra_env or {})
    proc = subprocess.Popen(
        ["prlimit", "--nofile=1024:20000", "--", binary, "serve",
         "--listen", "127.0.0.1:0", "--database", f"sqlite:{work}/c.db"],
        cwd=work, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 30
    while time.time() < deadline:
        line = proc.stderr.readline()
        if "listening on http://" in line:
            addr = line.split("listening on http://")[1].split()[0]
            host, port = addr.rsplit(":", 1)
            threading.Thread(target=lambda: proc.stderr.read(), daemon=True).start()
            return proc, host, int(port)
    proc.kill()
    raise SystemExit("server did not start")


def request(host, port, method, path, body=None, timeout=60, source=None):
    conn = http.client.HTTPConnection(host, port, timeout=timeout,
                                      source_address=(source, 0) if source else None)
    headers = {"Content-Type": "application/json"} if body is not None else {}
    conn.request(method, path, body=json.dumps(body) if body is not None else None,
                 headers=headers)
    r = conn.getresponse()
    data = r.read()
    conn.close()
    return r.status, data


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def health(binary):
    proc, host, port = start(binary)
    try:
        stop = threading.Event()
        statuses = []
        body = {"body": "x<y " * 5000, "format": "filtered_html"}

        def previewer():
            while not stop.is_set():
                try:
                    s, _ = request(host, port, "POST", "/api/v1/sites/default/preview", body,
                                   timeout=120)
                    statuses.append(s)
                except OSError:
                    statuses.append(0)

        workers = [threading.Thread(target=previewer) for _ in range(8)]
        for w in workers:
            w.start()
        time.sleep(1.0)  # let the previews occupy the server
        latencies = []
        for _ in range(50):
            t = time.perf_counter()
            s, _ = request(host, port, "GET", "/healthz", timeout=120)
            latencies.append((time.perf_counter() - t) * 1000)
            assert s == 200, s
        stop.set()
        for w in workers:
            w.join(timeout=300)
        codes = {c: statuses.count(c) for c in sorted(set(statuses))}
        print(f"health: /healthz median {statistics.median(latencies):.1f} ms, "
              f"max {max(latencies):.1f} ms over 50 probes; previews answered {codes}")
    finally:
        proc.kill()
        proc.wait()


def cursors(binary):
    proc, host, port = start(binary)
    try:
        path = "/api/v1/sites/default/threads/big/comments"
        for i in range(200):
            text = f"comment {i} " + "a&b " * 4990
            s, data = request(host, port, "POST", path, {"body": text, "format": "plain_text"})
            assert s == 201, (s, data[:200])
        s, data = request(host, port, "GET", path + "?limit=200")
        page_bytes = len(data)
        before = rss_kib(proc.pid)
        rounds = int(os.environ.get("HOSTILE_CURSORS", "300"))
        for i in range(rounds):
            cursor = base64.urlsafe_b64encode(f"1.{i}".encode()).decode().rstrip("=")
            s, _ = request(host, port, "GET", f"{path}?limit=200&cursor={cursor}")
            assert s == 200, s
        after = rss_kib(proc.pid)
        print(f"cursors: page of 200 comments {page_bytes / 1e6:.1f} MB; RSS {before / 1024:.0f} MiB "
              f"before, {after / 1024:.0f} MiB after {rounds} forged cursors "
              f"(+{(after - before) / 1024:.0f} MiB)")
    finally:
        proc.kill()
        proc.wait()


def silent(binary, extra_env=None, label=""):
    proc, host, port = start(binary, extra_env)
    held = []
    try:
        tolerated = 0
        for target in (100, 500, 1000, 1100, 2000, 5000):
            while len(held) < target:
                s = socket.socket()
                # Spread over 127.0.1.0/24: many addresses, as a botnet.
                s.bind((f"127.0.1.{len(held) % 250 + 1}", 0))
                s.settimeout(5)
                try:
                    s.connect((host, port))
                except OSError:
                    s.close()
                    break
                held.append(s)
            try:
                st, _ = request(host, port, "GET", "/healthz", timeout=5, source="127.0.0.2")
                ok = st == 200
            except OSError:
                ok = False
            open_now = sum(1 for s in held if still_open(s))
            print(f"silent{label}: {len(held)} silent sockets sent, {open_now} still open; "
                  f"another client {'served' if ok else 'NOT served'}")
            if not ok:
                break
            tolerated = len(held)
        print(f"silent{label}: served others with {tolerated} silent sockets thrown at it")
    finally:
        for s in held:
            s.close()
        proc.kill()
        proc.wait()


def still_open(s):
    s.setblocking(False)
    try:
        data = s.recv(1, socket.MSG_PEEK)
        return data != b""
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        s.setblocking(True)


def main():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    binary = sys.argv[1]
    what = sys.argv[2] if len(sys.argv) > 2 else "all"
    if what in ("health", "all"):
        health(binary)
    if what in ("cursors", "all"):
        cursors(binary)
    if what in ("silent", "all"):
        silent(binary)
        silent(binary, {"COLLOQUY_MAX_CONNECTIONS_PER_IP": "0"}, " (no per-address cap)")


if __name__ == "__main__":
    main()
