import EventLog
import Foundation
import HTTPServer
import JSON
import SystemIO

/// Registering clients from the command line, with or without a running server.
extension ArgusService {
    /// Registers a client in `dataDirectory` and records an `oauth.client_registered` event: appended
    /// directly when no server holds the log, otherwise left in `spool/` for the server to append.
    /// - Returns: the client and its secret (shown once).
    public static func registerClient(dataDirectory: String, organizationID: String, scopes: [String],
                                      nowMs: Int64 = SystemClock.nowMs(), description: String = "") throws -> (OAuthClient, secret: String) {
        let configuration = ServiceConfiguration(dataDirectory: dataDirectory)
        let (client, secret) = try ClientStore(directory: configuration.layout.clients)
            .create(organizationID: organizationID, scopes: scopes, nowMs: nowMs, description: description)
        let event = NewEvent(organizationID: organizationID, type: "oauth.client_registered",
                             eventID: try EventID.make(timestampMs: nowMs), data: registrationData(client))
        switch Result(catching: { () throws(EventLogError) in try EventLog(directory: configuration.layout.log, options: configuration.logOptions) }) {
        case .success(let log):
            defer { log.close() }
            _ = try log.appendAndWait(batch: [event])
        case .failure(.locked):
            let spooled = JSONValue.object([
                ("organization_id", .string(event.organizationID)), ("type", .string(event.type)),
                ("id", .string(event.eventID)), ("data", .string(String(decoding: event.data, as: UTF8.self))),
            ])
            try FileStore.write(spooled.encoded(), directory: configuration.layout.spool, name: "\(nowMs)-\(client.clientID).json")
        case .failure(let error):
            throw error
        }
        return (client, secret)
    }

    /// Why `clients delete` refuses to work offline.
    public enum OfflineDeleteError: Error, CustomStringConvertible {
        /// A server holds the data directory: deleting behind its back would leave the client's
        /// tokens alive in its memory. Use `DELETE /v1/clients/{id}`.
        case serverRunning(pid: Int32?)
        case notFound(clientID: String)

        public var description: String {
            switch self {
            case .serverRunning(let pid):
                return "a server is running on this data directory\(pid.map { " (pid \($0))" } ?? ""); delete the client through its API: DELETE /v1/clients/{id}"
            case .notFound(let id): return "no client \(id)"
            }
        }
    }

    /// Deletes a client from a data directory no server runs on: its tokens end (journal), then its file goes.
    /// - Throws: `OfflineDeleteError.serverRunning` when a server holds the directory, `.notFound`.
    public static func deleteClientOffline(dataDirectory: String, clientID: String, nowMs: Int64 = SystemClock.nowMs()) throws {
        let configuration = ServiceConfiguration(dataDirectory: dataDirectory)
        // Holding the log's writer lock keeps a server from starting meanwhile.
        let log: EventLog
        do {
            log = try EventLog(directory: configuration.layout.log, options: configuration.logOptions)
        } catch .locked(_, let pid) {
            throw OfflineDeleteError.serverRunning(pid: pid)
        }
        defer { log.close() }
        let clients = ClientStore(directory: configuration.layout.clients)
        guard clients.client(clientID) != nil else { throw OfflineDeleteError.notFound(clientID: clientID) }
        try TokenStore(directory: configuration.layout.oauth, nowMs: nowMs).revokeAll(clientID: clientID)
        try clients.delete(clientID)
    }

    /// `GET /v1/clients?after=&limit=&organization_id=`: the organization's clients (platform:admin: every
    /// organization, or the one named).
    func listClients(_ request: HTTPRequest) async throws -> HTTPResponse {
        let principal = try authenticate(request, scope: Scope.clientsWrite)
        let limit = try pageLimit(request)
        let after = request.queryValue("after")
        if let after, after.isEmpty || after.utf8.count > 64 { throw APIError(400, "invalid_query", "after must be a client id") }
        let organization = request.queryValue("organization_id")
        if let organization, organization != principal.organizationID, !principal.isPlatformAdmin {
            throw APIError(403, "forbidden_organization", "this token manages clients of \(principal.organizationID) only")
        }
        let wanted = organization ?? (principal.isPlatformAdmin ? nil : principal.organizationID)
        let visible = clients.all().filter { client in
            (wanted == nil || client.organizationID == wanted) && (after == nil || client.clientID > after ?? "")
        }
        let page = Array(visible.prefix(limit))
        let next: JSONValue = visible.count > limit ? .string(page.last?.clientID ?? "") : .null
        return json(200, .object([("data", .array(page.map(\.publicJSON))), ("next_after", next)]))
    }

    /// `POST /v1/clients` `{"scopes","description","organization_id"}`: 201 with the secret (shown once).
    /// A client never gets a scope its creator lacks (platform:admin may grant any).
    func createClient(_ request: HTTPRequest) async throws -> HTTPResponse {
        let principal = try authenticate(request, scope: Scope.clientsWrite)
        var fields = try FieldReader(try jsonBody(request))
        let scopes = try fields.stringArray("scopes", countMax: Scope.all.count) ?? []
        let description = try fields.string("description", sizeBytesMax: ServiceLimits.Clients.descriptionSizeBytesMax) ?? ""
        let organization = try fields.string("organization_id", sizeBytesMax: ServiceLimits.organizationIDSizeBytesMax)
            ?? principal.organizationID
        try fields.rejectUnknown()
        if organization != principal.organizationID, !principal.isPlatformAdmin {
            throw APIError(403, "forbidden_organization", "this token manages clients of \(principal.organizationID) only")
        }
        let unknown = scopes.filter { !Scope.all.contains($0) }
        guard !scopes.isEmpty, unknown.isEmpty else {
            throw APIError.invalid("scopes must be a non-empty array of: \(Scope.all.joined(separator: " "))")
        }
        if !principal.isPlatformAdmin, let beyond = scopes.first(where: { !principal.scopes.contains($0) }) {
            throw APIError(403, "insufficient_scope", "a client cannot be given \(beyond), which this token does not hold")
        }
        let (client, secret) = try clients.create(organizationID: organization, scopes: scopes, nowMs: configuration.nowMs(),
                                                  description: description)
        _ = try? await appendToLog([NewEvent(organizationID: client.organizationID, type: "oauth.client_registered",
                                             eventID: try EventID.make(timestampMs: configuration.nowMs()),
                                             data: Self.registrationData(client))])
        guard case .object(var members) = client.publicJSON else { return json(201, client.publicJSON) }
        members.insert(("client_secret", .string(secret)), at: 1)
        var response = json(201, .object(members))
        response.headers.add("Cache-Control", "no-store")
        return response
    }

    /// `DELETE /v1/clients/{id}`: 204; the client's tokens stop working at once.
    func deleteClient(_ request: HTTPRequest) async throws -> HTTPResponse {
        let principal = try authenticate(request, scope: Scope.clientsWrite)
        let id = request.pathParameters["id"] ?? ""
        guard let client = clients.client(id), client.organizationID == principal.organizationID || principal.isPlatformAdmin else {
            throw APIError.notFound("client \(id.prefix(64))")
        }
        let tokens = tokens
        let digests = tokens.digests(clientID: client.clientID)
        _ = try await BlockingIO.run { () throws -> Int in try tokens.revokeAll(clientID: client.clientID) }
        try clients.delete(client.clientID)
        // The other processes end these tokens when the client's deletion reaches them; the engine's copies go too.
        do {
            try await engineTokens?.shareRevoked(digests)
        } catch {
            configuration.logger.error("could not delete a deleted client's tokens from the engine", [("error", .string(String(describing: error)))])
        }
        return HTTPResponse(status: 204)
    }

    static func registrationData(_ client: OAuthClient) -> [UInt8] {
        JSONValue.object([("client_id", .string(client.clientID)), ("scopes", .array(client.scopes.map(JSONValue.string)))]).encoded()
    }

    /// On a data directory without clients, creates the first `platform:admin` client (organization
    /// `platform`) and returns it with its secret; nil when clients exist.
    package func bootstrapAdminClient() async throws -> (OAuthClient, secret: String)? {
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
    package func drainSpool() async -> Int {
        let directory = configuration.layout.spool
        var count = 0
        for name in FileStore.names(in: directory, suffix: ".json") {
            guard let bytes = FileStore.read(directory: directory, name: name), let json = try? JSONParser.parse(bytes),
                  let organization = json["organization_id"]?.stringValue, let type = json["type"]?.stringValue,
                  let id = json["id"]?.stringValue, let data = json["data"]?.stringValue else {
                configuration.logger.warning("unreadable spool file \(name) left in place")
                continue
            }
            do {
                _ = try await appender.append(batch: [NewEvent(organizationID: organization, type: type, eventID: id, data: Array(data.utf8))])
                try FileStore.remove(directory: directory, name: name)
                count += 1
            } catch {
                configuration.logger.error("spool file \(name) could not be appended", [("error", .string(String(describing: error)))])
            }
        }
        return count
    }
}
