import EventLog
import Foundation
import JSON

/// Registering clients from the command line, with or without a running server.
extension ArgusService {
    /// Registers a client in `dataDirectory` and records an `oauth.client_registered` event: appended
    /// directly when no server holds the log, otherwise left in `spool/` for the server to append.
    /// - Returns: the client and its secret (shown once).
    public static func registerClient(dataDirectory: String, organizationID: String, scopes: [String],
                                      nowMs: Int64) throws -> (OAuthClient, secret: String) {
        let configuration = ServiceConfiguration(dataDirectory: dataDirectory)
        let (client, secret) = try ClientStore(directory: configuration.clientsDirectory)
            .create(organizationID: organizationID, scopes: scopes, nowMs: nowMs)
        let event = NewEvent(organizationID: organizationID, type: "oauth.client_registered",
                             eventID: try EventID.make(timestampMs: nowMs), data: registrationData(client))
        switch Result(catching: { () throws(EventLogError) in try EventLog(directory: configuration.logDirectory, options: configuration.logOptions) }) {
        case .success(let log):
            defer { log.close() }
            _ = try log.appendAndWait(batch: [event])
        case .failure(.locked):
            let spooled = JSONValue.object([
                ("organization_id", .string(event.organizationID)), ("type", .string(event.type)),
                ("id", .string(event.eventID)), ("data", .string(String(decoding: event.data, as: UTF8.self))),
            ])
            try FileStore.write(spooled.encoded(), directory: configuration.spoolDirectory, name: "\(nowMs)-\(client.clientID).json")
        case .failure(let error):
            throw error
        }
        return (client, secret)
    }

    static func registrationData(_ client: OAuthClient) -> [UInt8] {
        JSONValue.object([("client_id", .string(client.clientID)), ("scopes", .array(client.scopes.map(JSONValue.string)))]).encoded()
    }

    /// On a data directory without clients, creates the first `platform:admin` client (organization
    /// `platform`) and returns it with its secret; nil when clients exist.
    public func bootstrapAdminClient() async throws -> (OAuthClient, secret: String)? {
        guard clients.isEmpty else { return nil }
        let (client, secret) = try clients.create(organizationID: "platform", scopes: Scope.all, nowMs: configuration.nowMs())
        _ = try await appendToLog([NewEvent(organizationID: client.organizationID, type: "oauth.client_registered",
                                            eventID: try EventID.make(timestampMs: configuration.nowMs()),
                                            data: Self.registrationData(client))])
        return (client, secret)
    }

    /// Appends the events that `clients create` left in `spool/` while this server held the log, then
    /// removes their files. Returns how many were appended.
    @discardableResult
    public func drainSpool() async -> Int {
        let directory = configuration.spoolDirectory
        var count = 0
        for name in FileStore.names(in: directory, suffix: ".json") {
            guard let bytes = FileStore.read(directory: directory, name: name), let json = try? JSONParser.parse(bytes),
                  let organization = json["organization_id"]?.stringValue, let type = json["type"]?.stringValue,
                  let id = json["id"]?.stringValue, let data = json["data"]?.stringValue else {
                configuration.logger("{\"level\":\"warning\",\"message\":\(JSONValue.string("unreadable spool file \(name) left in place").text)}")
                continue
            }
            do {
                _ = try await log.append(NewEvent(organizationID: organization, type: type, eventID: id, data: Array(data.utf8)))
                try FileStore.remove(directory: directory, name: name)
                count += 1
            } catch {
                configuration.logger("{\"level\":\"error\",\"message\":\(JSONValue.string("spool file \(name): \(error)").text)}")
            }
        }
        return count
    }
}
