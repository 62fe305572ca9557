import EventLog
import JSON
import NATS
import SystemIO

/// Copies the engine's stream into a local log with the same offsets, times and contents, so every
/// reader of the local format (delivery, `GET /v1/events`, `tail`, `verify`, `archive`, proofs) works
/// on an engine-backed process: the local records get their CRC, hash chain and segments from the
/// local writer, identical in every copy (same events, same order, same times).
///
/// The local log must hold nothing but a prefix of the stream (a data directory used with the local
/// engine before is refused). Only the mirror appends to it, never past a segment roll point in one
/// group (`EventLog.segmentCut`), so copies with the same `--segment-bytes` have the same segment
/// boundaries (an archive written by one sealer can be continued by another).
package final class EventMirror: Sendable {
    /// Why the mirror cannot start.
    package struct Mismatch: Error, CustomStringConvertible {
        package let description: String
    }

    /// The most events copied per local append.
    package static let batchCountMax = JetStreamEventLog.readCountMax

    package let engine: JetStreamEventLog
    package let local: EventLog
    private let logger: Logger

    package init(engine: JetStreamEventLog, local: EventLog, logger: Logger) {
        self.engine = engine
        self.local = local
        self.logger = logger
    }

    /// Checks that the local log is a prefix of the stream (its last event is the stream's event at that offset).
    /// - Throws: `Mismatch` naming the offset; `EventSourceError` when either side cannot be read.
    package func checkPrefix() async throws {
        let localNext = local.nextOffset
        guard localNext > 0 else { return }
        let head = try await engine.refreshHead()
        guard localNext <= head else {
            throw Mismatch(description: "the local log holds \(localNext) events, the engine's stream \(head): this data directory belongs to another log")
        }
        let mine = try await local.read(from: localNext - 1, countMax: 1).first
        let theirs = try await engine.read(from: localNext - 1, countMax: 1).first
        guard let mine, let theirs, mine.eventID == theirs.eventID, mine.data == theirs.data else {
            throw Mismatch(description: "the local event at offset \(localNext - 1) is not the engine's: this data directory belongs to another log")
        }
    }

    /// Copies one batch (at most `batchCountMax` events) from the local head on; returns how many.
    /// - Throws: `EventSourceError` from the stream, `EventLogError` from the local append.
    @discardableResult
    package func copyBatch() async throws -> Int {
        let records = try await engine.read(from: local.nextOffset, countMax: Self.batchCountMax)
        guard !records.isEmpty else { return 0 }
        let expected = local.nextOffset
        guard records[0].offset == expected else {
            throw Mismatch(description: "the stream answered offset \(records[0].offset) for \(expected)")
        }
        let events = records.map {
            NewEvent(organizationID: $0.organizationID, type: $0.type, eventID: $0.eventID, data: $0.data, timestampMs: $0.timestampMs)
        }
        // Never past a roll point in one group: every copy with the same roll size cuts segments at the same offsets.
        let count = EventLog.segmentCut(events[...], activeSizeBytes: local.activeSegmentSizeBytes, segmentSizeBytesMax: local.segmentSizeBytesMax)
        let appended = try await local.append(batch: Array(events.prefix(count)))
        guard appended.first?.offset == expected else {
            throw Mismatch(description: "the local log appended at \(appended.first?.offset ?? 0), the stream's offset is \(expected): another writer appends here")
        }
        return count
    }

    /// Copies until cancelled: a core subscription to the stream's subject rings on every publish; without
    /// one the mirror looks every `idleSeconds`. Failures are logged and retried after a pause.
    package func run(connection: NATSConnection, idleSeconds: Double = 1) async {
        let doorbell = try? connection.subscribe(JetStreamEventLog.subject, messagesMax: 64, bytesMax: 1_048_576)
        defer { doorbell?.unsubscribe() }
        var failures = 0
        while !Task.isCancelled {
            do {
                if try await copyBatch() > 0 {
                    failures = 0
                    continue
                }
                failures = 0
                if let doorbell {
                    // A ring, a timeout and an overflow all mean "look again".
                    _ = try? await doorbell.next(timeoutSeconds: idleSeconds)
                    while doorbell.queuedCount > 0 { _ = try? await doorbell.next(timeoutSeconds: 0) }
                } else {
                    try? await Task.sleep(nanoseconds: UInt64(idleSeconds * 1e9))
                }
            } catch {
                failures += 1
                if failures == 1 || failures % 60 == 0 {
                    logger.error("copying the engine's stream into the local log failed; retrying", [("error", .string(String(describing: error)))])
                }
                try? await Task.sleep(nanoseconds: 500_000_000)
            }
        }
    }
}
