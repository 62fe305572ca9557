import Foundation
import WebhookSigning

/// What one POST to a webhook endpoint produced.
public struct TransportResult: Sendable, Equatable {
    /// The HTTP status, nil when no response arrived (network error, timeout).
    public var statusCode: Int?
    /// The first `DeliveryLimits.responseBodySizeBytesMax` bytes of the response body.
    public var bodyPrefix: [UInt8]
    /// Why no usable response arrived, for people (never contains secrets).
    public var error: String?
    /// `Retry-After` of the response, when present.
    public var retryAfter: String?
    /// Wall time of the attempt, in milliseconds.
    public var durationMs: Double

    public init(statusCode: Int?, bodyPrefix: [UInt8] = [], error: String? = nil, retryAfter: String? = nil, durationMs: Double) {
        self.statusCode = statusCode
        self.bodyPrefix = bodyPrefix
        self.error = error
        self.retryAfter = retryAfter
        self.durationMs = durationMs
    }
}

/// Sends one signed delivery. Implementations never follow redirects and enforce the total deadline.
public protocol DeliveryTransport: Sendable {
    func post(url: URL, headers: [HeaderField], body: [UInt8], timeoutSeconds: Double) async -> TransportResult
}
