import Crypto
import Foundation
import SystemIO
import WebhookSigning

/// What `argus-events sign` and `verify-signature` do once their flags are parsed: sign a body as a
/// delivery would (`DeliveryHeaders`) and verify one as a receiver would (`WebhookVerifier`), so the
/// command line shares the delivery path's code and only parses and prints.
package enum WebhookSignatureTool {
    /// Secrets (`whsec_`, `whsk_`) and public keys (`whpk_`) parsed from their text forms.
    package struct Keys: Sendable {
        /// Newest first, as given; at least one when there are no public keys.
        let secrets: [WebhookSecret]
        let publicKeys: [Ed25519PublicKey]
    }

    /// Why key texts were refused; no case carries key bytes.
    package enum KeyProblem: Error {
        /// No secret was given and no public key either.
        case noSecret
        /// The secret at `index` (0-based, in the order given) does not parse, for `reason`.
        case secret(index: Int, reason: String)
        /// A public key does not parse, for `reason`.
        case publicKey(reason: String)
    }

    /// How far a `webhook-timestamp` may be from now when the caller names no tolerance, in seconds.
    package static let defaultToleranceSeconds = WebhookVerifier.defaultToleranceSeconds

    /// Now, in whole Unix seconds, as delivery stamps `webhook-timestamp` and receivers compare it.
    package static func nowUnixSeconds() -> Int64 { Date().wholeUnixSeconds }

    /// Parses `publicKeyTexts`, then `secretTexts`: secrets are required unless public keys were given
    /// (a verifier with public keys alone checks `v1a` entries only).
    /// - Throws: `KeyProblem`, the public keys' first.
    package static func keys(secretTexts: [String], publicKeyTexts: [String] = []) throws(KeyProblem) -> Keys {
        var publicKeys: [Ed25519PublicKey] = []
        for text in publicKeyTexts {
            do { publicKeys.append(try WebhookPublicKey.parse(text)) } catch { throw .publicKey(reason: error.description) }
        }
        guard publicKeys.isEmpty || !secretTexts.isEmpty else { return Keys(secrets: [], publicKeys: publicKeys) }
        guard !secretTexts.isEmpty else { throw .noSecret }
        var secrets: [WebhookSecret] = []
        for (index, text) in secretTexts.enumerated() {
            do { secrets.append(try WebhookSecret(parsing: text)) } catch { throw .secret(index: index, reason: error.description) }
        }
        return Keys(secrets: secrets, publicKeys: publicKeys)
    }

    /// The delivery headers (`name: value`, in the order sent) for the body on standard input, signed with
    /// `keys`' secrets (the first is the newest). The body streams through the signatures: constant memory
    /// for any size.
    /// - Parameters:
    ///   - timestampSeconds: Unix seconds for `webhook-timestamp`.
    /// - Throws: `SystemError` when standard input cannot be read.
    /// - Precondition: `keys` holds a secret (as `keys(secretTexts:)` with no public keys gives).
    package static func signStandardInput(keys: Keys, deliveryID: String, timestampSeconds: Int64, eventType: String,
                                          attempt: Int) throws -> [String] {
        guard let newest = keys.secrets.first else { preconditionFailure("signing needs a secret") }
        var signatures = DeliverySignatureStream(newestSecret: newest, olderSecrets: Array(keys.secrets.dropFirst()),
                                                 deliveryID: deliveryID, timestampSeconds: timestampSeconds)
        try StandardInput.stream { signatures.update($0) }
        let headers = DeliveryHeaders(signatures: signatures.finalize(), deliveryID: deliveryID, timestampSeconds: timestampSeconds,
                                      attempt: attempt, eventType: eventType, version: ArgusVersion.current)
        return headers.fields.map(\.description)
    }

    /// Checks `body` and `headers` (names lowercased) as a receiver would, at `nowUnixSeconds` with
    /// `toleranceSeconds` of clock skew.
    /// - Throws: `WebhookVerificationError` naming why the delivery is not authentic.
    package static func verify(body: [UInt8], headers: [(name: String, value: String)], keys: Keys, nowUnixSeconds: Int64,
                               toleranceSeconds: Int64) throws(WebhookVerificationError) {
        let verifier = WebhookVerifier(secrets: keys.secrets, publicKeys: keys.publicKeys, toleranceSeconds: toleranceSeconds)
        _ = try verifier.verify(body: body, headers: headers.map { HeaderField(name: $0.name, value: $0.value) },
                                nowUnixSeconds: nowUnixSeconds)
    }
}
