import DCApplyCore
import Foundation

/// `plan --out FILE` and `apply --plan FILE`: the plan's JSON, bound to the manifests, the
/// observed hardware and the state serial it was made from.
enum SavedPlan {
    static func write(_ plan: Plan, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            // Write beside, then rename: a reader never sees half a plan.
            let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp")
            try Data((plan.json + "\n").utf8).write(to: temporary)
            guard rename(temporary.path, url.path) == 0 else {
                let reason = String(cString: strerror(errno))
                try? FileManager.default.removeItem(at: temporary)
                throw DCApplyError(.fileSystem, "cannot save the plan to \(path): \(reason)")
            }
        } catch let error as DCApplyError {
            throw error
        } catch {
            throw DCApplyError(.fileSystem, "cannot save the plan to \(path): \(error.localizedDescription)")
        }
    }

    static func read(_ path: String) throws -> Plan {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DCApplyError(.fileSystem, "cannot read the saved plan \(path)")
        }
        return try Plan(json: String(decoding: data, as: UTF8.self), source: path)
    }
}
