#!/usr/bin/env python3
"""Randomised replanning: apply a synthetic site, then make random small changes and check every plan.

usage:
  python3 Benchmarks/incremental.py [--sizes 1000] [--seeds 1,2] [--loads 0.6,0.4] [--steps 20]
      [--dcapply .build/release/dcapply] [--work DIR] [--out incremental.json] [--timeout 600] [-v]

Each site (`sitegen.py`) is applied once into a SQLite state. Then, `--steps` times, one random
change is made to what the site asks for or to its hardware:

  node     one healthy node that hosts a replica fails (`dcapply inventory set NODE health=failed`)
  rack     every node of one rack that hosts a replica fails
  replicas one to three workloads ask for about 25% more or fewer replicas (workloads.yaml)
  recover  one failed node is healthy again

and the site is planned (`dcapply plan --output json`). Every plan goes through `run.py`'s
independent checker (capacity, gangs in one colocate domain, exclusivity, spread, pools, failed
nodes, power on, rack caps), with the failed nodes and the replica counts of that step. Moves are
counted against the forced ones (replicas on nodes that failed in that step, or whose index is
above the new count). Then the plan is applied and the site planned again: the contract says that
second plan is empty (stability).

The closing line says how many plans were checked, how many had violations, and how many
re-plans after an apply were not empty. Python 3 standard library plus PyYAML; never run from
unit tests. See Benchmarks/README.md.
"""
import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import run  # noqa: E402
import sitegen  # noqa: E402


def dc(args, *rest):
    return run.run_measured([args.dcapply] + list(rest), args.work, args.timeout)


def plan(args, site, state):
    r = dc(args, "plan", site, "--output", "json", "--state", "sqlite:" + state)
    return r, run.parse_json(r["stdout"])


def applied_state(args, state):
    s = dc(args, "state", "show", "-o", "json", "--state", "sqlite:" + state)
    return run.parse_json(s["stdout"]) or {}


def set_health(args, state, names, health):
    errors = []
    for name in names:
        r = dc(args, "inventory", "set", name, "health=" + health, "--state", "sqlite:" + state)
        if r["rc"] != 0:
            errors.append(r["stderr"].strip()[-200:])
    return errors


def pick_change(rng, model, placed, failed, counts):
    """One random change: (kind, detail). Failures hit nodes that host something."""
    hosting = sorted({n for ns in placed.values() for n in ns} - failed)
    kinds = ["node", "node", "replicas", "replicas", "rack"]
    if failed:
        kinds.append("recover")
    kind = rng.choice(kinds)
    if kind == "node" and hosting:
        return kind, [rng.choice(hosting)]
    if kind == "rack" and hosting:
        rack = model.nodes[model.index[rng.choice(hosting)]]["labels"].get("rack")
        return kind, sorted(n["name"] for n in model.nodes
                            if n["labels"].get("rack") == rack and n["name"] not in failed)
    if kind == "recover":
        return kind, [rng.choice(sorted(failed))]
    names = rng.sample([w["name"] for w in model.workloads], rng.randint(1, 3))
    new = {}
    for name in sorted(names):
        now = counts[name]
        step = max(1, int(round(0.25 * now)))
        new[name] = now + step if rng.random() < 0.5 or now <= 1 else max(1, now - step)
    return "replicas", new


def bench(args):
    results = []
    totals = {"plans": 0, "violating": 0, "violations": 0, "replans": 0, "replansNotEmpty": 0,
              "extraMoves": 0, "forced": 0, "moved": 0, "errors": 0}
    for n in run.parse_sizes(args.sizes):
        for seed in [int(s) for s in args.seeds.split(",") if s.strip()]:
            for load in [float(x) for x in args.loads.split(",") if x.strip()]:
                results.append(one_site(args, n, seed, load, totals))
    print()
    run.table(["nodes", "seed", "load", "step", "change", "plan s", "violations", "moved",
               "forced", "extra", "evicted", "placed", "unplaced", "replan changes"],
              [[r["nodes"], r["seed"], r["load"], s["step"], s["change"], run.fmt(s.get("seconds"), "%.2f"),
                run.fmt(s.get("violations"), "%d"), run.fmt(s.get("moved"), "%d"),
                run.fmt(s.get("forced"), "%d"), run.fmt(s.get("extra"), "%d"),
                run.fmt(s.get("evicted"), "%d"), run.fmt(s.get("placed"), "%d"),
                run.fmt(s.get("unplaced"), "%d"), run.fmt(s.get("replanChanges"), "%d")]
               for r in results for s in r["steps"]])
    print()
    print("incremental: %d plans checked, %d with violations (%d violations); %d re-plans after "
          "an apply, %d not empty; %d replicas moved, %d of them forced, %d extra; %d errors"
          % (totals["plans"], totals["violating"], totals["violations"], totals["replans"],
             totals["replansNotEmpty"], totals["moved"], totals["forced"], totals["extraMoves"],
             totals["errors"]))
    return results, totals


def one_site(args, n, seed, load, totals):
    d = os.path.join(args.work, "sites", "n%d-s%d-l%g" % (n, seed, load))
    if not os.path.exists(os.path.join(d, "sitegen.json")):
        sitegen.generate(n, d, seed=seed, load=load)
    model = run.Model(sitegen.load_site(d))
    state = os.path.join(args.work, "inc-n%d-s%d-l%g.db" % (n, seed, load))
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(state + suffix):
            os.unlink(state + suffix)
    rec = {"nodes": n, "seed": seed, "load": load, "steps": []}
    r = dc(args, "apply", d, "--yes", "--output", "json", "--state", "sqlite:" + state)
    rec["applySeconds"] = r["seconds"]
    # Exit status 1 only says some replicas stay unplaced (over-subscribed sites): the apply
    # ran if it printed its JSON.
    if r["timedOut"] or run.parse_json(r["stdout"]) is None:
        rec["error"] = "apply: " + r["stderr"].strip()[-300:]
        totals["errors"] += 1
        print("  %d nodes seed %d load %g: %s" % (n, seed, load, rec["error"]), flush=True)
        return rec
    rng = random.Random("dcapply-incremental/%d/%d/%g" % (n, seed, load))
    counts = {w["name"]: w["replicas"] for w in model.workloads}
    failed = set()
    site = d
    for step in range(1, args.steps + 1):
        before = run.placement_of(applied_state(args, state))
        kind, detail = pick_change(rng, model, before, failed, counts)
        s = {"step": step, "change": kind}
        if kind in ("node", "rack"):
            errs = set_health(args, state, detail, "failed")
            failed |= set(detail)
            s["change"] = "%s (%d node%s)" % (kind, len(detail), "" if len(detail) == 1 else "s")
        elif kind == "recover":
            errs = set_health(args, state, detail, "healthy")
            failed -= set(detail)
        else:
            errs = []
            counts.update(detail)
            site = os.path.join(args.work, "sites", "n%d-s%d-l%g-step%d" % (n, seed, load, step))
            run.write_demand_site(d, site, counts)
            s["change"] = "replicas (%s)" % ", ".join("%s→%d" % kv for kv in sorted(detail.items()))
        if errs:
            s["setErrors"] = errs
            totals["errors"] += 1
        rp, p = plan(args, site, state)
        s["seconds"] = rp["seconds"]
        if p is None:
            s["error"] = rp["stderr"].strip()[-300:]
            totals["errors"] += 1
            rec["steps"].append(s)
            log(args, "step %d: plan failed: %s" % (step, s["error"]))
            continue
        viol, st = run.check_plan(model, p["target"], failed={model.index[x] for x in failed},
                                  replica_counts=counts)
        after = run.placement_of(p["target"])
        moved, removed, added = run.diff_placements(before, after)
        forced = {k for k, ns in before.items() if any(x in failed for x in ns)}
        must_go = {k for k in before if k[1] >= counts.get(k[0], 0)}
        s.update(violations=len(viol), violationSamples=viol[:5], moved=len(moved),
                 forced=len(moved & forced), extra=len(moved - forced),
                 evicted=len(removed), extraEvicted=len(removed - forced - must_go),
                 placed=len(added), unplaced=st["unplaced"], poweredNodes=st["poweredNodes"],
                 planMoves=p.get("moves"))
        totals["plans"] += 1
        totals["violations"] += len(viol)
        totals["violating"] += 1 if viol else 0
        totals["moved"] += len(moved)
        totals["forced"] += len(moved & forced)
        totals["extraMoves"] += len(moved - forced)
        # Apply it, and plan again: nothing may change.
        ra = dc(args, "apply", site, "--yes", "--output", "json", "--state", "sqlite:" + state)
        if ra["timedOut"] or run.parse_json(ra["stdout"]) is None:
            s["applyError"] = ra["stderr"].strip()[-300:]
            totals["errors"] += 1
        else:
            r2, p2 = plan(args, site, state)
            if p2 is not None:
                s["replanChanges"] = len(p2.get("changes") or [])
                totals["replans"] += 1
                totals["replansNotEmpty"] += 1 if s["replanChanges"] else 0
                v2, _ = run.check_plan(model, p2["target"], failed={model.index[x] for x in failed},
                                       replica_counts=counts)
                totals["plans"] += 1
                totals["violations"] += len(v2)
                totals["violating"] += 1 if v2 else 0
        rec["steps"].append(s)
        log(args, "n%d s%d l%g step %d %s: %.2f s, %d violations, %d moved (%d forced), replan %s"
            % (n, seed, load, step, s["change"][:60], s["seconds"], s["violations"], s["moved"],
               s["forced"], s.get("replanChanges")))
    return rec


def log(args, msg):
    if args.verbose:
        print("  " + msg, file=sys.stderr, flush=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dcapply", default=".build/release/dcapply")
    ap.add_argument("--sizes", default="1000")
    ap.add_argument("--seeds", default="1,2")
    ap.add_argument("--loads", default="0.6,0.4")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--work", default=None, help="keep sites and states here (default: a temporary folder)")
    ap.add_argument("--out", default="incremental.json")
    ap.add_argument("--verbose", "-v", action="store_true")
    args = ap.parse_args(argv)
    args.dcapply = os.path.abspath(args.dcapply)
    keep = args.work is not None
    args.work = os.path.abspath(args.work or tempfile.mkdtemp(prefix="dcapply-incremental-"))
    os.makedirs(args.work, exist_ok=True)
    t0 = time.time()
    try:
        results, totals = bench(args)
    finally:
        if not keep:
            shutil.rmtree(args.work, ignore_errors=True)
    with open(args.out, "w") as f:
        json.dump({"totals": totals, "sites": results, "seconds": round(time.time() - t0, 1),
                   "dcapply": args.dcapply}, f, indent=1, sort_keys=True)
    return 0 if totals["violating"] == 0 and totals["replansNotEmpty"] == 0 and totals["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
