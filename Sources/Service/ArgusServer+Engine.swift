import Engine
import EventLog
import Foundation
import JSON
import NATS

extension ArgusServer {
    /// `serve --engine`: checks that the local log is a prefix of the engine's stream and catches it up,
    /// pulls the shared webhooks, clients and tokens into the local stores, creates the first admin client when
    /// this process wins the engine-wide compare-and-set, and starts the mirror, the replicas and the
    /// delivery leases. Returns the created admin (if this process created it) and the tasks to cancel
    /// and await on shutdown.
    /// - Throws: `EventMirror.Mismatch` for a data directory of another log; engine and store errors.
    func startEngine(_ engine: EngineBinding) async throws -> ((OAuthClient, secret: String)?, [Task<Void, Never>]) {
        let logger = service.configuration.logger
        let mirror = EventMirror(engine: engine.log, local: service.log, logger: logger)
        try await mirror.checkPrefix()
        while try await mirror.copyBatch() > 0 {}
        let reconnectCount: @Sendable () -> Int = { [connection = engine.connection] in connection.reconnectCount }
        let webhooks = EngineReplica.webhooks(service.webhooks, bucket: engine.webhooks, logger: logger, reconnectCount: reconnectCount)
        let clients = EngineReplica.clients(service.clients, tokens: service.tokens, bucket: engine.clients, logger: logger,
                                            reconnectCount: reconnectCount)
        try await Self.retryingPull(webhooks.bucket.name, logger: logger) { try await webhooks.pull() }
        try await Self.retryingPull(clients.bucket.name, logger: logger) { try await clients.pull() }
        // After the clients: a token is taken in only when its client is known.
        if let tokens = service.engineTokens {
            try await Self.retryingPull(tokens.bucket.name, logger: logger) { try await tokens.pull() }
        }
        var admin: (OAuthClient, secret: String)?
        if service.clients.isEmpty {
            let won: Bool = try await EngineBinding.retrying("admin bootstrap", logger: logger) { () throws(JetStreamError) in
                do throws(JetStreamError) {
                    try await engine.meta.create("admin-bootstrap", Array(engine.holder.utf8))
                    return true
                } catch {
                    // Another process created the first admin client; it arrives with the clients' changes.
                    if case .keyExists = error { return false }
                    throw error
                }
            }
            if won, let created = try await service.bootstrapAdminClient() {
                admin = created
                // In the engine before it is printed: the other processes accept it from their first pull on.
                let record = FileStore.read(directory: service.clients.directory, name: created.0.clientID + ".json") ?? []
                _ = try await EngineBinding.retrying("admin client", logger: logger) { () throws(JetStreamError) in
                    try await engine.clients.put(created.0.clientID, record)
                }
            }
        }
        clients.pushDifferences()
        webhooks.pushDifferences()
        let leases = DeliveryLeases(service: service, engine: engine)
        // A history request about a webhook delivered here is answered here without a read of its lease.
        service.historyForwarder?.consultLocalLeases { [leases] id in leases.holds(id) }
        try await service.startLeasedDelivery(leases)
        let sealer = SealerRole(service: service, engine: engine, archiving: configuration.archiving)
        let connection = engine.connection
        let tasks = [
            Task { await mirror.run(connection: connection) },
            Task { await sealer.run() },
            Task { await webhooks.run(connection: connection) },
            Task { await clients.run(connection: connection) },
            Task { await leases.run() },
        ] + (service.engineTokens.map { tokens in [Task { await tokens.run(connection: connection) }] } ?? [])
        return (admin, tasks)
    }

    /// A bucket's first pull, retrying while the engine's buckets elect their leaders.
    private static func retryingPull(_ bucketName: String, logger: Logger, _ pull: () async throws -> Int) async throws {
        _ = try await EngineBinding.retrying("first pull of \(bucketName)", logger: logger) { () throws(JetStreamError) in
            do {
                return try await pull()
            } catch let error as JetStreamError {
                throw error
            } catch {
                throw JetStreamError.invalidArgument(String(describing: error))
            }
        }
    }
}
