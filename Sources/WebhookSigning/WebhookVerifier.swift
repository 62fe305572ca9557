import Crypto
import Foundation

/// Verifies a delivery as a receiver would: Standard Webhooks headers (or their `svix-`
/// forms), a timestamp tolerance in both directions, constant-time signature comparison, and
/// `x-argus-signature` when present.
///
/// Header names are matched case-insensitively. The `webhook-` set is used when any of its
/// three headers is present, otherwise the `svix-` set. Each required header must appear once.
///
/// `x-argus-signature` is signed with the newest secret only. It is therefore checked when one
/// of the verifier's secrets matches the *first* `v1` entry (which the newest secret makes);
/// a receiver still on an older secret during a rotation is verified by `webhook-signature`
/// alone, so rotation never breaks it. When present, the header must be well-formed either way.
public struct WebhookVerifier: Sendable {
    /// The default allowed clock difference, both ways: 5 minutes, in seconds.
    public static let defaultToleranceSeconds: Int64 = 300

    /// The secrets a signature may match, in any order (HMAC secrets match `v1` entries, Ed25519
    /// secrets `v1a` entries by their public key).
    public let secrets: [WebhookSecret]
    /// Ed25519 public keys (`whpk_`) a `v1a` entry may verify under, in any order.
    public let publicKeys: [Ed25519PublicKey]
    /// The allowed distance between the timestamp and now, in seconds, both ways (inclusive).
    public let toleranceSeconds: Int64

    /// A verifier accepting signatures by any of `secrets`.
    public init(secrets: [WebhookSecret], publicKeys: [Ed25519PublicKey] = [], toleranceSeconds: Int64 = defaultToleranceSeconds) {
        self.secrets = secrets
        self.publicKeys = publicKeys + secrets.compactMap { $0.signingKey?.publicKey }
        self.toleranceSeconds = max(0, toleranceSeconds)
    }

    /// A verifier for one secret.
    public init(secret: WebhookSecret, toleranceSeconds: Int64 = defaultToleranceSeconds) {
        self.init(secrets: [secret], toleranceSeconds: toleranceSeconds)
    }

    /// Verifies `body` and `headers` at the time `now`.
    /// - Throws: `WebhookVerificationError` naming the first problem found.
    @discardableResult
    public func verify(body: [UInt8], headers: [HeaderField], now: Date) throws(WebhookVerificationError) -> VerifiedWebhook {
        try verify(body: body, headers: headers, nowUnixSeconds: now.wholeUnixSeconds)
    }

    /// Verifies `body` and `headers` at the Unix time `nowUnixSeconds`.
    /// - Throws: `WebhookVerificationError` naming the first problem found.
    @discardableResult
    public func verify(body: [UInt8], headers: [HeaderField], nowUnixSeconds: Int64) throws(WebhookVerificationError) -> VerifiedWebhook {
        var byName: [String: [String]] = [:]
        for field in headers { byName[field.name.lowercased(), default: []].append(field.value) }

        func present(_ names: WebhookHeaderName.SignatureSet) -> Bool {
            [names.id, names.timestamp, names.signature].contains { byName[$0] != nil }
        }
        let useSvix = !present(WebhookHeaderName.standard) && present(WebhookHeaderName.svix)
        let names = useSvix ? WebhookHeaderName.svix : WebhookHeaderName.standard

        let id = try Self.single(names.id, in: byName)
        let timestampText = try Self.single(names.timestamp, in: byName)
        let signatureText = try Self.single(names.signature, in: byName)
        let timestampSeconds = try Self.parseTimestamp(timestampText, name: names.timestamp)
        let (signatures, asymmetricSignatures) = try Self.parseSignatures(signatureText, name: names.signature)
        let argusMAC = try byName[WebhookHeaderName.argusSignature] == nil
            ? nil
            : Self.parseArgusSignature(try Self.single(WebhookHeaderName.argusSignature, in: byName))

        let (age, overflow) = nowUnixSeconds.subtractingReportingOverflow(timestampSeconds)
        if overflow || age > toleranceSeconds {
            throw .timestampTooOld(ageSeconds: overflow ? .max : age, toleranceSeconds: toleranceSeconds)
        }
        if age < -toleranceSeconds {
            throw .timestampTooNew(aheadSeconds: -age, toleranceSeconds: toleranceSeconds)
        }

        let prefix = Array("\(id).\(timestampSeconds).".utf8)
        var matchedSecret: WebhookSecret?
        var matchedFirstEntry = false
        for secret in secrets where secret.signingKey == nil {
            var stream = secret.authenticator.makeStream()
            stream.update(prefix)
            stream.update(body)
            let expected = stream.finalize()
            if let index = signatures.firstIndex(where: { ConstantTime.equals($0, expected) }) {
                if matchedSecret == nil || index == 0 { matchedSecret = secret }
                if index == 0 { matchedFirstEntry = true; break }
            }
        }
        guard let matchedSecret else {
            if !asymmetricSignatures.isEmpty, !publicKeys.isEmpty {
                let message = prefix + body
                let verified = publicKeys.contains { key in
                    asymmetricSignatures.contains { key.isValidSignature($0, for: message) }
                }
                if verified { return VerifiedWebhook(id: id, timestampSeconds: timestampSeconds, checkedArgusSignature: false) }
            }
            throw .noMatchingSignature
        }

        var checkedArgus = false
        if let argusMAC, matchedFirstEntry {
            guard ConstantTime.equals(argusMAC, WebhookSigner.argusMAC(secret: matchedSecret, body: body)) else {
                throw .argusSignatureMismatch
            }
            checkedArgus = true
        }
        return VerifiedWebhook(id: id, timestampSeconds: timestampSeconds, checkedArgusSignature: checkedArgus)
    }

    /// The one non-empty value of header `name`.
    private static func single(_ name: String, in byName: [String: [String]]) throws(WebhookVerificationError) -> String {
        guard let values = byName[name] else { throw .missingHeader(name: name) }
        guard values.count == 1 else { throw .malformedHeader(name: name, reason: "appears \(values.count) times") }
        let value = values[0].trimmingOptionalWhitespace
        guard !value.isEmpty else { throw .malformedHeader(name: name, reason: "empty") }
        return value
    }

    /// Unix seconds written as 1 to 18 decimal digits, nothing else.
    private static func parseTimestamp(_ text: String, name: String) throws(WebhookVerificationError) -> Int64 {
        guard text.utf8.count <= 18, text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
              let seconds = Int64(text) else {
            throw .malformedHeader(name: name, reason: "not a whole number of Unix seconds")
        }
        return seconds
    }

    /// The decoded `v1` MACs and `v1a` signatures of a space-separated `version,base64` list;
    /// other versions are skipped.
    private static func parseSignatures(_ text: String, name: String) throws(WebhookVerificationError) -> ([[UInt8]], [[UInt8]]) {
        var macs: [[UInt8]] = []
        var asymmetric: [[UInt8]] = []
        for (position, entry) in text.split(separator: " ", omittingEmptySubsequences: true).enumerated() {
            guard let comma = entry.firstIndex(of: ",") else {
                throw .malformedHeader(name: name, reason: "entry \(position + 1) is not of the form v1,<base64>")
            }
            let version = entry[..<comma]
            guard version == Substring(WebhookSigner.standardVersion) || version == Substring(WebhookSigner.asymmetricVersion) else {
                continue
            }
            do {
                let decoded = try Base64.decode(String(entry[entry.index(after: comma)...]), alphabet: .standard)
                if version == Substring(WebhookSigner.standardVersion) { macs.append(decoded) } else { asymmetric.append(decoded) }
            } catch {
                throw .malformedHeader(name: name, reason: "entry \(position + 1): \(error)")
            }
        }
        return (macs, asymmetric)
    }

    /// The MAC of `sha256=<64 lowercase hex digits>`.
    private static func parseArgusSignature(_ text: String) throws(WebhookVerificationError) -> [UInt8] {
        let name = WebhookHeaderName.argusSignature
        let schemePrefix = WebhookSigner.argusScheme + "="
        guard text.hasPrefix(schemePrefix) else { throw .malformedHeader(name: name, reason: "expected sha256=<hex>") }
        let hex = String(text.dropFirst(schemePrefix.count))
        let isLowercaseHex = hex.utf8.allSatisfy {
            ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "f"))
        }
        guard hex.utf8.count == 2 * HMACSHA256.codeByteCount, isLowercaseHex, let mac = try? Hex.decode(hex) else {
            throw .malformedHeader(name: name, reason: "expected sha256= and 64 lowercase hex digits")
        }
        return mac
    }
}
