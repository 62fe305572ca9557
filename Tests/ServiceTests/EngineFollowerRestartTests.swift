import ArgusTestSupport
import Foundation
@testable import NATS
import Synchronization
import Testing
@testable import Service

/// A follower of the tokens bucket after the engine lost its last writes (every node of the cluster killed at
/// once): the bucket's stream hands out again revisions the follower applied before, so a revocation written
/// afterwards can carry a revision already behind it. `BucketFollowPosition` reads the whole bucket again once
/// the connection was re-established (a loss of every node always drops it).
@Suite struct BucketFollowPositionTests {
    @Test func itGoesOnAfterTheAppliedRevisionWhileTheConnectionStaysUp() {
        var position = BucketFollowPosition()
        let firstRead = position.begin(reconnectCount: 0)
        #expect(!firstRead, "the first read starts at 0 anyway")
        position.applied(5)
        position.applied(3)
        #expect(position.revision == 5, "the highest revision applied")
        let nextRead = position.begin(reconnectCount: 0)
        #expect(!nextRead)
        #expect(position.revision == 5)
    }

    @Test func itReadsEverythingAgainOnceAfterAReconnect() {
        var position = BucketFollowPosition()
        position.begin(reconnectCount: 0)
        position.applied(40)
        let afterReconnect = position.begin(reconnectCount: 1)
        #expect(afterReconnect, "the connection was re-established: start over")
        #expect(position.revision == 0)
        position.applied(12)  // the read after the reconnect failed part-way
        let nextRead = position.begin(reconnectCount: 1)
        #expect(!nextRead, "the next read goes on where the failed one stopped")
        #expect(position.revision == 12)
        #expect(position.isReadingAgain, "until a read reaches the end, entries may be old news")
        position.caughtUp()
        #expect(!position.isReadingAgain)
        let afterAnother = position.begin(reconnectCount: 3)
        #expect(afterAnother, "another reconnect after the read from the start was done: start over again")
        #expect(position.revision == 0 && position.startOverCount == 2)
    }

    /// Reconnects more frequent than a full read of the bucket never keep the follower from its end: a
    /// reconnect during a read from the start lets that read go on to the end, then the next starts over.
    @Test func aReconnectDuringAReadFromTheStartLetsItFinishThenStartsOverAgain() {
        var position = BucketFollowPosition()
        position.begin(reconnectCount: 0)
        position.applied(40)
        let afterReconnect = position.begin(reconnectCount: 1)
        #expect(afterReconnect)
        position.applied(300)  // part of the bucket read again, then the read failed
        let duringTheRead = position.begin(reconnectCount: 2)
        #expect(!duringTheRead && position.revision == 300, "the read from the start goes on where it stopped")
        #expect(position.isStartOverPending)
        position.applied(900)
        let again = position.begin(reconnectCount: 3)
        #expect(!again, "reconnected again before the end: still going on")
        #expect(position.revision == 900)
        position.caughtUp()  // reached the end of the bucket
        let next = position.begin(reconnectCount: 3)
        #expect(next && position.revision == 0 && position.isReadingAgain, "the reconnects during the read: one more read from the start")
        #expect(!position.isStartOverPending && position.startOverCount == 2)
        position.applied(950)
        position.caughtUp()
        let last = position.begin(reconnectCount: 3)
        #expect(!last && position.revision == 950, "nothing pending: it goes on")
    }

    @Test func aFirstReadAtAnyReconnectCountDoesNotStartOver() {
        var position = BucketFollowPosition()
        let firstRead = position.begin(reconnectCount: 7)
        #expect(!firstRead)
        position.applied(2)
        let nextRead = position.begin(reconnectCount: 7)
        #expect(!nextRead)
        #expect(position.revision == 2)
    }
}

/// The followers of the engine's buckets against a real nats-server whose bucket stream starts its sequence again
/// (deleted and created anew: what a restart of every node that lost the last writes looks like to a follower).
@Suite(.timeLimit(.minutes(2)), .enabled(if: NATSServerCluster.unavailableReason == nil, "\(NATSServerCluster.unavailableReason ?? "")"))
struct EngineFollowerRestartTests {
    /// Runs `body` with a one-node nats-server's JetStream and a way to create the bucket `name` there (again
    /// after its stream was deleted: its sequence then starts at 1 again).
    static func withServer(bucket name: String, _ body: (JetStream, () async throws -> KeyValueBucket) async throws -> Void) async throws {
        let cluster = try await NATSServerCluster(nodeCount: 1)
        defer { cluster.stop() }
        let connection = try await NATSConnection.connect(servers: cluster.url)
        defer { connection.close() }
        let jetStream = JetStream(connection: connection)
        try await body(jetStream) {
            try await EngineBinding.retrying("\(name) bucket", logger: .discarding) { () throws(JetStreamError) in
                try await KeyValueBucket.create(name, in: jetStream)
            }
        }
    }

    /// `EngineTokens.pull`: a revocation written at a revision the process already applied is heard once the
    /// connection was re-established.
    @Test func aRevocationAtARevisionHandedOutAgainIsHeardAfterTheReconnect() async throws {
        try await Self.withServer(bucket: EngineTokens.bucketName) { jetStream, createBucket in
            let bucket = try await createBucket()
            let directory = NSTemporaryDirectory() + "argus-engine-tokens-\(UUID().uuidString.prefix(8))"
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let now: Int64 = 1_780_000_000_000
            let (other, token, digest, line) = try EngineSharedStateTests.tokenIssuedElsewhere(directory: directory, nowMs: now)
            let reconnects = Mutex(0)
            let shared = EngineTokens(bucket: bucket, clientBucket: bucket, tokens: other, clients: ClientStore(directory: directory + "/clients"),
                                      nowMs: { now }, logger: .discarding, reconnectCount: { reconnects.withLock { $0 } })
            _ = try await bucket.put("filler-1", Array("{}".utf8))
            _ = try await bucket.put("filler-2", Array("{}".utf8))
            #expect(try await bucket.put(digest, line) == 3)
            #expect(other.adopt(digest: digest, line: line, nowMs: now), "taken in as a read of the bucket does")
            #expect(try await shared.pull() == 3)

            // The engine comes back without its writes: the same revisions are handed out again.
            try await jetStream.deleteStream(bucket.streamName)
            let restarted = try await createBucket()
            _ = try await restarted.put("filler-3", Array("{}".utf8))
            _ = try await restarted.put("filler-4", Array("{}".utf8))
            #expect(try await restarted.delete(digest) == 3, "the revocation carries a revision the process applied already")
            try await shared.pull()
            #expect(other.lookup(token, nowMs: now) != .revoked, "while the connection seems unbroken the reuse goes unseen (the hazard)")

            reconnects.withLock { $0 += 1 }  // the connection was re-established, as it is after every node went away
            #expect(try await shared.pull() == 3, "the whole bucket is read again")
            #expect(other.lookup(token, nowMs: now) == .revoked, "the revocation is heard")
        }
    }

    /// `EngineReplica.pull` (the clients' and webhooks' buckets): a deletion at a revision handed out again reaches
    /// the local store, and the whole-bucket read leaves a local change not pushed yet alone.
    @Test func aDeletionAtARevisionHandedOutAgainReachesTheLocalStore() async throws {
        try await Self.withServer(bucket: "ARGUS_CLIENTS") { jetStream, createBucket in
            let bucket = try await createBucket()
            let files = MemoryFiles()
            let reconnects = Mutex(0)
            let replica = EngineReplica(bucket: bucket, local: files.localSide, logger: .discarding,
                                        reconnectCount: { reconnects.withLock { $0 } })
            _ = try await bucket.put("cli_kept", Array("v1".utf8))
            _ = try await bucket.put("cli_gone", Array("v1".utf8))
            #expect(try await replica.pull() == 2)
            files.files.withLock { $0["cli_kept"] = Array("changed here".utf8) }  // a local change the push has not sent yet

            // The engine comes back without its writes; the deletion takes revision 2 again.
            try await jetStream.deleteStream(bucket.streamName)
            let restarted = try await createBucket()
            _ = try await restarted.put("cli_kept", Array("v1".utf8))
            #expect(try await restarted.delete("cli_gone") == 2)
            reconnects.withLock { $0 += 1 }
            #expect(try await replica.pull() == 2, "the whole bucket is read again")
            #expect(files.files.withLock { $0["cli_gone"] } == nil, "the deletion reached the local store")
            #expect(files.files.withLock { $0["cli_kept"] } == Array("changed here".utf8), "an entry already synced leaves the local change alone")
        }
    }

    /// A bucket change whose local write fails is read again by the next pull (neither the revision nor the
    /// synced value moves past it), and the local store then gets it.
    @Test func aChangeWhoseLocalWriteFailedIsAppliedByTheNextPull() async throws {
        try await Self.withServer(bucket: "ARGUS_WEBHOOKS") { _, createBucket in
            let bucket = try await createBucket()
            let files = MemoryFiles(failingWrites: 1)
            let replica = EngineReplica(bucket: bucket, local: files.localSide, logger: .discarding, reconnectCount: { 0 })
            _ = try await bucket.put("wh_1", Array("v1".utf8))
            await #expect(throws: POSIXError.self) { try await replica.pull() }
            #expect(files.files.withLock { $0["wh_1"] } == nil)
            #expect(try await replica.pull() == 1, "the change is read again")
            #expect(files.files.withLock { $0["wh_1"] } == Array("v1".utf8))
        }
    }
}

/// A replica's local side in memory; its first `failingWrites` writes throw (a full disk).
final class MemoryFiles: Sendable {
    let files = Mutex<[String: [UInt8]]>([:])
    private let failuresLeft: Mutex<Int>

    init(failingWrites: Int = 0) { failuresLeft = Mutex(failingWrites) }

    var localSide: EngineReplica.LocalSide {
        EngineReplica.LocalSide(
            read: { key in self.files.withLock { $0[key] } },
            write: { key, value in
                if self.failuresLeft.withLock({ count in defer { count = max(0, count - 1) }; return count > 0 }) { throw POSIXError(.ENOSPC) }
                self.files.withLock { $0[key] = value }
            },
            keys: { self.files.withLock { Array($0.keys) } })
    }
}
