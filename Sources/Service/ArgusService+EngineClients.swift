import Engine
import EventLog
import Foundation
import JSON
import NATS
import SystemIO

/// `clients create|list|delete --engine URL`: the OAuth clients of an engine, read and written in its
/// `ARGUS_CLIENTS` bucket directly (every `serve --engine` process picks the change up within seconds).
extension ArgusService {
    /// Registers a client in the engine and appends its `oauth.client_registered` event to the engine's stream.
    /// - Returns: the client and its secret (shown once).
    /// - Throws: `StoreError.invalid` for a bad organization or scope list; engine errors.
    package static func registerClient(engine: EngineBinding, organizationID: String, scopes: [String],
                                      nowMs: Int64 = SystemClock.nowMs(), description: String = "") async throws -> (OAuthClient, secret: String) {
        // The local store validates and writes the record; the record goes to the bucket, the scratch file away.
        let scratch = NSTemporaryDirectory() + "argus-client-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let (client, secret) = try ClientStore(directory: scratch).create(organizationID: organizationID, scopes: scopes, nowMs: nowMs,
                                                                          description: description)
        try await engine.clients.create(client.clientID, client.json.encoded())
        _ = try await engine.log.append(batch: [NewEvent(organizationID: organizationID, type: "oauth.client_registered",
                                                         eventID: try EventID.make(timestampMs: nowMs), data: registrationData(client))])
        return (client, secret)
    }

    /// The engine's clients, ordered by id (at most `ServiceLimits.Clients.countMax`).
    package static func clients(engine: EngineBinding) async throws -> [OAuthClient] {
        var clients: [OAuthClient] = []
        for key in try await engine.clients.keys(keysMax: ServiceLimits.Clients.countMax).sorted() {
            guard let entry = try await engine.clients.get(key), let json = try? JSONParser.parse(entry.value),
                  let client = OAuthClient(json: json) else { continue }
            clients.append(client)
        }
        return clients
    }

    /// Deletes a client from the engine: every process removes it and ends its tokens when the change reaches it.
    /// - Throws: `OfflineDeleteError.notFound`; engine errors.
    package static func deleteClient(engine: EngineBinding, clientID: String) async throws {
        guard (try? KeyValueBucket.validate(key: clientID)) != nil, try await engine.clients.get(clientID) != nil else {
            throw OfflineDeleteError.notFound(clientID: clientID)
        }
        try await engine.clients.delete(clientID)
    }
}
