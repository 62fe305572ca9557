import Crypto

/// Both signatures of a delivery computed over a body that arrives in pieces, in constant memory
/// for any body size: one HMAC stream per `webhook-signature` entry (over `"{id}.{timestamp}.{body}"`)
/// and one for `x-argus-signature` (over the body), all fed from the same bytes.
public struct DeliverySignatureStream: Sendable {
    /// The finished header values.
    public struct Signatures: Sendable, Equatable {
        /// The `webhook-signature` value: `v1,<base64>` per secret, newest first, space-separated.
        public var standard: String
        /// The `x-argus-signature` value: `sha256=<lowercase hex>` with the newest secret.
        public var argus: String
    }

    private var standardStreams: [HMACSHA256.Stream]
    private var argusStream: HMACSHA256.Stream

    /// Starts the signatures of delivery `deliveryID` at `timestampSeconds` (Unix seconds).
    /// - Parameters:
    ///   - newestSecret: signs both schemes.
    ///   - olderSecrets: other unexpired secrets, newest first; add `webhook-signature` entries.
    public init(newestSecret: WebhookSecret, olderSecrets: [WebhookSecret] = [], deliveryID: String, timestampSeconds: Int64) {
        // The "{id}.{timestamp}." prefix is the same for every secret.
        let prefix = Array("\(deliveryID).\(timestampSeconds).".utf8)
        standardStreams = ([newestSecret] + olderSecrets).map { secret in
            var stream = secret.authenticator.makeStream()
            stream.update(prefix)
            return stream
        }
        argusStream = newestSecret.authenticator.makeStream()
    }

    /// Absorbs the next bytes of the body.
    public mutating func update(_ buffer: UnsafeRawBufferPointer) {
        for index in standardStreams.indices { standardStreams[index].update(buffer) }
        argusStream.update(buffer)
    }

    /// Absorbs the next bytes of the body.
    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// The two header values.
    public consuming func finalize() -> Signatures {
        let standard = standardStreams.map { WebhookSigner.standardVersion + "," + Base64.encode($0.finalize()) }
        return Signatures(standard: standard.joined(separator: " "),
                          argus: WebhookSigner.argusScheme + "=" + Hex.encode(argusStream.finalize()))
    }
}
