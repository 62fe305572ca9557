import Crypto

/// Computes the two signatures a delivery carries.
///
/// - Standard Webhooks (`webhook-signature`, also sent as `svix-signature`):
///   `v1,` + base64 of HMAC-SHA256(key, `"{id}.{timestamp}.{body}"`); one entry per signing
///   secret, separated by single spaces, newest secret first.
/// - Argus (`x-argus-signature`): `sha256=` + lowercase hex of HMAC-SHA256(key, body).
///
/// The key is the secret's decoded bytes in both schemes.
public enum WebhookSigner {
    /// The version tag of the Standard Webhooks symmetric scheme.
    package static let standardVersion = "v1"
    /// The version tag of the Standard Webhooks asymmetric (Ed25519) scheme.
    package static let asymmetricVersion = "v1a"
    /// The scheme tag of `x-argus-signature`.
    package static let argusScheme = "sha256"

    /// The raw Standard Webhooks MAC: HMAC-SHA256 over `"{id}.{timestampSeconds}.{body}"`.
    package static func standardMAC(secret: WebhookSecret, id: String, timestampSeconds: Int64, body: [UInt8]) -> [UInt8] {
        var stream = secret.authenticator.makeStream()
        stream.update(Array("\(id).\(timestampSeconds).".utf8))
        stream.update(body)
        return stream.finalize()
    }

    /// One Standard Webhooks signature entry: `v1,<base64>`.
    public static func standardSignature(secret: WebhookSecret, id: String, timestampSeconds: Int64, body: [UInt8]) -> String {
        standardVersion + "," + Base64.encode(standardMAC(secret: secret, id: id, timestampSeconds: timestampSeconds, body: body))
    }

    /// The `webhook-signature` value: one `v1,` entry per secret, in the given order (newest
    /// first), separated by single spaces.
    package static func standardSignatureHeader(secrets: [WebhookSecret], id: String, timestampSeconds: Int64, body: [UInt8]) -> String {
        // The "{id}.{timestamp}." prefix is the same for every secret.
        let prefix = Array("\(id).\(timestampSeconds).".utf8)
        return secrets.map { secret in
            var stream = secret.authenticator.makeStream()
            stream.update(prefix)
            stream.update(body)
            return standardVersion + "," + Base64.encode(stream.finalize())
        }.joined(separator: " ")
    }

    /// The raw Argus MAC: HMAC-SHA256 over the body alone.
    package static func argusMAC(secret: WebhookSecret, body: [UInt8]) -> [UInt8] {
        secret.authenticator.authenticationCode(for: body)
    }

    /// The `x-argus-signature` value: `sha256=<lowercase hex>`.
    package static func argusSignature(secret: WebhookSecret, body: [UInt8]) -> String {
        argusScheme + "=" + Hex.encode(argusMAC(secret: secret, body: body))
    }
}
