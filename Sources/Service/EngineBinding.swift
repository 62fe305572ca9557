import Engine
import EventLog
import Foundation
import JSON
import NATS
import SystemIO

/// The shared state of `serve --engine nats://...`: one connection to the NATS cluster, the log stream
/// `ARGUS_EVENTS`, and the key-value buckets for cursors (`ARGUS_CURSORS`), delivery leases
/// (`ARGUS_LEASES`), webhooks (`ARGUS_WEBHOOKS`), OAuth clients (`ARGUS_CLIENTS`), access tokens
/// (`ARGUS_TOKENS`), idempotency keys (`ARGUS_IDEMPOTENCY`), the processes' addresses
/// (`ARGUS_PROCESSES`) and the one-time bootstrap of the first
/// admin client (`ARGUS_META`). Every bucket and the stream keep
/// `replicas` = min(3, servers known) copies.
package struct EngineBinding: Sendable {
    package let connection: NATSConnection
    package let jetStream: JetStream
    package let log: JetStreamEventLog
    package let cursors: JetStreamCursors
    package let leases: JetStreamLeaseBook
    package let webhooks: KeyValueBucket
    package let clients: KeyValueBucket
    package let meta: KeyValueBucket
    package let tokens: KeyValueBucket
    package let idempotencyKeys: KeyValueBucket
    package let processes: KeyValueBucket
    /// This process's name in leases: host, pid and a random part.
    package let holder: String

    /// How long a delivery lease lasts without renewal, in seconds (renewed every `leaseRenewSeconds`).
    package static let leaseSeconds = 10.0
    /// How often leases are renewed and free ones sought, in seconds.
    package static let leaseRenewSeconds = 2.0
    /// How long `open` retries while the cluster elects its JetStream leaders, in seconds.
    package static let openRetrySeconds = 60.0

    /// Connects to `servers` (`nats://HOST:PORT[,nats://HOST:PORT...]`) and creates (or opens) the stream and buckets.
    /// - Throws: `NATSError` (bad list, no server answered), `JetStreamError` once retries of transient
    ///   failures (no JetStream leader yet) took `openRetrySeconds`.
    package static func open(servers: String, logger: Logger, options: NATSConnectionOptions = NATSConnectionOptions()) async throws -> EngineBinding {
        let connection = try await NATSConnection.connect(servers: servers, options: options)
        do {
            let jetStream = JetStream(connection: connection)
            let replicas = min(3, max(1, connection.knownServers.count))
            func retrying<T>(_ what: String, _ body: () async throws(JetStreamError) -> T) async throws -> T {
                try await Self.retrying(what, logger: logger, body)
            }
            let log = try await retrying("stream") { () throws(JetStreamError) in try await JetStreamEventLog.open(jetStream, replicas: replicas) }
            let cursors = try await retrying("cursors") { () throws(JetStreamError) in try await JetStreamCursors.open(jetStream, replicas: replicas) }
            let leases = try await retrying("leases") { () throws(JetStreamError) in
                try await JetStreamLeaseBook.open(jetStream, replicas: replicas, durationSeconds: leaseSeconds)
            }
            func bucket(_ name: String, limits: KeyValueBucket.Limits = KeyValueBucket.Limits()) async throws -> KeyValueBucket {
                try await retrying(name) { () throws(JetStreamError) in
                    try await KeyValueBucket.create(name, in: jetStream, history: 1, replicas: replicas, limits: limits)
                }
            }
            let host = ProcessInfo.processInfo.hostName.filter { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." }.prefix(64)
            let holder = "\(host)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            return EngineBinding(connection: connection, jetStream: jetStream, log: log, cursors: cursors, leases: leases,
                                 webhooks: try await bucket("ARGUS_WEBHOOKS"), clients: try await bucket("ARGUS_CLIENTS"),
                                 meta: try await bucket("ARGUS_META"),
                                 tokens: try await bucket(EngineTokens.bucketName, limits: EngineTokens.limits),
                                 idempotencyKeys: try await bucket(EngineIdempotency.bucketName, limits: EngineIdempotency.limits),
                                 processes: try await bucket(EngineHistoryForwarder.bucketName, limits: EngineHistoryForwarder.limits), holder: holder)
        } catch {
            connection.close()
            throw error
        }
    }

    /// Runs `body` until it succeeds, retrying transient failures (no leader elected yet, no responders,
    /// a lost connection) every 250 ms for at most `openRetrySeconds`.
    /// - Throws: the first failure that is not transient, or the last one after `openRetrySeconds`.
    package static func retrying<T>(_ what: String, logger: Logger, _ body: () async throws(JetStreamError) -> T) async throws -> T {
        let started = SystemClock.monotonicSeconds()
        while true {
            do {
                return try await body()
            } catch {
                guard error.isTransient || isStartingUp(error), SystemClock.monotonicSeconds() - started < openRetrySeconds else { throw error }
                logger.info("engine not ready (\(what)): \(error.description); retrying")
                try await Task.sleep(nanoseconds: 250_000_000)
            }
        }
    }

    /// JetStream answers while its cluster elects leaders or has too few peers yet.
    private static func isStartingUp(_ error: JetStreamError) -> Bool {
        guard case .api(_, let code, let errorCode, let text) = error else { return false }
        return code == 503 || code == 500 || errorCode == 10_008 || text.contains("insufficient resources")
            || text.contains("no suitable peers") || text.contains("temporarily unavailable")
    }
}

extension EngineBinding {
    /// What is wrong with a server list `open` or `EngineTailReader.attach` refused (`nats://HOST:PORT[,...]`),
    /// nil when `error` is another failure.
    package static func serverListProblem(_ error: any Error) -> String? {
        if case .invalidURL(let detail)? = error as? NATSError { return detail }
        return nil
    }
}
