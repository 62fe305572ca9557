/// The settings of a `NATSConnection`: every wait and every buffer is bounded by one of these.
package struct NATSConnectionOptions: Sendable {
    /// The client name the server shows (`CONNECT` `name`).
    package var name: String = "argus-events"
    /// The longest one TCP connect plus handshake (INFO, CONNECT, PING/PONG) may take, in seconds.
    package var connectTimeoutSeconds: Double = 2
    /// How long `NATSConnection.connect` waits for the first connection, in seconds.
    package var initialConnectTimeoutSeconds: Double = 10
    /// The first pause after a round over every server failed, in seconds; it doubles each round up to
    /// `reconnectWaitMaxSeconds`.
    package var reconnectWaitMinSeconds: Double = 0.05
    /// The longest pause between reconnect rounds, in seconds.
    package var reconnectWaitMaxSeconds: Double = 2
    /// The answer deadline of `request` when the caller gives none, in seconds.
    package var requestTimeoutSeconds: Double = 5
    /// The longest a blocked write may wait for the socket, in seconds (then the connection is dropped).
    package var writeTimeoutSeconds: Double = 5
    /// How often the client pings an idle server, in seconds; a PING unanswered for
    /// `pingIntervalSeconds * pingsOutstandingMax` drops the connection as stale.
    package var pingIntervalSeconds: Double = 5
    /// See `pingIntervalSeconds`.
    package var pingsOutstandingMax: Int = 3
    /// The most bytes waiting to be written; beyond it publishes fail with `outboundBufferFull`.
    package var outboundBytesMax: Int = 8 * 1_048_576
    /// The most requests waiting for answers; beyond it requests fail with `tooManyPendingRequests`.
    package var requestsPendingMax: Int = 65_536
    /// The most `flush` calls waiting for their PONG; beyond it `flush` fails with `tooManyPendingFlushes`.
    package var flushesPendingMax: Int = 1_024
    /// The most subscriptions at once (inbox excluded).
    package var subscriptionsMax: Int = 4_096
    /// The parser's limits; `payloadBytesMax` is replaced by each server's `max_payload`.
    package var parserLimits = NATSParser.Limits()
    /// The size of one socket read, in bytes.
    package var receiveBufferBytes: Int = 65_536

    package init() {}
}
