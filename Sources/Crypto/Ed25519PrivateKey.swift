/// An Ed25519 private key (RFC 8032, pure Ed25519): signs messages.
///
/// Held as the 32-byte seed; the expanded secret scalar and nonce prefix are derived once.
/// Signing is constant time in the key and nonce (see `Ed25519Point.baseMultiple`). `description`
/// never shows key bytes.
public struct Ed25519PrivateKey: Sendable, CustomStringConvertible {
    /// Size of a seed, in bytes.
    public static let seedByteCount = 32
    /// Size of a signature, in bytes (R || S).
    package static let signatureByteCount = 64

    /// The 32-byte seed (RFC 8032's private key).
    public let seed: [UInt8]
    /// The matching public key.
    public let publicKey: Ed25519PublicKey
    /// The clamped secret scalar s (first half of SHA-512(seed)).
    private let scalar: [UInt8]
    /// The nonce prefix (second half of SHA-512(seed)).
    private let prefix: [UInt8]

    /// Derives the key pair from a 32-byte seed, or from 64 bytes seed || public key (the form
    /// some Standard Webhooks `whsk_` keys use; the public half must match the seed).
    /// - Throws: `Ed25519KeyError.invalidSecretKeyLength` or `.publicKeyMismatch`.
    public init(rawRepresentation bytes: some Collection<UInt8>) throws(Ed25519KeyError) {
        let raw = Array(bytes)
        guard raw.count == Self.seedByteCount || raw.count == 2 * Self.seedByteCount else {
            throw .invalidSecretKeyLength(raw.count)
        }
        self.init(validSeed: Array(raw[0..<Self.seedByteCount]))
        if raw.count == 2 * Self.seedByteCount,
           !ConstantTime.equals(raw[Self.seedByteCount...], publicKey.rawRepresentation) {
            throw .publicKeyMismatch
        }
    }

    /// The key of a 32-byte seed (the caller checked the length).
    package init(validSeed seed: [UInt8]) {
        precondition(seed.count == Self.seedByteCount, "an Ed25519 seed is 32 bytes")
        let digest = SHA512.hash(seed)
        var scalar = Array(digest[0..<32])
        scalar[0] &= 248
        scalar[31] &= 127
        scalar[31] |= 64
        self.seed = seed
        self.scalar = scalar
        self.prefix = Array(digest[32..<64])
        self.publicKey = Ed25519PublicKey(point: Ed25519Point.baseMultiple(scalar))
    }

    /// seed || public key (64 bytes), the Svix `whsk_` form.
    package var expandedRepresentation: [UInt8] { seed + publicKey.rawRepresentation }

    /// The 64-byte Ed25519 signature (R || S) of `message` (RFC 8032 section 5.1.6).
    public func signature(for message: some Sequence<UInt8>) -> [UInt8] {
        let messageBytes = Array(message)
        var nonceHasher = SHA512()
        nonceHasher.update(prefix)
        nonceHasher.update(messageBytes)
        let nonce = Ed25519Scalar.reduced(nonceHasher.finalize())
        let encodedR = Ed25519Point.baseMultiple(nonce).encoded
        var challengeHasher = SHA512()
        challengeHasher.update(encodedR)
        challengeHasher.update(publicKey.rawRepresentation)
        challengeHasher.update(messageBytes)
        let k = Ed25519Scalar.reduced(challengeHasher.finalize())
        return encodedR + Ed25519Scalar.multiplyAdd(k, scalar, nonce)
    }

    public var description: String { "Ed25519PrivateKey(public: \(Base64.encode(publicKey.rawRepresentation)))" }
}
