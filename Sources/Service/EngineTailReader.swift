import Engine
import EventLog
import NATS
import SystemIO

/// `tail --engine URL`: reads the engine's `ARGUS_EVENTS` stream directly, in batches of 256.
public struct EngineTailReader: Sendable {
    let log: JetStreamEventLog
    private var position: UInt64 = 0
    private var buffered: [EventRecord] = []

    /// Connects to the servers of `url` and opens the stream (nothing is created).
    /// - Throws: `NATSError` (`EngineBinding.serverListProblem` tells a bad server list) or `JetStreamError`
    ///   naming the failure.
    public static func attach(url: String) async throws -> EngineTailReader {
        let connection = try await NATSConnection.connect(servers: url)
        return EngineTailReader(log: try await JetStreamEventLog.attach(JetStream(connection: connection)))
    }

    /// The offset the next appended event will get.
    public var nextOffset: UInt64 { log.nextOffset }

    /// The start offset of `--since`.
    public func start(atOrAfterTimeMs timestampMs: Int64) async throws -> LogReader.Start {
        .offset(try await log.firstOffset(atOrAfterTimeMs: timestampMs))
    }

    /// This reader positioned at `start`.
    public func starting(at start: LogReader.Start) -> EngineTailReader {
        var reader = self
        switch start {
        case .beginning: reader.position = 0
        case .end: reader.position = log.nextOffset
        case .offset(let offset): reader.position = offset
        case .time: reader.position = 0  // resolved to an offset by start(atOrAfterTimeMs:) before
        }
        return reader
    }

    /// How long a read retries an engine that cannot answer (leaders being elected after a node's death), in seconds.
    public static let readRetrySeconds = 15.0

    /// The next event, or nil when the stream holds nothing more now.
    /// - Throws: `EventSourceError.engineUnavailable` when the engine did not answer for `readRetrySeconds`.
    public mutating func next() async throws -> EventRecord? {
        if buffered.isEmpty {
            let start = SystemClock.monotonicSeconds()
            while true {
                do {
                    buffered = try await log.read(from: position, countMax: 256)
                    break
                } catch {
                    guard case .engineUnavailable = error, SystemClock.monotonicSeconds() - start < Self.readRetrySeconds else { throw error }
                }
                try await Task.sleep(nanoseconds: 200_000_000)
            }
            buffered.reverse()
        }
        guard let record = buffered.popLast() else { return nil }
        position = record.offset + 1
        return record
    }
}
