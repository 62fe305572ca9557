/// Why a text is not a webhook secret. Never carries any part of the rejected text.
public enum WebhookSecretError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The text does not start with `whsec_`.
    case missingPrefix
    /// The part after `whsec_` is not strict, padded standard base64.
    case malformedBase64(reason: String)
    /// The decoded key has a length outside the accepted range.
    case wrongKeyLength(byteCount: Int, accepted: ClosedRange<Int>)
    /// A `whsk_` or `whpk_` key that is not a valid Ed25519 key (length, mismatched public half, point).
    case invalidEd25519Key(reason: String)

    public var description: String {
        switch self {
        case .missingPrefix:
            return "a webhook secret must start with \(WebhookSecret.prefix) (HMAC) or \(WebhookSecret.ed25519Prefix) (Ed25519)"
        case .malformedBase64(let reason):
            return "a webhook secret must be \(WebhookSecret.prefix) followed by standard base64 (\(reason))"
        case .wrongKeyLength(let byteCount, let accepted):
            return "a webhook secret key must be \(accepted.lowerBound) to \(accepted.upperBound) bytes, this one has \(byteCount)"
        case .invalidEd25519Key(let reason):
            return "not a valid Ed25519 key: \(reason)"
        }
    }
}
