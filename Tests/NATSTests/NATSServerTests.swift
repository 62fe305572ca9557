import ArgusTestSupport
import Foundation
import JSON
@testable import NATS
import Testing

/// The client against one real nats-server: core protocol, JetStream publishes, reads and key-value.
@Suite(.enabled(if: NATSTestPeer.isAvailable, "nats-server not installed (Debian package nats-server)"), .timeLimit(.minutes(2)))
struct NATSServerTests {
    @Test func requestReplyAndHeadersOverCoreNATS() async throws {
        let cluster = try await NATSServerCluster(nodeCount: 1)
        defer { cluster.stop() }
        let connection = try await NATSConnection.connect(servers: cluster.url, options: NATSTestPeer.options)
        defer { connection.close() }
        #expect(connection.serverInfo?.supportsHeaders == true)
        let service = try connection.subscribe("svc.echo", messagesMax: 8)
        var headers = NATSHeaders()
        headers.append("X-Trace", "t-1")
        async let answer = connection.request("svc.echo", payload: Array("ping".utf8), headers: headers, timeoutSeconds: 5)
        let received = try #require(try await service.next(timeoutSeconds: 5), "the service saw no request")
        #expect(received.headers?["X-Trace"] == "t-1")
        #expect(received.payload == Array("ping".utf8))
        try connection.publish(try #require(received.replyTo), payload: Array("pong".utf8))
        #expect(try await answer.payload == Array("pong".utf8))
        await #expect(throws: NATSError.noResponders(subject: "nobody.here")) {
            try await connection.request("nobody.here", payload: [], timeoutSeconds: 5)
        }
        #expect(throws: NATSError.self) { try connection.publish("big", payload: Array(repeating: 0, count: 1_048_577)) }
        try await connection.flush()
    }

    @Test func publishesAreAcknowledgedDeduplicatedAndReadBack() async throws {
        let (cluster, jetStream) = try await NATSTestPeer.singleNodeJetStream()
        defer { cluster.stop() }
        defer { jetStream.connection.close() }
        var configuration = JetStreamStreamConfiguration(name: "EVENTS", subjects: ["events.>"])
        configuration.denyDelete = true
        configuration.denyPurge = true
        _ = try await jetStream.createStream(configuration)
        _ = try await jetStream.createStream(configuration)  // again: accepted
        var sequences: [UInt64] = []
        for index in 1...5 {
            let ack = try await jetStream.publish("events.org1", payload: Array("event \(index)".utf8), messageID: "id-\(index)")
            #expect(!ack.isDuplicate)
            sequences.append(ack.sequence)
        }
        #expect(sequences == [1, 2, 3, 4, 5])
        let repeated = try await jetStream.publish("events.org1", payload: Array("event 3 again".utf8), messageID: "id-3")
        #expect(repeated.isDuplicate && repeated.sequence == 3)
        let state = try await jetStream.streamInfo("EVENTS")
        #expect(state.messages == 5 && state.lastSequence == 5)
        let third = try #require(try await jetStream.message(stream: "EVENTS", sequence: 3))
        #expect(third.payload == Array("event 3".utf8) && third.subject == "events.org1" && third.headers?["Nats-Msg-Id"] == "id-3")
        #expect(try await jetStream.message(stream: "EVENTS", sequence: 99) == nil)
        let consumer = try await jetStream.createPullConsumer(stream: "EVENTS", startSequence: 2)
        #expect(consumer.pendingAtCreation == 4)
        let fetched = try await jetStream.fetch(consumer, batch: 10, noWait: true)
        #expect(fetched.map(\.sequence) == [2, 3, 4, 5])
        #expect(fetched.map { String(decoding: $0.payload, as: UTF8.self) } == ["event 2", "event 3", "event 4", "event 5"])
        await #expect(throws: JetStreamError.self) {
            try await jetStream.publish("events.org1", payload: [], expectedLastSequence: 4)
        }
        await #expect(throws: JetStreamError.self) { try await jetStream.streamInfo("MISSING") }
    }

    @Test func keyValueCreateCompareAndSetAndDelete() async throws {
        let (cluster, jetStream) = try await NATSTestPeer.singleNodeJetStream()
        defer { cluster.stop() }
        defer { jetStream.connection.close() }
        let bucket = try await KeyValueBucket.create("ARGUS_TEST", in: jetStream)
        #expect(try await bucket.get("a") == nil)
        let first = try await bucket.create("a", Array("1".utf8))
        await #expect(throws: JetStreamError.keyExists(key: "a", revision: first)) { try await bucket.create("a", Array("x".utf8)) }
        let second = try await bucket.update("a", Array("2".utf8), revision: first)
        await #expect(throws: JetStreamError.revisionMismatch(key: "a", expectedRevision: first)) {
            try await bucket.update("a", Array("stale".utf8), revision: first)
        }
        #expect(try await bucket.get("a") == KeyValueEntry(key: "a", value: Array("2".utf8), revision: second, isDeleted: false))
        try await bucket.put("b", Array("b".utf8))
        #expect(Set(try await bucket.keys()) == ["a", "b"])
        await #expect(throws: JetStreamError.revisionMismatch(key: "a", expectedRevision: first)) { try await bucket.delete("a", revision: first) }
        try await bucket.delete("a", revision: second)
        #expect(try await bucket.get("a") == nil)
        #expect(try await bucket.entry("a")?.isDeleted == true)
        #expect(try await bucket.keys() == ["b"])
        let recreated = try await bucket.create("a", Array("3".utf8))
        #expect(try await bucket.get("a")?.revision == recreated)
        await #expect(throws: JetStreamError.self) { try await bucket.put("bad key", []) }
    }

    @Test func concurrentCompareAndSetLosesNoIncrement() async throws {
        let cluster = try await NATSServerCluster(nodeCount: 1)
        defer { cluster.stop() }
        let jetStreams = try await (0..<3).asyncMap { _ in
            JetStream(connection: try await NATSConnection.connect(servers: cluster.url, options: NATSTestPeer.options))
        }
        defer { for jetStream in jetStreams { jetStream.connection.close() } }
        try await NATSTestPeer.waitForJetStream(jetStreams[0])
        let bucket = try await KeyValueBucket.create("COUNTER", in: jetStreams[0])
        try await bucket.create("n", Array("0".utf8))
        let incrementsPerWriter = 20
        let conflicts = try await withThrowingTaskGroup(of: Int.self) { group in
            for jetStream in jetStreams {
                group.addTask {
                    let mine = KeyValueBucket(jetStream: jetStream, name: "COUNTER")
                    var conflicts = 0
                    for _ in 0..<incrementsPerWriter {
                        while true {
                            let entry = try #require(try await mine.get("n"))
                            let value = Int(String(decoding: entry.value, as: UTF8.self))! + 1
                            do {
                                try await mine.update("n", Array(String(value).utf8), revision: entry.revision)
                                break
                            } catch JetStreamError.revisionMismatch {
                                conflicts += 1
                            }
                        }
                    }
                    return conflicts
                }
            }
            return try await group.reduce(0, +)
        }
        let final = try #require(try await bucket.get("n"))
        #expect(String(decoding: final.value, as: UTF8.self) == String(3 * incrementsPerWriter))
        print("NATSServerTests: \(conflicts) compare-and-set conflicts among 3 writers")
    }

    @Test func reconnectsAndResubscribesAfterTheServerRestarts() async throws {
        let cluster = try await NATSServerCluster(nodeCount: 1)
        defer { cluster.stop() }
        let connection = try await NATSConnection.connect(servers: cluster.url, options: NATSTestPeer.options)
        defer { connection.close() }
        let subscription = try connection.subscribe("after.restart")
        try await cluster.restart(node: 0)
        let deadline = Date().addingTimeInterval(20)
        while connection.reconnectCount == 0 || connection.connectedServer == nil {
            guard Date() < deadline else {
                Issue.record("no reconnect within 20 s")
                return
            }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        try await connection.flush()
        try connection.publish("after.restart", payload: Array("again".utf8))
        #expect(try await subscription.next(timeoutSeconds: 5)?.payload == Array("again".utf8))
    }

    /// A restart whose client port another process took while the node was down waits until the port is free and
    /// starts the node again on it (the ports stay: clients know them).
    @Test func aRestartWhosePortWasTakenStartsAgainOnceItIsFree() async throws {
        let cluster = try await NATSServerCluster(nodeCount: 1)
        defer { cluster.stop() }
        await cluster.kill(node: 0)
        let holder = try NATSServerCluster.boundLoopbackSocket(port: cluster.clientPorts[0])
        #expect(listen(holder, 1) == 0)
        let restart = Task { try await cluster.restart(node: 0) }
        let retried = await eventually(seconds: 30) { cluster.portTakenCount == 1 }
        close(holder)
        try await restart.value
        #expect(retried, "the first start found the port taken")
        let connection = try await NATSConnection.connect(servers: cluster.url, options: NATSTestPeer.options)
        defer { connection.close() }
        try await connection.flush()
    }
}

extension Sequence {
    /// `map` with an async transform, in order.
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var result: [T] = []
        for element in self { result.append(try await transform(element)) }
        return result
    }
}

/// Every queue and map of the client has a limit that is enforced (against a real nats-server).
@Suite(.enabled(if: NATSTestPeer.isAvailable, "nats-server not installed (Debian package nats-server)"), .timeLimit(.minutes(2)))
struct NATSLimitTests {
    @Test func pendingRequestsSubscriptionsAndTheOutboundBufferAreBounded() async throws {
        let cluster = try await NATSServerCluster(nodeCount: 1)
        defer { cluster.stop() }
        var options = NATSTestPeer.options
        options.requestsPendingMax = 2
        options.subscriptionsMax = 2
        options.outboundBytesMax = 4_096
        let connection = try await NATSConnection.connect(servers: cluster.url, options: options)
        defer { connection.close() }
        // A responder that never answers keeps two requests pending; the third is refused at once.
        let silent = try connection.subscribe("silent")
        async let first = connection.request("silent", payload: [], timeoutSeconds: 10)
        async let second = connection.request("silent", payload: [], timeoutSeconds: 10)
        for _ in 0..<2 { _ = try #require(try await silent.next(timeoutSeconds: 5), "the silent responder saw both requests") }
        await #expect(throws: NATSError.tooManyPendingRequests(requestsMax: 2)) {
            try await connection.request("silent", payload: [], timeoutSeconds: 10)
        }
        connection.close()
        var failures: [String] = []
        do { _ = try await first } catch { failures.append("\(error)") }
        do { _ = try await second } catch { failures.append("\(error)") }
        #expect(failures == [NATSError.closed.description, NATSError.closed.description], "closing fails what waits")

        let other = try await NATSConnection.connect(servers: cluster.url, options: options)
        defer { other.close() }
        _ = try other.subscribe("a")
        _ = try other.subscribe("b")
        #expect(throws: NATSError.self) { try other.subscribe("c") }
        #expect(throws: NATSError.outboundBufferFull(bytesMax: 4_096)) { try other.publish("x", payload: Array(repeating: 0, count: 5_000)) }
        try other.publish("x", payload: Array(repeating: 0, count: 1_000))
    }

    @Test func aSubscriptionThatOverflowsSaysHowManyItDropped() async throws {
        let cluster = try await NATSServerCluster(nodeCount: 1)
        defer { cluster.stop() }
        let connection = try await NATSConnection.connect(servers: cluster.url, options: NATSTestPeer.options)
        defer { connection.close() }
        let subscription = try connection.subscribe("burst", messagesMax: 2)
        try await connection.flush()
        for index in 0..<5 { try connection.publish("burst", payload: [UInt8(index)]) }
        try await connection.flush()
        let deadline = Date().addingTimeInterval(5)
        while subscription.queuedCount < 2 && Date() < deadline { try await Task.sleep(nanoseconds: 10_000_000) }
        await #expect(throws: NATSError.slowConsumer(subject: "burst", dropped: 3)) { try await subscription.next(timeoutSeconds: 1) }
        #expect(try await subscription.next(timeoutSeconds: 1)?.payload == [0])
        #expect(try await subscription.next(timeoutSeconds: 1)?.payload == [1])
        #expect(try await subscription.next(timeoutSeconds: 0.2) == nil)
    }

    @Test func aSubscriptionQueueIsCappedByBytes() async throws {
        let cluster = try await NATSServerCluster(nodeCount: 1)
        defer { cluster.stop() }
        let connection = try await NATSConnection.connect(servers: cluster.url, options: NATSTestPeer.options)
        defer { connection.close() }
        let subscription = try connection.subscribe("large", messagesMax: 1_000, bytesMax: 2_500)
        try await connection.flush()
        for index in 0..<5 { try connection.publish("large", payload: Array(repeating: UInt8(index), count: 1_000)) }
        try await connection.flush()
        let deadline = Date().addingTimeInterval(5)
        while subscription.queuedCount < 2 && Date() < deadline { try await Task.sleep(nanoseconds: 10_000_000) }
        try await connection.flush()
        #expect(subscription.queuedByteCount == 2_000)
        await #expect(throws: NATSError.slowConsumer(subject: "large", dropped: 3)) { try await subscription.next(timeoutSeconds: 1) }
        #expect(try await subscription.next(timeoutSeconds: 1)?.payload.first == 0)
        #expect(try await subscription.next(timeoutSeconds: 1)?.payload.first == 1)
        #expect(subscription.queuedByteCount == 0)
    }
}
