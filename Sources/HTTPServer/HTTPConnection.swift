#if canImport(Glibc)
import Glibc
#endif

/// One client connection: its buffers, parser, queue of responses in request order, and timers.
/// Created, driven and closed by the ``IOLoop`` on the I/O thread only.
///
/// Its mutable state is `@exclusivity(unchecked)`: one thread touches it, and no code here touches a
/// property while an access to it is under way (such as a mutating call on it); unchecked, the dozens
/// of touches per request cost no runtime access check each.
final class HTTPConnection {
    /// A response position in request order. Responses leave strictly in slot order.
    private struct Slot {
        enum Kind { case interim, final }
        let sequence: UInt64
        let kind: Kind
        var response: HTTPResponse?
        var close: Bool
        let keepAliveHeader: Bool
        let omitBody: Bool
        let identity: RequestIdentity
        /// For an interim slot: whether the handler let the request continue (`100 Continue` may go out).
        var decided = true
    }

    /// What the response and the access log line say of a request: its id, method and path, and when
    /// its first byte arrived (in the loop's seconds).
    private struct RequestIdentity {
        let requestID: String
        let method: String
        let path: String
        let startSeconds: Double
    }

    enum Phase {
        case open
        /// The last response went out and the write side is shut: read and drop what the peer
        /// still sends (so the kernel does not answer it with a reset that destroys the
        /// response), until it closes or the deadline passes.
        case lingering(deadlineSeconds: Double)
        case closed
    }

    /// Bytes requested from the kernel per read at least.
    static let readChunkBytes = 16 * 1024
    /// An idle input buffer larger than this is released.
    static let inputKeptBytesMax = 64 * 1024
    /// No further requests are parsed while this much output waits for the peer.
    static let outputHighWaterBytes = 256 * 1024
    /// How long a closing connection waits for the peer's FIN, in seconds.
    static let lingerSeconds = 2.0

    let descriptor: Int32
    let id: UInt64
    let remoteAddress: String
    /// Position in the loop's connection list (kept by the loop).
    @exclusivity(unchecked) var listIndex = 0
    /// The events the loop's epoll set reports for this connection (`pollEvents` when last registered).
    @exclusivity(unchecked) var registeredEvents: Int16 = 0
    /// Neighbours in the loop's list of evictable connections, least recently active first
    /// (kept by the loop's ``IdleList``).
    @exclusivity(unchecked) var idlePrevious: HTTPConnection?
    @exclusivity(unchecked) var idleNext: HTTPConnection?
    @exclusivity(unchecked) var isInIdleList = false
    @exclusivity(unchecked) private(set) var phase = Phase.open

    /// `unowned(unsafe)`: the loop owns every connection and is the only caller into one, so it outlives
    /// them all (no reference-count check per access on the I/O thread).
    private unowned(unsafe) let loop: IOLoop
    @exclusivity(unchecked) private var input = ByteQueue()
    @exclusivity(unchecked) private var output = ByteQueue()
    @exclusivity(unchecked) private var parser: HTTPParser
    @exclusivity(unchecked) private var slots: [Slot] = []
    @exclusivity(unchecked) private var nextSequence: UInt64 = 0
    /// Dispatched or refused requests whose responses are not yet in `output`.
    @exclusivity(unchecked) private var unansweredCount = 0
    /// No further requests will be read: a closing request, an error, EOF or shutdown.
    @exclusivity(unchecked) private var parsingStopped = false
    @exclusivity(unchecked) private var peerClosedInput = false
    /// The final response is queued: close once `output` drains.
    @exclusivity(unchecked) private var closeAfterOutput = false
    @exclusivity(unchecked) private var requestStartSeconds: Double?
    @exclusivity(unchecked) private var lastActivitySeconds: Double
    @exclusivity(unchecked) private var writeBlockedSinceSeconds: Double?
    /// A head with `Expect: 100-continue` waits for the handler's decision; nothing more is read.
    @exclusivity(unchecked) private var awaitingContinueDecision = false

    init(descriptor: Int32, id: UInt64, remoteAddress: String, loop: IOLoop) {
        self.descriptor = descriptor
        self.id = id
        self.remoteAddress = remoteAddress
        self.loop = loop
        self.parser = HTTPParser(headSizeBytesMax: loop.configuration.headSizeBytesMax,
                                 bodySizeBytesMax: loop.configuration.bodySizeBytesMax)
        self.lastActivitySeconds = loop.nowSeconds
    }

    /// The `poll` events this connection waits for now.
    var pollEvents: Int16 {
        switch phase {
        case .closed: return 0
        case .lingering: return Int16(POLLIN)
        case .open:
            var events: Int16 = 0
            if acceptsInput, !peerClosedInput { events |= Int16(POLLIN) }
            if !output.isEmpty { events |= Int16(POLLOUT) }
            return events
        }
    }

    /// Whether more requests may be read and parsed now (not stopped, under the pipelining and
    /// output limits).
    private var acceptsInput: Bool {
        !parsingStopped && !awaitingContinueDecision
            && unansweredCount < loop.configuration.pipelinedRequestCountMax
            && output.count < Self.outputHighWaterBytes
    }

    /// Whether closing this connection to admit another loses no request: it is lingering, or it
    /// is open with no request in progress (nothing dispatched or unanswered, no output pending,
    /// the parser at most inside a head).
    var isEvictable: Bool {
        switch phase {
        case .closed: return false
        case .lingering: return true
        case .open: return slots.isEmpty && output.isEmpty && parser.isReadingHead && !awaitingContinueDecision
        }
    }

    // MARK: - Events from the loop

    /// True once the socket is closed (the connection has left the loop).
    var isClosed: Bool {
        if case .closed = phase { return true }
        return false
    }

    /// Handles the events the loop reported (epoll's bits, which equal `poll`'s on Linux).
    func handle(revents: Int16) {
        if revents & Int16(POLLNVAL | POLLERR) != 0 {
            close()
            return
        }
        switch phase {
        case .closed:
            return
        case .lingering:
            discardInput()
        case .open:
            if revents & Int16(POLLOUT) != 0 { writeOutput() }
            guard case .open = phase else { return }
            if revents & Int16(POLLHUP) != 0 {
                // Both directions are shut (a reset): nothing can reach the peer any more.
                close()
                return
            }
            if revents & Int16(POLLIN) != 0 {
                readInput()
                guard case .open = phase else { return }
            }
            pump()
        }
    }

    /// A handler finished the request `sequence`.
    func complete(sequence: UInt64, response: HTTPResponse) {
        guard case .open = phase, let index = slots.firstIndex(where: { $0.sequence == sequence }) else { return }
        if slots[index].kind == .interim {
            decideContinue(at: index, response: response)
            pump()
            return
        }
        slots[index].response = response
        if ResponseEncoder.requestsClose(response) {
            slots[index].close = true
            parsingStopped = true
        }
        pump()
    }

    /// Applies the idle, request and write timeouts and the linger deadline.
    func checkTimeouts() {
        let now = loop.nowSeconds
        let configuration = loop.configuration
        switch phase {
        case .closed:
            return
        case .lingering(let deadline):
            if now >= deadline { close() }
        case .open:
            if let blocked = writeBlockedSinceSeconds, now - blocked >= configuration.writeTimeoutSeconds {
                close()
            } else if let start = requestStartSeconds,
                      now - start >= (parser.isReadingHead ? configuration.headTimeoutSeconds
                                                           : configuration.requestTimeoutSeconds) {
                refuse(.requestTimeout)
                pump()
            } else if slots.isEmpty, output.isEmpty, input.isEmpty, parser.isBetweenRequests,
                      now - lastActivitySeconds >= configuration.idleTimeoutSeconds {
                close()
            }
        }
    }

    /// Shutdown: read no more requests; answer those in flight with `Connection: close`, then close.
    func drain() {
        guard case .open = phase else { return }
        parsingStopped = true
        awaitingContinueDecision = false
        requestStartSeconds = nil
        while let last = slots.last, last.kind == .interim { slots.removeLast() }
        if slots.isEmpty {
            if output.isEmpty {
                close()
                return
            }
            closeAfterOutput = true
        } else {
            slots[slots.count - 1].close = true
        }
        pump()
    }

    /// Closes the socket at once and leaves the loop.
    func close() {
        if case .closed = phase { return }
        phase = .closed
        Glibc.close(descriptor)
        loop.remove(self)
    }

    // MARK: - Reading and parsing

    private func readInput() {
        var reads = 0
        while reads < 4 {
            input.reserveTail(Self.readChunkBytes)
            var requested = 0
            let received = input.fillTail { tail in
                requested = tail.count
                return recv(descriptor, tail.baseAddress, tail.count, 0)
            }
            if received > 0 {
                lastActivitySeconds = loop.nowSeconds
                if received < requested { return }
                reads += 1
            } else if received == 0 {
                peerClosedInput = true
                return
            } else {
                switch errno {
                case EINTR: continue
                case EAGAIN, EWOULDBLOCK: return
                default:
                    close()
                    return
                }
            }
        }
    }

    /// Lingering: reads and drops input until the peer closes.
    private func discardInput() {
        let scratch = loop.scratch
        while true {
            let received = recv(descriptor, scratch.baseAddress, scratch.count, 0)
            if received > 0 { continue }
            if received < 0, errno == EINTR { continue }
            if received < 0, errno == EAGAIN || errno == EWOULDBLOCK { return }
            close()
            return
        }
    }

    /// Parses and dispatches, queues ready responses, writes, and decides about closing.
    private func pump() {
        guard case .open = phase else { return }
        var progressed = true
        while progressed {
            let parsed = parseRequests()
            let flushed = flushReadySlots()
            progressed = parsed || flushed
        }
        writeOutput()
        guard case .open = phase else { return }
        if output.isEmpty {
            if closeAfterOutput {
                beginLingering()
                return
            }
            if peerClosedInput, slots.isEmpty {
                close()
                return
            }
        }
        let inProgress = acceptsInput && (!input.isEmpty || !parser.isBetweenRequests)
        if !inProgress {
            requestStartSeconds = nil
        } else if requestStartSeconds == nil {
            requestStartSeconds = loop.nowSeconds
        }
        if input.isEmpty { input.removeAll(keepingBytesMax: Self.inputKeptBytesMax) }
        loop.noteActivity(self)
    }

    /// Parses buffered requests while allowed; returns whether anything was queued.
    private func parseRequests() -> Bool {
        var queued = false
        while acceptsInput {
            if input.isEmpty, parser.isBetweenRequests {
                if peerClosedInput { parsingStopped = true }
                break
            }
            let step = input.withUnconsumedBytes { bytes in parser.parse(bytes) }
            input.consume(step.consumed)
            switch step.event {
            case .needMore:
                if peerClosedInput { parsingStopped = true }  // a partial request at EOF is dropped
                return queued
            case .continueExpected:
                // `100 Continue` waits until the handler accepted the head (route, credentials).
                let sequence = takeSequence()
                let head = parser.currentHead
                let identity = identify(head, startSeconds: requestStartSeconds ?? loop.nowSeconds)
                slots.append(Slot(sequence: sequence, kind: .interim, response: nil, close: false,
                                  keepAliveHeader: false, omitBody: false, identity: identity, decided: false))
                if let head {
                    awaitingContinueDecision = true
                    loop.spawnContinueDecision(makeRequest(head, body: [], requestID: identity.requestID),
                                               connectionID: id, sequence: sequence)
                } else {
                    slots[slots.count - 1].decided = true
                }
                queued = true
            case .complete(let request):
                dispatch(request)
                queued = true
            case .failure(let error):
                refuse(error)
                queued = true
            }
        }
        return queued
    }

    private func takeSequence() -> UInt64 {
        defer { nextSequence += 1 }
        return nextSequence
    }

    /// Hands a complete request to the handler on the concurrency pool.
    private func dispatch(_ request: HTTPParser.Request) {
        let now = loop.nowSeconds
        let start = requestStartSeconds ?? now
        requestStartSeconds = nil
        let head = request.head
        let identity = identify(head, startSeconds: start)
        let close = !head.keepAlive || loop.isDraining
        let sequence = takeSequence()
        slots.append(Slot(sequence: sequence, kind: .final, response: nil, close: close,
                          keepAliveHeader: head.versionMinor == 0 && head.keepAlive, omitBody: head.method == "HEAD",
                          identity: identity))
        unansweredCount += 1
        if close { parsingStopped = true }
        loop.spawn(makeRequest(head, body: request.body, requestID: identity.requestID), connectionID: id, sequence: sequence)
    }

    /// The identity of the request with `head` (nil: a head that did not parse): its `X-Request-Id` or a new id.
    private func identify(_ head: HTTPParser.Head?, startSeconds: Double) -> RequestIdentity {
        RequestIdentity(requestID: loop.requestIDs.requestID(incoming: head?.headers["X-Request-Id"]),
                        method: head?.method ?? "", path: head?.path ?? "", startSeconds: startSeconds)
    }

    private func makeRequest(_ head: HTTPParser.Head, body: [UInt8], requestID: String) -> HTTPRequest {
        HTTPRequest(method: head.method, target: head.target, path: head.path, query: head.query, headers: head.headers,
                    body: body, requestID: requestID, remoteAddress: remoteAddress, versionMinor: head.versionMinor)
    }

    /// The handler's answer to an `Expect: 100-continue` head: status 100 lets the body come;
    /// anything else replaces the interim response with this final one, and the connection closes.
    private func decideContinue(at index: Int, response: HTTPResponse) {
        awaitingContinueDecision = false
        if response.status == 100 {
            slots[index].decided = true
            return
        }
        let interim = slots[index]
        slots[index] = Slot(sequence: interim.sequence, kind: .final, response: response, close: true,
                            keepAliveHeader: false, omitBody: false, identity: interim.identity)
        unansweredCount += 1
        parsingStopped = true
        requestStartSeconds = nil
    }

    /// Queues an error response for a refused (or timed-out) request; the connection closes after it.
    private func refuse(_ error: HTTPParseError) {
        let start = requestStartSeconds ?? loop.nowSeconds
        requestStartSeconds = nil
        slots.append(Slot(sequence: takeSequence(), kind: .final,
                          response: .error(error.status, code: error.code, message: error.message),
                          close: true, keepAliveHeader: false, omitBody: false,
                          identity: identify(parser.currentHead, startSeconds: start)))
        unansweredCount += 1
        parsingStopped = true
    }

    // MARK: - Writing

    /// Moves responses that are ready, in order, into `output`; returns whether any moved.
    private func flushReadySlots() -> Bool {
        var moved = false
        while let first = slots.first {
            switch first.kind {
            case .interim:
                guard first.decided else { return moved }
                output.append(ResponseEncoder.continueResponse)
            case .final:
                guard let response = first.response else { return moved }
                ResponseEncoder.encode(response, into: &output, requestID: first.identity.requestID, close: first.close,
                                       keepAliveHeader: first.keepAliveHeader, omitBody: first.omitBody,
                                       date: loop.dateHeaderValue())
                unansweredCount -= 1
                if let accessLog = loop.configuration.accessLog {
                    // Must not re-enter the server (`HTTPServerConfiguration.accessLog`): the state touched here
                    // is `@exclusivity(unchecked)`.
                    let identity = first.identity
                    accessLog(AccessLog.line(requestID: identity.requestID, method: identity.method, path: identity.path,
                                             status: response.status, bodyBytes: response.body.count,
                                             durationSeconds: loop.nowSeconds - identity.startSeconds,
                                             remote: remoteAddress, scratch: &loop.accessLogScratch))
                }
            }
            slots.removeFirst()
            moved = true
            if first.kind == .final, first.close {
                closeAfterOutput = true
                parsingStopped = true
                slots.removeAll()
                unansweredCount = 0
                return moved
            }
        }
        return moved
    }

    /// Sends as much of `output` as the socket takes.
    private func writeOutput() {
        while !output.isEmpty {
            let sent = output.withUnconsumedBytes { bytes in
                send(descriptor, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL))
            }
            if sent > 0 {
                output.consume(sent)
                lastActivitySeconds = loop.nowSeconds
                writeBlockedSinceSeconds = nil
                continue
            }
            if sent < 0 {
                switch errno {
                case EINTR: continue
                case EAGAIN, EWOULDBLOCK:
                    if writeBlockedSinceSeconds == nil { writeBlockedSinceSeconds = loop.nowSeconds }
                    return
                default: break
                }
            }
            close()
            return
        }
        output.removeAll(keepingBytesMax: Self.outputHighWaterBytes)
    }

    private func beginLingering() {
        shutdown(descriptor, Int32(SHUT_WR))
        phase = .lingering(deadlineSeconds: loop.nowSeconds + Self.lingerSeconds)
        input.removeAll(keepingBytesMax: 0)
        loop.noteActivity(self)
        discardInput()
    }
}
