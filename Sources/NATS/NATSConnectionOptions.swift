/// The settings of a `NATSConnection`: every wait and every buffer is bounded by one of these.
public struct NATSConnectionOptions: Sendable {
    /// The client name the server shows (`CONNECT` `name`).
    public var name: String = "argus-events"
    /// The longest one TCP connect plus handshake (INFO, CONNECT, PING/PONG) may take, in seconds.
    public var connectTimeoutSeconds: Double = 2
    /// How long `NATSConnection.connect` waits for the first connection, in seconds.
    public var initialConnectTimeoutSeconds: Double = 10
    /// The first pause after a round over every server failed, in seconds; it doubles each round up to
    /// `reconnectWaitMaxSeconds`.
    public var reconnectWaitMinSeconds: Double = 0.05
    /// The longest pause between reconnect rounds, in seconds.
    public var reconnectWaitMaxSeconds: Double = 2
    /// The answer deadline of `request` when the caller gives none, in seconds.
    public var requestTimeoutSeconds: Double = 5
    /// The longest a blocked write may wait for the socket, in seconds (then the connection is dropped).
    public var writeTimeoutSeconds: Double = 5
    /// How often the client pings an idle server, in seconds; a PING unanswered for
    /// `pingIntervalSeconds * pingsOutstandingMax` drops the connection as stale.
    public var pingIntervalSeconds: Double = 5
    /// See `pingIntervalSeconds`.
    public var pingsOutstandingMax: Int = 3
    /// The most bytes waiting to be written; beyond it publishes fail with `outboundBufferFull`.
    public var outboundBytesMax: Int = 8 * 1_048_576
    /// The most requests waiting for answers; beyond it requests fail with `tooManyPendingRequests`.
    public var requestsPendingMax: Int = 65_536
    /// The most `flush` calls waiting for their PONG; beyond it `flush` fails with `tooManyPendingFlushes`.
    public var flushesPendingMax: Int = 1_024
    /// The most subscriptions at once (inbox excluded).
    public var subscriptionsMax: Int = 4_096
    /// The parser's limits; `payloadBytesMax` is replaced by each server's `max_payload`.
    public var parserLimits = NATSParser.Limits()
    /// The size of one socket read, in bytes.
    public var receiveBufferBytes: Int = 65_536

    public init() {}
}
