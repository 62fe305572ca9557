import Crypto

extension Ed25519PrivateKey {
    /// A new key from 32 bytes of the kernel's CSPRNG (`SecureRandom`).
    /// - Throws: `SystemError` when the kernel gives no random bytes.
    public static func generate() throws(SystemError) -> Ed25519PrivateKey {
        Ed25519PrivateKey(validSeed: try SecureRandom.bytes(count: seedByteCount))
    }
}
