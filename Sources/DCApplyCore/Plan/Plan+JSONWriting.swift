/// The plan's JSON written straight from the plan with ``JSONPrettyWriter``: the same bytes as
/// `PlanDocument.encode(PlanDocument(plan))` (`JSONEncoder`), without building the document's
/// dictionaries or the encoder's value tree. Keys are written in `.sortedKeys` order by hand;
/// the values are the document's (watts rounded to 0.1, TiB to 1e-6, `pool` null when none,
/// optional keys absent when nil). `PlanDocumentJSONTests` compares the two on varied plans.
extension Plan {
    /// The contract's JSON as UTF-8 bytes, or nil where `JSONEncoder` would fail (a NaN or
    /// infinite number), so the caller can fall back to it.
    public var jsonBytes: [UInt8]? {
        var writer = JSONPrettyWriter(reservingCapacity: 256 * (target.nodes.count + changes.count) + 4096)
        writer.beginObject()
        writer.key("changes")
        writeChanges(&writer)
        writer.key("energy")
        writeEnergy(&writer)
        writer.key("formatVersion")
        writer.integer(Plan.formatVersion)
        writer.key("manifestDigest")
        writer.string(manifestDigest)
        writer.key("moves")
        writer.beginObject()
        writer.key("count")
        writer.integer(moves.count)
        writer.key("required")
        writer.integer(moves.required)
        writer.endObject()
        if !observedDigest.isEmpty {
            writer.key("observedDigest")
            writer.string(observedDigest)
        }
        writer.key("problems")
        writer.beginArray()
        for problem in problems {
            writer.element()
            writer.beginObject()
            writer.key("message")
            writer.string(problem.message)
            writer.key("resource")
            writer.string(problem.resource.description)
            writer.key("severity")
            writer.string(problem.severity.rawValue)
            writer.endObject()
        }
        writer.endArray()
        writer.key("revision")
        writer.string(revision)
        writer.key("stateSerial")
        writer.integer(stateSerial)
        writer.key("summary")
        writer.string(summary)
        writer.key("target")
        writeTarget(&writer)
        writer.key("waves")
        writer.integer(waves)
        writer.endObject()
        return writer.isValid ? writer.bytes : nil
    }

    private func writeChanges(_ writer: inout JSONPrettyWriter) {
        writer.beginArray()
        for change in changes {
            writer.element()
            writer.beginObject()
            writer.key("action")
            writer.string(change.action.rawValue)
            if let actuator = change.actuator {
                writer.key("actuator")
                writer.string(actuator)
            }
            if let from = change.from {
                writer.key("from")
                writer.string(from)
            }
            if let fromNodes = change.fromNodes {
                writer.key("fromNodes")
                writer.strings(fromNodes)
            }
            writer.key("reason")
            writer.string(change.reason)
            if let replica = change.replica {
                writer.key("replica")
                writer.integer(replica)
            }
            writer.key("resource")
            writer.string(change.resource.description)
            if change.subject != change.resource {
                writer.key("subject")
                writer.string(change.subject.description)
            }
            if let to = change.to {
                writer.key("to")
                writer.string(to)
            }
            if let toNodes = change.toNodes {
                writer.key("toNodes")
                writer.strings(toNodes)
            }
            writer.endObject()
        }
        writer.endArray()
    }

    private func writeEnergy(_ writer: inout JSONPrettyWriter) {
        writer.beginObject()
        writer.key("currentW")
        writer.double(PlanDocument.roundW(energy.currentW))
        if let lowerBoundW = energy.lowerBoundW {
            writer.key("lowerBoundW")
            writer.double(PlanDocument.roundW(lowerBoundW))
        }
        writer.key("plannedW")
        writer.double(PlanDocument.roundW(energy.plannedW))
        writer.key("poweredNodes")
        writer.integer(energy.poweredNodes)
        if let bound = energy.poweredNodesLowerBound {
            writer.key("poweredNodesLowerBound")
            writer.integer(bound)
        }
        writer.endObject()
    }

    private func writeTarget(_ writer: inout JSONPrettyWriter) {
        writer.beginObject()
        if !target.drained.isEmpty {
            writer.key("drained")
            writer.beginObject()
            for name in JSONPrettyWriter.sortedKeys(target.drained) {
                writer.key(name)
                writer.string(target.drained[name]?.rawValue ?? "")
            }
            writer.endObject()
        }
        writer.key("grants")
        writer.beginObject()
        for name in JSONPrettyWriter.sortedKeys(target.grants) {
            writer.key(name)
            writer.strings(target.grants[name] ?? [])
        }
        writer.endObject()
        writer.key("nodes")
        writer.beginObject()
        for name in JSONPrettyWriter.sortedKeys(target.nodes) {
            guard let node = target.nodes[name] else { continue }
            writer.key(name)
            writer.beginObject()
            writer.key("estimatedW")
            writer.double(PlanDocument.roundW(targetDrawW[name] ?? 0))
            writer.key("pool")
            writer.string(node.pool)
            writer.key("powerState")
            writer.string(node.powerState.rawValue)
            writer.endObject()
        }
        writer.endObject()
        writer.key("storageTiers")
        writer.beginObject()
        for name in JSONPrettyWriter.sortedKeys(target.storageTiers) {
            guard let tier = target.storageTiers[name] else { continue }
            writer.key(name)
            writer.beginObject()
            writer.key("drives")
            writer.strings(tier.drives.map(\.description))
            writer.key("rawTiB")
            writer.double((tier.rawTiB * 1e6).rounded() / 1e6)
            writer.key("satisfied")
            writer.bool(tier.satisfied)
            writer.endObject()
        }
        writer.endObject()
        writer.key("workloads")
        writer.beginObject()
        for name in JSONPrettyWriter.sortedKeys(target.workloads) {
            guard let workload = target.workloads[name] else { continue }
            writer.key(name)
            writer.beginObject()
            writer.key("replicas")
            writer.beginArray()
            for replica in workload.replicas {
                writer.element()
                writer.beginObject()
                writer.key("index")
                writer.integer(replica.index)
                writer.key("nodes")
                writer.strings(replica.nodes)
                writer.endObject()
            }
            writer.endArray()
            writer.key("unplaced")
            writer.integer(workload.unplaced)
            writer.endObject()
        }
        writer.endObject()
        writer.endObject()
    }
}
