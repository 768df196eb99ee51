#!/usr/bin/env python3
"""Figures of dcapply on PostgreSQL (issue 16): failover time of `dcapply serve`, the first
apply of a large site on PostgreSQL, SQLite and memory, and the store's round trips.

    python3 Benchmarks/pg_bench.py failover [--kills 20] [--terminations 20]
    python3 Benchmarks/pg_bench.py apply [--nodes 10000]
    python3 Benchmarks/pg_bench.py roundtrips [--rounds 1000]

Starts its own PostgreSQL 15 (Debian's, /usr/lib/postgresql/15/bin) in a temporary folder on a
free loopback port, as the user `dcapply-pg` when run as root (scripts/install-deps makes it),
and stops it by pid when done, whatever happens. Runs the release binary
(.build/release/dcapply, or --dcapply PATH).

failover: two controllers (`serve --interval 30s`, so a standby asks for the lead every 5 s,
the default) on the quickstart site. Each round ends the leader, either with SIGKILL (the
process) or with pg_terminate_backend (its leadership session: the process lives on), and
measures (at a random moment, 0-6 s after the last round settled) the time until a controller
holds the lead in a new term: the `serve_leader` row's
epoch moved on and its session holds the leader lock (polled every 20 ms). A killed controller
is replaced by a new one before the next round, so two always run. Prints every time, the
median and the max against the 10 s target.

apply: `dcapply apply --yes` of a fresh `sitegen.py --nodes N --seed 1` site into an empty
store, once per store (memory:, sqlite:, postgres://), with /usr/bin/time -v's wall and user
CPU, and the load average beside each.

roundtrips: the release `DCApplyStoreBench` (.build/release/DCApplyStoreBench) on a new
PostgreSQL database and a new SQLite file: the apply lock taken and released, and one journal
step recorded, each --rounds times (median and p99), as an apply does them.
"""
import argparse
import json
import os
import pwd
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

PG_BIN = "/usr/lib/postgresql/15/bin"
PG_USER = "dcapply-pg"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def unprivileged(command):
    if os.getuid() == 0:
        return ["/usr/bin/setpriv", f"--reuid={PG_USER}", f"--regid={PG_USER}", "--init-groups", "--"] + command
    return command


class Postgres:
    """A throw-away server; `settings` are extra `-c NAME=VALUE` options."""

    def __init__(self, folder, settings):
        self.folder = folder
        self.port = free_port()
        self.data = os.path.join(folder, "data")
        os.makedirs(folder, exist_ok=True)
        if os.getuid() == 0:
            pwd.getpwnam(PG_USER)  # KeyError: run scripts/install-deps
            shutil.chown(folder, PG_USER)
        subprocess.run(unprivileged([f"{PG_BIN}/initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "-E", "UTF8"]),
                       check=True, stdout=subprocess.DEVNULL, timeout=120)
        options = []
        for setting in ["listen_addresses=127.0.0.1", "max_connections=50"] + settings:
            options += ["-c", setting]
        self.log = open(os.path.join(folder, "server.log"), "w")
        self.process = subprocess.Popen(unprivileged([f"{PG_BIN}/postgres", "-D", self.data, "-p", str(self.port), "-k", folder] + options),
                                        stdout=self.log, stderr=self.log, stdin=subprocess.DEVNULL)
        deadline = time.time() + 30
        while time.time() < deadline:
            if subprocess.run([f"{PG_BIN}/pg_isready", "-q", "-h", "127.0.0.1", "-p", str(self.port)]).returncode == 0:
                return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("PostgreSQL did not start")

    def psql(self, database, sql):
        return subprocess.run([f"{PG_BIN}/psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", database, "-At", "-c", sql],
                              check=True, capture_output=True, text=True, timeout=60).stdout.strip()

    def create(self, name):
        subprocess.run([f"{PG_BIN}/createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name], check=True, timeout=60)
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}?sslmode=disable"

    def stop(self):
        # setpriv execs, so this pid is postgres's own: SIGINT is a fast shutdown.
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def load_average():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def git(args, cwd):
    subprocess.run(["git", "-c", "user.name=Bench", "-c", "user.email=bench@example.com", "-c", "commit.gpgsign=false"] + args,
                   cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)


class Controller:
    def __init__(self, dcapply, work, remote, url, name):
        self.log_path = os.path.join(work, f"{name}.log")
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen([dcapply, "serve", "--repo", "file://" + remote, "--branch", "main", "--path", "manifests",
                                         "--interval", "30s", "--listen", "127.0.0.1:0", "--solve-time", "0.2", "--state", url,
                                         "--cache", os.path.join(work, f"cache-{name}")],
                                        cwd=work, stdout=self.log, stderr=self.log, stdin=subprocess.DEVNULL,
                                        env=dict(os.environ, NO_COLOR="1"))
        self.port = None
        deadline = time.time() + 120
        while time.time() < deadline and self.port is None:
            with open(self.log_path) as f:
                found = re.search(r"dcapply serve: listening on 127\.0\.0\.1:(\d+)", f.read())
            if found:
                self.port = int(found.group(1))
            elif self.process.poll() is not None:
                raise RuntimeError(f"serve exited: {open(self.log_path).read()}")
            else:
                time.sleep(0.05)
        if self.port is None:
            raise RuntimeError("serve did not listen")

    def status(self):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/status", timeout=5) as response:
                return json.loads(response.read())
        except Exception:
            return {}

    def stop(self, sig=signal.SIGTERM):
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def wait_for(what, condition, timeout=60, every=0.02):
    start = time.time()
    while time.time() - start < timeout:
        if condition():
            return time.time() - start
        time.sleep(every)
    raise RuntimeError(f"timed out waiting for {what}")


def failover(args, work):
    server = Postgres(os.path.join(work, "pg"), [f"fsync={args.fsync}"])
    controllers = []
    try:
        remote = os.path.join(work, "remote.git")
        checkout = os.path.join(work, "checkout")
        os.makedirs(os.path.join(checkout, "manifests"))
        for name in ["site.yaml", "inventory.yaml"]:
            shutil.copy(os.path.join(ROOT, "Examples/quickstart", name), os.path.join(checkout, "manifests", name))
        git(["init", "-q", "--bare", "-b", "main", remote], work)
        git(["init", "-q", "-b", "main", checkout], work)
        git(["add", "."], checkout)
        git(["commit", "-q", "-m", "Quickstart"], checkout)
        git(["push", "-q", remote, "main"], checkout)
        database = "failover"
        url = server.create(database)
        held = ("SELECT s.epoch FROM serve_leader s JOIN pg_locks l ON l.pid = s.backend_pid AND l.locktype = 'advisory' AND l.granted "
                "AND l.objid::bigint = (hashtext('leader:' || s.site)::bigint & 4294967295)")

        def epoch():
            text = server.psql(database, held)
            return int(text) if text else None

        serial = 0

        def spawn():
            nonlocal serial
            serial += 1
            controller = Controller(args.dcapply, work, remote, url, f"c{serial}")
            controllers.append(controller)
            return controller

        first = spawn()
        wait_for("the first controller to lead", lambda: first.status().get("leader") is True, timeout=120)
        spawn()
        wait_for("the second controller to stand by", lambda: controllers[-1].status().get("leader") is False, timeout=120)
        results = {"kill": [], "terminate": []}
        rounds = ["kill"] * args.kills + ["terminate"] * args.terminations
        for number, kind in enumerate(rounds, 1):
            # A random moment in the standbys' leader-check cycle, not right after a pass.
            time.sleep(random.uniform(0, 6))
            before = epoch()
            live = [c for c in controllers if c.process.poll() is None]
            leader = next(c for c in live if c.status().get("leader") is True)
            start = time.time()
            if kind == "kill":
                leader.process.send_signal(signal.SIGKILL)
            else:
                backend = server.psql(database, "SELECT backend_pid FROM serve_leader")
                server.psql(database, f"SELECT pg_terminate_backend({backend})")
            wait_for("a new term", lambda: (lambda e: e is not None and before is not None and e > before)(epoch()), timeout=60)
            took = time.time() - start
            results[kind].append(took)
            print(f"{kind} {number}: {took:.2f} s (load {load_average()})", flush=True)
            if kind == "kill":
                leader.process.wait()
                replacement = spawn()
                wait_for("the replacement to stand by", lambda: replacement.status().get("leader") is False, timeout=120)
            else:
                # Every live controller settles (the one fenced stands by) before the next round.
                wait_for("one leader", lambda: sum(1 for c in controllers if c.process.poll() is None and c.status().get("leader") is True) == 1,
                         timeout=60, every=0.2)
        for kind, times in results.items():
            if times:
                print(f"failover after {kind}: {len(times)} rounds, median {statistics.median(times):.2f} s, max {max(times):.2f} s, "
                      f"target <= 10 s: {'met' if max(times) <= 10 else 'NOT met'}")
    finally:
        for controller in controllers:
            controller.stop()
        server.stop()


def timed(command, cwd):
    """Runs `command` under /usr/bin/time -v; (wall s, user s, exit code)."""
    result = subprocess.run(["/usr/bin/time", "-v"] + command, cwd=cwd, capture_output=True, text=True, timeout=3600)
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)", result.stderr)
    user = re.search(r"User time \(seconds\): ([\d.]+)", result.stderr)
    seconds = (int(wall.group(1) or 0) * 3600 + int(wall.group(2)) * 60 + float(wall.group(3))) if wall else float("nan")
    if result.returncode != 0:
        print(result.stderr[-2000:], file=sys.stderr)
    return seconds, float(user.group(1)) if user else float("nan"), result.returncode


def first_apply(args, work):
    site = os.path.join(work, "site")
    subprocess.run([sys.executable, os.path.join(ROOT, "Benchmarks/sitegen.py"), "--nodes", str(args.nodes), "--seed", "1", "--out", site],
                   check=True, stdout=subprocess.DEVNULL, timeout=600)
    server = Postgres(os.path.join(work, "pg"), [f"fsync={args.fsync}"])
    try:
        stores = [("memory", "memory:"), ("sqlite", "sqlite:" + os.path.join(work, "state.db")), ("postgres", server.create("apply"))]
        for name, url in stores:
            load = load_average()
            wall, user, code = timed([args.dcapply, "apply", site, "--yes", "--solve-time", args.solve_time, "--state", url], work)
            print(f"first apply, {args.nodes} nodes, {name}: wall {wall:.1f} s, user CPU {user:.1f} s, exit {code} "
                  f"(load before {load}, after {load_average()})", flush=True)
    finally:
        server.stop()


def roundtrips(args, work):
    server = Postgres(os.path.join(work, "pg"), [f"fsync={args.fsync}"])
    try:
        for name, url in [("postgres", server.create("roundtrips")), ("sqlite", "sqlite:" + os.path.join(work, "bench.db"))]:
            load = load_average()
            result = subprocess.run([args.storebench, url, str(args.rounds)], capture_output=True, text=True, timeout=1800)
            if result.returncode != 0:
                raise RuntimeError(result.stderr)
            for line in result.stdout.splitlines():
                print(f"{name}, {line} (load before {load}, after {load_average()})", flush=True)
    finally:
        server.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["failover", "apply", "roundtrips"])
    parser.add_argument("--storebench", default=os.path.join(ROOT, ".build/release/DCApplyStoreBench"))
    parser.add_argument("--rounds", type=int, default=1000)
    parser.add_argument("--dcapply", default=os.path.join(ROOT, ".build/release/dcapply"))
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--terminations", type=int, default=20)
    parser.add_argument("--nodes", type=int, default=10000)
    parser.add_argument("--solve-time", default="0s", help="apply's --solve-time (default 0s, as performance.md's earlier runs)")
    parser.add_argument("--fsync", choices=["on", "off"], default="on", help="the server's fsync (default on, as in production)")
    args = parser.parse_args()
    args.dcapply = os.path.abspath(args.dcapply)
    args.storebench = os.path.abspath(args.storebench)
    work = tempfile.mkdtemp(prefix="dcapply-pgbench-")
    if os.getuid() == 0:
        os.chmod(work, 0o755)
    try:
        print(f"dcapply {args.dcapply}, load average {load_average()}, {os.cpu_count()} CPUs, fsync={args.fsync}", flush=True)
        {"failover": failover, "apply": first_apply, "roundtrips": roundtrips}[args.what](args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
