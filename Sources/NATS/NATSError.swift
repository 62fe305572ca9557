/// Why a NATS connection call failed. Texts name the subject or server, never credentials.
package enum NATSError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A server list or URL that is not `nats://HOST:PORT[,nats://HOST:PORT...]` (`detail` says why).
    case invalidURL(String)
    /// An empty subject, or one with whitespace or control characters.
    case invalidSubject(String)
    /// A header name or value that cannot be sent.
    case invalidHeader(name: String)
    /// No server of the list could be reached before the deadline: each server's last failure.
    case connectFailed([String])
    /// The connection dropped while the call waited; what was sent may or may not have arrived.
    case connectionLost(String)
    /// The call did not complete within `seconds`.
    case timedOut(operation: String, seconds: Double)
    /// The connection was closed by `close()`.
    case closed
    /// A payload (headers included) larger than the server's `max_payload`.
    case payloadTooLarge(bytes: Int, bytesMax: Int)
    /// The outbound buffer holds `bytesMax` bytes not yet written (the server or network is slower than the callers).
    case outboundBufferFull(bytesMax: Int)
    /// `requestsMax` requests already wait for their answers.
    case tooManyPendingRequests(requestsMax: Int)
    /// `flushesMax` flushes already wait for their PONG.
    case tooManyPendingFlushes(flushesMax: Int)
    /// A subscription's queue overflowed and `dropped` messages were lost.
    case slowConsumer(subject: String, dropped: Int)
    /// Nobody subscribes to the request's subject (status 503).
    case noResponders(subject: String)
    /// The server sent `-ERR`.
    case serverError(String)

    package var description: String {
        switch self {
        case .invalidURL(let detail): return "invalid NATS server list: \(detail)"
        case .invalidSubject(let subject): return "invalid NATS subject '\(subject)'"
        case .invalidHeader(let name): return "invalid NATS header '\(name)' (CR, LF, ':' or space in a name, CR or LF in a value)"
        case .connectFailed(let failures): return "could not connect to any NATS server: " + failures.joined(separator: "; ")
        case .connectionLost(let reason): return "NATS connection lost: \(reason)"
        case .timedOut(let operation, let seconds): return "NATS \(operation) timed out after \(seconds) s"
        case .closed: return "NATS connection closed"
        case .payloadTooLarge(let bytes, let bytesMax): return "NATS payload of \(bytes) bytes exceeds the server's max_payload of \(bytesMax)"
        case .outboundBufferFull(let bytesMax): return "NATS outbound buffer full (\(bytesMax) bytes not yet written)"
        case .tooManyPendingRequests(let requestsMax): return "\(requestsMax) NATS requests already wait for answers"
        case .tooManyPendingFlushes(let flushesMax): return "\(flushesMax) NATS flushes already wait for their PONG"
        case .slowConsumer(let subject, let dropped): return "NATS subscription '\(subject)' overflowed: \(dropped) messages dropped"
        case .noResponders(let subject): return "no responders for NATS subject '\(subject)'"
        case .serverError(let text): return "NATS server error: \(text)"
        }
    }
}
