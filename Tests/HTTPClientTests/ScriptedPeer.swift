import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A peer on 127.0.0.1 that accepts one connection and, for each request head it reads (up to the blank
/// line; requests here carry no body), writes the next scripted answer verbatim. For answers our HTTPServer
/// would never send (a HEAD answer announcing a length).
final class ScriptedPeer: Sendable {
    let port: Int
    private let listener: Int32
    private let answered = Mutex(0)
    private let done = DispatchSemaphore(value: 0)

    /// How the peer writes an answer.
    enum Delivery: Sendable {
        /// All at once.
        case whole
        /// One byte at a time, `gapMilliseconds` apart.
        case drip(gapMilliseconds: Int)
        /// All at once, then a reset (SO_LINGER 0) instead of an orderly close.
        case thenReset
    }

    init(answers: [String], delivery: Delivery = .whole) throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.listener = listener
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(listener, 4) == 0 else { throw POSIXError(.EADDRINUSE) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread { [self] in
            defer { done.signal() }
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else { return }
            defer { close(connection) }
            var timeout = timeval(tv_sec: 10, tv_usec: 0)
            setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var pending: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 4096)
            for answer in answers {
                while !pending.contains(subsequence: [13, 10, 13, 10]) {
                    let count = recv(connection, &buffer, buffer.count, 0)
                    guard count > 0 else { return }
                    pending += buffer[0..<count]
                }
                let end = pending.firstRange(of: [13, 10, 13, 10])!.upperBound
                pending.removeFirst(end)
                let bytes = Array(answer.utf8)
                switch delivery {
                case .whole, .thenReset:
                    guard send(connection, bytes, bytes.count, Int32(MSG_NOSIGNAL)) == bytes.count else { return }
                case .drip(let gap):
                    for byte in bytes {
                        guard send(connection, [byte], 1, Int32(MSG_NOSIGNAL)) == 1 else { return }
                        usleep(useconds_t(gap * 1000))
                    }
                }
                answered.withLock { $0 += 1 }
                if case .thenReset = delivery {
                    usleep(50_000) // let the answer leave before the reset
                    var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
                    setsockopt(connection, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
                    return
                }
            }
        }.start()
    }

    /// Waits (at most 10 s) for the peer's thread to end, closes the listener; returns the answers written.
    /// A thread still in `accept` is woken by the shutdown first: it never calls `accept` on a closed
    /// descriptor number, which another test's socket may have taken.
    func finish() -> Int {
        if done.wait(timeout: .now() + 10) == .timedOut {
            shutdown(listener, Int32(SHUT_RDWR))
            _ = done.wait(timeout: .now() + 10)
        }
        close(listener)
        return answered.withLock { $0 }
    }
}

extension ScriptedPeer {
    /// A TCP socket bound to a free port on 127.0.0.1 that never listens: connections to it are refused.
    static func boundNotListening() -> (descriptor: Int32, port: Int) {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        return (descriptor, Int(UInt16(bigEndian: address.sin_port)))
    }
}

extension Array where Element == UInt8 {
    fileprivate func contains(subsequence: [UInt8]) -> Bool { firstRange(of: subsequence) != nil }
}
