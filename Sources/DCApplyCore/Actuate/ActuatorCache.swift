import Synchronization

/// The actuators a reconciler made and described, by Site, while the Site's actuator list
/// stays the same.
final class ActuatorCache: Sendable {
    private let entries = Mutex([String: SiteActuators]())

    func get(_ site: Site) -> SiteActuators? {
        entries.withLock { entries in
            entries[site.metadata.name].flatMap { $0.site.actuators == site.actuators ? $0 : nil }
        }
    }

    func put(_ prepared: SiteActuators) {
        entries.withLock { $0[prepared.site.metadata.name] = prepared }
    }
}
