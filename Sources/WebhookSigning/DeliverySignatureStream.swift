import Crypto

/// Both signatures of a delivery computed over a body that arrives in pieces: one HMAC stream
/// per `v1` entry of `webhook-signature` (over `"{id}.{timestamp}.{body}"`) and one for
/// `x-argus-signature` (over the body), all fed from the same bytes, in constant memory.
///
/// Ed25519 (`v1a`) secrets sign `"{id}.{timestamp}.{body}"` with pure Ed25519, which hashes the
/// message twice, so the body is kept (bodies are bounded by the event size limit) and signed at
/// `finalize`. When the newest secret is Ed25519 there is no `x-argus-signature` (it is an HMAC).
public struct DeliverySignatureStream: Sendable {
    /// The finished header values.
    public struct Signatures: Sendable, Equatable {
        /// The `webhook-signature` value: `v1,<base64>` or `v1a,<base64>` per secret, newest
        /// first, space-separated.
        public var standard: String
        /// The `x-argus-signature` value: `sha256=<lowercase hex>` with the newest secret; nil
        /// when the newest secret is Ed25519.
        public var argus: String?
    }

    /// One entry per secret, in order: an HMAC stream, or an Ed25519 key waiting for the body.
    private enum Entry: Sendable {
        case hmac(HMACSHA256.Stream)
        case ed25519(Ed25519PrivateKey)
    }

    private var entries: [Entry]
    private var argusStream: HMACSHA256.Stream?
    /// `"{id}.{timestamp}."` then the body so far; kept only when an Ed25519 secret signs.
    private var signedMessage: [UInt8]?

    /// Starts the signatures of delivery `deliveryID` at `timestampSeconds` (Unix seconds).
    /// - Parameters:
    ///   - newestSecret: signs `webhook-signature` first, and `x-argus-signature` when HMAC.
    ///   - olderSecrets: other unexpired secrets, newest first; add `webhook-signature` entries.
    public init(newestSecret: WebhookSecret, olderSecrets: [WebhookSecret] = [], deliveryID: String, timestampSeconds: Int64) {
        // The "{id}.{timestamp}." prefix is the same for every secret.
        let prefix = Array("\(deliveryID).\(timestampSeconds).".utf8)
        let secrets = [newestSecret] + olderSecrets
        entries = secrets.map { secret in
            if let key = secret.signingKey { return .ed25519(key) }
            var stream = secret.authenticator.makeStream()
            stream.update(prefix)
            return .hmac(stream)
        }
        argusStream = newestSecret.signingKey == nil ? newestSecret.authenticator.makeStream() : nil
        signedMessage = secrets.contains { $0.signingKey != nil } ? prefix : nil
    }

    /// Absorbs the next bytes of the body.
    public mutating func update(_ buffer: UnsafeRawBufferPointer) {
        for index in entries.indices {
            if case .hmac(var stream) = entries[index] {
                stream.update(buffer)
                entries[index] = .hmac(stream)
            }
        }
        argusStream?.update(buffer)
        signedMessage?.append(contentsOf: buffer)
    }

    /// Absorbs the next bytes of the body.
    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// The header values.
    public consuming func finalize() -> Signatures {
        let message = signedMessage ?? []
        let standard = entries.map { entry in
            switch entry {
            case .hmac(let stream):
                return WebhookSigner.standardVersion + "," + Base64.encode(stream.finalize())
            case .ed25519(let key):
                return WebhookSigner.asymmetricVersion + "," + Base64.encode(key.signature(for: message))
            }
        }
        return Signatures(standard: standard.joined(separator: " "),
                          argus: argusStream.map { WebhookSigner.argusScheme + "=" + Hex.encode($0.finalize()) })
    }
}
