#!/usr/bin/env python3
"""Soak benchmark for `dcapply serve` (issue 12): a commit every 10 s and bursts of signed
webhooks for a fixed time, against a local bare repository, on loopback only.

Reports resident memory and open file descriptors of the daemon at the start and at the end
(after the first revision is applied, and after the last), failed passes, and the latency from
push to applied (p50, p90, p99, max). Stops the daemon and removes its folder when done.

    python3 Benchmarks/soak.py --binary .build/release/dcapply --minutes 20
"""
import argparse
import hashlib
import hmac
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(*args, cwd=None, env=None):
    return subprocess.run(args, cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout.strip()


def proc_rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def proc_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def get(url):
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.read().decode()


def post(url, body, headers):
    request = urllib.request.Request(url, data=body.encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build/release/dcapply"))
    parser.add_argument("--minutes", type=float, default=20)
    parser.add_argument("--commit-every", type=float, default=10)
    parser.add_argument("--burst", type=int, default=50, help="webhooks per burst (one burst per commit)")
    parser.add_argument("--interval", default="30s", help="serve --interval")
    args = parser.parse_args()

    folder = tempfile.mkdtemp(prefix="dcapply-soak-")
    env = dict(os.environ, GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL="/dev/null", HOME=folder,
               GIT_AUTHOR_NAME="Soak", GIT_AUTHOR_EMAIL="soak@example.com",
               GIT_COMMITTER_NAME="Soak", GIT_COMMITTER_EMAIL="soak@example.com", NO_COLOR="1")
    remote, work = os.path.join(folder, "remote.git"), os.path.join(folder, "work")
    run("git", "init", "-q", "--bare", "-b", "main", remote, env=env)
    run("git", "clone", "-q", remote, work, env=env)
    os.makedirs(os.path.join(work, "manifests"))
    for name in ("site.yaml", "inventory.yaml"):
        shutil.copy(os.path.join(ROOT, "Examples/quickstart", name), os.path.join(work, "manifests", name))
    run("git", "add", "-A", cwd=work, env=env)
    run("git", "commit", "-qm", "Quickstart site", cwd=work, env=env)
    run("git", "push", "-q", "origin", "main", cwd=work, env=env)
    secret = b"soak-secret"
    with open(os.path.join(folder, "secret"), "wb") as f:
        f.write(secret)
    log = open(os.path.join(folder, "serve.log"), "w")
    daemon = subprocess.Popen([os.path.abspath(args.binary), "serve", "--repo", remote, "--branch", "main", "--path", "manifests",
                               "--interval", args.interval, "--listen", "127.0.0.1:0",
                               "--webhook-secret-file", os.path.join(folder, "secret"),
                               "--state", "sqlite:" + os.path.join(folder, "state.db")],
                              cwd=folder, env=env, stdout=log, stderr=log, stdin=subprocess.DEVNULL)
    try:
        port = None
        for _ in range(1200):
            text = open(os.path.join(folder, "serve.log")).read()
            found = re.search(r"listening on 127\.0\.0\.1:(\d+)", text)
            if found:
                port = int(found.group(1))
                break
            time.sleep(0.05)
        if port is None:
            sys.exit("serve did not start: " + open(os.path.join(folder, "serve.log")).read())
        url = f"http://127.0.0.1:{port}"

        def status():
            return json.loads(get(url + "/status")[1])

        def wait_applied(sha, timeout=120):
            deadline = time.time() + timeout
            while time.time() < deadline:
                if status().get("lastAppliedRevision") == sha:
                    return True
                time.sleep(0.02)
            return False

        head = run("git", "rev-parse", "HEAD", cwd=work, env=env)
        if not wait_applied(head):
            sys.exit("the first revision was not applied")
        start_rss, start_fds = proc_rss_kib(daemon.pid), proc_fds(daemon.pid)
        latencies, missed, webhook_codes = [], 0, {}
        replicas = [4, 2, 3]  # the quickstart's spread needs at least 2 replicas (minDomains 2)
        end = time.time() + args.minutes * 60
        commits = 0
        body = json.dumps({"ref": "refs/heads/main"})
        signature = "sha256=" + hmac.new(secret, body.encode(), hashlib.sha256).hexdigest()
        while time.time() < end:
            tick = time.time()
            site = os.path.join(work, "manifests", "site.yaml")
            text = open(site).read()
            current = replicas[commits % len(replicas)]
            following = replicas[(commits + 1) % len(replicas)]
            open(site, "w").write(text.replace(f"\n  replicas: {current}\n", f"\n  replicas: {following}\n"))
            commits += 1
            run("git", "commit", "-qam", f"soak {commits}", cwd=work, env=env)
            pushed = time.time()
            run("git", "push", "-q", "origin", "main", cwd=work, env=env)
            sha = run("git", "rev-parse", "HEAD", cwd=work, env=env)
            for _ in range(args.burst):
                code = post(url + "/hooks/git", body, {"X-Hub-Signature-256": signature, "Content-Type": "application/json"})
                webhook_codes[code] = webhook_codes.get(code, 0) + 1
            if wait_applied(sha, timeout=max(30, args.commit_every * 3)):
                latencies.append(time.time() - pushed)
            else:
                missed += 1
            time.sleep(max(0, args.commit_every - (time.time() - tick)))
        end_rss, end_fds = proc_rss_kib(daemon.pid), proc_fds(daemon.pid)
        metrics = get(url + "/metrics")[1]
        failures = [line for line in metrics.splitlines() if line.startswith('dcapply_reconcile_total{result="failure"}')]
        print(f"soak: {args.minutes:g} min, {commits} commits, {args.burst} webhooks per commit; webhook answers {webhook_codes}")
        print(f"rss: {start_rss / 1024:.1f} MiB at start, {end_rss / 1024:.1f} MiB at end ({(end_rss / start_rss - 1) * 100:+.1f}%)")
        print(f"fds: {start_fds} at start, {end_fds} at end")
        kinds = {}
        for fd in os.listdir(f"/proc/{daemon.pid}/fd"):
            try:
                target = os.readlink(f"/proc/{daemon.pid}/fd/{fd}")
            except OSError:
                continue
            kind = "pack" if target.endswith(".pack") else target.split(":")[0] if ":" in target else os.path.splitext(target)[1] or target
            kinds[kind] = kinds.get(kind, 0) + 1
        print(f"open at end: {dict(sorted(kinds.items(), key=lambda item: -item[1]))}")
        print(f"failed passes: {failures[0].split()[-1] if failures else 0}; commits not applied in time: {missed}")
        if latencies:
            print("push → applied: p50 {:.2f} s, p90 {:.2f} s, p99 {:.2f} s, max {:.2f} s (mean {:.2f} s, n={})".format(
                percentile(latencies, 50), percentile(latencies, 90), percentile(latencies, 99), max(latencies),
                statistics.mean(latencies), len(latencies)))
    finally:
        daemon.send_signal(signal.SIGTERM)
        try:
            code = daemon.wait(timeout=30)
            print(f"serve exited {code}")
        except subprocess.TimeoutExpired:
            daemon.kill()
            print("serve did not stop within 30 s; killed")
        log.close()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
