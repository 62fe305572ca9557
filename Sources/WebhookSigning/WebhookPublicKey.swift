import Crypto

/// The `whpk_` text form of an Ed25519 public key that verifies `v1a` webhook signatures.
public enum WebhookPublicKey {
    /// Parses `whpk_<base64 of 32 bytes>` strictly.
    /// - Throws: `WebhookSecretError` (`.missingPrefix`, `.malformedBase64`, `.invalidEd25519Key`).
    public static func parse(_ text: String) throws(WebhookSecretError) -> Ed25519PublicKey {
        guard text.hasPrefix(WebhookSecret.publicKeyPrefix) else { throw .missingPrefix }
        let bytes = try WebhookSecret.decodeKey(text, prefix: WebhookSecret.publicKeyPrefix)
        do {
            return try Ed25519PublicKey(rawRepresentation: bytes)
        } catch {
            throw .invalidEd25519Key(reason: error.description)
        }
    }

    /// `whpk_` and the standard base64 of `key`.
    public static func encode(_ key: Ed25519PublicKey) -> String {
        WebhookSecret.publicKeyPrefix + Base64.encode(key.rawRepresentation, alphabet: .standard)
    }
}
