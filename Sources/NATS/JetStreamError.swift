/// Why a JetStream or key-value call failed.
package enum JetStreamError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The NATS request itself failed (connection lost, timed out, no responders...).
    case transport(NATSError)
    /// The JetStream API answered with an error: HTTP-like `code`, JetStream's `errorCode` (such as
    /// 10071 wrong last sequence, 10037 no message found, 10058 stream name in use) and its text.
    case api(subject: String, code: Int, errorCode: Int, description: String)
    /// The answer was not the JSON the API documents.
    case malformedResponse(subject: String, detail: String)
    /// A key-value `create` found the key present (at `revision`).
    case keyExists(key: String, revision: UInt64)
    /// A key-value compare-and-set found another revision than `expectedRevision`.
    case revisionMismatch(key: String, expectedRevision: UInt64)
    /// A key or bucket name outside `[-/_=.A-Za-z0-9]`, empty, or with a leading, trailing or double dot.
    case invalidName(String)
    /// A value out of its documented bounds (`detail` names it).
    case invalidArgument(String)
    /// A fetch from `fromSequence` returned no message although the consumer counted `pendingCount` there:
    /// the stream could not serve them yet (as while leaders are elected), not the end of the stream.
    case emptyFetch(stream: String, fromSequence: UInt64, pendingCount: UInt64)

    /// JetStream's error code for an expected-last-sequence mismatch.
    package static let wrongLastSequenceCode = 10071
    /// JetStream's error code for a missing message.
    package static let noMessageFoundCode = 10037

    /// Whether trying again later may succeed: lost connections, timeouts, no responders (a stream
    /// without a leader during an election), API answers with code 503, and an empty fetch of pending messages.
    package var isTransient: Bool {
        switch self {
        case .transport(let error):
            switch error {
            case .connectionLost, .timedOut, .noResponders, .outboundBufferFull, .tooManyPendingRequests: return true
            default: return false
            }
        case .api(_, let code, _, _): return code == 503 || code == 408
        case .emptyFetch: return true
        default: return false
        }
    }

    package var description: String {
        switch self {
        case .transport(let error): return error.description
        case .api(let subject, let code, let errorCode, let text): return "JetStream \(subject): \(text) (code \(code), err_code \(errorCode))"
        case .malformedResponse(let subject, let detail): return "JetStream \(subject): unexpected answer: \(detail)"
        case .keyExists(let key, let revision): return "key '\(key)' exists (revision \(revision))"
        case .revisionMismatch(let key, let expected): return "key '\(key)' is not at revision \(expected)"
        case .invalidName(let name): return "invalid JetStream key or name '\(name.prefix(64))'"
        case .invalidArgument(let detail): return "invalid argument: \(detail)"
        case .emptyFetch(let stream, let sequence, let pending):
            return "JetStream stream \(stream): a fetch from sequence \(sequence) returned none of the \(pending) messages pending there; try again"
        }
    }
}
