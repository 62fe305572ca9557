import Crypto
import EventLog
import Foundation
import JSON
import SystemIO

/// A registered OAuth 2.0 client (client credentials grant). Its secret is stored only as a SHA-256
/// digest: secrets are 256 random bits, so a slow password hash adds nothing.
public struct OAuthClient: Sendable, Equatable {
    /// `cli_` and 24 random hex digits.
    public var clientID: String
    /// SHA-256 of the secret (32 bytes); the secret itself is shown once, at registration.
    package var secretDigest: [UInt8]
    /// The organization it belongs to; its tokens act for it.
    public var organizationID: String
    /// The scopes its tokens may carry (`Scope.all`).
    public var scopes: [String]
    /// Registration time, in Unix milliseconds.
    package var createdAtMs: Int64
    /// What the client is for (free text, at most `ServiceLimits.Clients.descriptionSizeBytesMax` bytes).
    public var description = ""

    /// The client as the API and `clients list` show it (never the secret or its digest).
    public var publicJSON: JSONValue {
        .object([
            ("client_id", .string(clientID)), ("organization_id", .string(organizationID)),
            ("scopes", .array(scopes.map(JSONValue.string))), ("description", .string(description)),
            ("created_at", .string(Timestamp.format(ms: createdAtMs))),
        ])
    }

    /// `clients list`'s one line of JSON: `publicJSON`'s text.
    package var publicLine: String { publicJSON.text }

    /// `clients create`'s one line of JSON: the client with its `client_secret` (shown this once) and
    /// `scopes` as one space-separated string.
    package func registrationLine(secret: String) -> String {
        JSONValue.object([
            ("client_id", .string(clientID)), ("client_secret", .string(secret)),
            ("organization_id", .string(organizationID)), ("scopes", .string(scopes.joined(separator: " "))),
            ("description", .string(description)),
        ]).text
    }

    /// `clients delete`'s one line of JSON for the deleted client `clientID`.
    package static func deletionLine(clientID: String) -> String {
        JSONValue.object([("client_id", .string(clientID)), ("deleted", .bool(true))]).text
    }
}

/// The stored form (`clients/<id>.json`): the public fields and the secret's digest.
extension OAuthClient {
    var json: JSONValue {
        .object([
            ("client_id", .string(clientID)), ("secret_sha256", .string(Hex.encode(secretDigest))),
            ("organization_id", .string(organizationID)), ("scopes", .array(scopes.map(JSONValue.string))),
            ("created_at_ms", .integer(createdAtMs)), ("description", .string(description)),
        ])
    }

    init?(json: JSONValue) {
        guard let clientID = json["client_id"]?.stringValue, let digestText = json["secret_sha256"]?.stringValue,
              let digest = try? Hex.decode(digestText), digest.count == 32,
              let organizationID = json["organization_id"]?.stringValue,
              let scopes = json["scopes"]?.arrayValue?.compactMap(\.stringValue),
              let created = json["created_at_ms"]?.int64Value else { return nil }
        self.init(clientID: clientID, secretDigest: digest, organizationID: organizationID, scopes: scopes, createdAtMs: created,
                  description: json["description"]?.stringValue ?? "")
    }
}

/// Registered clients, one file each under `clients/`, so `argus-events clients create` can add one
/// while a server runs on the same data directory: the server reads the file when the client first asks
/// for a token.
public struct ClientStore: Sendable {
    public let directory: String

    public init(directory: String) { self.directory = directory }

    /// Registers a client and returns it with its secret (shown once, never stored).
    /// - Throws: `StoreError.invalid` for an invalid organization or scope list, `.clientLimit` at
    ///   `ServiceLimits.Clients.countMax` clients, `.system` for I/O.
    public func create(organizationID: String, scopes: [String], nowMs: Int64,
                       description: String = "") throws -> (OAuthClient, secret: String) {
        guard description.utf8.count <= ServiceLimits.Clients.descriptionSizeBytesMax else {
            throw StoreError.invalid("description is longer than \(ServiceLimits.Clients.descriptionSizeBytesMax) bytes")
        }
        guard Self.isValidOrganizationID(organizationID) else {
            throw StoreError.invalid("organization ids are 1 to \(ServiceLimits.organizationIDSizeBytesMax) characters of [A-Za-z0-9_.-]")
        }
        let unknown = scopes.filter { !Scope.all.contains($0) }
        guard unknown.isEmpty, !scopes.isEmpty else {
            throw StoreError.invalid("scopes must be a non-empty subset of: \(Scope.all.joined(separator: " "))")
        }
        guard FileStore.names(in: directory, suffix: ".json").count < ServiceLimits.Clients.countMax else {
            throw StoreError.clientLimit(limit: ServiceLimits.Clients.countMax)
        }
        let clientID = "cli_" + Hex.encode(try SecureRandom.bytes(count: 12))
        let secret = "cs_" + Base64.encode(try SecureRandom.bytes(count: 32), alphabet: .url)
        let client = OAuthClient(clientID: clientID, secretDigest: SHA256.hash(Array(secret.utf8)), organizationID: organizationID,
                                 scopes: Scope.all.filter(scopes.contains), createdAtMs: nowMs, description: description)
        try FileStore.write(client.json.encoded(), directory: directory, name: clientID + ".json")
        return (client, secret)
    }

    /// The client `clientID` when `secret` is its secret (constant-time comparison), else nil.
    package func authenticate(clientID: String, secret: String) -> OAuthClient? {
        guard let client = client(clientID) else {
            _ = ConstantTime.equals(SHA256.hash(Array(secret.utf8)), [UInt8](repeating: 0, count: 32))
            return nil
        }
        return ConstantTime.equals(SHA256.hash(Array(secret.utf8)), client.secretDigest) ? client : nil
    }

    /// The client `clientID`, or nil.
    public func client(_ clientID: String) -> OAuthClient? {
        guard clientID.hasPrefix("cli_"), clientID.utf8.count == 28, clientID.dropFirst(4).allSatisfy(\.isHexDigit),
              let bytes = FileStore.read(directory: directory, name: clientID + ".json"),
              let json = try? JSONParser.parse(bytes) else { return nil }
        return OAuthClient(json: json)
    }

    /// Every client, ordered by id (at most `ServiceLimits.Clients.countMax`).
    public func all() -> [OAuthClient] {
        FileStore.names(in: directory, suffix: ".json").compactMap { name in
            client(String(name.dropLast(5)))
        }
    }

    /// Removes the client `clientID` durably (its tokens must be ended first, see
    /// ``TokenStore/revokeAll(clientID:)``). Returns false when there was no such client.
    @discardableResult
    public func delete(_ clientID: String) throws -> Bool {
        guard client(clientID) != nil else { return false }
        try FileStore.remove(directory: directory, name: clientID + ".json")
        return true
    }

    /// True when no client is registered yet.
    public var isEmpty: Bool { FileStore.names(in: directory, suffix: ".json").isEmpty }

    /// `[A-Za-z0-9_.-]`, 1 to 128 bytes.
    public static func isValidOrganizationID(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= ServiceLimits.organizationIDSizeBytesMax
            && text.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || $0 == 95 || $0 == 46 || $0 == 45 }
    }
}
