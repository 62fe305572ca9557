import Delivery
import EventLog
import Foundation

/// How the service runs: where its data lives, log options, target rules, and the clock.
public struct ServiceConfiguration: Sendable {
    /// The data directory: `log/`, `cursors/`, `clients/`, `oauth/`, `webhooks/`, `spool/`.
    public var dataDirectory: String
    public var logOptions = EventLogOptions()
    /// Webhook target rules (https only and public addresses unless relaxed for development).
    public var targetGuard = TargetGuard()
    /// How deliveries are sent (our HTTP/1.1 client for `http://`, URLSession for `https://`; tests may substitute).
    public var deliveryTransport: any DeliveryTransport = SchemeRoutingTransport()
    /// Total time one delivery attempt may take, in seconds.
    public var deliveryAttemptTimeoutSeconds = DeliveryLimits.attemptTimeoutSeconds
    /// A webhook failing continuously for this long is disabled, in seconds (default 5 days).
    public var autoDisableSeconds = DeliveryLimits.autoDisableSecondsDefault
    /// Whether `GET /metrics` answers without a token (`serve --metrics-public`); otherwise it needs
    /// a token with scope `metrics:read`.
    public var metricsPublic = false
    /// Access-token lifetime, in seconds.
    public var tokenLifetimeSeconds = ServiceLimits.accessTokenLifetimeSeconds
    /// Milliseconds since 1970; replaceable in tests.
    public var nowMs: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }
    /// The source every reader of the service reads events from, given the opened log: the log itself
    /// (the default), or the archive followed by the log (`ArchivedEventSource`) when one is configured.
    public var makeEventSource: @Sendable (EventLog) -> any EventSource = { $0 }
    /// Receives operational log lines (JSON).
    public var logger: @Sendable (String) -> Void = { _ in }

    public init(dataDirectory: String) { self.dataDirectory = dataDirectory }

    var logDirectory: String { dataDirectory + "/log" }
    var clientsDirectory: String { dataDirectory + "/clients" }
    var oauthDirectory: String { dataDirectory + "/oauth" }
    var webhooksDirectory: String { dataDirectory + "/webhooks" }
    var spoolDirectory: String { dataDirectory + "/spool" }
    var cursorsDirectory: String { dataDirectory + "/cursors" }
    var deliveriesDirectory: String { dataDirectory + "/deliveries" }
}
