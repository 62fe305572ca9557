#if canImport(Glibc)
import Glibc
#endif

/// An IPv4 or IPv6 address as 4 or 16 bytes, with the classification the SSRF guard needs.
public struct IPAddress: Sendable, Hashable, CustomStringConvertible {
    /// 4 bytes for IPv4, 16 for IPv6, network order.
    public let bytes: [UInt8]

    public init?(bytes: [UInt8]) {
        guard bytes.count == 4 || bytes.count == 16 else { return nil }
        self.bytes = bytes
    }

    /// Parses a literal in the strict textual forms (`inet_pton`): dotted quad or IPv6.
    public init?(_ text: String) {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            bytes = withUnsafeBytes(of: v4) { Array($0) }
            return
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            bytes = withUnsafeBytes(of: v6) { Array($0) }
            return
        }
        return nil
    }

    package var isIPv4: Bool { bytes.count == 4 }

    public var description: String {
        var buffer = [CChar](repeating: 0, count: 64)
        let family = isIPv4 ? AF_INET : AF_INET6
        let text = bytes.withUnsafeBytes { raw in
            inet_ntop(family, raw.baseAddress, &buffer, socklen_t(buffer.count)).map { _ in
                String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            }
        }
        return text ?? "?"
    }

    /// True when the first `prefixLength` bits equal those of `network`.
    package func isIn(_ network: IPAddress, prefixLength: Int) -> Bool {
        guard network.bytes.count == bytes.count else { return false }
        var remaining = prefixLength
        for index in 0..<bytes.count where remaining > 0 {
            let bits = min(8, remaining)
            let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
            if bytes[index] & mask != network.bytes[index] & mask { return false }
            remaining -= bits
        }
        return true
    }

    /// The IPv4 address embedded in an IPv4-mapped, IPv4-compatible, NAT64 or 6to4 IPv6 address.
    package var embeddedIPv4: IPAddress? {
        guard !isIPv4 else { return nil }
        if bytes[0..<10].allSatisfy({ $0 == 0 }) && (bytes[10..<12] == [0xFF, 0xFF] || bytes[10..<12] == [0, 0]) {
            return IPAddress(bytes: Array(bytes[12..<16]))
        }
        if bytes[0..<12] == [0x00, 0x64, 0xFF, 0x9B, 0, 0, 0, 0, 0, 0, 0, 0] { return IPAddress(bytes: Array(bytes[12..<16])) }
        if bytes[0] == 0x20 && bytes[1] == 0x02 { return IPAddress(bytes: Array(bytes[2..<6])) }
        return nil
    }

    private static func network(_ text: String, _ length: Int) -> (IPAddress, Int) {
        // The literals below are well-formed; `IPAddress(text)` cannot fail for them.
        (IPAddress(text) ?? IPAddress(bytes: [0, 0, 0, 0]).unsafelyUnwrapped, length)
    }

    /// IPv4 ranges that are not public unicast (RFC 6890 and friends).
    package static let nonPublicIPv4: [(IPAddress, Int)] = [
        network("0.0.0.0", 8), network("10.0.0.0", 8), network("100.64.0.0", 10), network("127.0.0.0", 8),
        network("169.254.0.0", 16), network("172.16.0.0", 12), network("192.0.0.0", 24), network("192.0.2.0", 24),
        network("192.88.99.0", 24), network("192.168.0.0", 16), network("198.18.0.0", 15), network("198.51.100.0", 24),
        network("203.0.113.0", 24), network("224.0.0.0", 4), network("240.0.0.0", 4),
    ]

    /// IPv6 ranges that are not public unicast.
    package static let nonPublicIPv6: [(IPAddress, Int)] = [
        network("::", 96), network("::ffff:0:0", 96), network("64:ff9b::", 96), network("64:ff9b:1::", 48),
        network("100::", 64), network("2001::", 23), network("2001:db8::", 32), network("2002::", 16),
        network("3fff::", 20), network("fc00::", 7), network("fe80::", 10), network("fec0::", 10), network("ff00::", 8),
    ]

    /// True for a global unicast address: not loopback, private, link-local, CGNAT, multicast, reserved,
    /// documentation, unspecified, or an IPv6 form embedding one of those.
    package var isPublicUnicast: Bool {
        if isIPv4 { return !Self.nonPublicIPv4.contains { isIn($0.0, prefixLength: $0.1) } }
        if let embedded = embeddedIPv4, !embedded.isPublicUnicast { return false }
        guard isIn(IPAddress(bytes: [0x20] + [UInt8](repeating: 0, count: 15)).unsafelyUnwrapped, prefixLength: 3) else { return false }
        return !Self.nonPublicIPv6.contains { isIn($0.0, prefixLength: $0.1) }
    }

    /// Every address `host` resolves to through the system resolver (`getaddrinfo`; numeric forms such as
    /// `127.1` or `0x7f.0.0.1` included, exactly as the connecting side would read them), distinct, in the
    /// resolver's order, at most `countMax`. Blocks: call it on a dedicated thread, never on the cooperative pool.
    package static func resolveBlocking(_ host: String, countMax: Int = 64) -> [IPAddress] {
        if let literal = IPAddress(host) { return [literal] }
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &list) == 0, let first = list else { return [] }
        defer { freeaddrinfo(first) }
        var addresses: [IPAddress] = []
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let current = entry, addresses.count < countMax {
            if let socketAddress = current.pointee.ai_addr {
                var bytes: [UInt8] = []
                if current.pointee.ai_family == AF_INET {
                    bytes = socketAddress.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { pointer in
                        withUnsafeBytes(of: pointer.pointee.sin_addr) { Array($0) }
                    }
                } else if current.pointee.ai_family == AF_INET6 {
                    bytes = socketAddress.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { pointer in
                        withUnsafeBytes(of: pointer.pointee.sin6_addr) { Array($0) }
                    }
                }
                if let address = IPAddress(bytes: bytes), !addresses.contains(address) { addresses.append(address) }
            }
            entry = current.pointee.ai_next
        }
        return addresses
    }
}
