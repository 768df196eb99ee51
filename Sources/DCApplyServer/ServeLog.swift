/// The `source` the daemon's log lines carry: `[dcapply]`, as they did when the loop lived in
/// the executable, so operators' log searches and the end-to-end tests keep matching.
enum ServeLog {
    static let source = "dcapply"
}
