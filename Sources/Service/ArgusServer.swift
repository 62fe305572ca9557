import Archive
import EventLog
import Foundation
import HTTPServer
import JSON
import Synchronization
import SystemIO

/// The whole server on one data directory: the API (`ArgusService`), the HTTP server, delivery,
/// the spool, and (when configured) background archiving and retention. `start()` brings it up,
/// `run()` waits until `shutdown()` has taken it down.
///
/// Concurrency (the rules for the whole process):
/// - The HTTP server runs one dedicated I/O thread (a `poll()` loop); request handlers run as Swift
///   tasks on the cooperative pool and never block: they await the log writer and the stores.
/// - The event log runs its own writer thread (appends, group commit, fdatasync, segment rolls);
///   readers (`LogReader`) read with blocking calls on the threads of `BlockingIO`, never on the pool.
/// - Delivery runs as tasks of the `Dispatcher` (one per webhook lane plus the global in-flight cap);
///   HTTP requests go out through URLSession's own threads; cursor commits go to the cursor store's
///   group-commit thread.
/// - The small stores (clients, webhooks, tokens, idempotency keys) write small files under a mutex
///   with a bounded, short blocking write; their journals are appended and fsynced by the caller.
/// - Background work owned here: the spool poll (one task, every `spoolPollSeconds`) and the
///   archiver (one detached task: uploads, verification and retention, which may block on file
///   reads and on the archive target). `shutdown()` cancels both and waits for them.
/// - Nothing here is a fire-and-forget task: every task this type starts is awaited in `shutdown()`.
public final class ArgusServer: Sendable {
    /// Background archiving: where, how often, and what local retention follows it.
    public struct Archiving: Sendable {
        /// The archive target (`file:///DIR` or `s3://BUCKET/PREFIX`).
        public var target: any ArchiveTarget
        /// Remembered in the archive state, so `tail` and later servers can read the archive back (never credentials).
        public var settings: ArchiveState.TargetSettings
        /// Time between archiving runs when they succeed, in seconds (doubling after a failure up to 900 s).
        public var intervalSeconds: Double
        /// Local retention applied after each successful run; nil keeps every segment.
        public var retention: RetentionPolicy?

        public init(target: any ArchiveTarget, settings: ArchiveState.TargetSettings, intervalSeconds: Double = 60,
                    retention: RetentionPolicy? = nil) {
            self.target = target
            self.settings = settings
            self.intervalSeconds = intervalSeconds
            self.retention = retention
        }
    }

    /// Everything `serve` sets.
    public struct Configuration: Sendable {
        /// The API, its data directory and stores.
        public var service: ServiceConfiguration
        /// Listening host (IPv4 or IPv6 literal, or a name) and port (0 picks a free one).
        public var host = "127.0.0.1"
        public var port = 8787
        /// Most client connections; nil: from the open-files limit (`ServiceLimits.connectionCountMax`).
        public var connectionCountMax: Int?
        /// Background archiving and retention; nil: none.
        public var archiving: Archiving?
        /// The archive readers read back what retention removed: the archiving target, else the one
        /// `archive` last used on this data directory; nil: readers read the local log only.
        public var archiveReadTarget: (any ArchiveTarget)?
        /// Capacity of the read-back cache (`DataLayout.archiveCache`), in bytes.
        public var archiveCacheBytes = SegmentCache.defaultCapacityBytes
        /// Time between looks into the spool, in seconds.
        public var spoolPollSeconds = 1.0
        /// Time in-flight requests get to finish on shutdown, in seconds.
        public var shutdownGraceSeconds = 10.0
        /// Receives one access-log line per request; nil: none.
        public var accessLog: (@Sendable (String) -> Void)?

        public init(service: ServiceConfiguration) { self.service = service }
    }

    /// What `start()` brought up.
    public struct Started: Sendable {
        /// The bound port (useful with port 0).
        public var port: Int
        /// `http://host:port`, with an IPv6 host in brackets.
        public var baseURL: String
        /// The `platform:admin` client created on a fresh data directory, with its secret (shown once).
        public var createdAdmin: (client: OAuthClient, secret: String)?
    }

    private enum Phase {
        case created
        case started
        case stopping
        case stopped
    }

    private struct State {
        var phase = Phase.created
        var tasks: [Task<Void, Never>] = []
        var http: HTTPServer?
        var stoppedWaiters: [CheckedContinuation<Void, Never>] = []
    }

    public let configuration: Configuration
    /// The API and the stores.
    public let service: ArgusService
    private let state = Mutex(State())

    /// Opens the data directory (taking the log's writer lock) and every store.
    /// - Throws: `EventLogError.locked` when another process serves the directory; store and log errors.
    public init(configuration: Configuration) throws {
        var serviceConfiguration = configuration.service
        if let target = configuration.archiveReadTarget {
            let cache = SegmentCache(directory: serviceConfiguration.layout.archiveCache, target: target,
                                     capacityBytes: configuration.archiveCacheBytes)
            serviceConfiguration.makeEventSource = { log in ArchivedEventSource(log: log, cache: cache) }
        }
        self.configuration = configuration
        service = try ArgusService(configuration: serviceConfiguration)
    }

    /// Creates the first admin client on a fresh directory, appends the spool, starts delivery,
    /// binds the HTTP server, and starts the spool poll and the archiver.
    /// - Throws: `HTTPServerError` when binding fails; store, log and archive-state errors.
    public func start() async throws -> Started {
        let admin = try await service.bootstrapAdminClient()
        _ = await service.drainSpool()
        try await service.startDelivery()
        if let archiving = configuration.archiving {
            try ArchiveState.load(directory: service.configuration.layout.archiveState).saveTargetSettings(archiving.settings)
        }

        var http = HTTPServerConfiguration()
        http.host = configuration.host
        http.port = configuration.port
        let descriptorLimit = DescriptorLimit.raiseSoftToHard()
        http.connectionCountMax = configuration.connectionCountMax ?? ServiceLimits.connectionCountMax(descriptorLimit: descriptorLimit)
        service.configuration.logger.info("open-files limit raised to the hard limit; the connection cap leaves room for deliveries and files",
                                          [("rlimit_nofile", .integer(descriptorLimit)), ("connection_count_max", .integer(http.connectionCountMax))])
        http.bodySizeBytesMax = ServiceLimits.bodySizeBytesMax(method:path:)
        http.accessLog = configuration.accessLog
        let server = HTTPServer(configuration: http, handler: service.makeRouter())
        let port = try server.start()

        let service = service
        let spoolPollSeconds = configuration.spoolPollSeconds
        var tasks = [Task {
            while !Task.isCancelled {
                try? await Task.sleep(nanoseconds: UInt64(spoolPollSeconds * 1e9))
                if Task.isCancelled { break }
                _ = await service.drainSpool()
            }
        }]
        if let archiving = configuration.archiving {
            let archiver = BackgroundArchiver(service: service, settings: archiving)
            tasks.append(Task.detached { await archiver.run() })
        }
        state.withLock { state in
            state.phase = .started
            state.http = server
            state.tasks = tasks
        }
        let host = configuration.host
        return Started(port: port, baseURL: "http://\(host.contains(":") ? "[\(host)]" : host):\(port)", createdAdmin: admin)
    }

    /// Returns once `shutdown()` has finished.
    public func run() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let stopped = state.withLock { state in
                if state.phase == .stopped { return true }
                state.stoppedWaiters.append(continuation)
                return false
            }
            if stopped { continuation.resume() }
        }
    }

    /// Stops accepting, lets in-flight requests finish (up to `shutdownGraceSeconds`), stops the
    /// spool poll and the archiver and waits for them, stops delivery, flushes the log and releases
    /// the data directory. Safe to call more than once (later calls return at once).
    public func shutdown() async {
        let (tasks, http, first) = state.withLock { state -> ([Task<Void, Never>], HTTPServer?, Bool) in
            guard state.phase == .created || state.phase == .started else { return ([], nil, false) }
            state.phase = .stopping
            defer { state.tasks = []; state.http = nil }
            return (state.tasks, state.http, true)
        }
        guard first else { return }
        for task in tasks { task.cancel() }
        await http?.shutdown(graceSeconds: configuration.shutdownGraceSeconds)
        for task in tasks { await task.value }
        service.close()
        let waiters = state.withLock { state in
            state.phase = .stopped
            defer { state.stoppedWaiters = [] }
            return state.stoppedWaiters
        }
        for waiter in waiters { waiter.resume() }
    }
}
