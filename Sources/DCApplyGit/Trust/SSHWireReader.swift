import Foundation

/// Reads the SSH wire encoding of RFC 4251 §5 (`uint32`, `string`, `mpint`) from untrusted
/// bytes. Every read is bounds-checked and returns nil instead of trapping, so a malformed
/// signature or key is a verdict, never a crash.
struct SSHWireReader {
    private let bytes: [UInt8]
    private(set) var offset = 0

    init<Bytes: Collection>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        self.bytes = Array(bytes)
    }

    var isAtEnd: Bool { offset == bytes.count }

    /// `count` raw bytes.
    mutating func readBytes(_ count: Int) -> [UInt8]? {
        guard count >= 0, count <= bytes.count - offset else { return nil }
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }

    /// A big-endian `uint32`.
    mutating func readUInt32() -> UInt32? {
        guard let raw = readBytes(4) else { return nil }
        return raw.reduce(0) { $0 << 8 | UInt32($1) }
    }

    /// A `string`: a `uint32` length, then that many bytes.
    mutating func readString() -> [UInt8]? {
        guard let length = readUInt32(), Int(length) <= bytes.count - offset else { return nil }
        return readBytes(Int(length))
    }

    /// A `string` that must be UTF-8 text.
    mutating func readText() -> String? {
        guard let raw = readString() else { return nil }
        return String(validating: raw, as: UTF8.self)
    }

    /// A non-negative `mpint` as its magnitude, without the sign byte or leading zeros.
    mutating func readPositiveMPInt() -> [UInt8]? {
        guard let raw = readString() else { return nil }
        if let first = raw.first, first & 0x80 != 0 { return nil }  // negative
        return Array(raw.drop { $0 == 0 })
    }
}

/// Writes the SSH wire encoding, for the data an SSHSIG signature covers.
struct SSHWireWriter {
    private(set) var bytes: [UInt8] = []

    mutating func writeRaw<Bytes: Sequence>(_ raw: Bytes) where Bytes.Element == UInt8 { bytes += raw }

    mutating func writeString<Bytes: Collection>(_ raw: Bytes) where Bytes.Element == UInt8 {
        let count = UInt32(raw.count)
        bytes += [UInt8(count >> 24 & 0xff), UInt8(count >> 16 & 0xff), UInt8(count >> 8 & 0xff), UInt8(count & 0xff)]
        bytes += raw
    }

    mutating func writeString(_ text: String) { writeString(Array(text.utf8)) }
}
