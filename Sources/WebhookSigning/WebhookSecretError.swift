/// Why a text is not a webhook secret. Never carries any part of the rejected text.
public enum WebhookSecretError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The text does not start with `whsec_`.
    case missingPrefix
    /// The part after `whsec_` is not strict, padded standard base64.
    case malformedBase64(reason: String)
    /// The decoded key has a length outside the accepted range.
    case wrongKeyLength(byteCount: Int, accepted: ClosedRange<Int>)

    public var description: String {
        switch self {
        case .missingPrefix:
            return "a webhook secret must start with \(WebhookSecret.prefix)"
        case .malformedBase64(let reason):
            return "a webhook secret must be \(WebhookSecret.prefix) followed by standard base64 (\(reason))"
        case .wrongKeyLength(let byteCount, let accepted):
            return "a webhook secret key must be \(accepted.lowerBound) to \(accepted.upperBound) bytes, this one has \(byteCount)"
        }
    }
}
