import CEpoll
#if canImport(Glibc)
import Glibc
import SystemIO
#endif
import Synchronization

/// The server's I/O thread: one `epoll` loop that accepts, reads, parses and writes for every
/// connection. A turn costs what happened in it, not the number of connections: each connection is
/// registered once (level-triggered, its connection id as the tag) and its interest is changed only
/// when what it waits for changes (after an event, a completion or a sweep). Idle keep-alive
/// connections cost only the timeout sweep (every connection, at most every 100 ms), where `poll()`
/// scanned them all on every turn. Handlers run as Swift tasks (or, for routes with an inline handler, start on this
/// thread and finish on another, e.g. the log writer's); their responses come back through `complete`,
/// which queues them and wakes the loop through an eventfd.
///
/// `@unchecked Sendable`: everything except `inbox`, the atomics and `control` is touched only
/// by the I/O thread; those four are the only state other threads reach, and they are
/// synchronized (Mutex / Atomic). The I/O thread's own state is `@exclusivity(unchecked)`, as in
/// `HTTPConnection` (one thread, no overlapping accesses; no runtime access check per touch).
final class IOLoop: @unchecked Sendable {
    /// A handler's response for request `sequence` on connection `connectionID`.
    struct Completion: Sendable {
        let connectionID: UInt64
        let sequence: UInt64
        let response: HTTPResponse
    }

    private struct Control {
        var graceSeconds: Double?
        var waiters: [CheckedContinuation<Void, Never>] = []
        var finished = false
    }

    /// The most connections accepted per loop iteration (so reads and writes are not starved).
    static let acceptBatchMax = 64
    /// How long accepting pauses after running out of descriptors, in seconds.
    static let acceptBackoffSeconds = 0.1
    /// The size of the scratch buffer for discarded input, in bytes.
    static let scratchBytes = 64 * 1024
    /// Events taken per `epoll_wait`.
    static let eventBatchMax = 256
    /// The epoll tags of the wake pipe and the listener (connection ids count up from 1).
    static let wakeTag = UInt64.max
    static let listenerTag = UInt64.max - 1
    /// The canned answer to a connection over `connectionCountMax`.
    static let overloadResponse: [UInt8] = {
        let body = #"{"error":{"code":"too_many_connections","message":"the server is at its connection limit"}}"#
        return Array(("HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: "
            + "\(body.utf8.count)\r\nConnection: close\r\n\r\n" + body).utf8)
    }()

    let configuration: HTTPServerConfiguration
    let handler: any HTTPHandler
    /// Where handlers and continue decisions run (the server's task group).
    let tasks: RequestTasks
    private let wake: WakeSignal
    private let inbox = Mutex<[Completion]>([])
    private let wakePending = Atomic<Bool>(false)
    private let stopRequested = Atomic<Bool>(false)
    private let control = Mutex<Control>(Control())
    /// Turns of the loop begun so far (for tests: which turn a handler call belongs to).
    let turnCount = Atomic<Int>(0)

    // I/O thread only.
    @exclusivity(unchecked) private var listener: Int32
    /// Monotonic time of the current loop iteration, in seconds.
    @exclusivity(unchecked) private(set) var nowSeconds: Double
    @exclusivity(unchecked) private var wallSeconds = 0
    @exclusivity(unchecked) private(set) var isDraining = false
    @exclusivity(unchecked) private var drainDeadlineSeconds = 0.0
    @exclusivity(unchecked) private var connections: [HTTPConnection] = []
    @exclusivity(unchecked) private var connectionsByID: [UInt64: HTTPConnection] = [:]
    /// Connections with no request in progress, least recently active first: eviction candidates.
    @exclusivity(unchecked) private var idle = IdleList()
    /// Connections closed to admit new ones (for tests and metrics).
    private(set) var evictionCount = 0
    @exclusivity(unchecked) private var nextConnectionID: UInt64 = 1
    private let epollDescriptor: Int32
    @exclusivity(unchecked) private var readyEvents = [epoll_event](repeating: epoll_event(), count: IOLoop.eventBatchMax)
    /// Connections something happened to this turn: their interest is brought up to date before waiting.
    @exclusivity(unchecked) private var touched: [HTTPConnection] = []
    @exclusivity(unchecked) private var listenerRegistered = false
    @exclusivity(unchecked) private var delivered: [Completion] = []
    @exclusivity(unchecked) private var acceptPausedUntilSeconds = 0.0
    @exclusivity(unchecked) private var date = HTTPDate()
    @exclusivity(unchecked) var requestIDs = RequestIDGenerator()
    /// The buffer access-log lines are formatted in, reused from line to line.
    @exclusivity(unchecked) var accessLogScratch: [UInt8] = []
    /// Scratch space for input that is read only to be dropped.
    let scratch: UnsafeMutableRawBufferPointer

    init(configuration: HTTPServerConfiguration, handler: any HTTPHandler, tasks: RequestTasks, listener: Int32) throws(HTTPServerError) {
        self.configuration = configuration
        self.handler = handler
        self.tasks = tasks
        self.listener = listener
        self.wake = try WakeSignal()
        self.nowSeconds = SystemClock.monotonicSeconds()
        let epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard epoll >= 0 else { throw .system("epoll_create1") }
        epollDescriptor = epoll
        self.scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.scratchBytes, alignment: 16)
        guard Self.control(epoll, EPOLL_CTL_ADD, wake.descriptor, events: UInt32(EPOLLIN.rawValue), tag: Self.wakeTag) else {
            Glibc.close(epoll)
            scratch.deallocate()
            throw .system("epoll_ctl")
        }
    }

    deinit {
        if listener >= 0 { Glibc.close(listener) }
        Glibc.close(epollDescriptor)
        scratch.deallocate()
    }

    /// `epoll_ctl(operation)` for `descriptor` with `events` and `tag`; false when it failed.
    private static func control(_ epoll: Int32, _ operation: Int32, _ descriptor: Int32, events: UInt32, tag: UInt64) -> Bool {
        var event = epoll_event()
        event.events = events
        event.data.u64 = tag
        return epoll_ctl(epoll, operation, descriptor, &event) == 0
    }

    // MARK: - Any thread

    /// Queues a handler's response and wakes the loop (from any thread).
    func complete(_ completion: Completion) {
        inbox.withLock { $0.append(completion) }
        if !wakePending.exchange(true, ordering: .acquiringAndReleasing) { wake.signal() }
    }

    /// Asks the loop to drain within `graceSeconds` and waits until it has exited.
    func stop(graceSeconds: Double) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let finished = control.withLock { control -> Bool in
                if control.finished { return true }
                if control.graceSeconds == nil { control.graceSeconds = graceSeconds }
                control.waiters.append(continuation)
                return false
            }
            if finished {
                continuation.resume()
            } else {
                stopRequested.store(true, ordering: .releasing)
                wake.signal()
            }
        }
    }

    // MARK: - I/O thread

    /// Hands `request` to the handler (which answers inline or starts a task); its response
    /// returns through `complete`.
    func spawn(_ request: HTTPRequest, connectionID: UInt64, sequence: UInt64) {
        handler.start(request, in: tasks) { response in
            self.complete(Completion(connectionID: connectionID, sequence: sequence, response: response))
        }
    }

    /// Asks the handler whether a request that expects `100 Continue` may send its body; the
    /// answer returns through `complete` (status 100 for yes).
    func spawnContinueDecision(_ request: HTTPRequest, connectionID: UInt64, sequence: UInt64) {
        let handler = self.handler
        tasks.run {
            let decision = await handler.continueDecision(request) ?? HTTPResponse(status: 100)
            self.complete(Completion(connectionID: connectionID, sequence: sequence, response: decision))
        }
    }

    /// Files `connection` as an eviction candidate (most recently active) or takes it out of the
    /// candidates, after something happened on it.
    func noteActivity(_ connection: HTTPConnection) {
        if connection.isEvictable {
            idle.moveToBack(connection)
        } else {
            idle.remove(connection)
        }
    }

    /// The `Date` header value for the current second.
    func dateHeaderValue() -> String {
        date.headerValue(seconds: wallSeconds)
    }

    /// Forgets a closed connection.
    func remove(_ connection: HTTPConnection) {
        idle.remove(connection)
        let index = connection.listIndex
        guard index < connections.count, connections[index] === connection else { return }
        let last = connections.removeLast()
        if last !== connection {
            connections[index] = last
            last.listIndex = index
        }
        connectionsByID[connection.id] = nil
    }

    /// The loop; returns after shutdown has drained (or the grace period ended).
    func run() {
        let shortestTimeoutSeconds = min(configuration.idleTimeoutSeconds, configuration.requestTimeoutSeconds,
                                         configuration.headTimeoutSeconds, configuration.writeTimeoutSeconds,
                                         HTTPConnection.lingerSeconds)
        let sweepIntervalSeconds = min(max(shortestTimeoutSeconds / 4, 0.005), 0.1)
        var lastSweepSeconds = 0.0
        while true {
            turnCount.add(1, ordering: .relaxed)
            updateClock()
            if !isDraining, stopRequested.load(ordering: .acquiring) { beginDraining() }
            if isDraining, connections.isEmpty || nowSeconds >= drainDeadlineSeconds { break }

            let listening = listener >= 0 && nowSeconds >= acceptPausedUntilSeconds
            if listening != listenerRegistered, listener >= 0 {
                // A paused listener leaves the set (level-triggered, it would report its queue on every turn).
                listenerRegistered = Self.control(epollDescriptor, listening ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, listener,
                                                  events: UInt32(EPOLLIN.rawValue), tag: Self.listenerTag) ? listening : !listening
            }
            for connection in touched { updateInterest(connection) }
            touched.removeAll(keepingCapacity: true)
            var timeoutSeconds = connections.isEmpty && listening ? 1.0 : sweepIntervalSeconds
            if isDraining { timeoutSeconds = min(timeoutSeconds, max(0, drainDeadlineSeconds - nowSeconds)) }
            let ready = readyEvents.withUnsafeMutableBufferPointer { events in
                epoll_wait(epollDescriptor, events.baseAddress, Int32(events.count), Int32(timeoutSeconds * 1000))
            }
            updateClock()
            if ready < 0 {
                if errno != EINTR { usleep(1000) }
                continue
            }
            for index in 0..<Int(ready) {
                let tag = readyEvents[index].data.u64
                let events = readyEvents[index].events
                switch tag {
                case Self.wakeTag:
                    wake.drain()
                    wakePending.store(false, ordering: .releasing)
                    deliverCompletions()
                case Self.listenerTag:
                    if listenerRegistered, listener >= 0, nowSeconds >= acceptPausedUntilSeconds { acceptConnections() }
                default:
                    // The id may belong to a connection closed earlier in this turn: then it is gone from the map.
                    guard let connection = connectionsByID[tag] else { continue }
                    connection.handle(revents: Int16(truncatingIfNeeded: events))
                    touched.append(connection)
                }
            }
            if nowSeconds - lastSweepSeconds >= sweepIntervalSeconds {
                lastSweepSeconds = nowSeconds
                for connection in connections { connection.checkTimeouts() }
                // Also repairs any interest a path forgot to mark: at most one sweep interval late.
                touched.append(contentsOf: connections)
            }
            // Work the handler held back during this turn (e.g. appends to group) goes on now.
            handler.turnEnded()
        }
        for connection in connections { connection.close() }
        touched.removeAll()
        if listener >= 0 {
            Glibc.close(listener)
            listener = -1
        }
        let waiters = control.withLock { control in
            control.finished = true
            defer { control.waiters = [] }
            return control.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Changes what the kernel reports for `connection` to what it waits for now (nothing for a closed
    /// one: its descriptor left the set when it was closed, and the number may already be reused).
    private func updateInterest(_ connection: HTTPConnection) {
        guard !connection.isClosed else { return }
        let wanted = connection.pollEvents
        guard wanted != connection.registeredEvents else { return }
        if Self.control(epollDescriptor, EPOLL_CTL_MOD, connection.descriptor, events: UInt32(UInt16(bitPattern: wanted)),
                        tag: connection.id) {
            connection.registeredEvents = wanted
        } else {
            connection.close()
        }
    }

    private func updateClock() {
        nowSeconds = SystemClock.monotonicSeconds()
        wallSeconds = time(nil)
    }

    private func deliverCompletions() {
        inbox.withLock { swap(&$0, &delivered) }
        for completion in delivered {
            guard let connection = connectionsByID[completion.connectionID] else { continue }
            connection.complete(sequence: completion.sequence, response: completion.response)
            touched.append(connection)
        }
        delivered.removeAll(keepingCapacity: true)
    }

    private func beginDraining() {
        isDraining = true
        let graceSeconds = control.withLock { $0.graceSeconds } ?? 10
        drainDeadlineSeconds = nowSeconds + max(0, graceSeconds)
        if listener >= 0 {
            Glibc.close(listener) // leaves the epoll set with it
            listener = -1
            listenerRegistered = false
        }
        for connection in connections { connection.drain() }
        touched.append(contentsOf: connections)
    }

    private func acceptConnections() {
        for _ in 0..<Self.acceptBatchMax {
            var address = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let descriptor = withUnsafeMutablePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                    accept(listener, socketAddress, &length)
                }
            }
            if descriptor < 0 {
                switch errno {
                case EINTR, ECONNABORTED, EPROTO: continue
                case EMFILE, ENFILE:
                    // Out of descriptors: the longest-idle connection makes room, as when the table is
                    // full, so held connections never lock out new clients. With none idle, pause.
                    if let victim = idle.first {
                        victim.close()
                        evictionCount += 1
                        continue
                    }
                    acceptPausedUntilSeconds = nowSeconds + Self.acceptBackoffSeconds
                    return
                case ENOBUFS, ENOMEM:
                    acceptPausedUntilSeconds = nowSeconds + Self.acceptBackoffSeconds
                    return
                default: return
                }
            }
            if connections.count >= configuration.connectionCountMax, let victim = idle.first {
                // Full: the longest-idle connection without a request in progress makes room.
                victim.close()
                evictionCount += 1
            }
            if connections.count >= configuration.connectionCountMax {
                Self.overloadResponse.withUnsafeBytes { bytes in
                    _ = send(descriptor, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT))
                }
                Glibc.close(descriptor)
                continue
            }
            // accept4 is not exported by the Glibc module: set the flags separately.
            _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
            _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
            var one: Int32 = 1
            setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            let connection = HTTPConnection(descriptor: descriptor, id: nextConnectionID,
                                            remoteAddress: ListeningSocket.describe(address).text, loop: self)
            nextConnectionID += 1
            guard Self.control(epollDescriptor, EPOLL_CTL_ADD, descriptor, events: UInt32(UInt16(bitPattern: connection.pollEvents)),
                                   tag: connection.id) else {
                // The kernel's watch limit (max_user_watches) or memory: refuse this one, as when out of descriptors.
                Self.overloadResponse.withUnsafeBytes { bytes in
                    _ = send(descriptor, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT))
                }
                Glibc.close(descriptor)
                acceptPausedUntilSeconds = nowSeconds + Self.acceptBackoffSeconds
                return
            }
            connection.registeredEvents = connection.pollEvents
            connection.listIndex = connections.count
            connections.append(connection)
            connectionsByID[connection.id] = connection
            idle.moveToBack(connection)
        }
    }
}
