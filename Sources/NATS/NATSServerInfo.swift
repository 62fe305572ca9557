import JSON

/// What a server says about itself in `INFO`: the parts this client uses.
package struct NATSServerInfo: Sendable, Equatable {
    /// The server's id.
    package var serverID: String
    /// The configured server name (`server_name`), or the id.
    package var serverName: String
    /// The server version, such as `2.9.10`.
    package var version: String
    /// The largest payload (headers included) the server accepts, in bytes (`max_payload`).
    package var payloadBytesMax: Int
    /// Whether the server supports headers (`HPUB`/`HMSG`).
    package var supportsHeaders: Bool
    /// Whether JetStream is enabled.
    package var hasJetStream: Bool
    /// Other servers of the cluster a client may reconnect to (`host:port`), at most 64.
    package var connectURLs: [String]

    package init(serverID: String = "", serverName: String = "", version: String = "", payloadBytesMax: Int = 1_048_576,
                supportsHeaders: Bool = true, hasJetStream: Bool = false, connectURLs: [String] = []) {
        self.serverID = serverID
        self.serverName = serverName
        self.version = version
        self.payloadBytesMax = payloadBytesMax
        self.supportsHeaders = supportsHeaders
        self.hasJetStream = hasJetStream
        self.connectURLs = connectURLs
    }

    /// The largest `max_payload` believed (64 MiB, the server's own ceiling).
    package static let payloadBytesCeiling = 64 * 1_048_576

    /// Parses the JSON of an `INFO` line.
    /// - Throws: `NATSProtocolError` (`malformed`) when it is not a JSON object or `max_payload` is out of 1...64 MiB.
    package static func parse(_ json: some Collection<UInt8>) throws(NATSProtocolError) -> NATSServerInfo {
        let value: JSONValue
        do {
            value = try JSONParser.parse(Array(json))
        } catch {
            throw NATSProtocolError(.malformed, "INFO is not JSON: \(error.description)")
        }
        guard case .object = value else { throw NATSProtocolError(.malformed, "INFO is not a JSON object") }
        var info = NATSServerInfo()
        info.serverID = value["server_id"]?.stringValue ?? ""
        info.serverName = value["server_name"]?.stringValue ?? info.serverID
        info.version = value["version"]?.stringValue ?? ""
        if let payload = value["max_payload"] {
            guard let bytes = payload.int64Value, bytes > 0, bytes <= Int64(payloadBytesCeiling) else {
                throw NATSProtocolError(.malformed, "INFO max_payload out of 1...\(payloadBytesCeiling)")
            }
            info.payloadBytesMax = Int(bytes)
        }
        info.supportsHeaders = value["headers"]?.boolValue ?? false
        info.hasJetStream = value["jetstream"]?.boolValue ?? false
        info.connectURLs = (value["connect_urls"]?.arrayValue ?? []).prefix(64).compactMap { $0.stringValue }
        return info
    }
}
