import Dispatch

/// Runs blocking work (file reads, fsync, hashing large buffers) on a Dispatch queue, so it never
/// occupies a thread of Swift's cooperative pool. For the log's readers and the archive.
package enum BlockingIO {
    private static let queue = DispatchQueue(label: "argus.blocking-io", qos: .userInitiated, attributes: .concurrent)

    /// Runs `body` on the blocking-I/O queue and returns its result, or rethrows its typed error.
    package static func run<T: Sendable, E: Error>(_ body: @escaping @Sendable () throws(E) -> T) async throws(E) -> T {
        let result: Result<T, E> = await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: Result { () throws(E) in try body() }) }
        }
        return try result.get()
    }
}
