#!/usr/bin/env python3
"""A complete dcapply exec actuator (protocol dcapply.exec/v1), Python standard library only.

It stands in for a real system (a CMDB, node labels, a ticket queue): it keeps what is in
effect in a JSON state file, answers `observe` from it, and appends every call to a log so
you can see what dcapply sent. Configuration comes from the environment (the only place
secrets may come from too):

  RECORD_STATE  the state file        (default: .dcapply/record-state.json, in the manifest's folder)
  RECORD_CALLS  the call log, one JSON object a line (default: .dcapply/record-calls.jsonl)

Every action is idempotent: applying one twice leaves the same state, as the protocol asks.
"""
import json
import os
import sys

STATE = os.environ.get("RECORD_STATE", ".dcapply/record-state.json")
CALLS = os.environ.get("RECORD_CALLS", ".dcapply/record-calls.jsonl")
ACTIONS = ["assign", "unassign", "place", "move", "evict", "drain", "resume",
           "attachDrive", "detachDrive", "grant", "revoke"]


def load():
    try:
        with open(STATE) as f:
            return json.load(f)
    except FileNotFoundError:
        return {"members": {}, "replicas": {}, "drained": {}, "drives": {}, "grants": {}}


def save(state):
    os.makedirs(os.path.dirname(STATE) or ".", exist_ok=True)
    tmp = STATE + ".tmp"
    with open(tmp, "w") as f:
        json.dump(state, f, indent=1, sort_keys=True)
    os.replace(tmp, STATE)  # atomic: a crash leaves the old state or the new one


def record(entry):
    os.makedirs(os.path.dirname(CALLS) or ".", exist_ok=True)
    with open(CALLS, "a") as f:
        f.write(json.dumps(entry, sort_keys=True) + "\n")


def name(address):
    """'HardwarePool/train' -> 'train'."""
    return address.split("/", 1)[1] if address and "/" in address else address


def carry(state, a):
    """Realises one action in the state; raises ValueError for one it cannot."""
    kind, resource = a["action"], a["resource"]
    if kind == "assign":
        state["members"][name(resource)] = name(a["to"])
    elif kind == "unassign":
        state["members"].pop(name(resource), None)
    elif kind in ("place", "move"):
        state["replicas"].setdefault(name(resource), {})[str(a["replica"])] = a["toNodes"]
    elif kind == "evict":
        state["replicas"].get(name(resource), {}).pop(str(a["replica"]), None)
    elif kind == "drain":
        state["drained"][name(resource)] = a.get("to") or "degraded"
    elif kind == "resume":
        state["drained"].pop(name(resource), None)
    elif kind == "attachDrive":
        state["drives"][name(resource)] = name(a["to"])
    elif kind == "detachDrive":
        state["drives"].pop(name(resource), None)
    elif kind == "grant":
        pools = set(state["grants"].get(name(resource), [])) | {name(a["to"])}
        state["grants"][name(resource)] = sorted(pools)
    elif kind == "revoke":
        pools = set(state["grants"].get(name(resource), [])) - {name(a["from"])}
        state["grants"][name(resource)] = sorted(pools)
    else:
        raise ValueError("cannot carry " + kind)


def objects(state):
    """What is in effect, as the actions that would bring it about."""
    out = []
    for node, pool in sorted(state["members"].items()):
        out.append({"action": "assign", "resource": "Node/" + node, "to": "HardwarePool/" + pool})
    for workload, replicas in sorted(state["replicas"].items()):
        for index, nodes in sorted(replicas.items()):
            out.append({"action": "place", "resource": "Workload/" + workload, "replica": int(index),
                        "toNodes": nodes, "to": ",".join("Node/" + n for n in nodes)})
    for node, cause in sorted(state["drained"].items()):
        out.append({"action": "drain", "resource": "Node/" + node, "to": cause})
    for drive, tier in sorted(state["drives"].items()):
        out.append({"action": "attachDrive", "resource": "Drive/" + drive, "to": "StorageTier/" + tier})
    for policy, pools in sorted(state["grants"].items()):
        for pool in pools:
            out.append({"action": "grant", "resource": "AccessPolicy/" + policy, "to": "HardwarePool/" + pool})
    return out


def main():
    request = json.load(sys.stdin)
    if request.get("apiVersion") != "dcapply.exec/v1":
        print("unsupported apiVersion %r" % request.get("apiVersion"), file=sys.stderr)
        return 2
    operation = request.get("operation")
    record({"operation": operation, "ids": [a.get("id") for a in request.get("actions", [])],
            "actions": request.get("actions", [])})
    if operation == "describe":
        reply = {"operations": ["observe", "apply"], "actions": ACTIONS}
    elif operation == "observe":
        reply = {"objects": objects(load())}
    elif operation == "apply":
        state = load()
        results = []
        for a in request["actions"]:
            try:
                carry(state, a)
                results.append({"id": a["id"], "status": "done"})
            except (KeyError, ValueError) as error:
                results.append({"id": a["id"], "status": "failed", "transient": False, "error": str(error)})
        save(state)
        reply = {"results": results}
    else:
        print("unknown operation %r" % operation, file=sys.stderr)
        return 2
    json.dump(reply, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
