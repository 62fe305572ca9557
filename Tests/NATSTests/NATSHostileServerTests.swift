import Foundation
@testable import NATS
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

    /// A fake server behaving as `afterHandshake` says and a client connected to it (no keep-alive PINGs).
    private func connected(_ afterHandshake: FakeNATSServer.AfterHandshake,
                           _ configure: (inout NATSConnectionOptions) -> Void) async throws -> (FakeNATSServer, NATSConnection) {
        let server = try FakeNATSServer(afterHandshake: afterHandshake)
        var options = NATSConnectionOptions()
        options.pingIntervalSeconds = 60
        configure(&options)
        do {
            return (server, try await NATSConnection.connect(servers: "nats://127.0.0.1:\(server.port)", options: options))
        } catch {
            server.stop()
            throw error
        }
    }

    @Test func flushesWaitingForTheirPongAreCapped() async throws {
        let (server, connection) = try await connected(.ignorePings) { $0.flushesPendingMax = 2 }
        defer { server.stop() }
        defer { connection.close() }
        // Three flushes at once, none answered (the fake sends no PONG): two wait and time out, one is refused at once.
        let outcomes = await withTaskGroup(of: String.self) { group in
            for _ in 0..<3 {
                group.addTask {
                    do {
                        try await connection.flush(timeoutSeconds: 5)
                        return "answered"
                    } catch {
                        return "\(error)"
                    }
                }
            }
            return await group.reduce(into: [String]()) { $0.append($1) }
        }
        #expect(outcomes.sorted() == [NATSError.tooManyPendingFlushes(flushesMax: 2).description,
                                      NATSError.timedOut(operation: "flush", seconds: 5).description,
                                      NATSError.timedOut(operation: "flush", seconds: 5).description])
    }

    @Test func aFlushObeysTheOutboundLimit() async throws {
        let (server, connection) = try await connected(.stopReading) {
            $0.outboundBytesMax = 65_536
            $0.writeTimeoutSeconds = 60
        }
        defer { server.stop() }
        defer { connection.close() }
        // The fake stops reading at the first PING after the handshake: this flush's, which it never answers.
        await #expect(throws: NATSError.timedOut(operation: "flush", seconds: 0.5)) { try await connection.flush(timeoutSeconds: 0.5) }
        // Publish until ours is full while the writer is stuck in a send (it holds a chunk the socket takes no more
        // of). A full buffer alone is not enough: on a loaded machine the writer may not have run yet, and would
        // then take the buffer and make room for the PING below.
        var stuck = false
        let deadline = ContinuousClock.now + .seconds(30)
        while !stuck, ContinuousClock.now < deadline {
            var full = false
            for _ in 0..<1_000 where !full {
                do {
                    try connection.publish("x", payload: Array(repeating: 0, count: 1_000))
                } catch .outboundBufferFull {
                    full = true
                } catch {
                    Issue.record("publish failed with \(error)")
                    return
                }
            }
            stuck = full && writerIsStuck(connection.core)
            if !stuck { try await Task.sleep(nanoseconds: full ? 1_000_000 : 0) }
        }
        #expect(stuck, "within 30 s the outbound buffer filled while the writer was stuck in a send")
        // The writer is blocked in a send; fill our buffer to 3 bytes below the cap, too few for a PING.
        fill(connection.core, toBelowTheCapBy: 3)
        await #expect(throws: NATSError.outboundBufferFull(bytesMax: 65_536)) {
            try await connection.flush(timeoutSeconds: 5)
        }
    }
}

/// True when `core`'s writer thread is in a send it cannot finish: it holds a chunk and the socket is not writable
/// (the fake reads nothing, so it never will be).
private func writerIsStuck(_ core: NATSConnectionCore) -> Bool {
    core.condition.lock()
    defer { core.condition.unlock() }
    guard core.isSending, case .connected(let socket) = core.phase else { return false }
    var entry = pollfd(fd: socket.descriptor, events: Int16(POLLOUT), revents: 0)
    return poll(&entry, 1, 0) == 0
}

/// Appends filler to `core`'s outbound buffer up to `bytes` below `outboundBytesMax` (the writer is blocked, nothing is sent).
private func fill(_ core: NATSConnectionCore, toBelowTheCapBy bytes: Int) {
    core.condition.lock()
    defer { core.condition.unlock() }
    core.outbound += [UInt8](repeating: 0, count: max(0, core.options.outboundBytesMax - core.outbound.count - bytes))
}

/// The fake: answers the handshake (INFO with max_payload 1024, PONG to each PING); to the first connection
/// whose client finished its handshake (it sent its first SUB, which a client sends only once connected) it
/// then sends the hostile bytes, or (`afterHandshake`) answers no PING but the first, or stops reading
/// altogether so the client's writes back up. Runs on its own threads; `stop()` shuts the listener and every
/// open connection down.
///
/// Descriptors are process-wide and reused at once: each is closed only by the thread that uses it, under
/// `state`, and dropped from `state` as it is closed, so `stop()` never shuts down (nor `accept` ever uses) a
/// number that another test's socket has taken since.
final class FakeNATSServer: Sendable {
    let port: Int
    private let listener: Int32
    private let state = Mutex<(connections: Set<Int32>, count: Int, stopped: Bool, listening: Bool, hostileSent: Bool)>(([], 0, false, true, false))

    var connectionCount: Int { state.withLock { $0.count } }

    /// What the fake does once it answered the handshake's PING.
    enum AfterHandshake: Sendable {
        case answerPings
        case ignorePings
        case stopReading
    }

    private let afterHandshake: AfterHandshake

    /// An answer to a request (a `PUB` with a reply subject): a payload, or a status-only message such as
    /// JetStream's `404 No Messages`.
    enum Answer: Sendable {
        case payload(String)
        case status(Int, String)
    }

    /// Answers requests by subject and payload (nil: no answer); nil: requests are read as plain lines.
    private let answering: (@Sendable (String, [UInt8]) -> Answer?)?

    init(firstConnectionSends hostile: String = "", afterHandshake: AfterHandshake = .answerPings,
         answering: (@Sendable (String, [UInt8]) -> Answer?)? = nil) throws {
        self.afterHandshake = afterHandshake
        self.answering = answering
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

    /// Shuts the listener and the open connections down; their threads see it, close them and end.
    func stop() {
        state.withLock { state in
            state.stopped = true
            if state.listening { shutdown(listener, Int32(SHUT_RDWR)) }
            for descriptor in state.connections { shutdown(descriptor, Int32(SHUT_RDWR)) }
        }
    }

    private func acceptLoop(hostile: [UInt8]) {
        defer {
            state.withLock { state in
                state.listening = false
                close(listener)
            }
        }
        while true {
            let descriptor = accept(listener, nil, nil)
            guard descriptor >= 0 else {
                if errno == EINTR || errno == ECONNABORTED { continue }
                return
            }
            let admitted = state.withLock { state -> Bool in
                guard !state.stopped else { return false }
                state.connections.insert(descriptor)
                state.count += 1
                return true
            }
            guard admitted else {
                close(descriptor)
                return
            }
            let thread = Thread { [self] in
                serve(descriptor, hostile: hostile)
                state.withLock { state in
                    state.connections.remove(descriptor)
                    close(descriptor)
                }
            }
            thread.start()
        }
    }

    /// Whether a subscription's subject (with `*` and `>` wildcards) covers `subject`.
    private static func matches(_ pattern: String, _ subject: String) -> Bool {
        let wanted = pattern.split(separator: "."), given = subject.split(separator: ".")
        for (index, token) in wanted.enumerated() {
            if token == ">" { return given.count > index }
            guard index < given.count, token == "*" || token == given[index] else { return false }
        }
        return wanted.count == given.count
    }

    /// The `MSG` (or status-only `HMSG`) delivering `answer` on `subject` to subscription `sid`.
    private static func frame(_ answer: Answer, subject: String, sid: String) -> [UInt8] {
        switch answer {
        case .payload(let text):
            return Array("MSG \(subject) \(sid) \(text.utf8.count)\r\n\(text)\r\n".utf8)
        case .status(let code, let description):
            let headers = "NATS/1.0 \(code) \(description)\r\n\r\n"
            return Array("HMSG \(subject) \(sid) \(headers.utf8.count) \(headers.utf8.count)\r\n\(headers)\r\n".utf8)
        }
    }

    /// True for the first caller only: the one connection that gets the hostile bytes.
    private func claimHostile() -> Bool {
        state.withLock { state in
            defer { state.hostileSent = true }
            return !state.hostileSent
        }
    }

    private func serve(_ descriptor: Int32, hostile: [UInt8]) {
        func send(_ bytes: [UInt8]) { _ = bytes.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } }
        send(Array("INFO {\"server_id\":\"FAKE\",\"version\":\"2.9.0\",\"max_payload\":1024,\"headers\":true,\"proto\":1}\r\n".utf8))
        var buffer = [UInt8](repeating: 0, count: 4_096)
        var pending: [UInt8] = []
        var pongs = 0
        var subscriptions: [(subject: String, sid: String)] = []
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { return }
            pending += buffer[0..<count]
            while let end = pending.firstIndex(of: 10) {
                let line = String(decoding: pending[..<end], as: UTF8.self)
                if let answering {
                    let tokens = line.split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
                    if tokens.first == "SUB", tokens.count >= 3 { subscriptions.append((tokens[1], tokens[tokens.count - 1])) }
                    if tokens.first == "PUB" || tokens.first == "HPUB", let size = tokens.last.flatMap({ Int($0) }) {
                        guard pending.count >= end + 1 + size + 2 else { break }  // the payload is still coming
                        let payload = Array(pending[(end + 1)..<(end + 1 + size)])
                        pending.removeFirst(end + 1 + size + 2)
                        let reply = tokens.count >= (tokens[0] == "PUB" ? 4 : 5) ? tokens[2] : nil
                        if let reply, let answer = answering(tokens[1], payload),
                           let sid = subscriptions.last(where: { Self.matches($0.subject, reply) })?.sid {
                            send(Self.frame(answer, subject: reply, sid: sid))
                        }
                        continue
                    }
                }
                pending.removeFirst(end + 1)
                if line.hasPrefix("SUB"), !hostile.isEmpty, claimHostile() { send(hostile) }
                if line.hasPrefix("PING") {
                    if pongs > 0 && afterHandshake == .ignorePings { continue }
                    if pongs > 0 && afterHandshake == .stopReading {
                        while state.withLock({ !$0.stopped }) { usleep(10_000) }
                        return
                    }
                    pongs += 1
                    send(Array("PONG\r\n".utf8))
                }
            }
        }
    }
}
