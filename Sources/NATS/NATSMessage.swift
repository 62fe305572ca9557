/// A message delivered by the server (`MSG` or `HMSG`), or built for a request's answer.
package struct NATSMessage: Sendable, Equatable {
    /// The subject it was published to.
    package var subject: String
    /// The subscription id it was delivered for.
    package var subscriptionID: Int
    /// The reply subject, when the publisher gave one.
    package var replyTo: String?
    /// The headers (`HMSG` only; nil for a plain `MSG`).
    package var headers: NATSHeaders?
    /// The payload bytes.
    package var payload: [UInt8]

    package init(subject: String, subscriptionID: Int, replyTo: String? = nil, headers: NATSHeaders? = nil, payload: [UInt8]) {
        self.subject = subject
        self.subscriptionID = subscriptionID
        self.replyTo = replyTo
        self.headers = headers
        self.payload = payload
    }

    /// The header status code (`503`, `404`, `408`, `100`...), or nil.
    package var statusCode: Int? { headers?.statusCode }
}
