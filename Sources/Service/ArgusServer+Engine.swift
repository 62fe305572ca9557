import Engine
import EventLog
import Foundation
import JSON
import NATS

extension ArgusServer {
    /// `serve --engine`: checks that the local log is a prefix of the engine's stream and catches it up,
    /// pulls the shared webhooks and clients into the local stores, creates the first admin client when
    /// this process wins the engine-wide compare-and-set, and starts the mirror, the replicas and the
    /// delivery leases. Returns the created admin (if this process created it) and the tasks to cancel
    /// and await on shutdown.
    /// - Throws: `EventMirror.Mismatch` for a data directory of another log; engine and store errors.
    func startEngine(_ engine: EngineBinding) async throws -> ((OAuthClient, secret: String)?, [Task<Void, Never>]) {
        let logger = service.configuration.logger
        let mirror = EventMirror(engine: engine.log, local: service.log, logger: logger)
        try await mirror.checkPrefix()
        while try await mirror.copyBatch() > 0 {}
        let webhooks = EngineReplica.webhooks(service.webhooks, bucket: engine.webhooks, logger: logger)
        let clients = EngineReplica.clients(service.clients, bucket: engine.clients, logger: logger)
        try await webhooks.pull()
        try await clients.pull()
        var admin: (OAuthClient, secret: String)?
        if service.clients.isEmpty {
            do {
                try await engine.meta.create("admin-bootstrap", Array(engine.holder.utf8))
                admin = try await service.bootstrapAdminClient()
            } catch JetStreamError.keyExists {
                // Another process created the first admin client; it arrives with the clients' changes.
            }
        }
        clients.pushDifferences()
        webhooks.pushDifferences()
        let leases = DeliveryLeases(service: service, engine: engine)
        try await service.startLeasedDelivery(leases)
        let connection = engine.connection
        let tasks = [
            Task { await mirror.run(connection: connection) },
            Task { await webhooks.run(connection: connection) },
            Task { await clients.run(connection: connection) },
            Task { await leases.run() },
        ]
        return (admin, tasks)
    }
}
