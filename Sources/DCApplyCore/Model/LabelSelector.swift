/// A Kubernetes-style label selector.
public struct LabelSelector: Hashable, Sendable {
    public enum Operator: String, Hashable, Sendable, CaseIterable {
        case `in` = "In", notIn = "NotIn", exists = "Exists", doesNotExist = "DoesNotExist", gt = "Gt", lt = "Lt"
    }

    public struct Requirement: Hashable, Sendable {
        public var key: String
        public var `operator`: Operator
        public var values: [String]

        public func matches(_ labels: [String: String]) -> Bool {
            let value = labels[key]
            switch self.operator {
            case .in: return value.map(values.contains) ?? false
            case .notIn: return value.map { !values.contains($0) } ?? true
            case .exists: return value != nil
            case .doesNotExist: return value == nil
            case .gt, .lt:
                guard let value, let actual = Int(value), let bound = values.first.flatMap({ Int($0) }) else { return false }
                return self.operator == .gt ? actual > bound : actual < bound
            }
        }
    }

    public var matchLabels: [String: String]
    public var matchExpressions: [Requirement]

    public init(matchLabels: [String: String] = [:], matchExpressions: [Requirement] = []) {
        self.matchLabels = matchLabels
        self.matchExpressions = matchExpressions
    }

    public func matches(_ labels: [String: String]) -> Bool {
        matchLabels.allSatisfy { labels[$0.key] == $0.value } && matchExpressions.allSatisfy { $0.matches(labels) }
    }
}

/// Shell-style globs (`*`, `?`) for names in access rules.
public enum Glob {
    public static func matches(pattern: String, _ text: String) -> Bool {
        let p = Array(pattern.utf8), t = Array(text.utf8)
        var pi = 0, ti = 0, star = -1, mark = 0
        while ti < t.count {
            if pi < p.count, p[pi] == UInt8(ascii: "?") || p[pi] == t[ti] {
                pi += 1; ti += 1
            } else if pi < p.count, p[pi] == UInt8(ascii: "*") {
                star = pi; mark = ti; pi += 1
            } else if star >= 0 {
                pi = star + 1; mark += 1; ti = mark
            } else {
                return false
            }
        }
        while pi < p.count, p[pi] == UInt8(ascii: "*") { pi += 1 }
        return pi == p.count
    }
}
