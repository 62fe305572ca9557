/// What a receiver's answer means for the delivery: every possible `TransportResult` maps to exactly one.
public enum AttemptOutcome: Sendable, Equatable {
    /// Any 2xx.
    case acknowledged
    /// 410: the endpoint is gone; the webhook is disabled.
    case gone
    /// 429 or 503 with a readable `Retry-After`, in milliseconds (unclamped, saturating).
    case throttled(retryAfterMs: Int64)
    /// Anything else: other statuses (3xx included, never followed), 429/503 without a readable
    /// `Retry-After`, timeouts, network errors, a refused target.
    case failed

    /// Classifies `result`; `nowMs` resolves an HTTP-date `Retry-After`. Never traps.
    public init(_ result: TransportResult, nowMs: Int64) {
        switch result.statusCode {
        case let status? where (200..<300).contains(status): self = .acknowledged
        case 410?: self = .gone
        case 429?, 503?:
            if let delay = RetrySchedule.retryAfterMs(result.retryAfter, nowMs: nowMs) {
                self = .throttled(retryAfterMs: delay)
            } else {
                self = .failed
            }
        default: self = .failed
        }
    }
}
