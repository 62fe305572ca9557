import Dispatch
import Foundation
import HTTPClient
#if canImport(Glibc)
import Glibc
#endif

/// The SSRF guard: a webhook URL must be `https://` (unless HTTP is allowed for development) and its
/// host must resolve only to public unicast addresses, unless an address is in an operator allow-list.
/// Checked when a webhook is created or updated, and again before every delivery attempt.
public struct TargetGuard: Sendable {
    /// Why a target is refused. `code` is the API's machine-readable error code.
    public struct Refusal: Error, Equatable, Sendable, CustomStringConvertible {
        public let code: String
        public let message: String
        public var description: String { message }
    }

    /// Longest URL accepted, in bytes.
    public static let urlSizeBytesMax = 2048

    /// Allow `http://` targets (development and tests only).
    public var allowsHTTP: Bool
    /// Addresses in these blocks are accepted even when not public.
    public var allowedCIDRs: [CIDR]
    /// Name resolution (getaddrinfo by default; tests substitute one whose answers change).
    package var resolver: @Sendable (String) async -> [IPAddress]

    public init(allowsHTTP: Bool = false, allowedCIDRs: [CIDR] = [],
                resolver: @escaping @Sendable (String) async -> [IPAddress] = { await TargetGuard.resolve($0) }) {
        self.allowsHTTP = allowsHTTP
        self.allowedCIDRs = allowedCIDRs
        self.resolver = resolver
    }

    /// A target that passed the syntax checks.
    public struct Target: Sendable, Equatable {
        public let url: URL
        /// The host as written, without IPv6 brackets.
        public let host: String
        public let port: Int
    }

    /// Checks the URL's form without resolving it.
    public func parse(_ text: String) throws(Refusal) -> Target {
        guard text.utf8.count <= Self.urlSizeBytesMax else {
            throw Refusal(code: "invalid_url", message: "the URL is longer than \(Self.urlSizeBytesMax) bytes")
        }
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
              let url = components.url else {
            throw Refusal(code: "invalid_url", message: "the URL is not valid")
        }
        guard scheme == "https" || (scheme == "http" && allowsHTTP) else {
            throw Refusal(code: "invalid_url", message: allowsHTTP ? "the URL must be http or https" : "the URL must use https")
        }
        guard components.user == nil, components.password == nil else {
            throw Refusal(code: "invalid_url", message: "the URL must not carry credentials")
        }
        guard components.fragment == nil else { throw Refusal(code: "invalid_url", message: "the URL must not have a fragment") }
        guard var host = components.percentEncodedHost, !host.isEmpty else {
            throw Refusal(code: "invalid_url", message: "the URL has no host")
        }
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.contains("%") else { throw Refusal(code: "invalid_url", message: "the host must not be percent-encoded or scoped") }
        let port = components.port ?? (scheme == "https" ? 443 : 80)
        guard (1...65535).contains(port) else { throw Refusal(code: "invalid_url", message: "the port is out of range") }
        return Target(url: url, host: host.lowercased(), port: port)
    }

    /// Parses `text`, resolves its host and checks every address.
    /// - Throws: `Refusal` with code `invalid_url`, `unresolvable_host` or `forbidden_target`.
    public func check(_ text: String) async throws(Refusal) -> (Target, [IPAddress]) {
        let target = try parse(text)
        let addresses = await resolver(target.host)
        guard !addresses.isEmpty else {
            throw Refusal(code: "unresolvable_host", message: "the host \(target.host) does not resolve")
        }
        for address in addresses where !isAllowed(address) {
            throw Refusal(code: "forbidden_target",
                          message: "the host \(target.host) resolves to \(address), which is not a public unicast address")
        }
        return (target, addresses)
    }

    /// True when deliveries may go to `address`.
    package func isAllowed(_ address: IPAddress) -> Bool {
        address.isPublicUnicast || allowedCIDRs.contains { $0.contains(address) }
    }

    private static let resolverQueue = DispatchQueue(label: "argus.target-guard.resolver", attributes: .concurrent)

    /// Every address `host` resolves to (numeric forms such as `127.1` or `0x7f.0.0.1` included, exactly
    /// as the connecting side would read them). Runs `getaddrinfo` off the cooperative pool.
    public static func resolve(_ host: String) async -> [IPAddress] {
        await withCheckedContinuation { continuation in
            resolverQueue.async { continuation.resume(returning: IPAddress.resolveBlocking(host)) }
        }
    }

}
