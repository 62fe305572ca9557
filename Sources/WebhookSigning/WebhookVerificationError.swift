/// Why a delivery failed verification. Never carries a secret or a signature.
public enum WebhookVerificationError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A required header is absent (`webhook-id`, `webhook-timestamp` or `webhook-signature`,
    /// or their `svix-` forms).
    case missingHeader(name: String)
    /// A header is present but not in its required form (or appears more than once).
    case malformedHeader(name: String, reason: String)
    /// The timestamp is more than the tolerance in the past.
    case timestampTooOld(ageSeconds: Int64, toleranceSeconds: Int64)
    /// The timestamp is more than the tolerance in the future.
    case timestampTooNew(aheadSeconds: Int64, toleranceSeconds: Int64)
    /// No `v1` entry of the signature header matches any of the secrets.
    case noMatchingSignature
    /// `x-argus-signature` does not match the secret that made the newest `v1` signature.
    case argusSignatureMismatch

    public var description: String {
        switch self {
        case .missingHeader(let name):
            return "missing header \(name)"
        case .malformedHeader(let name, let reason):
            return "malformed header \(name): \(reason)"
        case .timestampTooOld(let ageSeconds, let toleranceSeconds):
            return "timestamp too old: \(ageSeconds) s in the past, tolerance \(toleranceSeconds) s"
        case .timestampTooNew(let aheadSeconds, let toleranceSeconds):
            return "timestamp too new: \(aheadSeconds) s in the future, tolerance \(toleranceSeconds) s"
        case .noMatchingSignature:
            return "no matching signature"
        case .argusSignatureMismatch:
            return "x-argus-signature does not match the body"
        }
    }
}
