/// Where actuators record what they created, per Site and actuator, as text keys and values
/// (Slurm: `partition:gpu-a` → `created`). The contract "an actuator owns only what it
/// created" is read from here.
///
/// Contract: `actuatorRecords` returns what `setActuatorRecord` stored for that site and
/// actuator; a nil value deletes the key. Each write is durable when it returns, outside any
/// apply transaction (record before creating, so a crash cannot leave an unrecorded object).
public protocol ActuatorRecordStore: Sendable {
    func actuatorRecords(site: String, actuator: String) throws -> [String: String]
    func setActuatorRecord(site: String, actuator: String, key: String, value: String?) throws
}
