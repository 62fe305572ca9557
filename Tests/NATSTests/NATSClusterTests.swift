import ArgusTestSupport
import Foundation
import NATS
import Synchronization
import Testing

/// The client against a real 3-node JetStream cluster on loopback, with a node killed under load.
@Suite(.enabled(if: NATSTestPeer.isAvailable, "nats-server not installed (Debian package nats-server)"), .timeLimit(.minutes(3)))
struct NATSClusterTests {
    @Test func noAcknowledgedPublishIsLostWhenTheConnectedNodeIsKilled() async throws {
        let cluster = try await NATSServerCluster(nodeCount: 3)
        defer { cluster.stop() }
        let connection = try await NATSConnection.connect(servers: cluster.url(node: 0), options: NATSTestPeer.options)
        defer { connection.close() }
        let jetStream = JetStream(connection: connection)
        try await NATSTestPeer.waitForJetStream(jetStream)
        #expect(connection.knownServers.count == 3, "the cluster announces its other servers: \(connection.knownServers)")
        var configuration = JetStreamStreamConfiguration(name: "ARGUS_EVENTS", subjects: ["argus.events.>"])
        configuration.replicas = 3
        configuration.denyDelete = true
        configuration.denyPurge = true
        let created = try await NATSTestPeer.retrying("creating the R3 stream") { () throws(JetStreamError) in
            try await jetStream.createStream(configuration)
        }
        #expect(created.replicas == 3)

        let publishers = 4, perPublisher = 150, killAfter = 200
        let acknowledged = Acknowledgements()
        let connectedPort = try #require(connection.connectedServer?.port)
        let victim = try #require(cluster.clientPorts.firstIndex(of: connectedPort))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for publisher in 0..<publishers {
                group.addTask {
                    for index in 0..<perPublisher {
                        let event = publisher * perPublisher + index
                        let ack = try await NATSTestPeer.retrying("publishing event \(event)") { () throws(JetStreamError) in
                            try await jetStream.publish("argus.events.org\(publisher)", payload: Array("event \(event)".utf8), messageID: "event-\(event)")
                        }
                        acknowledged.record(event, ack.sequence)
                    }
                }
            }
            let deadline = Date().addingTimeInterval(60)
            while acknowledged.count < killAfter {
                guard Date() < deadline else { throw NATSTestPeer.Timeout(description: "fewer than \(killAfter) acks within 60 s") }
                try await Task.sleep(nanoseconds: 5_000_000)
            }
            await cluster.kill(node: victim)
            try await group.waitForAll()
        }
        #expect(connection.reconnectCount >= 1)
        #expect(connection.connectedServer?.port != connectedPort)

        let total = publishers * perPublisher
        let acks = acknowledged.all
        #expect(acks.count == total)
        #expect(Set(acks.values).count == total, "every event has its own sequence")
        let state = try await NATSTestPeer.retrying("reading the stream state") { () throws(JetStreamError) in
            try await jetStream.streamInfo("ARGUS_EVENTS")
        }
        #expect(state.messages == UInt64(total) && state.firstSequence == 1 && state.lastSequence == UInt64(total))
        let consumer = try await NATSTestPeer.retrying("creating a consumer") { () throws(JetStreamError) in
            try await jetStream.createPullConsumer(stream: "ARGUS_EVENTS")
        }
        var stored: [UInt64: String] = [:]
        var expectedSequence: UInt64 = 1
        while stored.count < total {
            let batch = try await jetStream.fetch(consumer, batch: 256, noWait: true)
            if batch.isEmpty { break }
            for message in batch {
                #expect(message.sequence == expectedSequence, "sequences are dense")
                expectedSequence = message.sequence + 1
                stored[message.sequence] = String(decoding: message.payload, as: UTF8.self)
            }
        }
        #expect(stored.count == total)
        for (event, sequence) in acks {
            #expect(stored[sequence] == "event \(event)", "acknowledged event \(event) at sequence \(sequence)")
        }
    }
}

/// Event number to acknowledged stream sequence, shared by the publishing tasks.
final class Acknowledgements: Sendable {
    private let sequences = Mutex<[Int: UInt64]>([:])

    func record(_ event: Int, _ sequence: UInt64) { sequences.withLock { $0[event] = sequence } }
    var count: Int { sequences.withLock { $0.count } }
    var all: [Int: UInt64] { sequences.withLock { $0 } }
}
