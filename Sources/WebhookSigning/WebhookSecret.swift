import Crypto
import SystemIO

/// A webhook signing secret: `whsec_` followed by the standard base64 of the HMAC key (the
/// symmetric `v1` scheme), or `whsk_` followed by the base64 of an Ed25519 key (the asymmetric
/// `v1a` scheme: a 32-byte seed, or 64 bytes seed || public key as Svix writes it).
///
/// HMAC secrets this service generates hold 32 random bytes. Parsing accepts keys of 24 to 64
/// bytes, the range the Standard Webhooks specification allows, so secrets issued elsewhere (Svix
/// uses 24 bytes) can be used with `sign` and `verify-signature` too.
///
/// `description` and `debugDescription` are redacted, so a secret that ends up in a log line or
/// an error message does not leak. Use `encoded` where the full text is really needed.
/// Equality is decided in constant time.
public struct WebhookSecret: Sendable, Equatable, Codable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The text every HMAC secret starts with.
    public static let prefix = "whsec_"
    /// The text every Ed25519 secret key starts with.
    package static let ed25519Prefix = "whsk_"
    /// The text every Ed25519 public key starts with.
    package static let publicKeyPrefix = "whpk_"

    /// The Standard Webhooks signature scheme of a secret.
    public enum Scheme: String, Sendable, Equatable, CaseIterable {
        /// `v1`: HMAC-SHA256 with a shared secret.
        case hmac
        /// `v1a`: Ed25519; the receiver holds only the public key.
        case ed25519
    }
    /// Size of a generated key, in bytes.
    package static let generatedKeyByteCount = 32
    /// Key sizes accepted when parsing, in bytes.
    package static let acceptedKeyByteCounts: ClosedRange<Int> = 24...64

    /// The key: the decoded bytes after `whsec_` (HMAC), or the 32-byte seed (Ed25519).
    public let keyBytes: [UInt8]
    /// HMAC with this key, its padded key blocks absorbed once (HMAC secrets only sign with it).
    let authenticator: HMACSHA256
    /// The Ed25519 key of a `v1a` secret; nil for HMAC.
    public let signingKey: Ed25519PrivateKey?

    /// `hmac` or `ed25519`.
    public var scheme: Scheme { signingKey == nil ? .hmac : .ed25519 }

    /// `whpk_` and the base64 of the Ed25519 public key; nil for HMAC secrets.
    public var publicKeyText: String? {
        signingKey.map { Self.publicKeyPrefix + Base64.encode($0.publicKey.rawRepresentation, alphabet: .standard) }
    }

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
        self.signingKey = nil
    }

    /// An Ed25519 (`v1a`) secret.
    public init(ed25519 key: Ed25519PrivateKey) {
        self.keyBytes = key.seed
        self.authenticator = HMACSHA256(key: [])
        self.signingKey = key
    }

    /// A new Ed25519 (`v1a`) secret from the kernel's CSPRNG.
    /// - Throws: `SystemError` when the kernel gives no random bytes.
    package static func generateEd25519() throws(SystemError) -> WebhookSecret {
        WebhookSecret(ed25519: try Ed25519PrivateKey.generate())
    }

    /// A new secret of `scheme`.
    /// - Throws: `SystemError` when the kernel gives no random bytes.
    public static func generate(scheme: Scheme) throws(SystemError) -> WebhookSecret {
        scheme == .hmac ? try generate() : try generateEd25519()
    }

    /// Parses `whsec_<base64>` strictly: the prefix, padded standard base64, nothing around it.
    /// - Throws: `WebhookSecretError`, which never contains the text.
    public init(parsing text: String) throws(WebhookSecretError) {
        if text.hasPrefix(Self.ed25519Prefix) {
            let key = try Self.decodeKey(text, prefix: Self.ed25519Prefix)
            do {
                self.init(ed25519: try Ed25519PrivateKey(rawRepresentation: key))
            } catch {
                throw .invalidEd25519Key(reason: error.description)
            }
            return
        }
        guard text.hasPrefix(Self.prefix) else { throw .missingPrefix }
        try self.init(keyBytes: try Self.decodeKey(text, prefix: Self.prefix))
    }

    /// The base64 after `prefix`, decoded strictly.
    static func decodeKey(_ text: String, prefix: String) throws(WebhookSecretError) -> [UInt8] {
        let encodedKey = String(decoding: text.utf8.dropFirst(prefix.utf8.count), as: UTF8.self)
        do {
            return try Base64.decode(encodedKey, alphabet: .standard)
        } catch .malformedBase64(let reason) {
            throw .malformedBase64(reason: reason)
        } catch {
            throw .malformedBase64(reason: "\(error)")
        }
    }

    /// A new secret of `generatedKeyByteCount` bytes from the kernel's CSPRNG.
    /// - Throws: `SystemError` when the kernel gives no random bytes.
    public static func generate() throws(SystemError) -> WebhookSecret {
        WebhookSecret(checkedKeyBytes: try SecureRandom.bytes(count: generatedKeyByteCount))
    }

    /// The full secret text, `whsec_` or `whsk_` (the 32-byte seed) and base64. Handle with
    /// care: this is the secret.
    public var encoded: String { textPrefix + Base64.encode(keyBytes, alphabet: .standard) }

    private var textPrefix: String { signingKey == nil ? Self.prefix : Self.ed25519Prefix }

    /// Redacted: shows only that this is a secret.
    public var description: String { "\(textPrefix)<redacted>" }

    /// Redacted, like `description`.
    public var debugDescription: String { "WebhookSecret(\(textPrefix)<redacted>)" }

    /// Constant-time comparison of the keys (and the same scheme).
    public static func == (lhs: WebhookSecret, rhs: WebhookSecret) -> Bool {
        lhs.scheme == rhs.scheme && ConstantTime.equals(lhs.keyBytes, rhs.keyBytes)
    }

    /// Decodes from the `whsec_...` or `whsk_...` text.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        do {
            try self.init(parsing: text)
        } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.description)
        }
    }

    /// Encodes as the `whsec_...` or `whsk_...` text.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(encoded)
    }
}
