import Foundation
@testable import NATS
import Synchronization
import Testing

/// `KeyValueBucket.changes(after:)` and `keys()` against a fake JetStream (`FakeNATSServer` answering the consumer
/// API): an empty fetch where the consumer counted entries pending is an error to retry, never "no changes" nor a
/// complete key list, and the ephemeral consumer is deleted on every exit path.
@Suite(.timeLimit(.minutes(1)))
struct KeyValueEmptyFetchTests {
    /// The consumers a fake server was asked to delete.
    private final class Deletions: Sendable {
        private let subjects = Mutex<[String]>([])
        var count: Int { subjects.withLock { $0.count } }
        func record(_ subject: String) { subjects.withLock { $0.append(subject) } }
    }

    /// A bucket on a fake server whose consumers count `pending` entries and whose fetches return none.
    private func bucketWithEmptyFetches(pending: Int) async throws -> (FakeNATSServer, NATSConnection, KeyValueBucket, Deletions) {
        let deletions = Deletions()
        let server = try FakeNATSServer(answering: { subject, _ in
            if subject.hasPrefix("$JS.API.CONSUMER.CREATE.") {
                return .payload(#"{"type":"io.nats.jetstream.api.v1.consumer_create_response","stream_name":"KV_hooks","name":"fake","num_pending":\#(pending)}"#)
            }
            if subject.hasPrefix("$JS.API.CONSUMER.MSG.NEXT.") { return .status(404, "No Messages") }
            if subject.hasPrefix("$JS.API.CONSUMER.DELETE.") {
                deletions.record(subject)
                return .payload(#"{"success":true}"#)
            }
            return nil
        })
        var options = NATSConnectionOptions()
        options.pingIntervalSeconds = 60
        options.requestTimeoutSeconds = 5
        do {
            let connection = try await NATSConnection.connect(servers: "nats://127.0.0.1:\(server.port)", options: options)
            return (server, connection, KeyValueBucket(jetStream: JetStream(connection: connection), name: "hooks"), deletions)
        } catch {
            server.stop()
            throw error
        }
    }

    @Test func anEmptyFetchOfPendingChangesIsATransientErrorNotTheEnd() async throws {
        let (server, connection, bucket, deletions) = try await bucketWithEmptyFetches(pending: 3)
        defer { server.stop() }
        defer { connection.close() }
        do {
            let changes = try await bucket.changes(after: 7)
            Issue.record("an empty fetch of 3 pending changes answered \(changes.count) changes as if there were none")
        } catch {
            guard case .emptyFetch(let stream, let sequence, let pending) = error else {
                Issue.record("expected emptyFetch, got \(error)")
                return
            }
            #expect(stream == "KV_hooks" && sequence == 8 && pending == 3)
            #expect(error.isTransient, "the first pull at start retries it")
        }
        #expect(deletions.count == 1, "the consumer is deleted after the failed fetch")
        await #expect(throws: JetStreamError.self, "applyChanges does not stop as if up to date") {
            _ = try await bucket.applyChanges(after: { 7 }) { _ in }
        }
    }

    @Test func noPendingChangesAreNoChanges() async throws {
        let (server, connection, bucket, deletions) = try await bucketWithEmptyFetches(pending: 0)
        defer { server.stop() }
        defer { connection.close() }
        #expect(try await bucket.changes(after: 7).isEmpty)
        #expect(try await bucket.applyChanges(after: { 7 }) { _ in } == 0)
        #expect(deletions.count == 2, "each consumer is deleted")
    }

    @Test func anEmptyFetchOfPendingKeysIsATransientErrorNotAShortList() async throws {
        let (server, connection, bucket, deletions) = try await bucketWithEmptyFetches(pending: 3)
        defer { server.stop() }
        defer { connection.close() }
        do {
            let keys = try await bucket.keys()
            Issue.record("an empty fetch of 3 pending keys answered \(keys.count) keys as if the list were complete")
        } catch {
            guard case .emptyFetch(let stream, _, let pending) = error else {
                Issue.record("expected emptyFetch, got \(error)")
                return
            }
            #expect(stream == "KV_hooks" && pending == 3)
            #expect(error.isTransient)
        }
        #expect(deletions.count == 1, "the consumer is deleted after the failed fetch")
    }

    @Test func moreKeysThanAllowedDeleteTheConsumerToo() async throws {
        let (server, connection, bucket, deletions) = try await bucketWithEmptyFetches(pending: 5)
        defer { server.stop() }
        defer { connection.close() }
        await #expect(throws: JetStreamError.invalidArgument("bucket hooks holds 5 keys, more than 4")) {
            _ = try await bucket.keys(keysMax: 4)
        }
        #expect(deletions.count == 1, "the consumer is deleted when the bucket holds too many keys")
    }

    @Test func anEmptyBucketHasNoKeys() async throws {
        let (server, connection, bucket, deletions) = try await bucketWithEmptyFetches(pending: 0)
        defer { server.stop() }
        defer { connection.close() }
        #expect(try await bucket.keys().isEmpty)
        #expect(deletions.count == 1, "the consumer of an empty bucket is deleted")
    }
}
