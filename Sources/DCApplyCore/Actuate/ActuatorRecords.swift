/// One actuator's view of its records: the store scoped to its Site and name.
public struct ActuatorRecords: Sendable {
    public let store: any ActuatorRecordStore
    public let site: String
    public let actuator: String

    public init(store: any ActuatorRecordStore, site: String, actuator: String) {
        self.store = store
        self.site = site
        self.actuator = actuator
    }

    /// Everything this actuator recorded for its Site.
    public func all() throws -> [String: String] { try store.actuatorRecords(site: site, actuator: actuator) }
    /// Records `value` under `key`, or deletes the key when `value` is nil; durable on return.
    public func set(_ key: String, _ value: String?) throws { try store.setActuatorRecord(site: site, actuator: actuator, key: key, value: value) }
}
