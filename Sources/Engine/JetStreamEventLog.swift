import EventLog
import JSON
import NATS
import Synchronization
import SystemIO

/// The log kept in a NATS JetStream stream (`ARGUS_EVENTS`, file storage, replicated, deletes and
/// purges denied), so several `serve` processes share it. Offset = stream sequence − 1. Each message's
/// body is the event's envelope without `offset` (readable with NATS tools); the fields are repeated
/// in headers so readers take `data` byte for byte. An append is acknowledged after JetStream's
/// publish ack (quorum of the replicas); the event id is the `Nats-Msg-Id`, so a retried append within
/// the stream's 2-minute duplicate window is not stored twice.
///
/// Not the local log: records carry no chain hash (the sealer computes the chain when it writes
/// local-format segments), and timestamps come from each appending process's clock, so they are only
/// as ordered as the processes' clocks are in step.
package final class JetStreamEventLog: EventSource, EventAppender, Sendable {
    /// The stream's name.
    package static let streamName = "ARGUS_EVENTS"
    /// The one subject events are published on.
    package static let subject = "argus.events"
    /// The most events one `read` returns.
    package static let readCountMax = 1_024
    /// How long an append retries transient failures (no leader, lost connection) with the same event id, in seconds.
    package static let appendRetrySeconds = 15.0

    static let eventIDHeader = "Argus-Event-Id"
    static let typeHeader = "Argus-Type"
    static let organizationHeader = "Argus-Organization-Id"
    static let timestampHeader = "Argus-Timestamp-Ms"
    static let dataStartHeader = "Argus-Data-Start"

    /// The JetStream API used.
    package let jetStream: JetStream
    private let head: Mutex<UInt64>
    private let nowMs: @Sendable () -> Int64

    private init(jetStream: JetStream, head: UInt64, nowMs: @escaping @Sendable () -> Int64) {
        self.jetStream = jetStream
        self.head = Mutex(head)
        self.nowMs = nowMs
    }

    /// Creates the stream when it does not exist (`replicas` copies: min(3, cluster size) in production)
    /// and reads its head.
    /// - Throws: `JetStreamError`.
    package static func open(_ jetStream: JetStream, replicas: Int, nowMs: @escaping @Sendable () -> Int64 = SystemClock.nowMs) async throws(JetStreamError) -> JetStreamEventLog {
        var configuration = JetStreamStreamConfiguration(name: streamName, subjects: [subject])
        configuration.replicas = replicas
        configuration.denyDelete = true
        configuration.denyPurge = true
        configuration.duplicateWindowSeconds = 120
        let state = try await jetStream.createStream(configuration)
        return JetStreamEventLog(jetStream: jetStream, head: state.lastSequence, nowMs: nowMs)
    }

    /// Opens the stream that `open` created (for readers such as `tail --engine`: nothing is created).
    /// - Throws: `api` with code 404 when the engine has no `ARGUS_EVENTS` stream; other `JetStreamError`s.
    package static func attach(_ jetStream: JetStream) async throws(JetStreamError) -> JetStreamEventLog {
        let state = try await jetStream.streamInfo(streamName)
        return JetStreamEventLog(jetStream: jetStream, head: state.lastSequence, nowMs: SystemClock.nowMs)
    }

    /// The offset the next event will get, as last learned (appends by other processes are learned by
    /// `refreshHead()` or a read that reaches the known head).
    package var nextOffset: UInt64 { head.withLock { $0 } }

    /// Asks the stream for its head; returns the next offset.
    @discardableResult
    package func refreshHead() async throws(JetStreamError) -> UInt64 {
        let state = try await jetStream.streamInfo(Self.streamName)
        return learn(state.lastSequence)
    }

    @discardableResult
    private func learn(_ lastSequence: UInt64) -> UInt64 {
        head.withLock { current in
            current = max(current, lastSequence)
            return current
        }
    }

    /// Appends each event in order, each acknowledged by JetStream before the next is sent (a batch is
    /// not atomic: after a failure the earlier events are stored; retrying the batch with the same
    /// event ids stores each once).
    /// - Throws: `JetStreamError` when an append still fails after `appendRetrySeconds` of retries.
    package func append(batch events: [NewEvent]) async throws -> [AppendedEvent] {
        var appended: [AppendedEvent] = []
        for event in events {
            let timestampMs = nowMs()
            let (headers, body) = Self.message(event, timestampMs: timestampMs)
            let start = SystemClock.monotonicSeconds()
            while true {
                let failure: JetStreamError
                do {
                    let ack = try await jetStream.publish(Self.subject, payload: body, headers: headers, messageID: event.eventID)
                    learn(ack.sequence)
                    appended.append(AppendedEvent(event, offset: ack.sequence - 1, timestampMs: timestampMs))
                    break
                } catch {
                    failure = error
                }
                guard failure.isTransient && SystemClock.monotonicSeconds() - start < Self.appendRetrySeconds else { throw failure }
                try await Task.sleep(nanoseconds: 100_000_000)
            }
        }
        return appended
    }

    /// The headers and body of `event`'s message: the envelope without `offset`, `data` last.
    static func message(_ event: NewEvent, timestampMs: Int64) -> (NATSHeaders, [UInt8]) {
        var body: [UInt8] = []
        body.reserveCapacity(event.data.count + 200)
        body += Array(#"{"id":"#.utf8)
        JSONValue.appendString(event.eventID, to: &body)
        body += Array(#","type":"#.utf8)
        JSONValue.appendString(event.type, to: &body)
        body += Array(#","timestamp":""#.utf8)
        body += Array(Timestamp.format(ms: timestampMs).utf8)
        body += Array(#"","organization_id":"#.utf8)
        JSONValue.appendString(event.organizationID, to: &body)
        body += Array(#","data":"#.utf8)
        let dataStart = body.count
        body += event.data.isEmpty ? Array("null".utf8) : event.data
        body.append(UInt8(ascii: "}"))
        var headers = NATSHeaders()
        headers.append(eventIDHeader, event.eventID)
        headers.append(typeHeader, event.type)
        headers.append(organizationHeader, event.organizationID)
        headers.append(timestampHeader, String(timestampMs))
        headers.append(dataStartHeader, String(dataStart))
        return (headers, body)
    }

    /// The record of a stored message, or nil when it is not an event message this type wrote.
    static func record(_ message: JetStreamMessage) -> EventRecord? {
        guard let headers = message.headers, let eventID = headers[eventIDHeader], let type = headers[typeHeader],
              let organization = headers[organizationHeader], let timestamp = headers[timestampHeader].flatMap({ Int64($0) }),
              let dataStart = headers[dataStartHeader].flatMap({ Int($0) }),
              dataStart >= 0, dataStart < message.payload.count, message.payload.last == UInt8(ascii: "}") else { return nil }
        var data = Array(message.payload[dataStart..<(message.payload.count - 1)])
        if data == Array("null".utf8) { data = [] }
        let event = NewEvent(organizationID: organization, type: type, eventID: eventID, data: data)
        return EventRecord(event, offset: message.sequence - 1, timestampMs: timestamp, chainHash: [])
    }
}
