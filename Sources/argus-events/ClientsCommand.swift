import Foundation
import Service

/// `argus-events clients create|list|delete`: OAuth clients of a data directory.
struct ClientsCommand: Command {
    static let name = "clients"
    static let usage = """
        clients create [--data-dir D | --engine nats://HOST:PORT[,...]] --org ORG --scopes "events:publish events:read webhooks:read webhooks:write" [--description TEXT]
          | clients list [--data-dir D | --engine URL] [--org ORG] | clients delete [--data-dir D | --engine URL] --client-id ID
        """

    static func run(_ words: [String]) async throws -> Int32 {
        switch words.first {
        case "create": return try await create(Array(words.dropFirst()))
        case "list": return try await list(Array(words.dropFirst()))
        case "delete": return try await delete(Array(words.dropFirst()))
        default: throw UsageError("clients needs a subcommand: create, list or delete")
        }
    }

    /// Registers a client (with or without a running server) and prints it once with its secret.
    private static func create(_ words: [String]) async throws -> Int32 {
        let arguments = try Arguments(words, valueFlags: ["--data-dir", "--engine", "--org", "--scopes", "--description"])
        let organization = try arguments.required("--org")
        let scopes = try arguments.required("--scopes").split(whereSeparator: { $0 == " " || $0 == "," }).map(String.init)
        guard ClientStore.isValidOrganizationID(organization) else {
            throw UsageError("--org must be 1 to 128 characters of [A-Za-z0-9_.-]")
        }
        let unknown = scopes.filter { !Scope.all.contains($0) }
        guard !scopes.isEmpty, unknown.isEmpty else {
            throw UsageError("--scopes must list some of: \(Scope.all.joined(separator: " "))")
        }
        let description = arguments.value("--description") ?? ""
        guard description.utf8.count <= ServiceLimits.Clients.descriptionSizeBytesMax else {
            throw UsageError("--description is longer than \(ServiceLimits.Clients.descriptionSizeBytesMax) bytes")
        }
        let (client, secret): (OAuthClient, secret: String)
        if let engine = try await engine(arguments) {
            defer { engine.connection.close() }
            (client, secret) = try await ArgusService.registerClient(engine: engine, organizationID: organization, scopes: scopes, description: description)
        } else {
            (client, secret) = try ArgusService.registerClient(
                dataDirectory: DataDirectory(arguments).root, organizationID: organization, scopes: scopes,
                description: description)
        }
        Console.print(client.registrationLine(secret: secret))
        return 0
    }

    /// Prints one JSON object per client (never a secret), with or without a running server.
    private static func list(_ words: [String]) async throws -> Int32 {
        let arguments = try Arguments(words, valueFlags: ["--data-dir", "--engine", "--org"])
        let organization = arguments.value("--org")
        let clients: [OAuthClient]
        if let engine = try await engine(arguments) {
            defer { engine.connection.close() }
            clients = try await ArgusService.clients(engine: engine)
        } else {
            clients = ClientStore(directory: DataDirectory(arguments).layout.clients).all()
        }
        for client in clients where organization == nil || client.organizationID == organization {
            Console.print(client.publicLine)
        }
        return 0
    }

    /// Deletes a client and ends its tokens; refuses (exit 1) while a server runs on the directory.
    private static func delete(_ words: [String]) async throws -> Int32 {
        let arguments = try Arguments(words, valueFlags: ["--data-dir", "--engine", "--client-id"])
        let clientID = try arguments.required("--client-id")
        do {
            if let engine = try await engine(arguments) {
                defer { engine.connection.close() }
                try await ArgusService.deleteClient(engine: engine, clientID: clientID)
            } else {
                try ArgusService.deleteClientOffline(dataDirectory: DataDirectory(arguments).root, clientID: clientID)
            }
        } catch let error as ArgusService.OfflineDeleteError {
            Console.error("argus-events clients delete: \(error)")
            return 1
        }
        Console.print(OAuthClient.deletionLine(clientID: clientID))
        return 0
    }

    /// The engine named by `--engine` (nil for none or `local`).
    /// - Throws: `UsageError` for a bad server list; the engine's error when it cannot be reached.
    private static func engine(_ arguments: Arguments) async throws -> EngineBinding? {
        guard let url = arguments.value("--engine"), url != "local" else { return nil }
        guard arguments.value("--data-dir") == nil else { throw UsageError("give --data-dir or --engine, not both") }
        do {
            return try await EngineBinding.open(servers: url, logger: ServerOutput.directLogger)
        } catch let error where EngineBinding.serverListProblem(error) != nil {
            throw UsageError.engineServers(EngineBinding.serverListProblem(error) ?? "")
        }
    }
}
