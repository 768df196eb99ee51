extension ResourceAddress {
    /// `HardwarePool/p` → the address; nil for text that is not `Kind/name`.
    init?(parsing text: String) {
        guard let slash = text.firstIndex(of: "/"), slash != text.startIndex, text.index(after: slash) != text.endIndex else { return nil }
        self.init(String(text[..<slash]), String(text[text.index(after: slash)...]))
    }

    /// The node of a `Drive/node/id` address.
    var driveNode: String? {
        guard kind == "Drive" else { return nil }
        return name.split(separator: "/", maxSplits: 1).first.map(String.init)
    }
}
