/// One result of `concurrentMap`, tagged with where its input stood.
private struct Slot<Value: Sendable>: Sendable {
    var offset: Int
    var value: Value
}

/// A `concurrentMap` result arrived for a position that does not exist or came twice. Only a
/// miscompiled child task can cause it (see below); it is reported, never indexed with.
struct ConcurrentMapError: Error, CustomStringConvertible {
    var offset: Int
    var count: Int
    var description: String { "internal error: a concurrent read returned position \(offset) of \(count)" }
}

extension Collection where Element: Sendable {
    /// Runs `transform` on every element concurrently (bounded by the caller, e.g. through an
    /// `AsyncSemaphore` inside `transform`) and returns the results in the collection's order.
    ///
    /// The one place the Redfish scan fans out. It exists because Swift 6.3's optimiser
    /// miscompiles a child task that returns a tuple built around an `await` inside `do`/`catch`,
    /// `do { return (index, try await read()) } catch { return (index, nil) }`: with `-O` the
    /// index part written before the suspension is lost (0 or garbage), which crashed every
    /// release build's Redfish scan with SIGILL on an out-of-range subscript (issue 12;
    /// swiftlang/swift#91911, reverted in #92155). Here the awaited value is bound first, the
    /// child returns a struct, errors travel as values, and a position is checked before use.
    /// The reproducer and the decision: docs/decisions.md, "A tuple across a suspension".
    func concurrentMap<Value: Sendable>(
        _ transform: @escaping @Sendable (Element) async throws -> Value
    ) async throws -> [Value] {
        let elements = Array(self)
        var results = [Value?](repeating: nil, count: elements.count)
        try await withThrowingTaskGroup(of: Slot<Value>.self) { group in
            for offset in elements.indices {
                let element = elements[offset]
                group.addTask {
                    let value = try await transform(element)
                    return Slot(offset: offset, value: value)
                }
            }
            for try await slot in group {
                guard results.indices.contains(slot.offset), results[slot.offset] == nil else {
                    throw ConcurrentMapError(offset: slot.offset, count: elements.count)
                }
                results[slot.offset] = slot.value
            }
        }
        return results.compactMap { $0 }
    }
}

/// `body`'s value or its error, as a value: lets a child task report a failure without a
/// `do`/`catch` around a returned tuple.
func outcome<Value: Sendable>(of body: () async throws -> Value) async -> Result<Value, any Error> {
    do {
        let value = try await body()
        return .success(value)
    } catch {
        return .failure(error)
    }
}
