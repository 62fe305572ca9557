/// One server of a cluster: host and port.
package struct NATSServerAddress: Sendable, Hashable, CustomStringConvertible {
    /// A name or an IP literal (IPv6 without brackets).
    package var host: String
    /// TCP port, 1...65535.
    package var port: Int

    package var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// The most servers a list may name.
    package static let listCountMax = 64

    /// Parses `nats://HOST:PORT[,nats://HOST:PORT...]` (the scheme may be left out; the port defaults to
    /// 4222; IPv6 hosts in brackets). User info is refused: credentials do not belong in a URL that is logged.
    /// - Throws: `NATSError.invalidURL` naming the bad entry's position (never its text past the host).
    package static func parseList(_ text: String) throws(NATSError) -> [NATSServerAddress] {
        let entries = text.split(separator: ",", omittingEmptySubsequences: false)
        guard !text.isEmpty, entries.count <= listCountMax else {
            throw .invalidURL("expected 1...\(listCountMax) comma-separated nats://HOST:PORT entries")
        }
        var addresses: [NATSServerAddress] = []
        for (index, entry) in entries.enumerated() {
            let address = try parse(String(entry).trimmingSpaces(), position: index + 1)
            if !addresses.contains(address) { addresses.append(address) }
        }
        return addresses
    }

    /// Parses one `host:port` (as in INFO `connect_urls`) or `nats://host:port`.
    static func parse(_ entry: String, position: Int = 1) throws(NATSError) -> NATSServerAddress {
        var rest = Substring(entry)
        if let scheme = rest.range(of: "://") {
            guard rest[..<scheme.lowerBound].lowercased() == "nats" else {
                throw .invalidURL("entry \(position): the scheme must be nats://")
            }
            rest = rest[scheme.upperBound...]
        }
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        guard !rest.contains("@") else { throw .invalidURL("entry \(position): user info is not supported") }
        guard !rest.isEmpty, !rest.contains("/"), !rest.contains(where: { $0 == " " || $0.isNewline }) else {
            throw .invalidURL("entry \(position): expected nats://HOST:PORT")
        }
        var host: Substring
        var portText: Substring?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw .invalidURL("entry \(position): unclosed '['") }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw .invalidURL("entry \(position): expected ':' after ']'") }
                portText = after.dropFirst()
            }
        } else if let colon = rest.lastIndex(of: ":") {
            host = rest[..<colon]
            portText = rest[rest.index(after: colon)...]
        } else {
            host = rest
        }
        guard !host.isEmpty, host.count <= 253 else { throw .invalidURL("entry \(position): empty or overlong host") }
        var port = 4222
        if let portText {
            guard portText.count <= 5, let value = Int(portText), (1...65_535).contains(value) else {
                throw .invalidURL("entry \(position): the port must be 1...65535")
            }
            port = value
        }
        return NATSServerAddress(host: String(host), port: port)
    }
}
