import Engine
import Foundation
import JSON
import NATS
import Synchronization

/// Keeps one local store and one key-value bucket the same under `serve --engine`: every process
/// applies the bucket's changes to its local store (files in its data directory), and pushes its own
/// local changes to the bucket. The bucket is the shared truth; the local store is the process's cache
/// that the unchanged local code paths read. Concurrent changes of one key from two processes: the
/// later write to the bucket wins everywhere.
///
/// A local change is answered once stored locally and reaches the bucket within milliseconds (the
/// push queue); a process killed in between keeps that change only in its data directory, and pushes
/// it when it starts again.
///
/// `@unchecked Sendable`: `state` is a `Mutex`; the continuation is thread-safe.
final class EngineReplica: @unchecked Sendable {
    /// The local side: read one key's bytes, write or remove them, list the keys.
    struct LocalSide: Sendable {
        var read: @Sendable (String) -> [UInt8]?
        var write: @Sendable (String, [UInt8]?) throws -> Void
        var keys: @Sendable () -> [String]
    }

    /// The most keys replicated (clients and webhooks are both far below).
    static let keysMax = 200_000

    let bucket: KeyValueBucket
    let local: LocalSide
    private let logger: Logger
    /// The engine connection's reconnect count (`NATSConnection.reconnectCount`).
    private let reconnectCount: @Sendable () -> Int
    /// Where the bucket's changes are read from, and each key's value as last seen equal on both sides.
    private let state = Mutex<(position: BucketFollowPosition, synced: [String: [UInt8]])>((BucketFollowPosition(), [:]))
    private let pushes: AsyncStream<String>
    private let pushQueue: AsyncStream<String>.Continuation

    /// - Parameter reconnectCount: the engine connection's reconnect count; after it changed, `pull` reads
    ///   the whole bucket again (`BucketFollowPosition`).
    init(bucket: KeyValueBucket, local: LocalSide, logger: Logger, reconnectCount: @escaping @Sendable () -> Int) {
        self.bucket = bucket
        self.local = local
        self.logger = logger
        self.reconnectCount = reconnectCount
        (pushes, pushQueue) = AsyncStream.makeStream(of: String.self, bufferingPolicy: .bufferingNewest(Self.keysMax))
    }

    /// Notes that the local value of `key` changed (an observer calls this); it is pushed unless it is
    /// the value just applied from the bucket.
    func noteLocalChange(_ key: String) {
        let value = local.read(key)
        let isEcho = state.withLock { $0.synced[key] == value }
        if !isEcho { pushQueue.yield(key) }
    }

    /// Applies the bucket's changes since the last call to the local store (all of its entries again after
    /// a reconnect; then an entry equal to the value last synced is old news and leaves the local value,
    /// perhaps a change not pushed yet, as it is); returns how many.
    /// - Throws: `JetStreamError`; a local write's error.
    @discardableResult
    func pull() async throws -> Int {
        let reconnects = reconnectCount()
        let startsOver = state.withLock { $0.position.begin(reconnectCount: reconnects) }
        if startsOver { logger.info("reading all of \(bucket.name) again: the engine connection was re-established") }
        let count = try await bucket.applyChanges(after: { state.withLock { $0.position.revision } }) { change in
            let value: [UInt8]? = change.isDeleted ? nil : change.value
            // Noted as synced before the local write (its observer then sees an echo, not a change to push),
            // and taken back when the write fails, so the next pull reads the change again.
            let (isOldNews, before) = state.withLock { state in
                // `synced` holds at most `keysMax` keys: a key missing from a full map may have any value, so
                // only a deletion of a key the map could hold is known to be old news.
                let isKnown = value != nil || state.synced[change.key] != nil || state.synced.count < Self.keysMax
                let isOldNews = state.position.isReadingAgain && isKnown && state.synced[change.key] == value
                let before = (revision: state.position.revision, synced: state.synced[change.key])
                state.position.applied(change.revision)
                if let value {
                    if state.synced[change.key] != nil || state.synced.count < Self.keysMax { state.synced[change.key] = value }
                } else {
                    state.synced[change.key] = nil
                }
                return (isOldNews, before)
            }
            if !isOldNews, local.read(change.key) != value {
                do {
                    try local.write(change.key, value)
                } catch {
                    state.withLock { state in
                        state.position.restore(revision: before.revision)
                        state.synced[change.key] = before.synced
                    }
                    throw error
                }
            }
        }
        state.withLock { $0.position.caughtUp() }
        return count
    }

    /// Pushes every local key whose value is not the one last synced (at start, after the first `pull`:
    /// what this process changed while it was not connected), and deletions of synced keys gone locally.
    func pushDifferences() {
        let synced = state.withLock { $0.synced }
        let keys = Set(local.keys())
        for key in keys where synced[key] != local.read(key) { pushQueue.yield(key) }
        for key in synced.keys where !keys.contains(key) { pushQueue.yield(key) }
    }

    /// Pushes one key's local value (or its deletion) to the bucket.
    private func push(_ key: String) async {
        let value = local.read(key)
        do {
            if let value {
                try await bucket.put(key, value)
            } else {
                try await bucket.delete(key)
            }
        } catch {
            logger.error("could not push \(key) to \(bucket.name); pushed again at the next local scan", [("error", .string(error.description))])
        }
    }

    /// Until cancelled: pushes queued local changes, and pulls the bucket's changes whenever a core
    /// subscription to the bucket's subjects rings (at least every `pollSeconds`), looking for local
    /// changes no observer reported (files written by other commands) at the same pace.
    func run(connection: NATSConnection, pollSeconds: Double = 2) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { [self] in
                for await key in pushes {
                    if Task.isCancelled { break }
                    await push(key)
                }
            }
            group.addTask { [self] in
                await Self.follow(bucket, connection: connection, pollSeconds: pollSeconds) { [self] in
                    do {
                        try await pull()
                    } catch {
                        logger.error("could not read \(bucket.name)'s changes; retrying", [("error", .string(String(describing: error)))])
                    }
                    pushDifferences()
                }
                pushQueue.finish()
            }
        }
    }

    /// Until cancelled: runs `step`, then waits until a core subscription to `bucket`'s subjects rings
    /// (a write to the bucket), at most `pollSeconds`; without a subscription it sleeps `pollSeconds`.
    static func follow(_ bucket: KeyValueBucket, connection: NATSConnection, pollSeconds: Double, _ step: () async -> Void) async {
        let doorbell = try? connection.subscribe("$KV.\(bucket.name).>", messagesMax: 64, bytesMax: 1_048_576)
        defer { doorbell?.unsubscribe() }
        while !Task.isCancelled {
            await step()
            if let doorbell {
                // A ring, a timeout and an overflow all mean "look again".
                _ = try? await doorbell.next(timeoutSeconds: pollSeconds)
                while doorbell.queuedCount > 0 { _ = try? await doorbell.next(timeoutSeconds: 0) }
            } else {
                try? await Task.sleep(nanoseconds: UInt64(pollSeconds * 1e9))
            }
        }
    }
}

extension EngineReplica {
    /// The webhooks' replica: key = webhook id, value = the webhook's stored JSON.
    static func webhooks(_ store: WebhookStore, bucket: KeyValueBucket, logger: Logger, reconnectCount: @escaping @Sendable () -> Int) -> EngineReplica {
        let replica = EngineReplica(bucket: bucket, local: LocalSide(
            read: { id in store.get(id)?.storedJSON.encoded() },
            write: { id, value in
                guard let value else {
                    try store.delete(id)
                    return
                }
                guard let webhook = Webhook(stored: try JSONParser.parse(value)) else {
                    throw StoreError.corrupt(path: "$KV.\(bucket.name).\(id)", reason: "not a valid webhook record")
                }
                try store.put(webhook)
            },
            keys: { store.all().map(\.id) }), logger: logger, reconnectCount: reconnectCount)
        store.observe { _, id in replica.noteLocalChange(id) }
        return replica
    }

    /// The OAuth clients' replica: key = client id, value = the client's file (secret digest, never the secret).
    /// A client deleted elsewhere loses its tokens here too.
    static func clients(_ store: ClientStore, tokens: TokenStore, bucket: KeyValueBucket, logger: Logger,
                        reconnectCount: @escaping @Sendable () -> Int) -> EngineReplica {
        EngineReplica(bucket: bucket, local: LocalSide(
            read: { id in FileStore.read(directory: store.directory, name: id + ".json") },
            write: { id, value in
                guard id.hasPrefix("cli_"), !id.contains("/") else { throw StoreError.invalid("client key \(id.prefix(64)) is not a client id") }
                if let value {
                    try FileStore.write(value, directory: store.directory, name: id + ".json")
                } else {
                    _ = try tokens.revokeAll(clientID: id)
                    try FileStore.remove(directory: store.directory, name: id + ".json")
                }
            },
            keys: { FileStore.names(in: store.directory, suffix: ".json").map { String($0.dropLast(5)) } }), logger: logger,
            reconnectCount: reconnectCount)
    }
}
