import Foundation

/// Asks `produce` every `pollSeconds` until it gives a value or `seconds` have passed: the bounded wait of tests,
/// for a condition and never a fixed sleep. It is asked at least once, and once more after the last pause.
/// - Returns: the first value `produce` gave, or nil when it gave none within `seconds`.
/// - Throws: what `produce` throws (the wait ends there).
public func eventuallyValue<Value>(seconds: Double = 30, pollSeconds: Double = 0.02,
                                   _ produce: () async throws -> Value?) async rethrows -> Value? {
    let deadline = Date().addingTimeInterval(seconds)
    while true {
        if let value = try await produce() { return value }
        guard Date() < deadline else { return nil }
        try? await Task.sleep(nanoseconds: UInt64(max(0, pollSeconds) * 1e9))
    }
}

/// Asks `condition` every `pollSeconds` until it holds or `seconds` have passed (see `eventuallyValue`).
/// - Returns: whether it held within `seconds`.
/// - Throws: what `condition` throws (the wait ends there).
public func eventually(seconds: Double = 30, pollSeconds: Double = 0.02, _ condition: () async throws -> Bool) async rethrows -> Bool {
    try await eventuallyValue(seconds: seconds, pollSeconds: pollSeconds) { try await condition() ? true : nil } ?? false
}
