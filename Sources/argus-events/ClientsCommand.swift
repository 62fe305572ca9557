import Foundation
import JSON
import Service

/// `argus-events clients create`: registers an OAuth client; prints it once with its secret.
struct ClientsCommand: Command {
    static let name = "clients"
    static let usage = "clients create [--data-dir D] --org ORG --scopes \"events:publish events:read webhooks:read webhooks:write\""

    static func run(_ words: [String]) async throws -> Int32 {
        guard words.first == "create" else { throw UsageError("the only clients subcommand is: create") }
        let arguments = try Arguments(Array(words.dropFirst()), valueFlags: ["--data-dir", "--org", "--scopes"])
        guard arguments.positionals.isEmpty else { throw UsageError("unexpected argument \(arguments.positionals[0])") }
        let organization = try arguments.required("--org")
        let scopes = try arguments.required("--scopes").split(whereSeparator: { $0 == " " || $0 == "," }).map(String.init)
        guard ClientStore.isValidOrganizationID(organization) else {
            throw UsageError("--org must be 1 to 128 characters of [A-Za-z0-9_.-]")
        }
        let unknown = scopes.filter { !Scope.all.contains($0) }
        guard !scopes.isEmpty, unknown.isEmpty else {
            throw UsageError("--scopes must list some of: \(Scope.all.joined(separator: " "))")
        }
        let (client, secret) = try ArgusService.registerClient(
            dataDirectory: DataDirectory(arguments).root, organizationID: organization, scopes: scopes,
            nowMs: Int64(Date().timeIntervalSince1970 * 1000))
        Console.print(JSONValue.object([
            ("client_id", .string(client.clientID)), ("client_secret", .string(secret)),
            ("organization_id", .string(client.organizationID)), ("scopes", .string(client.scopes.joined(separator: " "))),
        ]).text)
        return 0
    }
}
