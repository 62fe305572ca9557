/// A CIDR block such as `10.0.0.0/8` or `::1/128`.
public struct CIDR: Sendable, Hashable, CustomStringConvertible {
    public let network: IPAddress
    package let prefixLength: Int

    /// Parses `address/length`; a bare address means a single host.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let address = IPAddress(String(parts[0])) else { return nil }
        let maximum = address.isIPv4 ? 32 : 128
        if parts.count == 2 {
            guard let length = Int(parts[1]), (0...maximum).contains(length) else { return nil }
            prefixLength = length
        } else {
            prefixLength = maximum
        }
        network = address
    }

    public func contains(_ address: IPAddress) -> Bool { address.isIn(network, prefixLength: prefixLength) }

    public var description: String { "\(network)/\(prefixLength)" }
}
