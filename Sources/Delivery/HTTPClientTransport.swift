import Foundation
import HTTPClient
import SystemIO
import WebhookSigning
#if canImport(Glibc)
import Glibc
#endif

/// The transport for `http://` receivers: the shared `HTTPClient` (our own HTTP/1.1 client with kept-alive
/// connections, on dedicated threads) with delivery's limits, and its outcomes turned into attempt results.
///
/// One attempt sends one POST, never more (a connection that closes before a complete response fails the
/// attempt at once, `connection_closed`; the lane's retry schedule decides what happens next). It connects to
/// the addresses the target guard checked (no second DNS lookup between the check and the connect), follows
/// no redirect, keeps the first `DeliveryLimits.Attempts.responseBodySizeBytesMax` bytes of the body and reads at most
/// `bodySizeBytesMax` to keep the connection (past that it stops reading and closes).
public final class HTTPClientTransport: DeliveryTransport {
    /// Limits of the client.
    public struct Configuration: Sendable {
        /// The connection pool and threads (idle connections per receiver and in total, idle age, threads);
        /// the threads are capped at the engine's global in-flight cap, so a slow receiver holds one thread
        /// and never delays another's attempt.
        package var client: HTTPClient.Configuration = {
            var client = HTTPClient.Configuration()
            client.threadCountMax = DeliveryLimits.Attempts.globalInFlightCountMax
            client.threadName = "argus-delivery"
            return client
        }()
        /// Body bytes read at most to reuse a connection.
        public var bodySizeBytesMax = 64 << 10

        public init() {}
    }

    private let configuration: Configuration
    private let client: HTTPClient

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        client = HTTPClient(configuration: configuration.client)
    }

    /// Idle connections in the pool now.
    package var idleConnectionCount: Int { client.idleConnectionCount }

    public func post(url: URL, headers: [HeaderField], body: [UInt8], timeoutSeconds: Double) async -> TransportResult {
        await post(url: url, addresses: [], headers: headers, body: body, timeoutSeconds: timeoutSeconds)
    }

    public func post(url: URL, addresses: [IPAddress], headers: [HeaderField], body: [UInt8], timeoutSeconds: Double) async -> TransportResult {
        let startedNs = SystemClock.monotonicNanoseconds()
        guard let request = HTTPClient.Request(method: "POST", url: url, fields: SignedFields(fields: headers), body: .bytes(body)) else {
            return .failed(.networkError, "the URL cannot be sent by the HTTP client (only http:// with a host)", durationMs: 0)
        }
        let reader = HTTPResponseReader(bodyPrefixSizeBytesMax: DeliveryLimits.Attempts.responseBodySizeBytesMax,
                                        bodySizeBytesMax: configuration.bodySizeBytesMax)
        let outcome = await client.send(request, addresses: addresses, reader: reader, timeoutSeconds: timeoutSeconds)
        var result = Self.result(of: outcome, timeoutSeconds: timeoutSeconds)
        result.durationMs = Double(SystemClock.monotonicNanoseconds() - startedNs) / 1e6
        return result
    }

    private static func result(of outcome: HTTPClient.Outcome, timeoutSeconds: Double) -> TransportResult {
        let response = outcome.response
        let prefix = response.bodyPrefix
        switch outcome.failure {
        case nil:
            return TransportResult(statusCode: response.statusCode, bodyPrefix: prefix, retryAfter: response.retryAfter, durationMs: 0)
        case .invalidRequest:
            return .failed(.networkError, "the URL cannot be sent by the HTTP client (only http:// with a host)", durationMs: 0)
        case .unresolved:
            return .failed(.networkError, "the host does not resolve", durationMs: 0)
        case .timedOut:
            return .failed(.timedOut, "no complete response within \(Int(timeoutSeconds.rounded(.up))) s", bodyPrefix: prefix, durationMs: 0)
        case .cancelled:
            return .failed(.networkError, "cancelled", durationMs: 0)
        case .closed(let detail):
            return .failed(.connectionClosed, "the receiver closed the connection \(detail)", bodyPrefix: prefix, durationMs: 0)
        case .network(let detail):
            return .failed(.networkError, detail, bodyPrefix: prefix, durationMs: 0)
        case .malformed(let reason):
            return .failed(.networkError, "malformed response: \(reason)", bodyPrefix: prefix, durationMs: 0)
        }
    }
}

/// A delivery's signed header fields as the client reads them: in place, no copy per attempt.
struct SignedFields: HTTPHeaderFieldList {
    let fields: [HeaderField]

    func forEachField(_ body: (_ name: String, _ value: String) -> Bool) -> Bool {
        for field in fields where !body(field.name, field.value) { return false }
        return true
    }
}
