import Archive
import Delivery
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
/// Concurrency (the rules for the whole process; README "Architecture" says the same):
/// - HTTP I/O thread (one): the `poll()` loop accepts, reads, parses and writes; it never runs a handler.
/// - Cooperative pool: request handlers, the dispatcher's serial loop and its tasks, the spool poll,
///   the archiver. Nothing there waits on a disk or a socket for long: appends are handed to the log
///   writer and awaited; log and archive reads, uploads' file reads, retention and the token journal's
///   appends go to `BlockingIO`. The bounded, short exception: webhooks and clients write one atomic
///   file under a mutex in the handler.
/// - Log writer thread (one per log): appends, group commit, `fdatasync`, segment rolls and seals.
/// - Cursor flusher thread (one): every cursor commit batched into one journal append and one `fdatasync`.
/// - `BlockingIO` queue (Dispatch, concurrent): log readers, the archiver's file work, retention.
/// - Attempt threads (up to the global in-flight cap; idle ones exit): blocking socket work of `http://`
///   delivery attempts.
/// - Delivery worker processes (`useDeliveryWorkers`): `https://` attempts through URLSession, out of this
///   process; per worker a reader thread for its answers and a serial queue for writes to its pipe.
/// - Every task this type starts (spool poll, archiver) is awaited in `shutdown()`; none is fire-and-forget.
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
        /// Most client connections; nil: from the open-files limit (`ServiceLimits.Connections.countMax`).
        public var connectionCountMax: Int?
        /// Background archiving and retention; nil: none.
        public var archiving: Archiving?
        /// The archive readers read back what retention removed: the archiving target, else the one
        /// `archive` last used on this data directory; nil: readers read the local log only.
        public var archiveReadTarget: (any ArchiveTarget)?
        /// Capacity of the read-back cache (`DataLayout.archiveCache`), in bytes.
        public var archiveCacheBytes = SegmentCache.defaultCapacityBytes
        /// Time between looks into the spool, in seconds.
        package var spoolPollSeconds = 1.0
        /// Time in-flight requests get to finish on shutdown, in seconds.
        package var shutdownGraceSeconds = 10.0
        /// Receives one access-log line per request; nil: none.
        public var accessLog: (@Sendable (String) -> Void)?
        /// `serve --engine`: the shared engine (set `service.appender` to its log too); nil: the local engine.
        package var engine: EngineBinding?

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
        serviceConfiguration.engine = configuration.engine
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
        var engineTasks: [Task<Void, Never>] = []
        let admin: (OAuthClient, secret: String)?
        if let engine = configuration.engine {
            (admin, engineTasks) = try await startEngine(engine)
        } else {
            admin = try await service.bootstrapAdminClient()
            _ = await service.drainSpool()
            try await service.startDelivery()
        }
        if let archiving = configuration.archiving {
            try ArchiveState.load(directory: service.configuration.layout.archiveState).saveTargetSettings(archiving.settings)
        }

        var http = HTTPServerConfiguration()
        http.host = configuration.host
        http.port = configuration.port
        let descriptorLimit = DescriptorLimit.raiseSoftToHard()
        http.connectionCountMax = configuration.connectionCountMax ?? ServiceLimits.Connections.countMax(descriptorLimit: descriptorLimit)
        service.configuration.logger.info("open-files limit raised to the hard limit; the connection cap leaves room for deliveries and files",
                                          [("rlimit_nofile", .integer(descriptorLimit)), ("connection_count_max", .integer(http.connectionCountMax))])
        http.bodySizeBytesMax = ServiceLimits.RequestBody.sizeBytesMax(method:path:)
        http.accessLog = configuration.accessLog
        let server = HTTPServer(configuration: http, handler: service.makeRouter())
        let port = try server.start()

        let service = service
        if let forwarder = service.historyForwarder {
            let url = EngineHistoryForwarder.advertisedURL(host: configuration.host, port: port)
            let logger = service.configuration.logger
            engineTasks.append(Task { await forwarder.advertise(url, logger: logger) })
        }
        let spoolPollSeconds = configuration.spoolPollSeconds
        var tasks = engineTasks + [Task {
            while !Task.isCancelled {
                try? await Task.sleep(nanoseconds: UInt64(spoolPollSeconds * 1e9))
                if Task.isCancelled { break }
                _ = await service.drainSpool()
            }
        }]
        // A signed checkpoint at every segment seal, and at most every `checkpointIntervalSeconds` while the log grows.
        if service.configuration.proofUpkeep {
            tasks.append(Task {
                while !Task.isCancelled {
                    try? await Task.sleep(nanoseconds: UInt64(ServiceLimits.Transparency.checkpointPollSeconds * 1e9))
                    if Task.isCancelled { break }
                    await service.signDueCheckpoints()
                }
            })
        }
        // Under --engine only the elected sealer archives (`SealerRole`).
        if let archiving = configuration.archiving, configuration.engine == nil {
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
        // Waits for the history's writer and closes files: on the blocking-I/O queue.
        let service = service
        await BlockingIO.run { service.close() }
        configuration.engine?.connection.close()
        let waiters = state.withLock { state in
            state.phase = .stopped
            defer { state.stoppedWaiters = [] }
            return state.stoppedWaiters
        }
        for waiter in waiters { waiter.resume() }
    }
}

extension ArgusServer {
    /// The loop of a delivery worker process (`argus-events delivery-worker`): `https://` deliveries through
    /// URLSession (a session per request, so no connection is reused and libcurl never resends), requests on
    /// standard input, results on standard output, until the input ends.
    /// Returns the process's exit code.
    public static func runDeliveryWorker() async -> Int32 {
        await DeliveryWorker.run(transport: URLSessionTransport.sessionPerRequest)
    }
}
