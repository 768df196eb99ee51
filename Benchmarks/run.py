#!/usr/bin/env python3
"""dcapply's on-demand benchmarks: placement quality, scale, and stability.

usage:
  python3 Benchmarks/run.py all                       # everything, default sizes
  python3 Benchmarks/run.py vbp [--classes 1,2] [--sample 10]
  python3 Benchmarks/run.py scale [--sizes 1000,5000,10000,20000]
  python3 Benchmarks/run.py stability [--sizes 1000,5000]
common options: --dcapply PATH (default .build/release/dcapply), --out results.json,
  --timeout SECONDS per dcapply call (default 600), --seed N, --work DIR (kept), --verbose

Never run from unit tests: a full run takes from many minutes to hours. Python 3 standard
library plus PyYAML; needs a release build of dcapply (`swift build -c release --product
dcapply`). See Benchmarks/README.md for what every figure means.
"""
import argparse
import csv
import datetime
import glob
import heapq
import importlib.util
import json
import math
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import sitegen  # noqa: E402

DEFAULT_SHARED = os.path.normpath(os.path.join(REPO, "..", "shared", "bench"))
TIME_BIN = "/usr/bin/time"

# Targets from the issue.
TARGET_VBP_RATIO = 1.005
TARGET_VBP_SECONDS = 5.0
TARGET_SCALE_NODES = 10000
TARGET_SCALE_SECONDS = 5.0
TARGET_SCALE_RSS_MIB = 1024
TARGET_MOVES_FACTOR = 1.05


# --- small helpers ---------------------------------------------------------------------------

def mean(xs):
    xs = list(xs)
    return sum(xs) / len(xs) if xs else None


def fmt(x, spec="%.4f", none="-"):
    if x is None:
        return none
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, float) and math.isnan(x):
        return none
    return spec % x if not isinstance(x, str) else x


def table(headers, rows, out=sys.stdout):
    """Print a plain fixed-width table (first column left-aligned, the rest right-aligned)."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    for k, r in enumerate(cells):
        line = "  ".join(c.ljust(widths[i]) if i == 0 else c.rjust(widths[i])
                         for i, c in enumerate(r))
        print(line.rstrip(), file=out)
        if k == 0:
            print("  ".join("-" * w for w in widths), file=out)
    out.flush()


def log(args, msg):
    if args.verbose:
        print("  . " + msg, file=sys.stderr, flush=True)


def run_measured(argv, cwd, timeout, measure=True):
    """Run argv; return {rc, stdout, stderr, seconds, maxRssKiB, timedOut}.

    Wall time and peak RSS come from `/usr/bin/time -f '%e %M'` (RSS of dcapply itself). The
    child runs in its own process group, which is killed on timeout and when this script is
    interrupted. Without /usr/bin/time only the wall time is measured.
    """
    use_time = measure and os.access(TIME_BIN, os.X_OK)
    tf = None
    if use_time:
        fd, tf = tempfile.mkstemp(prefix="dcapply-time-")
        os.close(fd)
        argv = [TIME_BIN, "-f", "%e %M", "-o", tf] + list(argv)
    t0 = time.monotonic()
    p = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         stdin=subprocess.DEVNULL, text=True, start_new_session=True)
    timed_out = False
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        kill_group(p)
        out, err = p.communicate()
    except BaseException:
        kill_group(p)
        if tf:
            os.unlink(tf)
        raise
    wall = time.monotonic() - t0
    res = {"rc": p.returncode, "stdout": out, "stderr": err, "seconds": round(wall, 3),
           "maxRssKiB": None, "timedOut": timed_out}
    if tf:
        try:
            with open(tf) as f:
                lines = [l for l in f.read().splitlines() if l.strip()]
            # On a non-zero exit GNU time writes "Command exited with non-zero status N" first.
            e, m = lines[-1].split()
            res["seconds"] = float(e)
            res["maxRssKiB"] = int(m)
        except (OSError, ValueError, IndexError):
            pass
        finally:
            os.unlink(tf)
    if timed_out:
        res["seconds"] = round(wall, 3)
    return res


def kill_group(p):
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    p.wait()


def parse_json(text):
    try:
        return json.loads(text)
    except (ValueError, TypeError):
        return None


def dcapply_cmd(args, *rest):
    return [args.dcapply] + list(rest)


def ratio(a, b):
    if a is None or b in (None, 0):
        return None
    return a / b


# --- vbp: quality on vector bin packing with known optima ------------------------------------

def load_vbp_eval(path):
    spec = importlib.util.spec_from_file_location("vbp_eval", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def parse_classes(text):
    if not text:
        return ["class%d" % i for i in range(1, 10)]
    out = []
    for part in text.split(","):
        part = part.strip()
        if part:
            out.append(part if part.startswith("class") else "class" + part)
    return out


def bench_vbp(args):
    shared = args.shared
    evaluator = os.path.join(shared, "vbp_eval.py")
    summary = os.path.join(shared, "vbp", "Panigrahy_summary_known.csv")
    base = os.path.join(shared, "vbp", "Panigrahy")
    ve = load_vbp_eval(evaluator)
    known = {}
    with open(summary) as f:
        for row in csv.DictReader(f, delimiter="\t"):
            o = int(row["OPT"])
            known[row["instance_name"]] = {"opt": o if o > 0 else None, "lb": int(row["LB"]),
                                           "best": int(row["best_overall"])}
    print("== vbp: Panigrahy classes, dcapply vs the paper's best heuristic and FFD ==")
    print("   (ratios are bins / OPT, or / LB where no optimum is proven; every %dth instance)"
          % args.sample if args.sample > 1 else
          "   (ratios are bins / OPT, or / LB where no optimum is proven)")
    classes, instances_out = [], []
    for cls in parse_classes(args.classes):
        files = sorted(glob.glob(os.path.join(base, cls, "*.vbp")))[::max(1, args.sample)]
        if not files:
            print("   %s: no instances" % cls)
            continue
        t0 = time.monotonic()
        lines = {}
        rc = None

        def evaluate(paths):
            # The evaluator times each instance itself; give the whole chunk a generous bound.
            cmd = [sys.executable, evaluator, "--dcapply", args.dcapply, "--summary", summary,
                   "--timeout", str(args.vbp_timeout)] + paths
            r = run_measured(cmd, REPO, len(paths) * (args.vbp_timeout + 30) + 60, measure=False)
            for line in r["stdout"].splitlines():
                parts = line.split("\t")
                if len(parts) >= 2 and not line.startswith("vbp:"):
                    lines[parts[0]] = parts
            return r["rc"]

        # In chunks, so that an evaluator killed from outside loses one chunk; instances
        # without a line are run once more.
        chunk = max(1, args.vbp_chunk)
        for k in range(0, len(files), chunk):
            rc = evaluate(files[k:k + chunk])
        missing = [f for f in files if os.path.basename(f)[:-4] not in lines]
        if missing:
            log(args, "%s: %d instances without output (exit %s); running them again"
                % (cls, len(missing), rc))
            rc = evaluate(missing)
        wall = time.monotonic() - t0
        rows = []
        for path in files:
            name = os.path.basename(path)[:-4]
            k = known[name]
            ref = k["opt"] or k["lb"]
            parts = lines.get(name)
            rec = {"instance": name, "class": cls, "ref": ref, "proven": k["opt"] is not None,
                   "paperBest": k["best"], "bins": None, "ffd": None, "seconds": None,
                   "feasible": False, "error": None}
            if parts is None:
                rec["error"] = "no output from vbp_eval.py (class run exit %s)" % rc
            elif parts[1] == "FAIL":
                rec["error"] = "\t".join(parts[2:])
            else:
                try:
                    rec["bins"] = int(parts[1].split()[1])
                    rec["ffd"] = int(parts[4].split()[1])
                    rec["seconds"] = float(parts[5].rstrip("s"))
                    rec["feasible"] = True
                except (IndexError, ValueError):
                    rec["error"] = "unparsed line: " + "\t".join(parts)
            if rec["ffd"] is None:
                cap, items = ve.read_vbp(path)
                rec["ffd"] = ve.ffd(cap, items)
            if rec["error"] and "timeout" in rec["error"]:
                rec["timedOut"] = True
            rows.append(rec)
        feas = [r for r in rows if r["feasible"]]
        d = mean(r["bins"] / r["ref"] for r in feas)
        # Compare with the paper's best on the same instances dcapply solved.
        b_same = mean(r["paperBest"] / r["ref"] for r in feas)
        b_all = mean(r["paperBest"] / r["ref"] for r in rows)
        f_all = mean(r["ffd"] / r["ref"] for r in rows)
        proven = [r for r in feas if r["proven"]]
        if len(feas) < len(rows):
            beats = "no"
        elif d is None:
            beats = "-"
        elif d < b_same - 1e-12:
            beats = "yes"
        elif abs(d - b_same) <= 1e-12:
            beats = "tie"
        else:
            beats = "no"
        c = {"class": cls, "instances": len(rows), "feasible": len(feas),
             "timeouts": sum(1 for r in rows if r.get("timedOut")),
             "proven": sum(1 for r in rows if r["proven"]),
             "dcapplyRatio": d, "paperBestRatio": b_all, "paperBestRatioSameInstances": b_same,
             "ffdRatio": f_all,
             "dcapplyRatioProven": mean(r["bins"] / r["ref"] for r in proven),
             "optimal": sum(1 for r in feas if r["bins"] == r["ref"]),
             "betterThanBest": sum(1 for r in feas if r["bins"] < r["paperBest"]),
             "worseThanBest": sum(1 for r in feas if r["bins"] > r["paperBest"]),
             "beatsBest": beats,
             "maxSeconds": max((r["seconds"] for r in feas), default=None),
             "meanSeconds": mean(r["seconds"] for r in feas), "wallSeconds": round(wall, 1)}
        classes.append(c)
        instances_out.extend(rows)
        print("   %s: %d instances, %d feasible, dcapply/OPT %s, paper-best/OPT %s, "
              "ffd/OPT %s, max %ss" % (cls, c["instances"], c["feasible"], fmt(d), fmt(b_all),
                                       fmt(f_all), fmt(c["maxSeconds"], "%.2f")), flush=True)
        for r in rows:
            if r["error"]:
                log(args, "%s: %s" % (r["instance"], r["error"]))
    print()
    table(["class", "n", "feasible", "dcapply/OPT", "best/OPT", "ffd/OPT", "optimal",
           "<best", ">best", "beats best", "max s", "mean s"],
          [[c["class"], c["instances"], c["feasible"], fmt(c["dcapplyRatio"]),
            fmt(c["paperBestRatio"]), fmt(c["ffdRatio"]), c["optimal"], c["betterThanBest"],
            c["worseThanBest"], c["beatsBest"], fmt(c["maxSeconds"], "%.2f"),
            fmt(c["meanSeconds"], "%.2f")] for c in classes])
    allr = instances_out
    feas = [r for r in allr if r["feasible"]]
    proven_all = [r for r in allr if r["proven"]]
    proven_feas = [r for r in feas if r["proven"]]
    overall = {
        "instances": len(allr), "feasible": len(feas),
        "timeouts": sum(1 for r in allr if r.get("timedOut")),
        "dcapplyRatio": mean(r["bins"] / r["ref"] for r in feas),
        "paperBestRatio": mean(r["paperBest"] / r["ref"] for r in allr),
        "ffdRatio": mean(r["ffd"] / r["ref"] for r in allr),
        "provenInstances": len(proven_all),
        "dcapplyRatioProven": mean(r["bins"] / r["ref"] for r in proven_feas),
        "paperBestRatioProven": mean(r["paperBest"] / r["ref"] for r in proven_all),
        "ffdRatioProven": mean(r["ffd"] / r["ref"] for r in proven_all),
        "optimal": sum(1 for r in feas if r["bins"] == r["ref"]),
        "maxSeconds": max((r["seconds"] for r in feas), default=None),
        "meanSeconds": mean(r["seconds"] for r in feas),
        "classesBeaten": sum(1 for c in classes if c["beatsBest"] == "yes"),
        "classesTied": sum(1 for c in classes if c["beatsBest"] == "tie"),
        "classes": len(classes),
    }
    tgt = {
        "ratio": overall["dcapplyRatioProven"] is not None
        and overall["dcapplyRatioProven"] <= TARGET_VBP_RATIO,
        "allFeasible": overall["feasible"] == overall["instances"],
        "seconds": overall["maxSeconds"] is not None
        and overall["maxSeconds"] <= TARGET_VBP_SECONDS
        and overall["feasible"] == overall["instances"],
        "beatsBestEveryClass": bool(classes) and all(c["beatsBest"] in ("yes", "tie")
                                                     for c in classes),
    }
    overall["targets"] = tgt
    print()
    print("   on the %d instances with a proven optimum: dcapply/OPT %s (over %d solved), "
          "paper-best/OPT %s, ffd/OPT %s" % (len(proven_all), fmt(overall["dcapplyRatioProven"]),
                                              len(proven_feas),
                                              fmt(overall["paperBestRatioProven"]),
                                              fmt(overall["ffdRatioProven"])))
    print("vbp: %d instances, feasible %d%s, dcapply/OPT %s (target <= %.3f: %s), "
          "paper-best/OPT %s, ffd/OPT %s, beats best on %d/%d classes (+%d tied) (%s), "
          "max %ss per instance (target <= %gs: %s)"
          % (overall["instances"], overall["feasible"],
             (", %d timed out" % overall["timeouts"]) if overall["timeouts"] else "",
             fmt(overall["dcapplyRatioProven"]), TARGET_VBP_RATIO, ok(tgt["ratio"]),
             fmt(overall["paperBestRatioProven"]), fmt(overall["ffdRatioProven"]),
             overall["classesBeaten"], overall["classes"], overall["classesTied"],
             ok(tgt["beatsBestEveryClass"]), fmt(overall["maxSeconds"], "%.2f"),
             TARGET_VBP_SECONDS, ok(tgt["seconds"])), flush=True)
    return {"sample": args.sample, "classes": classes, "overall": overall,
            "instances": instances_out}


def ok(b):
    return "met" if b else "NOT met"


# --- the site model: baselines and an independent plan checker -------------------------------

class Model:
    """A generated site read back, with the lookups the baselines and the checker need."""

    def __init__(self, site):
        self.site = site
        self.nodes = site["nodes"]
        self.index = {n["name"]: i for i, n in enumerate(self.nodes)}
        self.keys = sorted({k for n in self.nodes for k in n["cap"]} |
                           {k for w in site["workloads"] for k in w["res"]})
        self.workloads = site["workloads"]
        self.wl = {w["name"]: w for w in self.workloads}
        self.gpus_per_node = {}
        for n in self.nodes:
            p = n["pool"]
            self.gpus_per_node[p] = max(self.gpus_per_node.get(p, 0), n["cap"].get("gpus", 0))

    def cap(self, i):
        return tuple(self.nodes[i]["cap"].get(k, 0.0) for k in self.keys)

    def gang_size(self, w):
        g = self.gpus_per_node.get(w["pool"], 0)
        return math.ceil(w["gpus"] / g) if g and w["gpus"] > g else 0

    def replicas(self, replica_counts=None):
        """All replicas as (workload name, index, demand tuple, gang nodes or 0), input order."""
        out = []
        for w in self.workloads:
            n = w["replicas"] if replica_counts is None else replica_counts.get(w["name"], w["replicas"])
            d = tuple(w["res"].get(k, 0.0) for k in self.keys)
            g = self.gang_size(w)
            for i in range(n):
                out.append((w["name"], i, d, g))
        return out

    def draw(self, used_gpus, i, full=False):
        n = self.nodes[i]
        g = n["cap"].get("gpus", 0)
        if full:
            return n["maxW"]
        if g:
            return n["idleW"] + (n["maxW"] - n["idleW"]) * used_gpus / g
        return n["idleW"]


def baseline(model, kind, replica_counts=None, failed=(), start=None):
    """Capacity-only placement by first-fit decreasing ("ffd") or a kube-scheduler-style
    greedy ("greedy": one replica at a time in input order, the feasible node with the highest
    MostAllocated score, ties to the first node by name).

    Only pools and per-key capacity are respected (no spread, colocate, power caps). A gang of
    k nodes takes k empty nodes whole. `start` is an existing placement {(w, i): [node idx]} to
    keep (incremental mode: only replicas not in it, or on `failed` nodes, are placed).
    Returns {(w, i): [node idx]} and the list of unplaced replicas.
    """
    keys = model.keys
    gk = keys.index("gpus") if "gpus" in keys else None
    failed = set(failed)
    used = {}
    for i, n in enumerate(model.nodes):
        if n["pool"] is None or n["health"] == "failed" or i in failed:
            continue
        used[i] = [0.0] * len(keys)
    placement = {}
    items = model.replicas(replica_counts)
    if start:
        want = {(w, i) for w, i, _, _ in items}
        dem = {(w, i): (d, g) for w, i, d, g in items}
        for key, nodes in start.items():
            if key in want and all(x in used for x in nodes):
                d, g = dem[key]
                for x in nodes:
                    if g:
                        used[x] = list(model.cap(x))
                    else:
                        used[x] = [a + b for a, b in zip(used[x], d)]
                placement[key] = list(nodes)
        items = [it for it in items if (it[0], it[1]) not in placement]
    if kind == "ffd":
        ref = {}
        for i, n in enumerate(model.nodes):
            ref.setdefault(n["pool"], model.cap(i))

        def size(it):
            r = ref.get(model.wl[it[0]]["pool"]) or ()
            s = sum(x / c for x, c in zip(it[2], r) if c)
            return -(s * it[3] if it[3] else s)
        items = sorted(items, key=size)  # stable: input order among equals
    # Buckets: per pool, nodes with the same (capacity, used) share a heap of indices.
    buckets = {}
    where = {}
    for i, u in used.items():
        key = (model.nodes[i]["pool"], model.cap(i), tuple(u))
        buckets.setdefault(key, []).append(i)
        where[i] = key
    for h in buckets.values():
        heapq.heapify(h)
    by_pool = {}
    for key in buckets:
        by_pool.setdefault(key[0], set()).add(key)

    def take(key):
        """Pop the first node (by name) of a bucket."""
        h = buckets[key]
        i = heapq.heappop(h)
        del where[i]
        if not h:
            del buckets[key]
            by_pool[key[0]].discard(key)
        return i

    def put(i):
        key = (model.nodes[i]["pool"], model.cap(i), tuple(used[i]))
        if key not in buckets:
            buckets[key] = []
            by_pool.setdefault(key[0], set()).add(key)
        heapq.heappush(buckets[key], i)
        where[i] = key

    unplaced = []
    for w, idx, d, g in items:
        pool = model.wl[w]["pool"]
        keys_here = by_pool.get(pool, set())
        if g:
            # k empty nodes, lowest names first (all empty nodes score alike).
            empty = [key for key in keys_here if not any(key[2])]
            if sum(len(buckets[key]) for key in empty) < g:
                unplaced.append((w, idx))
                continue
            got = []
            for _ in range(g):
                key = min((key for key in empty if key in buckets), key=lambda k: buckets[k][0])
                got.append(take(key))
            for i in got:
                used[i] = list(model.cap(i))
                put(i)
            placement[(w, idx)] = got
            continue
        best, best_key, best_score = None, None, None
        for key in keys_here:
            cap, u = key[1], key[2]
            if any(a + b > c + 1e-9 for a, b, c in zip(u, d, cap)):
                continue
            i = buckets[key][0]
            if kind == "ffd":
                if best is None or i < best:
                    best, best_key = i, key
            else:
                # MostAllocated: mean over resource keys of (requested after placing) / capacity.
                score = sum((a + b) / c for a, b, c in zip(u, d, cap) if c) / len(cap)
                if best is None or score > best_score + 1e-12 or (
                        abs(score - best_score) <= 1e-12 and i < best):
                    best, best_key, best_score = i, key, score
        if best is None:
            unplaced.append((w, idx))
            continue
        take(best_key)
        used[best] = [a + b for a, b in zip(used[best], d)]
        put(best)
        placement[(w, idx)] = [best]
    return placement, unplaced, gk


def baseline_stats(model, placement, unplaced, gk):
    """Powered nodes (hosting + keepWarm), draw, and racks the draw puts over their cap."""
    gpus_used, full = {}, set()
    for (w, _), nodes in placement.items():
        wl = model.wl[w]
        if model.gang_size(wl):
            full.update(nodes)
        else:
            gpus_used[nodes[0]] = gpus_used.get(nodes[0], 0) + wl["gpus"]
    hosting = set(gpus_used) | full
    rack_w = {}
    total = 0.0
    for i in hosting:
        d = model.draw(gpus_used.get(i, 0), i, i in full)
        total += d
        r = model.nodes[i]["labels"].get("rack")
        rack_w[r] = rack_w.get(r, 0) + d
    warm = model.site["keepWarm"]
    idle = model.nodes[0]["idleW"] if model.nodes else 0
    over = sum(1 for r, w in rack_w.items() if w > model.site["caps"].get(r, float("inf")) + 0.5)
    return {"hostingNodes": len(hosting), "poweredNodes": len(hosting) + warm,
            "drawW": round(total + warm * idle, 1), "unplaced": len(unplaced),
            "racksOverCap": over}


def lower_bound_nodes(model, replica_counts=None):
    """Hosting nodes at least needed: gang nodes, plus per pool the largest per-key need."""
    total = 0
    need = {}
    for w in model.workloads:
        n = w["replicas"] if replica_counts is None else replica_counts.get(w["name"], w["replicas"])
        g = model.gang_size(w)
        if g:
            total += g * n
        else:
            acc = need.setdefault(w["pool"], [0.0] * len(model.keys))
            for k, key in enumerate(model.keys):
                acc[k] += w["res"].get(key, 0.0) * n
    for pool, acc in need.items():
        cap = model.cap(next(i for i, n in enumerate(model.nodes) if n["pool"] == pool))
        total += max(math.ceil(a / c - 1e-9) for a, c in zip(acc, cap) if c)
    return total


def check_plan(model, target, failed=(), replica_counts=None):
    """Check a plan's target independently. Returns (violations, stats)."""
    v = []
    tn = target.get("nodes") or {}
    tw = target.get("workloads") or {}
    failed = set(failed)
    nodes = model.nodes
    load = {}
    gang_nodes = set()
    shared_nodes = set()
    unplaced = placed = 0
    for w in model.workloads:
        want = w["replicas"] if replica_counts is None else replica_counts.get(w["name"], w["replicas"])
        t = tw.get(w["name"])
        if t is None:
            v.append("Workload/%s missing from target" % w["name"])
            continue
        reps = t.get("replicas") or []
        unplaced += int(t.get("unplaced") or 0)
        placed += len(reps)
        if len(reps) + int(t.get("unplaced") or 0) != want:
            v.append("Workload/%s: %d placed + %s unplaced != %d replicas"
                     % (w["name"], len(reps), t.get("unplaced"), want))
        seen = set()
        g = model.gang_size(w)
        dom, mx = (model.site["policies"].get(w["redundancy"]) or (None, None)) \
            if w["redundancy"] else (None, None)
        per_dom = {}
        for r in reps:
            ix = r.get("index")
            if ix in seen or not isinstance(ix, int) or not 0 <= ix < want:
                v.append("Workload/%s: bad or repeated index %r" % (w["name"], ix))
            seen.add(ix)
            ns = r.get("nodes") or []
            if any(n not in model.index for n in ns):
                v.append("Workload/%s[%s]: unknown node in %r" % (w["name"], ix, ns))
                continue
            idx = [model.index[n] for n in ns]
            if g:
                if len(set(idx)) != g or len(idx) != g:
                    v.append("Workload/%s[%s]: gang on %d nodes, needs %d" % (w["name"], ix, len(idx), g))
                if w["colocate"]:
                    vals = {nodes[i]["labels"].get(w["colocate"]) for i in idx}
                    if len(vals) != 1 or None in vals:
                        v.append("Workload/%s[%s]: gang spans %s=%s" % (w["name"], ix, w["colocate"], sorted(map(str, vals))))
                for i in idx:
                    if i in gang_nodes or i in shared_nodes:
                        v.append("Node/%s: gang node not exclusive" % nodes[i]["name"])
                    gang_nodes.add(i)
                for k, key in enumerate(model.keys):
                    if w["res"].get(key, 0) > sum(nodes[i]["cap"].get(key, 0) for i in idx) + 1e-9:
                        v.append("Workload/%s[%s]: gang short of %s" % (w["name"], ix, key))
            else:
                if len(idx) != 1:
                    v.append("Workload/%s[%s]: on %d nodes" % (w["name"], ix, len(idx)))
                    continue
                i = idx[0]
                if i in gang_nodes:
                    v.append("Node/%s: gang node not exclusive" % nodes[i]["name"])
                shared_nodes.add(i)
                acc = load.setdefault(i, [0.0] * len(model.keys))
                for k, key in enumerate(model.keys):
                    acc[k] += w["res"].get(key, 0.0)
            for i in idx:
                n = nodes[i]
                tnode = tn.get(n["name"]) or {}
                if tnode.get("pool") != w["pool"]:
                    v.append("Workload/%s[%s]: node %s is in pool %s, not %s"
                             % (w["name"], ix, n["name"], tnode.get("pool"), w["pool"]))
                if n["health"] == "failed" or i in failed:
                    v.append("Workload/%s[%s]: on failed node %s" % (w["name"], ix, n["name"]))
                if tnode.get("powerState") != "on":
                    v.append("Workload/%s[%s]: node %s is not on" % (w["name"], ix, n["name"]))
            if dom:
                for val in {nodes[i]["labels"].get(dom) for i in idx}:
                    per_dom[val] = per_dom.get(val, 0) + 1
        if dom and mx is not None:
            for val, c in sorted(per_dom.items()):
                if c > mx:
                    v.append("Workload/%s: %d replicas in %s=%s, maxPerDomain %d" % (w["name"], c, dom, val, mx))
    for i, acc in load.items():
        for k, key in enumerate(model.keys):
            if acc[k] > nodes[i]["cap"].get(key, 0.0) + 1e-9:
                v.append("Node/%s over capacity of %s: %g > %g" % (nodes[i]["name"], key, acc[k], nodes[i]["cap"].get(key, 0.0)))
    # Power: recompute the draw of every node that is on; check the rack caps.
    rack_w = {}
    draw_total = 0.0
    mismatch = 0
    powered = 0
    gk = model.keys.index("gpus") if "gpus" in model.keys else None
    for i, n in enumerate(nodes):
        tnode = tn.get(n["name"])
        if tnode is None:
            v.append("Node/%s missing from target" % n["name"])
            continue
        if tnode.get("powerState") != "on":
            d = 0.0
        else:
            powered += 1
            used = load[i][gk] if (i in load and gk is not None) else 0.0
            d = model.draw(used, i, i in gang_nodes)
        draw_total += d
        if abs(d - float(tnode.get("estimatedW") or 0)) > 0.11:
            mismatch += 1
        r = n["labels"].get("rack")
        rack_w[r] = rack_w.get(r, 0.0) + d
    for r, w in sorted(rack_w.items()):
        c = model.site["caps"].get(r)
        if c is not None and w > c + 0.5:
            v.append("rack %s draws %.1f W over its cap %.0f W" % (r, w, c))
    stats = {"poweredNodes": powered, "hostingNodes": len(load.keys() | gang_nodes),
             "placedReplicas": placed, "unplaced": unplaced, "drawW": round(draw_total, 1),
             "estimatedWMismatches": mismatch}
    return v, stats


# --- scale -----------------------------------------------------------------------------------

def parse_sizes(text):
    return [int(x) for x in text.split(",") if x.strip()]


def site_dir(args, n):
    load = "" if args.load == 0.6 else "-l%g" % args.load
    d = os.path.join(args.work, "sites", "n%d-s%d%s" % (n, args.seed, load))
    meta = os.path.join(d, "sitegen.json")
    if not os.path.exists(meta):
        sitegen.generate(n, d, seed=args.seed, pools=args.pools, templates=args.templates, load=args.load)
    with open(meta) as f:
        return d, json.load(f)


def validate_site(args, d):
    r = run_measured(dcapply_cmd(args, "validate", d, "-o", "json"), args.work, args.timeout)
    doc = parse_json(r["stdout"]) or {}
    errs = [x for x in doc.get("diagnostics") or [] if x.get("severity") == "error"]
    return {"valid": bool(doc.get("valid")) and r["rc"] == 0, "seconds": r["seconds"],
            "errors": [x.get("message") for x in errs[:5]], "timedOut": r["timedOut"]}


def run_plan(args, d, state, extra=()):
    r = run_measured(dcapply_cmd(args, "plan", d, "--output", "json", "--state", "sqlite:" + state,
                                 *extra), args.work, args.timeout)
    return r, parse_json(r["stdout"])


def bench_scale(args):
    print("== scale: whole `dcapply plan --output json` on synthetic sites (fresh state) ==")
    results = []
    for n in parse_sizes(args.sizes):
        d, meta = site_dir(args, n)
        val = validate_site(args, d)
        state = os.path.join(args.work, "scale-n%d.db" % n)
        for f in glob.glob(state + "*"):
            os.unlink(f)
        log(args, "plan %d nodes (%d workloads, %d replicas)" % (n, meta["workloads"], meta["replicas"]))
        runs = []
        for _ in range(max(1, args.repeat)):
            for f in glob.glob(state + "*"):
                os.unlink(f)
            load0 = os.getloadavg()[0]
            r, plan = run_plan(args, d, state)
            runs.append({"seconds": r["seconds"], "maxRssKiB": r["maxRssKiB"],
                         "timedOut": r["timedOut"], "loadAvg1mBefore": round(load0, 2)})
            if r["timedOut"]:
                break
        best = min(runs, key=lambda x: x["seconds"])
        rss = max((x["maxRssKiB"] or 0) for x in runs)
        rec = {"nodes": n, "site": meta, "validate": val, "seconds": best["seconds"],
               "maxRssMiB": round(rss / 1024, 1) if rss else None, "runs": runs,
               "rc": r["rc"], "timedOut": r["timedOut"]}
        t0 = time.monotonic()
        model = Model(sitegen.load_site(d))
        lb = lower_bound_nodes(model)
        base = {}
        for kind in ("ffd", "greedy"):
            pl, un, gk = baseline(model, kind)
            base[kind] = baseline_stats(model, pl, un, gk)
        rec["baselineSeconds"] = round(time.monotonic() - t0, 2)
        rec["lowerBoundHostingNodes"] = lb
        rec["ffd"], rec["greedy"] = base["ffd"], base["greedy"]
        if plan and "target" in plan:
            viol, st = check_plan(model, plan["target"])
            rec.update(st)
            rec["violations"] = len(viol)
            rec["violationSamples"] = viol[:10]
            rec["feasible"] = not viol
            rec["errorProblems"] = sum(1 for p in plan.get("problems") or [] if p.get("severity") == "error")
            rec["plannedW"] = (plan.get("energy") or {}).get("plannedW")
            rec["changes"] = len(plan.get("changes") or [])
            rec["poweredVsFfd"] = ratio(st["poweredNodes"], base["ffd"]["poweredNodes"])
            rec["poweredVsGreedy"] = ratio(st["poweredNodes"], base["greedy"]["poweredNodes"])
            rec["hostingVsLowerBound"] = ratio(st["hostingNodes"], lb)
            placed_counts = {w: len((t or {}).get("replicas") or [])
                             for w, t in (plan["target"].get("workloads") or {}).items()}
            rec["lowerBoundPlacedHostingNodes"] = lower_bound_nodes(model, placed_counts)
            rec["hostingVsLowerBoundPlaced"] = ratio(st["hostingNodes"],
                                                     rec["lowerBoundPlacedHostingNodes"])
            rec["drawVsFfd"] = ratio(st["drawW"], base["ffd"]["drawW"])
            rec["drawVsGreedy"] = ratio(st["drawW"], base["greedy"]["drawW"])
        else:
            rec["feasible"] = None
            rec["error"] = "timeout" if r["timedOut"] else (r["stderr"].strip()[-300:] or "no JSON")
        results.append(rec)
        print("   %d nodes: %s s, %s MiB, %s" % (n, fmt(rec["seconds"], "%.2f"),
                                                fmt(rec["maxRssMiB"], "%.0f"),
                                                "TIMEOUT" if r["timedOut"] else
                                                ("feasible" if rec.get("feasible") else
                                                 "%s violations" % rec.get("violations", "?"))),
              flush=True)
    # Growth: exponent a in time ~ n^a between successive sizes.
    for a, b in zip(results, results[1:]):
        for key, out in (("seconds", "timeExponent"), ("maxRssMiB", "rssExponent")):
            if a.get(key) and b.get(key) and not a["timedOut"] and not b["timedOut"]:
                b[out] = round(math.log(b[key] / a[key]) / math.log(b["nodes"] / a["nodes"]), 2)
    print()
    table(["nodes", "workloads", "replicas", "valid", "plan s", "RSS MiB", "t~n^a", "feasible",
           "unplaced", "powered", "ffd", "greedy", "vs ffd", "vs greedy", "hosting/LB",
           "/LB placed", "kW", "kW vs ffd", "kW vs greedy"],
          [[r["nodes"], r["site"]["workloads"], r["site"]["replicas"], fmt(r["validate"]["valid"]),
            "TIMEOUT" if r["timedOut"] else fmt(r["seconds"], "%.2f"), fmt(r["maxRssMiB"], "%.0f"),
            fmt(r.get("timeExponent"), "%.2f"),
            fmt(r.get("feasible")) if r.get("feasible") is not None else "-",
            fmt(r.get("unplaced"), "%d"), fmt(r.get("poweredNodes"), "%d"),
            r["ffd"]["poweredNodes"], r["greedy"]["poweredNodes"],
            fmt(r.get("poweredVsFfd"), "%.3f"), fmt(r.get("poweredVsGreedy"), "%.3f"),
            fmt(r.get("hostingVsLowerBound"), "%.3f"),
            fmt(r.get("hostingVsLowerBoundPlaced"), "%.3f"),
            fmt(r["drawW"] / 1000 if r.get("drawW") is not None else None, "%.0f"),
            fmt(r.get("drawVsFfd"), "%.3f"), fmt(r.get("drawVsGreedy"), "%.3f")]
           for r in results])
    print("   baselines are capacity-only (no spread, colocate or rack caps): unplaced ffd %s, "
          "greedy %s; racks over cap ffd %s, greedy %s"
          % ("/".join(str(r["ffd"]["unplaced"]) for r in results),
             "/".join(str(r["greedy"]["unplaced"]) for r in results),
             "/".join(str(r["ffd"]["racksOverCap"]) for r in results),
             "/".join(str(r["greedy"]["racksOverCap"]) for r in results)))
    for r in results:
        if r.get("unplaced"):
            print("   ! %d nodes: dcapply left %d replicas unplaced (the baselines %d and %d): "
                  "ratios against the baselines flatter it; see /LB placed"
                  % (r["nodes"], r["unplaced"], r["ffd"]["unplaced"], r["greedy"]["unplaced"]))
        for s in r.get("violationSamples") or []:
            print("   ! %d nodes: %s" % (r["nodes"], s))
    at = next((r for r in results if r["nodes"] == TARGET_SCALE_NODES), None)
    targets = {}
    if at:
        targets = {"seconds": not at["timedOut"] and at["seconds"] <= TARGET_SCALE_SECONDS,
                   "rss": at["maxRssMiB"] is not None and at["maxRssMiB"] <= TARGET_SCALE_RSS_MIB}
        head = ("at %d nodes %s s (target <= %gs: %s), peak RSS %s MiB (target <= %d MiB: %s)"
                % (TARGET_SCALE_NODES, "TIMEOUT" if at["timedOut"] else fmt(at["seconds"], "%.2f"),
                   TARGET_SCALE_SECONDS, ok(targets["seconds"]), fmt(at["maxRssMiB"], "%.0f"),
                   TARGET_SCALE_RSS_MIB, ok(targets["rss"])))
    else:
        head = "no %d-node site in --sizes (targets not checked)" % TARGET_SCALE_NODES
    growth = [r.get("timeExponent") for r in results if r.get("timeExponent") is not None]
    feas = [r for r in results if r.get("feasible")]
    print("scale: %s; time grows ~n^%s; %d/%d plans feasible; powered nodes vs ffd %s, vs greedy %s"
          % (head, fmt(growth[-1], "%.2f") if growth else "-", len(feas), len(results),
             "/".join(fmt(r.get("poweredVsFfd"), "%.3f") for r in results),
             "/".join(fmt(r.get("poweredVsGreedy"), "%.3f") for r in results)), flush=True)
    return {"sizes": results, "targets": targets}


# --- stability -------------------------------------------------------------------------------

def placement_of(target):
    """{(workload, index): tuple(nodes)} from a plan target or an applied state."""
    out = {}
    for w, t in ((target or {}).get("workloads") or {}).items():
        for r in (t or {}).get("replicas") or []:
            out[(w, r["index"])] = tuple(sorted(r.get("nodes") or []))
    return out


def count_changes(plan):
    """Moves as the plan states them: `move` changes, plus evict+place pairs of one replica."""
    moves, evicts, places = set(), set(), set()
    for c in plan.get("changes") or []:
        a = c.get("action")
        if a not in ("move", "evict", "place"):
            continue
        res = c.get("resource", "")
        key = (res.split("/", 1)[1] if "/" in res else res, c.get("replica"))
        {"move": moves, "evict": evicts, "place": places}[a].add(key)
    pairs = evicts & places
    return {"move": len(moves), "evictPlacePairs": len(pairs), "moves": len(moves) + len(pairs),
            "evicts": len(evicts - pairs), "places": len(places - pairs)}


def diff_placements(before, after):
    moved = {k for k in before if k in after and before[k] != after[k]}
    removed = {k for k in before if k not in after}
    added = {k for k in after if k not in before}
    return moved, removed, added


def demand_change(model, rng, fraction):
    """Replica counts with `fraction` of the workloads raised or lowered by about 25%."""
    counts = {w["name"]: w["replicas"] for w in model.workloads}
    names = [w["name"] for w in model.workloads]
    k = max(1, int(round(fraction * len(names))))
    chosen = sorted(rng.sample(names, k))
    domains = {}
    for n in model.nodes:
        for key, val in n["labels"].items():
            domains.setdefault((n["pool"], key), set()).add(val)
    changes = {}
    for i, name in enumerate(chosen):
        w = model.wl[name]
        step = max(1, int(round(0.25 * w["replicas"])))
        hi = float("inf")
        if w["redundancy"]:
            dom, mx = model.site["policies"][w["redundancy"]]
            if mx is not None:
                hi = mx * len(domains.get((w["pool"], dom), ()))
        up = (i % 2 == 0 or w["replicas"] <= 1) and w["replicas"] + step <= hi
        new = w["replicas"] + step if up else max(1, w["replicas"] - step)
        if new != w["replicas"]:
            counts[name] = new
            changes[name] = (w["replicas"], new)
    return counts, changes


def write_demand_site(src, dst, counts):
    import re
    if os.path.exists(dst):
        shutil.rmtree(dst)
    os.makedirs(dst)
    for fn in ("site.yaml", "inventory.yaml", "sitegen.json"):
        shutil.copy(os.path.join(src, fn), os.path.join(dst, fn))
    with open(os.path.join(src, "workloads.yaml")) as f:
        text = f.read()
    docs = text.split("---\n")
    out = [docs[0]]
    for doc in docs[1:]:
        m = re.search(r"metadata: \{name: ([a-z0-9-]+)\}", doc)
        if m and m.group(1) in counts:
            doc = re.sub(r"(\n  replicas: )\d+", lambda x: x.group(1) + str(counts[m.group(1)]), doc, count=1)
        out.append(doc)
    with open(os.path.join(dst, "workloads.yaml"), "w") as f:
        f.write("---\n".join(out))


def baseline_moves(model, kind, counts_before, counts_after, failed_idx):
    """Moves of a baseline: re-solved from scratch (ffd) or incrementally (greedy)."""
    before, _, _ = baseline(model, kind, counts_before)
    if kind == "ffd":
        after, un, _ = baseline(model, kind, counts_after, failed=failed_idx)
    else:
        after, un, _ = baseline(model, kind, counts_after, failed=failed_idx, start=before)
    moved = sum(1 for k in before if k in after and sorted(before[k]) != sorted(after[k]))
    forced = sum(1 for k, ns in before.items() if any(i in failed_idx for i in ns)
                 and (k[1] < counts_after.get(k[0], 0)))
    return {"moves": moved, "forced": forced, "unplaced": len(un)}


def bench_stability(args):
    print("== stability: moves after an apply, for a 5% demand change and a rack failure ==")
    results = []
    for n in parse_sizes(args.stability_sizes or args.sizes):
        d, meta = site_dir(args, n)
        model = Model(sitegen.load_site(d))
        state = os.path.join(args.work, "stab-n%d.db" % n)
        for f in glob.glob(state + "*"):
            os.unlink(f)
        rec = {"nodes": n, "site": meta}
        results.append(rec)
        log(args, "apply %d nodes" % n)
        r = run_measured(dcapply_cmd(args, "apply", d, "--yes", "--output", "json",
                                     "--state", "sqlite:" + state), args.work, args.timeout)
        rec["apply"] = {"seconds": r["seconds"], "rc": r["rc"], "timedOut": r["timedOut"],
                        "maxRssMiB": round(r["maxRssKiB"] / 1024, 1) if r["maxRssKiB"] else None}
        if r["timedOut"] or parse_json(r["stdout"]) is None:
            rec["error"] = "apply: " + ("timeout" if r["timedOut"] else r["stderr"].strip()[-300:])
            print("   %d nodes: %s" % (n, rec["error"]), flush=True)
            continue
        s = run_measured(dcapply_cmd(args, "state", "show", "-o", "json", "--state", "sqlite:" + state),
                         args.work, args.timeout)
        applied = parse_json(s["stdout"]) or {}
        before = placement_of(applied)
        rec["appliedReplicas"] = len(before)
        rec["appliedUnplaced"] = sum(int((t or {}).get("unplaced") or 0)
                                     for t in (applied.get("workloads") or {}).values())
        # 0. Plan again on the result: the contract says the plan is empty.
        r0, p0 = run_plan(args, d, state)
        rec["replan"] = {"seconds": r0["seconds"], "timedOut": r0["timedOut"],
                         "changes": len(p0.get("changes") or []) if p0 else None}
        drift = set()
        if p0:
            m0, rm0, ad0 = diff_placements(before, placement_of(p0.get("target")))
            rec["replan"].update(moved=len(m0), evicted=len(rm0), placed=len(ad0),
                                 planReportedMoves=p0.get("moves"))
            drift = m0 | rm0
        # (a) 5% of the workloads change their replica count.
        rng = random.Random("dcapply-bench-demand/%d/%d" % (args.seed, n))
        counts, changed = demand_change(model, rng, 0.05)
        dd = os.path.join(args.work, "sites", "n%d-s%d-l%g-demand" % (n, args.seed, args.load))
        write_demand_site(d, dd, counts)
        ra, pa = run_plan(args, dd, state)
        a = {"workloadsChanged": len(changed), "seconds": ra["seconds"], "timedOut": ra["timedOut"],
             "replicasAdded": sum(max(0, b - a_) for a_, b in changed.values()),
             "replicasRemoved": sum(max(0, a_ - b) for a_, b in changed.values()),
             "gpusDelta": sum((b - a_) * model.wl[w]["gpus"] for w, (a_, b) in changed.items()),
             "minimumMoves": 0}
        if pa:
            after = placement_of(pa.get("target"))
            moved, removed, added = diff_placements(before, after)
            # Replicas that must go: the indexes above the new count (evicts, not moves).
            must_remove = {k for k in before if k[1] >= counts.get(k[0], 0)}
            a["planReportedMoves"] = pa.get("moves")  # {count, required} in newer builds
            a.update(moves=len(moved), evicted=len(removed), placed=len(added),
                     movesAlsoWithoutChange=len(moved & drift),
                     extraEvictions=len(removed - must_remove),
                     planCounts=count_changes(pa))
            viol, st = check_plan(model, pa["target"], replica_counts=counts)
            a.update(feasible=not viol, violations=len(viol), violationSamples=viol[:5],
                     unplaced=st["unplaced"])
            a["withinTarget"] = a["moves"] <= TARGET_MOVES_FACTOR * a["minimumMoves"]
        base_counts = {w["name"]: w["replicas"] for w in model.workloads}
        a["ffd"] = baseline_moves(model, "ffd", base_counts, counts, set())
        a["greedy"] = baseline_moves(model, "greedy", base_counts, counts, set())
        rec["demand"] = a
        # (b) one rack fails: the rack that hosts the most replicas.
        per_rack = {}
        for key, ns in before.items():
            for rk in {model.nodes[model.index[x]]["labels"].get("rack") for x in ns}:
                per_rack[rk] = per_rack.get(rk, 0) + 1
        b = {}
        if per_rack:
            rack = sorted(per_rack.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
            fnodes = [x["name"] for x in model.nodes if x["labels"].get("rack") == rack]
            fidx = {model.index[x] for x in fnodes}
            for name in fnodes:
                rs = run_measured(dcapply_cmd(args, "inventory", "set", name, "health=failed",
                                              "--state", "sqlite:" + state), args.work, args.timeout)
                if rs["rc"] != 0:
                    b["setError"] = rs["stderr"].strip()[-200:]
            forced = {k for k, ns in before.items() if any(x in fnodes for x in ns)}
            rb, pb = run_plan(args, d, state)
            b.update(rack=rack, failedNodes=len(fnodes), minimumMoves=len(forced),
                     seconds=rb["seconds"], timedOut=rb["timedOut"])
            if pb:
                after = placement_of(pb.get("target"))
                moved, removed, added = diff_placements(before, after)
                b["planReportedMoves"] = pb.get("moves")  # {count, required} in newer builds
                b.update(moves=len(moved), forcedMoved=len(moved & forced),
                         extraMoves=len(moved - forced),
                         extraMovesAlsoWithoutChange=len((moved - forced) & drift), forcedUnplaced=len(forced - set(after)),
                         otherEvicted=len(removed - forced), placed=len(added),
                         planCounts=count_changes(pb))
                viol, st = check_plan(model, pb["target"], failed=fidx)
                b.update(feasible=not viol, violations=len(viol), violationSamples=viol[:5],
                         unplaced=st["unplaced"])
                b["ratio"] = ratio(b["moves"], b["minimumMoves"])
                b["withinTarget"] = b["moves"] <= TARGET_MOVES_FACTOR * b["minimumMoves"]
            b["ffd"] = baseline_moves(model, "ffd", base_counts, base_counts, fidx)
            b["greedy"] = baseline_moves(model, "greedy", base_counts, base_counts, fidx)
        rec["rackFailure"] = b
        print("   %d nodes: apply %ss; replan %s changes; demand: %s moves (min 0); "
              "rack %s: %s moves (min %s)"
              % (n, fmt(rec["apply"]["seconds"], "%.1f"), fmt(rec["replan"]["changes"], "%d"),
                 fmt(a.get("moves"), "%d", "TIMEOUT" if a["timedOut"] else "-"), b.get("rack", "-"),
                 fmt(b.get("moves"), "%d", "TIMEOUT" if b.get("timedOut") else "-"),
                 fmt(b.get("minimumMoves"), "%d")), flush=True)
    print()
    ok_rows = [r for r in results if "demand" in r]
    table(["nodes", "apply s", "replan changes", "replan moves", "demand: wl changed", "+reps",
           "-reps", "moves", "min", "of which drift", "extra evicts", "unplaced before>after",
           "plan s", "ffd re-solve moves", "greedy moves", "feasible"],
          [[r["nodes"], fmt(r["apply"]["seconds"], "%.1f"), fmt(r["replan"]["changes"], "%d"),
            fmt(r["replan"].get("moved"), "%d"),
            r["demand"]["workloadsChanged"], r["demand"]["replicasAdded"],
            r["demand"]["replicasRemoved"],
            fmt(r["demand"].get("moves"), "%d", "TIMEOUT" if r["demand"]["timedOut"] else "-"),
            r["demand"]["minimumMoves"], fmt(r["demand"].get("movesAlsoWithoutChange"), "%d"),
            fmt(r["demand"].get("extraEvictions"), "%d"),
            "%s>%s" % (r.get("appliedUnplaced", "-"), fmt(r["demand"].get("unplaced"), "%d")),
            fmt(r["demand"]["seconds"], "%.1f"), r["demand"]["ffd"]["moves"],
            r["demand"]["greedy"]["moves"], fmt(r["demand"].get("feasible"))]
           for r in ok_rows])
    print()
    table(["nodes", "failed rack", "min moves", "moves", "moves/min", "of forced", "extra",
           "of which drift", "forced unplaced", "plan s", "ffd re-solve moves (its min)",
           "greedy moves (its min)", "feasible"],
          [[r["nodes"], r["rackFailure"].get("rack", "-"), fmt(r["rackFailure"].get("minimumMoves"), "%d"),
            fmt(r["rackFailure"].get("moves"), "%d", "TIMEOUT" if r["rackFailure"].get("timedOut") else "-"),
            fmt(r["rackFailure"].get("ratio"), "%.3f"), fmt(r["rackFailure"].get("forcedMoved"), "%d"),
            fmt(r["rackFailure"].get("extraMoves"), "%d"),
            fmt(r["rackFailure"].get("extraMovesAlsoWithoutChange"), "%d"),
            fmt(r["rackFailure"].get("forcedUnplaced"), "%d"), fmt(r["rackFailure"].get("seconds"), "%.1f"),
            ("%d (%d)" % (r["rackFailure"]["ffd"]["moves"], r["rackFailure"]["ffd"]["forced"]))
            if r["rackFailure"] else "-",
            ("%d (%d)" % (r["rackFailure"]["greedy"]["moves"], r["rackFailure"]["greedy"]["forced"]))
            if r["rackFailure"] else "-", fmt(r["rackFailure"].get("feasible"))]
           for r in ok_rows])
    for r in ok_rows:
        for part in ("demand", "rackFailure"):
            pc = r[part].get("planCounts")
            if pc and pc["moves"] != r[part].get("moves"):
                print("   ! %d nodes, %s: the plan's changes say %d moves (%d move + %d evict/place), "
                      "the targets differ on %d replicas" % (r["nodes"], part, pc["moves"], pc["move"],
                                                            pc["evictPlacePairs"], r[part].get("moves")))
            rm = r[part].get("planReportedMoves")
            if isinstance(rm, dict) and (rm.get("count") != r[part].get("moves") or
                                         rm.get("required") != r[part].get("minimumMoves")):
                print("   ! %d nodes, %s: the plan reports moves %s, required %s; the harness "
                      "counts %s moves, minimum %s" % (r["nodes"], part, rm.get("count"),
                                                        rm.get("required"), r[part].get("moves"),
                                                        r[part].get("minimumMoves")))
            for s in r[part].get("violationSamples") or []:
                print("   ! %d nodes, %s: %s" % (r["nodes"], part, s))
        if r["replan"].get("changes"):
            print("   ! %d nodes: planning again right after apply gives %d changes (want 0), "
                  "%s of them moves; 'of which drift' counts the moves a plan with no change "
                  "makes too" % (r["nodes"], r["replan"]["changes"], r["replan"].get("moved")))
    for r in ok_rows:
        a = r["demand"]
        if a.get("moves") and a.get("unplaced") is not None and a["unplaced"] < r.get("appliedUnplaced", 0):
            print("   ! %d nodes, demand: %d replicas unplaced after the apply, %d after the demand "
                  "change: some of the %d moves may make room for them (placing comes before "
                  "fewest moves), though planning again without the change placed none"
                  % (r["nodes"], r["appliedUnplaced"], a["unplaced"], a["moves"]))
    within = [r for r in ok_rows if r["demand"].get("withinTarget") and r["rackFailure"].get("withinTarget")]
    worst = max((r["rackFailure"].get("ratio") or 0 for r in ok_rows), default=None)
    print("stability: %d/%d sizes within moves <= %.2f x minimum (demand change: %s moves, min 0; "
          "rack failure: worst moves/min %s); replans after apply empty on %d/%d"
          % (len(within), len(results), TARGET_MOVES_FACTOR,
             "/".join(fmt(r["demand"].get("moves"), "%d") for r in ok_rows),
             fmt(worst, "%.3f"), sum(1 for r in ok_rows if r["replan"].get("changes") == 0),
             len(results)), flush=True)
    return {"sizes": results}


# --- main ------------------------------------------------------------------------------------

def describe(args):
    info = {"dcapply": args.dcapply, "startedAt": datetime.datetime.now(datetime.timezone.utc)
            .strftime("%Y-%m-%dT%H:%M:%SZ"), "cpus": os.cpu_count(), "python": sys.version.split()[0],
            "seed": args.seed}
    try:
        info["dcapplyVersion"] = subprocess.run([args.dcapply, "--version"], capture_output=True,
                                                text=True, timeout=30).stdout.strip()
        import hashlib
        with open(args.dcapply, "rb") as f:
            info["dcapplySha256"] = hashlib.sha256(f.read()).hexdigest()
        info["loadAvg1mAtStart"] = round(os.getloadavg()[0], 2)
        info["dcapplyModified"] = datetime.datetime.fromtimestamp(
            os.path.getmtime(args.dcapply), datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OSError, subprocess.SubprocessError):
        pass
    try:
        info["repoHead"] = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"],
                                          capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    return info


def main(argv=None):
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--dcapply", default=".build/release/dcapply",
                        help="the dcapply binary (default .build/release/dcapply, from the repo root)")
    common.add_argument("--out", default="results.json", help="JSON results file (default results.json)")
    common.add_argument("--sizes", default="1000,5000,10000,20000",
                        help="site sizes in nodes, for scale and stability")
    common.add_argument("--stability-sizes", default=None,
                        help="sizes for stability only (default: --sizes)")
    common.add_argument("--classes", default=None, help="vbp classes, e.g. 1,2,9 (default all)")
    common.add_argument("--sample", type=int, default=1, help="vbp: every Nth instance of a class")
    common.add_argument("--timeout", type=float, default=600, help="seconds per dcapply call")
    common.add_argument("--repeat", type=int, default=1,
                        help="scale: plan each site N times and keep the fastest (default 1)")
    common.add_argument("--vbp-timeout", type=float, default=60, help="seconds per vbp instance")
    common.add_argument("--vbp-chunk", type=int, default=20,
                        help="vbp instances per vbp_eval.py run (default 20)")
    common.add_argument("--no-copy", action="store_true",
                        help="run --dcapply in place instead of a private copy made at the start")
    common.add_argument("--seed", type=int, default=1, help="site generator seed")
    common.add_argument("--pools", type=int, default=2, choices=(1, 2), help="pools per site")
    common.add_argument("--load", type=float, default=0.6,
                        help="fraction of GPUs the synthetic sites ask for (default 0.6: over-subscribed "
                             "once spread, gangs and caps bind; 0.4: everything fits)")
    common.add_argument("--templates", action="store_true",
                        help="write inventories as templates instead of node by node")
    common.add_argument("--shared", default=DEFAULT_SHARED,
                        help="the shared bench folder with vbp_eval.py and vbp/ (default ../shared/bench)")
    common.add_argument("--work", default=None,
                        help="working folder for sites and state (default: a temporary folder, removed)")
    common.add_argument("--verbose", "-v", action="store_true")
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name, help_ in (("vbp", "quality on the Panigrahy vector bin packing classes"),
                        ("scale", "plan time and memory on synthetic sites of --sizes nodes"),
                        ("stability", "moves after a demand change and a rack failure"),
                        ("all", "vbp, scale and stability")):
        sub.add_parser(name, parents=[common], help=help_)
    args = ap.parse_args(argv)
    args.dcapply = os.path.abspath(os.path.join(REPO, args.dcapply)
                                   if not os.path.isabs(args.dcapply) and not os.path.exists(args.dcapply)
                                   else args.dcapply)
    if not os.access(args.dcapply, os.X_OK):
        print("error: no dcapply binary at %s; build it with `swift build -c release --product dcapply`"
              % args.dcapply, file=sys.stderr)
        return 1
    keep = args.work is not None
    args.work = os.path.abspath(args.work) if keep else tempfile.mkdtemp(prefix="dcapply-bench-")
    os.makedirs(args.work, exist_ok=True)
    results = {"meta": describe(args)}
    results["meta"]["args"] = {k: v for k, v in vars(args).items() if k not in ("work",)}
    if not args.no_copy:
        # A private copy: a rebuild during a long run must not mix two binaries in one result.
        os.makedirs(os.path.join(args.work, "bin"), exist_ok=True)
        copy = os.path.join(args.work, "bin", "dcapply")
        shutil.copy2(args.dcapply, copy)
        args.dcapply = copy
        results["meta"]["dcapplyCopy"] = copy

    def on_term(signum, frame):
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, on_term)
    t0 = time.monotonic()
    try:
        todo = ["vbp", "scale", "stability"] if args.cmd == "all" else [args.cmd]
        for i, part in enumerate(todo):
            if i:
                print()
            results[part] = {"vbp": bench_vbp, "scale": bench_scale,
                             "stability": bench_stability}[part](args)
            write_results(args.out, results, t0)
    finally:
        if not keep:
            shutil.rmtree(args.work, ignore_errors=True)
    write_results(args.out, results, t0)
    print("\nresults written to %s (%.0f s)" % (args.out, time.monotonic() - t0))
    return 0


def write_results(path, results, t0):
    results.setdefault("meta", {})["elapsedSeconds"] = round(time.monotonic() - t0, 1)
    results["meta"]["loadAvg1mAtEnd"] = round(os.getloadavg()[0], 2)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(results, f, indent=1, sort_keys=True, default=str)
        f.write("\n")
    os.replace(tmp, path)


if __name__ == "__main__":
    sys.exit(main())
