#if canImport(Glibc)
import Glibc
#endif

/// Opening the listening socket, and the socket calls around accepting.
enum ListeningSocket {
    /// Binds `host:port` (SO_REUSEADDR), listens, and returns the descriptor (non-blocking,
    /// close-on-exec) and the bound port.
    static func open(host: String, port: Int) throws(HTTPServerError) -> (descriptor: Int32, port: Int) {
        guard (0...65535).contains(port) else {
            throw HTTPServerError.configuration("port \(port) is out of range")
        }
        var address = try resolve(host: host, port: port)
        let descriptor = socket(Int32(address.ss_family), Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue)
                                    | Int32(SOCK_CLOEXEC.rawValue), 0)
        if descriptor < 0 { throw .system("socket", host) }
        var one: Int32 = 1
        if setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size)) != 0 {
            let error = HTTPServerError.system("setsockopt(SO_REUSEADDR)", host)
            close(descriptor)
            throw error
        }
        let length = socklen_t(address.ss_family == sa_family_t(AF_INET6)
            ? MemoryLayout<sockaddr_in6>.size : MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) }
        }
        if bound != 0 {
            let error = HTTPServerError.system("bind", "\(host):\(port)")
            close(descriptor)
            throw error
        }
        if listen(descriptor, SOMAXCONN) != 0 {
            let error = HTTPServerError.system("listen", "\(host):\(port)")
            close(descriptor)
            throw error
        }
        var boundAddress = sockaddr_storage()
        var boundLength = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let named = withUnsafeMutablePointer(to: &boundAddress) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &boundLength) }
        }
        if named != 0 {
            let error = HTTPServerError.system("getsockname", host)
            close(descriptor)
            throw error
        }
        return (descriptor, describe(boundAddress).port)
    }

    /// The socket address for a numeric IPv4/IPv6 host (brackets allowed) or a resolvable name.
    private static func resolve(host: String, port: Int) throws(HTTPServerError) -> sockaddr_storage {
        var name = host
        if name.hasPrefix("["), name.hasSuffix("]") { name = String(name.dropFirst().dropLast()) }
        var storage = sockaddr_storage()
        var ipv4 = sockaddr_in()
        if inet_pton(AF_INET, name, &ipv4.sin_addr) == 1 {
            ipv4.sin_family = sa_family_t(AF_INET)
            ipv4.sin_port = in_port_t(UInt16(port).bigEndian)
            return Self.storage(holding: ipv4)
        }
        var ipv6 = sockaddr_in6()
        if inet_pton(AF_INET6, name, &ipv6.sin6_addr) == 1 {
            ipv6.sin6_family = sa_family_t(AF_INET6)
            ipv6.sin6_port = in_port_t(UInt16(port).bigEndian)
            return Self.storage(holding: ipv6)
        }
        var hints = addrinfo()
        hints.ai_flags = AI_PASSIVE
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var results: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(name, String(port), &hints, &results)
        defer { if let results { freeaddrinfo(results) } }
        guard status == 0, let first = results, let address = first.pointee.ai_addr else {
            let message = status == 0 ? "no address" : String(cString: gai_strerror(status))
            throw HTTPServerError.configuration("getaddrinfo \(host): \(message)")
        }
        withUnsafeMutableBytes(of: &storage) { target in
            target.copyMemory(from: UnsafeRawBufferPointer(start: address, count: Int(first.pointee.ai_addrlen)))
        }
        return storage
    }

    /// A `sockaddr_storage` whose first bytes are `address` (a `sockaddr_in` or `sockaddr_in6`).
    private static func storage<Address>(holding address: Address) -> sockaddr_storage {
        var storage = sockaddr_storage()
        withUnsafeMutableBytes(of: &storage) { target in
            withUnsafeBytes(of: address) { target.copyMemory(from: $0) }
        }
        return storage
    }

    /// `address:port` (`[address]:port` for IPv6) and the port of a socket address.
    static func describe(_ address: sockaddr_storage) -> (text: String, port: Int) {
        switch Int32(address.ss_family) {
        case AF_INET:
            let ipv4 = withUnsafeBytes(of: address) { $0.load(as: sockaddr_in.self) }
            let port = Int(UInt16(bigEndian: ipv4.sin_port))
            return ("\(numericHost(AF_INET, ipv4.sin_addr)):\(port)", port)
        case AF_INET6:
            let ipv6 = withUnsafeBytes(of: address) { $0.load(as: sockaddr_in6.self) }
            let port = Int(UInt16(bigEndian: ipv6.sin6_port))
            return ("[\(numericHost(AF_INET6, ipv6.sin6_addr))]:\(port)", port)
        default:
            return ("unknown", 0)
        }
    }

    /// The numeric text `inet_ntop` gives for `address` (an `in_addr` or `in6_addr` of `family`).
    private static func numericHost<Address>(_ family: Int32, _ address: Address) -> String {
        var address = address
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        inet_ntop(family, &address, &buffer, socklen_t(buffer.count))
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
