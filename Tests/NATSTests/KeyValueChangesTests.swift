import Foundation
@testable import NATS
import Testing

/// `KeyValueBucket.changes(after:)` against a fake JetStream (`FakeNATSServer` answering the consumer API):
/// an empty fetch where the consumer counted changes pending is an error to retry, never "no changes".
@Suite(.timeLimit(.minutes(1)))
struct KeyValueChangesTests {
    /// A bucket on a fake server whose consumers count `pending` changes and whose fetches return none.
    private func bucketWithEmptyFetches(pending: Int) async throws -> (FakeNATSServer, NATSConnection, KeyValueBucket) {
        let server = try FakeNATSServer(answering: { subject, _ in
            if subject.hasPrefix("$JS.API.CONSUMER.CREATE.") {
                return .payload(#"{"type":"io.nats.jetstream.api.v1.consumer_create_response","stream_name":"KV_hooks","name":"fake","num_pending":\#(pending)}"#)
            }
            if subject.hasPrefix("$JS.API.CONSUMER.MSG.NEXT.") { return .status(404, "No Messages") }
            if subject.hasPrefix("$JS.API.CONSUMER.DELETE.") { return .payload(#"{"success":true}"#) }
            return nil
        })
        var options = NATSConnectionOptions()
        options.pingIntervalSeconds = 60
        options.requestTimeoutSeconds = 5
        do {
            let connection = try await NATSConnection.connect(servers: "nats://127.0.0.1:\(server.port)", options: options)
            return (server, connection, KeyValueBucket(jetStream: JetStream(connection: connection), name: "hooks"))
        } catch {
            server.stop()
            throw error
        }
    }

    @Test func anEmptyFetchOfPendingChangesIsATransientErrorNotTheEnd() async throws {
        let (server, connection, bucket) = try await bucketWithEmptyFetches(pending: 3)
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
        await #expect(throws: JetStreamError.self, "applyChanges does not stop as if up to date") {
            _ = try await bucket.applyChanges(after: { 7 }) { _ in }
        }
    }

    @Test func noPendingChangesAreNoChanges() async throws {
        let (server, connection, bucket) = try await bucketWithEmptyFetches(pending: 0)
        defer { server.stop() }
        defer { connection.close() }
        #expect(try await bucket.changes(after: 7).isEmpty)
        #expect(try await bucket.applyChanges(after: { 7 }) { _ in } == 0)
    }
}
