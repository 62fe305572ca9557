import Crypto

/// Delivery ids: UUID v4 form, derived from (webhook id, event offset) so that every retry, restart and
/// replay of one event to one webhook carries the same id and receivers can deduplicate.
public enum DeliveryID {
    /// The delivery id of event `offset` for webhook `webhookID`.
    public static func make(webhookID: String, offset: UInt64) -> String {
        var hasher = SHA256()
        hasher.update(Array("argus-delivery-id\u{0}".utf8))
        hasher.update(Array(webhookID.utf8))
        hasher.update([0])
        withUnsafeBytes(of: offset.bigEndian) { hasher.update($0) }
        var bytes = Array(hasher.finalize().prefix(16))
        bytes[6] = (bytes[6] & 0x0F) | 0x40
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        let hex = Hex.encode(bytes)
        let characters = Array(hex)
        return String(characters[0..<8]) + "-" + String(characters[8..<12]) + "-" + String(characters[12..<16]) + "-"
            + String(characters[16..<20]) + "-" + String(characters[20..<32])
    }
}
