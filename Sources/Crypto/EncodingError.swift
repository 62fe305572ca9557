/// Malformed text handed to a decoder. Messages never echo the input (it may be a secret).
public enum EncodingError: Error, Equatable, Sendable, CustomStringConvertible {
    case malformedHex(reason: String)
    case malformedBase64(reason: String)

    public var description: String {
        switch self {
        case .malformedHex(let reason): return "malformed hex: \(reason)"
        case .malformedBase64(let reason): return "malformed base64: \(reason)"
        }
    }
}
