import Foundation
import HTTPClient
import WebhookSigning

/// Why an attempt produced no usable response, for machines (the history's `error` text starts with it).
public enum TransportFailure: String, Sendable, Equatable {
    /// The receiver closed (or reset) the connection before a complete response: before reading the
    /// request, after reading it, or in the middle of its answer. Fails the attempt at once.
    case connectionClosed = "connection_closed"
    /// No complete response within the attempt's total deadline.
    case timedOut = "timed_out"
    /// Anything else below HTTP: refused connection, DNS, TLS, an unreadable response.
    case networkError = "network_error"
}

/// What one POST to a webhook endpoint produced.
public struct TransportResult: Sendable, Equatable {
    /// The HTTP status of a complete response; nil when none arrived (closed connection, timeout, network error).
    public var statusCode: Int?
    /// The first `DeliveryLimits.Attempts.responseBodySizeBytesMax` bytes of the response body.
    package var bodyPrefix: [UInt8]
    /// Why no usable response arrived, for people (never contains secrets); starts with `failure`'s raw value.
    public var error: String?
    /// Why no usable response arrived, for machines; nil when `statusCode` is set.
    public var failure: TransportFailure?
    /// `Retry-After` of the response, when present.
    package var retryAfter: String?
    /// Wall time of the attempt, in milliseconds.
    public var durationMs: Double

    public init(statusCode: Int?, bodyPrefix: [UInt8] = [], error: String? = nil, failure: TransportFailure? = nil,
                retryAfter: String? = nil, durationMs: Double) {
        self.statusCode = statusCode
        self.bodyPrefix = bodyPrefix
        self.error = error
        self.failure = failure
        self.retryAfter = retryAfter
        self.durationMs = durationMs
    }

    /// A failed attempt: `error` is "`failure`: `detail`".
    public static func failed(_ failure: TransportFailure, _ detail: String, bodyPrefix: [UInt8] = [], durationMs: Double) -> TransportResult {
        TransportResult(statusCode: nil, bodyPrefix: bodyPrefix, error: "\(failure.rawValue): \(detail)", failure: failure, durationMs: durationMs)
    }
}

/// Sends one signed delivery. Implementations send exactly one request per call (never resend by
/// themselves), never follow redirects, enforce the total deadline, and return promptly when the calling
/// task is cancelled (the engine cancels attempts of a deleted or disabled webhook and at shutdown).
public protocol DeliveryTransport: Sendable {
    func post(url: URL, headers: [HeaderField], body: [UInt8], timeoutSeconds: Double) async -> TransportResult
    /// The same, connecting only to `addresses` (those the target guard checked; empty: resolve the host).
    func post(url: URL, addresses: [IPAddress], headers: [HeaderField], body: [UInt8], timeoutSeconds: Double) async -> TransportResult
}

extension DeliveryTransport {
    /// Transports that resolve the host themselves ignore the checked addresses.
    public func post(url: URL, addresses: [IPAddress], headers: [HeaderField], body: [UInt8], timeoutSeconds: Double) async -> TransportResult {
        await post(url: url, headers: headers, body: body, timeoutSeconds: timeoutSeconds)
    }
}

/// The production transport: `http://` receivers through our own HTTP/1.1 client (kept-alive connections,
/// one POST per attempt, the checked addresses), `https://` through `URLSessionTransport` (TLS with the
/// system's trust store; a new connection per delivery).
public struct SchemeRoutingTransport: DeliveryTransport {
    public let http: HTTPClientTransport
    public let https: any DeliveryTransport

    public init(http: HTTPClientTransport = HTTPClientTransport(), https: any DeliveryTransport = URLSessionTransport.shared) {
        self.http = http
        self.https = https
    }

    public func post(url: URL, headers: [HeaderField], body: [UInt8], timeoutSeconds: Double) async -> TransportResult {
        await post(url: url, addresses: [], headers: headers, body: body, timeoutSeconds: timeoutSeconds)
    }

    public func post(url: URL, addresses: [IPAddress], headers: [HeaderField], body: [UInt8], timeoutSeconds: Double) async -> TransportResult {
        if url.scheme?.lowercased() == "http" {
            return await http.post(url: url, addresses: addresses, headers: headers, body: body, timeoutSeconds: timeoutSeconds)
        }
        return await https.post(url: url, addresses: addresses, headers: headers, body: body, timeoutSeconds: timeoutSeconds)
    }
}
