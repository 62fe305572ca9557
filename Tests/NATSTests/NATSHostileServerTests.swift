import Foundation
import NATS
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A fake NATS server on loopback that breaks the protocol on its first connection: the client must
/// drop that connection (not buffer or crash) and reconnect.
@Suite(.timeLimit(.minutes(1)))
struct NATSHostileServerTests {
    @Test(arguments: [
        "MSG big 1 99999999\r\n",  // over the INFO's max_payload of 1024
        "FOO bar\r\n",  // no such operation
        "MSG x 1 3\r\nabcXY",  // no CRLF after the payload
        "INFO " + String(repeating: "x", count: 70_000),  // a line without CRLF past the limit
    ])
    func aProtocolViolationDropsTheConnectionAndTheClientReconnects(_ hostile: String) async throws {
        let server = try FakeNATSServer(firstConnectionSends: hostile)
        defer { server.stop() }
        var options = NATSConnectionOptions()
        options.reconnectWaitMinSeconds = 0.01
        options.connectTimeoutSeconds = 2
        let connection = try await NATSConnection.connect(servers: "nats://127.0.0.1:\(server.port)", options: options)
        defer { connection.close() }
        let deadline = Date().addingTimeInterval(20)
        while connection.reconnectCount < 1 || connection.connectedServer == nil {
            guard Date() < deadline else {
                Issue.record("no reconnect within 20 s after '\(hostile.prefix(20))'")
                return
            }
            try await Task.sleep(nanoseconds: 10_000_000)
        }
        try await connection.flush(timeoutSeconds: 5)
        #expect(server.connectionCount >= 2)
    }
}

/// The fake: answers the handshake (INFO with max_payload 1024, PONG to each PING); on its first
/// connection it then sends the hostile bytes. Runs on its own threads; `stop()` closes the listener
/// and every connection.
///
/// `@unchecked Sendable`: the descriptors and count are guarded by `state`.
final class FakeNATSServer: @unchecked Sendable {
    let port: Int
    private let listener: Int32
    private let state = Mutex<(connections: [Int32], count: Int, stopped: Bool)>(([], 0, false))

    var connectionCount: Int { state.withLock { $0.count } }

    init(firstConnectionSends hostile: String) throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let listening = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(descriptor, pointer, length) == 0 && getsockname(descriptor, pointer, &length) == 0 && listen(descriptor, 8) == 0
            }
        }
        guard listening else {
            close(descriptor)
            throw NATSError.connectFailed(["fake server: bind/listen failed, errno \(errno)"])
        }
        listener = descriptor
        port = Int(UInt16(bigEndian: address.sin_port))
        let thread = Thread { [self] in acceptLoop(hostile: Array(hostile.utf8)) }
        thread.start()
    }

    func stop() {
        let descriptors = state.withLock { state -> [Int32] in
            state.stopped = true
            return state.connections
        }
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        for descriptor in descriptors { shutdown(descriptor, Int32(SHUT_RDWR)) }
    }

    private func acceptLoop(hostile: [UInt8]) {
        while true {
            let descriptor = accept(listener, nil, nil)
            guard descriptor >= 0 else { return }
            let index = state.withLock { state -> Int? in
                guard !state.stopped else { return nil }
                state.connections.append(descriptor)
                state.count += 1
                return state.count
            }
            guard let index else {
                close(descriptor)
                return
            }
            let thread = Thread { [self] in serve(descriptor, hostile: index == 1 ? hostile : nil) }
            thread.start()
        }
    }

    private func serve(_ descriptor: Int32, hostile: [UInt8]?) {
        defer { close(descriptor) }
        func send(_ bytes: [UInt8]) { _ = bytes.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } }
        send(Array("INFO {\"server_id\":\"FAKE\",\"version\":\"2.9.0\",\"max_payload\":1024,\"headers\":true,\"proto\":1}\r\n".utf8))
        var buffer = [UInt8](repeating: 0, count: 4_096)
        var pending: [UInt8] = []
        var sentHostile = false
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { return }
            pending += buffer[0..<count]
            while let end = pending.firstIndex(of: 10) {
                let line = String(decoding: pending[..<end], as: UTF8.self)
                pending.removeFirst(end + 1)
                if line.hasPrefix("PING") {
                    send(Array("PONG\r\n".utf8))
                    if let hostile, !sentHostile {
                        sentHostile = true
                        send(hostile)
                    }
                }
            }
        }
    }
}
