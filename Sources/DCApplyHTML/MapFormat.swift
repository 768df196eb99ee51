import Foundation

/// Number formats and orders shared by the HTML views.
enum MapFormat {
    /// Watts as kilowatts with one decimal: `84.2 kW`.
    static func kW(_ watts: Double) -> String { String(format: "%.1f kW", watts / 1000) }

    /// At most two decimals, no trailing zeros: `7.68`, `80`.
    static func number(_ value: Double) -> String {
        var text = String(format: "%.2f", value)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }

    /// A fraction in five colour buckets: 0 (idle) to 4 (above 80%).
    static func bucket(_ fraction: Double) -> Int {
        guard fraction > 0.0001 else { return 0 }
        return min(4, 1 + Int(fraction * 4 - 0.0001))
    }

    /// `r2` before `r10`; empty (no label) last.
    static func naturalOrder(_ lhs: String, _ rhs: String) -> Bool {
        if lhs.isEmpty != rhs.isEmpty { return rhs.isEmpty }
        return lhs.compare(rhs, options: .numeric) == .orderedAscending
    }
}
