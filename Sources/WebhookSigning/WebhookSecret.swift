import Crypto

/// A webhook signing secret: `whsec_` followed by the standard base64 of the HMAC key.
///
/// Secrets this service generates hold 32 random bytes. Parsing accepts keys of 24 to 64 bytes,
/// the range the Standard Webhooks specification allows, so secrets issued elsewhere (Svix uses
/// 24 bytes) can be used with `sign` and `verify-signature` too.
///
/// `description` and `debugDescription` are redacted, so a secret that ends up in a log line or
/// an error message does not leak. Use `encoded` where the full text is really needed.
/// Equality is decided in constant time.
public struct WebhookSecret: Sendable, Equatable, Codable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The text every secret starts with.
    public static let prefix = "whsec_"
    /// Size of a generated key, in bytes.
    public static let generatedKeyByteCount = 32
    /// Key sizes accepted when parsing, in bytes.
    public static let acceptedKeyByteCounts: ClosedRange<Int> = 24...64

    /// The HMAC key: the decoded bytes after `whsec_`.
    public let keyBytes: [UInt8]
    /// HMAC with this key, its padded key blocks absorbed once.
    let authenticator: HMACSHA256

    /// A secret with the key `keyBytes`.
    /// - Throws: `WebhookSecretError.wrongKeyLength` outside `acceptedKeyByteCounts`.
    public init(keyBytes: [UInt8]) throws(WebhookSecretError) {
        guard Self.acceptedKeyByteCounts.contains(keyBytes.count) else {
            throw .wrongKeyLength(byteCount: keyBytes.count, accepted: Self.acceptedKeyByteCounts)
        }
        self.init(checkedKeyBytes: keyBytes)
    }

    /// A secret whose key length the caller has already checked.
    private init(checkedKeyBytes: [UInt8]) {
        self.keyBytes = checkedKeyBytes
        self.authenticator = HMACSHA256(key: checkedKeyBytes)
    }

    /// Parses `whsec_<base64>` strictly: the prefix, padded standard base64, nothing around it.
    /// - Throws: `WebhookSecretError`, which never contains the text.
    public init(parsing text: String) throws(WebhookSecretError) {
        guard text.hasPrefix(Self.prefix) else { throw .missingPrefix }
        let encodedKey = String(decoding: text.utf8.dropFirst(Self.prefix.utf8.count), as: UTF8.self)
        let key: [UInt8]
        do {
            key = try Base64.decode(encodedKey, alphabet: .standard)
        } catch .malformedBase64(let reason) {
            throw .malformedBase64(reason: reason)
        } catch {
            throw .malformedBase64(reason: "\(error)")
        }
        try self.init(keyBytes: key)
    }

    /// A new secret of `generatedKeyByteCount` bytes from the kernel's CSPRNG.
    /// - Throws: `SecureRandom.Failure` when the kernel gives no random bytes.
    public static func generate() throws(SecureRandom.Failure) -> WebhookSecret {
        WebhookSecret(checkedKeyBytes: try SecureRandom.bytes(count: generatedKeyByteCount))
    }

    /// The full secret text, `whsec_` and base64. Handle with care: this is the secret.
    public var encoded: String { Self.prefix + Base64.encode(keyBytes, alphabet: .standard) }

    /// Redacted: shows only that this is a secret.
    public var description: String { "\(Self.prefix)<redacted>" }

    /// Redacted, like `description`.
    public var debugDescription: String { "WebhookSecret(\(Self.prefix)<redacted>)" }

    /// Constant-time comparison of the keys.
    public static func == (lhs: WebhookSecret, rhs: WebhookSecret) -> Bool {
        ConstantTime.equals(lhs.keyBytes, rhs.keyBytes)
    }

    /// Decodes from the `whsec_...` text.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        do {
            try self.init(parsing: text)
        } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.description)
        }
    }

    /// Encodes as the `whsec_...` text.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(encoded)
    }
}
