import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Keep-alive connections to a server on 127.0.0.1 that send nothing: idle clients held open during a run.
/// Raises this process's descriptor limit as far as needed (and allowed).
final class IdleConnections {
    private var descriptors: [Int32] = []
    var count: Int { descriptors.count }

    /// Opens `count` connections to 127.0.0.1:`port` (fewer when the descriptor limit stops it).
    init(port: Int, count: Int) throws {
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        if limit.rlim_cur < rlim_t(count + 256) {
            limit.rlim_cur = min(limit.rlim_max, rlim_t(count + 256))
            setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        for _ in 0..<count {
            let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard descriptor >= 0 else { break }
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard connected == 0 else {
                Glibc.close(descriptor)
                break
            }
            descriptors.append(descriptor)
        }
    }

    func close() {
        for descriptor in descriptors { Glibc.close(descriptor) }
        descriptors = []
    }
}
