/// An Ed25519 public key (RFC 8032): verifies signatures.
public struct Ed25519PublicKey: Sendable, Equatable {
    /// The 32-byte encoding of the public point A.
    public let rawRepresentation: [UInt8]
    let point: Ed25519Point

    /// Size of a public key, in bytes.
    public static let byteCount = 32

    /// Decodes a 32-byte public key.
    /// - Throws: `Ed25519KeyError` when the length is wrong, the bytes are not a canonical
    ///   encoding of a curve point, or the point has small order (such a key would accept
    ///   signatures that prove nothing).
    public init(rawRepresentation bytes: some Collection<UInt8>) throws(Ed25519KeyError) {
        let raw = Array(bytes)
        guard raw.count == Self.byteCount else { throw .invalidPublicKeyLength(raw.count) }
        guard let point = Ed25519Point(encoded: raw), !point.hasSmallOrder else { throw .invalidPublicKeyPoint }
        self.rawRepresentation = raw
        self.point = point
    }

    init(point: Ed25519Point) {
        self.point = point
        self.rawRepresentation = point.encoded
    }

    public static func == (lhs: Ed25519PublicKey, rhs: Ed25519PublicKey) -> Bool {
        lhs.rawRepresentation == rhs.rawRepresentation
    }

    /// True when `signature` (64 bytes, R || S) is a valid Ed25519 signature of `message` under
    /// this key (RFC 8032 section 5.1.7): S must be below L (non-canonical S is rejected), R must
    /// be the canonical encoding of [S]B - [SHA-512(R || A || M)]A (so a non-canonical or
    /// off-curve R is rejected). Variable time: everything here is public.
    public func isValidSignature(_ signature: some Collection<UInt8>, for message: some Sequence<UInt8>) -> Bool {
        let signatureBytes = Array(signature)
        guard signatureBytes.count == Ed25519PrivateKey.signatureByteCount else { return false }
        let encodedR = Array(signatureBytes[0..<32])
        let s = signatureBytes[32..<64]
        guard Ed25519Scalar.isCanonical(s) else { return false }
        var hasher = SHA512()
        hasher.update(encodedR)
        hasher.update(rawRepresentation)
        hasher.update(message)
        let k = Ed25519Scalar.reduced(hasher.finalize())
        let check = Ed25519Point.baseMultiple(Array(s)) + point.negated.publicMultiple(k)
        return check.encoded == encodedR
    }
}
