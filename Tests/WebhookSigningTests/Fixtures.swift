import Crypto
import WebhookSigning

/// Shared inputs for the signing tests.
enum Fixture {
    /// Key bytes 0x00...0x1f.
    static let secretText = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
    /// The secret of the Svix documentation example (24 bytes).
    static let svixSecretText = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    static let deliveryID = "6f1c2a4e-8b3d-4c5e-9f70-1a2b3c4d5e6f"
    static let timestampSeconds: Int64 = 1_780_000_000
    static let body = Array(#"{"id":"evt_1","type":"user.created","data":{"name":"Zoë"}}"#.utf8)

    static func secret(_ text: String = secretText) throws -> WebhookSecret {
        try WebhookSecret(parsing: text)
    }

    static func headers(
        secrets: [WebhookSecret], timestampSeconds: Int64 = timestampSeconds, body: [UInt8] = body
    ) -> [HeaderField] {
        DeliveryHeaders(
            newestSecret: secrets[0], olderSecrets: Array(secrets.dropFirst()), deliveryID: deliveryID,
            timestampSeconds: timestampSeconds, attempt: 1, eventType: "user.created", body: body, version: "test"
        ).fields
    }

    /// `headers` with the field `name` replaced by `value`, or removed when `value` is nil.
    static func replacing(_ name: String, with value: String?, in headers: [HeaderField]) -> [HeaderField] {
        headers.compactMap { field in
            guard field.name == name else { return field }
            return value.map { HeaderField(name: name, value: $0) }
        }
    }
}
