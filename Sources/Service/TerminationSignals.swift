import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// SIGTERM and SIGINT as an async stream, for a server that stops on them (`serve`), and the one place
/// that keeps the process's signal sources alive.
public enum TerminationSignals {
    nonisolated(unsafe) private static var sources: [any DispatchSourceSignal] = []

    /// From now on SIGTERM and SIGINT are not fatal to this process: each is yielded by the returned
    /// stream (call once, before the server tells anyone it is up, so an early signal is kept).
    public static func stream() -> AsyncStream<Int32> {
        AsyncStream<Int32> { continuation in
            for signalNumber in [SIGTERM, SIGINT] {
                signal(signalNumber, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .main)
                source.setEventHandler { continuation.yield(signalNumber) }
                source.resume()
                keep(source)
            }
        }
    }

    /// Keeps `source` alive for the life of the process (set up from `main` only).
    static func keep(_ source: any DispatchSourceSignal) { sources.append(source) }
}
