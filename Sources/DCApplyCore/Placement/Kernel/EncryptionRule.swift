/// Encryption: a tier with `encryption: required` takes only drives the inventory marks
/// `selfEncrypting: true` (`manifests.md`, StorageTier).
enum EncryptionRule {
    /// Whether `tier` may take `drive`.
    static func allows(_ drive: Drive, for tier: StorageTier) -> Bool {
        !tier.encryptionRequired || drive.selfEncrypting
    }
}
