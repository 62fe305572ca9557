import HTTPClient
import Delivery
#if canImport(Glibc)
import Glibc
#endif
import EventLog
import Foundation
import JSON
import SystemIO

/// How the service runs: where its data lives, log options, target rules, and the clock.
public struct ServiceConfiguration: Sendable {
    /// The data directory (its parts: `DataLayout`).
    public var dataDirectory: String
    public var logOptions = EventLogOptions()
    /// Webhook target rules (https only and public addresses unless relaxed for development).
    public var targetGuard = TargetGuard()
    /// How deliveries are sent (our HTTP/1.1 client for `http://`, URLSession for `https://`; tests may substitute).
    public var deliveryTransport: any DeliveryTransport = SchemeRoutingTransport()
    /// Total time one delivery attempt may take, in seconds.
    package var deliveryAttemptTimeoutSeconds = DeliveryLimits.Attempts.timeoutSeconds
    /// A webhook failing continuously for this long is disabled, in seconds (default 5 days).
    public var autoDisableSeconds = DeliveryLimits.autoDisableSecondsDefault
    /// Whether `GET /metrics` answers without a token (`serve --metrics-public`); otherwise it needs
    /// a token with scope `metrics:read`.
    public var metricsPublic = false
    /// Whether the log keeps its proofs up to date as it grows: leaf hashes at append and signed
    /// checkpoints in `serve` (the default). False is for measuring what that upkeep costs
    /// (`ARGUS_PROOF_UPKEEP=off`, used by `argus-bench api`): proofs and checkpoints are then
    /// computed from the log when asked for.
    public var proofUpkeep = true
    /// Access-token lifetime, in seconds.
    package var tokenLifetimeSeconds = ServiceLimits.Tokens.lifetimeSeconds
    /// Milliseconds since 1970; replaceable in tests.
    public var nowMs: @Sendable () -> Int64 = { SystemClock.nowMs() }
    /// The source every reader of the service reads events from, given the opened log: the log itself
    /// (the default), or the archive followed by the log (`ArchivedEventSource`) when one is configured.
    package var makeEventSource: @Sendable (EventLog) -> any EventSource = { $0 }
    /// Where operational log entries go (JSON lines); passed to delivery as well.
    public var logger = Logger.discarding
    /// The checkpoint origin (`serve --origin`); nil: the remembered one, else `argus.local/<log id>`.
    public var checkpointOrigin: String?

    /// Where publishes go: nil for the local log (the default); the engine's stream under `serve --engine`
    /// (then only the engine's mirror appends to the local log).
    public var appender: (any EventAppender)?
    /// `serve --engine`: the engine whose buckets hold the shared tokens and idempotency keys (set by
    /// `ArgusServer` from its configuration); nil: the local engine.
    package var engine: EngineBinding?
    public init(dataDirectory: String) { self.dataDirectory = dataDirectory }

    /// A text given for an address block that is not a CIDR block.
    public struct InvalidCIDR: Error, Equatable, Sendable {
        /// The text as given.
        public let text: String
    }

    /// Sends `https://` deliveries through delivery worker processes started from `executable` (an
    /// `argus-events` binary, `argus-events delivery-worker`), each replaced after
    /// `requestsPerWorkerMax` requests: URLSession's per-request leak and its crashes stay out of the
    /// server. `http://` deliveries keep using our HTTP/1.1 client in process.
    public mutating func useDeliveryWorkers(executable: String, requestsPerWorkerMax: Int = 20_000) {
        var worker = WorkerProcessTransport.Configuration(executable: executable)
        worker.requestsPerWorkerMax = max(1, requestsPerWorkerMax)
        deliveryTransport = SchemeRoutingTransport(https: WorkerProcessTransport(configuration: worker))
    }

    /// The path of the running executable (`/proc/self/exe` resolved), nil when it cannot be read.
    public static var currentExecutablePath: String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard count > 0 else { return nil }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Sets the target rules: plain `http://` targets when `allowsHTTP`, and addresses in the blocks
    /// `allowedCIDRs` (such as `127.0.0.0/8`) even when not public. For development and tests only.
    /// - Throws: `InvalidCIDR` naming the first text that is not a CIDR block.
    public mutating func setTargetRules(allowsHTTP: Bool, allowedCIDRs texts: [String]) throws(InvalidCIDR) {
        var blocks: [CIDR] = []
        for text in texts {
            guard let block = CIDR(text) else { throw InvalidCIDR(text: text) }
            blocks.append(block)
        }
        targetGuard = TargetGuard(allowsHTTP: allowsHTTP, allowedCIDRs: blocks)
    }

    /// The paths inside `dataDirectory`.
    public var layout: DataLayout { DataLayout(root: dataDirectory) }
}
