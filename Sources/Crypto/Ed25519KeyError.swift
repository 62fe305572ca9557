/// A malformed Ed25519 key. Messages carry sizes and reasons, never key bytes.
public enum Ed25519KeyError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A seed or secret key of the wrong length (32-byte seed, or 64-byte seed || public key).
    case invalidSecretKeyLength(Int)
    /// A 64-byte secret key whose last 32 bytes are not the public key of its seed.
    case publicKeyMismatch
    /// A public key of the wrong length (32 bytes).
    case invalidPublicKeyLength(Int)
    /// 32 bytes that do not encode a point of the curve, or a point of small order.
    case invalidPublicKeyPoint

    public var description: String {
        switch self {
        case .invalidSecretKeyLength(let count): return "an Ed25519 secret key is 32 bytes (seed) or 64 bytes (seed and public key), got \(count)"
        case .publicKeyMismatch: return "the last 32 bytes of the 64-byte Ed25519 secret key are not the public key of its seed"
        case .invalidPublicKeyLength(let count): return "an Ed25519 public key is 32 bytes, got \(count)"
        case .invalidPublicKeyPoint: return "the Ed25519 public key is not a valid curve point of large order"
        }
    }
}
