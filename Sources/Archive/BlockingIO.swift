import Dispatch

/// Runs blocking work (file reads, fsync, hashing large buffers) on a Dispatch queue, so it never
/// occupies a thread of Swift's cooperative pool.
enum BlockingIO {
    private static let queue = DispatchQueue(label: "argus.archive.blocking-io", qos: .userInitiated, attributes: .concurrent)

    /// Runs `body` on the blocking-I/O queue and returns its result.
    static func run<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: body()) }
        }
    }

    /// Runs a throwing `body` on the blocking-I/O queue.
    static func run<T: Sendable>(_ body: @escaping @Sendable () throws(ArchiveError) -> T) async throws(ArchiveError) -> T {
        let result: Result<T, ArchiveError> = await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: Result { () throws(ArchiveError) in try body() }) }
        }
        return try result.get()
    }
}
