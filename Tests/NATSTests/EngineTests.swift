import ArgusTestSupport
import Engine
import EventLog
import Foundation
import NATS
import Synchronization
import Testing

/// The lease rule as a pure value.
@Suite struct LeaseObservationTests {
    @Test func expiresOnlyAfterTheRevisionStayedUnchangedForTheDuration() {
        var observation = LeaseObservation()
        let second: UInt64 = 1_000_000_000
        var answers: [Bool] = []
        for (revision, seconds) in [(5, 1), (5, 10), (6, 12), (6, 21), (6, 22)] as [(UInt64, UInt64)] {
            answers.append(observation.observe(revision: revision, nowNs: seconds * second, durationNs: 10 * second))
        }
        // A renewal (revision 6) restarts the wait; 10 s unchanged after it, the holder is gone.
        #expect(answers == [false, false, false, false, true])
    }

    @Test func localLeasesHaveOneHolderUntilReleased() async throws {
        let book = LocalLeaseBook()
        let lease = try #require(try await book.acquire("wh_1", holder: "a"))
        #expect(try await book.acquire("wh_1", holder: "b") == nil)
        let renewed = try #require(try await book.renew(lease))
        #expect(try await book.renew(lease) == nil, "a stale lease cannot be renewed")
        try await book.release(renewed)
        #expect(try await book.acquire("wh_1", holder: "b") != nil)
    }
}

/// The JetStream engine's log, cursors and leases against a real nats-server.
@Suite(.enabled(if: NATSTestPeer.isAvailable, "nats-server not installed (Debian package nats-server)"), .timeLimit(.minutes(2)))
struct EngineTests {
    @Test func eventsAppendedByOneProcessAreReadDenselyByAnother() async throws {
        let (cluster, jetStream) = try await NATSTestPeer.singleNodeJetStream()
        defer { cluster.stop() }
        defer { jetStream.connection.close() }
        let clock = Mutex<Int64>(1_780_000_000_000)
        let log = try await JetStreamEventLog.open(jetStream, replicas: 1, nowMs: { clock.withLock { $0 += 1_000; return $0 } })
        #expect(log.nextOffset == 0)
        let events = (0..<5).map { NewEvent(organizationID: "org_\($0 % 2)", type: "user.created", eventID: "evt_\($0)", data: Array(#"{"n": \#($0), "s":"é"}"#.utf8)) }
        let appended = try await log.append(batch: events)
        #expect(appended.map(\.offset) == [0, 1, 2, 3, 4])
        let again = try await log.append(batch: [events[2]])
        #expect(again.map(\.offset) == [2], "a retried event id is stored once")

        let other = try await NATSConnection.connect(servers: cluster.url, options: NATSTestPeer.options)
        defer { other.close() }
        let reader = try await JetStreamEventLog.open(JetStream(connection: other), replicas: 1)
        #expect(reader.nextOffset == 5)
        let records = try await reader.read(from: 1, countMax: 10)
        #expect(records.map(\.offset) == [1, 2, 3, 4])
        #expect(records.map(\.eventID) == ["evt_1", "evt_2", "evt_3", "evt_4"])
        #expect(records[0].data == events[1].data, "data byte for byte")
        #expect(records[0].organizationID == "org_1" && records[0].type == "user.created" && records[0].timestampMs == appended[1].timestampMs)
        #expect(try await reader.read(from: 5, countMax: 10).isEmpty)
        #expect(try await reader.read(from: 0, countMax: 2).map(\.offset) == [0, 1])
        #expect(try await reader.firstOffset(atOrAfterTimeMs: appended[3].timestampMs) == 3)
        #expect(try await reader.firstOffset(atOrAfterTimeMs: appended[4].timestampMs + 1) == 5)
        #expect(try await reader.firstOffset(atOrAfterTimeMs: 0) == 0)
        let body = try #require(try await jetStream.message(stream: JetStreamEventLog.streamName, sequence: 1)).payload
        #expect(String(decoding: body, as: UTF8.self).hasPrefix(#"{"id":"evt_0","type":"user.created","timestamp":"#), "NATS tools show the envelope")
        _ = try await log.append(batch: [NewEvent(organizationID: "org_0", type: "user.created", eventID: "evt_5", data: [])])
        #expect(try await reader.read(from: 5, countMax: 10).map(\.eventID) == ["evt_5"], "a read at the head learns the new head")
    }

    /// An empty fetch below the head the log knows is not "nothing more": it is a stream that cannot serve those
    /// events now (a consumer not ready while leaders are elected, here a stream replaced by hand), reported as
    /// `engineUnavailable` so that `tail --engine` retries or fails instead of ending early with exit 0.
    @Test func anEmptyFetchBelowTheKnownHeadIsEngineUnavailableNotTheEnd() async throws {
        let (cluster, jetStream) = try await NATSTestPeer.singleNodeJetStream()
        defer { cluster.stop() }
        defer { jetStream.connection.close() }
        let log = try await JetStreamEventLog.open(jetStream, replicas: 1)
        _ = try await log.append(batch: (0..<3).map { NewEvent(organizationID: "org_a", type: "user.created", eventID: "evt_\($0)", data: Array("{}".utf8)) })
        #expect(log.nextOffset == 3)
        try await jetStream.deleteStream(JetStreamEventLog.streamName)
        _ = try await JetStreamEventLog.open(jetStream, replicas: 1)
        do {
            let records = try await log.read(from: 1, countMax: 10)
            Issue.record("an empty fetch below the known head answered \(records.count) events as if the stream ended")
        } catch {
            guard case .engineUnavailable(let offset, let reason) = error else {
                Issue.record("expected engineUnavailable, got \(error)")
                return
            }
            #expect(offset == 1 && reason.contains("returned none"), "\(reason)")
        }
    }

    @Test func aCursorMovedByAnotherProcessRefusesTheStaleWriter() async throws {
        let (cluster, jetStream) = try await NATSTestPeer.singleNodeJetStream()
        defer { cluster.stop() }
        defer { jetStream.connection.close() }
        let first = try await JetStreamCursors.open(jetStream, replicas: 1)
        let otherConnection = try await NATSConnection.connect(servers: cluster.url, options: NATSTestPeer.options)
        defer { otherConnection.close() }
        let second = try await JetStreamCursors.open(JetStream(connection: otherConnection), replicas: 1)
        #expect(try await first.committedOffset(of: "wh_1") == nil)
        try await first.commit("wh_1", offset: 5)
        try await first.commit("wh_1", offset: 9)
        #expect(try await second.committedOffset(of: "wh_1") == 9)
        try await second.commit("wh_1", offset: 12)
        await #expect(throws: JetStreamError.self) { try await first.commit("wh_1", offset: 10) }
        #expect(try await first.committedOffset(of: "wh_1") == 12)
        try await first.commit("wh_1", offset: 3)  // a replay moves it back
        #expect(try await second.committedOffset(of: "wh_1") == 3)
        try await second.remove("wh_1")
        #expect(try await first.committedOffset(of: "wh_1") == nil)
    }

    @Test func bucketLimitsDropTheOldestOrRefuseTheWrite() async throws {
        let (cluster, jetStream) = try await NATSTestPeer.singleNodeJetStream()
        defer { cluster.stop() }
        defer { jetStream.connection.close() }
        let dropping = try await KeyValueBucket.create("DROPPING", in: jetStream,
                                                       limits: KeyValueBucket.Limits(entriesMax: 3, ageSecondsMax: 3600, valueBytesMax: 64, dropsOldest: true))
        for n in 0..<5 { try await dropping.put("k\(n)", Array("v\(n)".utf8)) }
        #expect(Set(try await dropping.keys()) == ["k2", "k3", "k4"], "the oldest entries went")
        await #expect(throws: JetStreamError.self, "a value over valueBytesMax is refused") {
            try await dropping.put("big", [UInt8](repeating: 65, count: 65))
        }
        let info = try await jetStream.streamInfo(dropping.streamName)
        #expect(info.messagesMax == 3 && info.ageSecondsMax == 3600)

        let refusing = try await KeyValueBucket.create("REFUSING", in: jetStream, limits: KeyValueBucket.Limits(entriesMax: 2))
        try await refusing.put("a", [1])
        try await refusing.put("b", [2])
        await #expect(throws: JetStreamError.self, "a full bucket refuses a new entry") { try await refusing.put("c", [3]) }
        #expect(try await refusing.get("a")?.value == [1], "nothing was dropped")
        try await refusing.put("a", [9])
        try await refusing.delete("b")
        #expect(try await refusing.get("a")?.value == [9], "a full bucket still replaces its keys")
        #expect(try await refusing.get("b") == nil, "and deletes them")
        await #expect(throws: JetStreamError.self) {
            try await KeyValueBucket.create("BAD", in: jetStream, limits: KeyValueBucket.Limits(entriesMax: 0))
        }
    }

    @Test func aLeaseIsTakenOverOnlyAfterItsHolderStopsRenewing() async throws {
        let (cluster, jetStream) = try await NATSTestPeer.singleNodeJetStream()
        defer { cluster.stop() }
        defer { jetStream.connection.close() }
        let durationSeconds = 1.0
        let holder = try await JetStreamLeaseBook.open(jetStream, replicas: 1, durationSeconds: durationSeconds)
        let otherConnection = try await NATSConnection.connect(servers: cluster.url, options: NATSTestPeer.options)
        defer { otherConnection.close() }
        let observer = try await JetStreamLeaseBook.open(JetStream(connection: otherConnection), replicas: 1, durationSeconds: durationSeconds)
        let lease = try #require(try await holder.acquire("wh_1", holder: "process-a"))
        #expect(try await observer.acquire("wh_1", holder: "process-b") == nil, "a fresh lease is not taken")
        let renewed = try #require(try await holder.renew(lease))
        #expect(try await holder.acquire("wh_1", holder: "process-a") != nil, "the holder may take its own lease again")
        // The holder stops renewing: the observer takes over once the entry stayed unchanged for the duration.
        let deadline = Date().addingTimeInterval(10)
        var taken: Lease?
        while taken == nil {
            guard Date() < deadline else {
                Issue.record("no takeover within 10 s of a \(durationSeconds) s lease")
                return
            }
            taken = try await observer.acquire("wh_1", holder: "process-b")
            if taken == nil { try await Task.sleep(nanoseconds: 100_000_000) }
        }
        #expect(taken?.holder == "process-b")
        #expect(try await holder.renew(renewed) == nil, "the old holder learns it lost the lease")
        try await observer.release(try #require(taken))
        #expect(try await holder.acquire("wh_1", holder: "process-a") != nil, "a released lease is free at once")
    }
}

/// `argus-events tail --engine URL` against a real nats-server.
@Suite(.enabled(if: NATSTestPeer.isAvailable, "nats-server not installed (Debian package nats-server)"), .timeLimit(.minutes(2)))
struct EngineTailCommandTests {
    @Test func tailReadsTheEngineStream() async throws {
        let (cluster, jetStream) = try await NATSTestPeer.singleNodeJetStream()
        defer { cluster.stop() }
        defer { jetStream.connection.close() }
        let missing = try await ChildProcess.run(BuiltProduct.argusEvents, ["tail", "--engine", cluster.url], timeoutSeconds: 30)
        #expect(missing.status != 0 && missing.errors.contains("ARGUS_EVENTS"), "no stream yet: \(missing.errors)")

        let log = try await JetStreamEventLog.open(jetStream, replicas: 1)
        let events = (0..<4).map { NewEvent(organizationID: "org_\($0 % 2)", type: $0 == 3 ? "user.login" : "user.created", eventID: "evt_\($0)",
                                            data: Array(#"{"n":\#($0)}"#.utf8)) }
        _ = try await log.append(batch: events)
        let records = try await log.read(from: 0, countMax: 10)
        let expected = records.map { String(decoding: $0.envelope(), as: UTF8.self) }

        let all = try await ChildProcess.run(BuiltProduct.argusEvents, ["tail", "--engine", cluster.url], timeoutSeconds: 30)
        #expect(all.status == 0, "\(all.errors)")
        #expect(all.output.split(separator: "\n").map(String.init) == expected)
        let last = try await ChildProcess.run(BuiltProduct.argusEvents, ["tail", "--engine", cluster.url, "--from", "-2", "--org", "org_1"], timeoutSeconds: 30)
        #expect(last.output.split(separator: "\n").map(String.init) == [expected[3]])
        let fromOne = try await ChildProcess.run(BuiltProduct.argusEvents, ["tail", "--engine", cluster.url, "--from", "1", "--count", "2"], timeoutSeconds: 30)
        #expect(fromOne.output.split(separator: "\n").map(String.init) == Array(expected[1...2]))
        let bad = try await ChildProcess.run(BuiltProduct.argusEvents, ["tail", "--engine", "http://x"], timeoutSeconds: 30)
        #expect(bad.status == 2 && bad.errors.contains("nats://"), "a bad server list is a usage error: \(bad.errors)")
    }
}
