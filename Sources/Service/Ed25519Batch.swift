import Crypto

/// The answers of `argus-events ed25519-batch` (hidden; for interop tests such as
/// `tools/ed25519_interop.py`), one request line at a time:
///
/// - `sign <seed hex> <message hex>` answers `<public key hex> <signature hex>`;
/// - `verify <public key hex> <message hex> <signature hex>` answers `ok` or `bad`;
/// - anything malformed answers `error <reason>` (never the key bytes).
/// An empty message is written `-`.
package enum Ed25519Batch {
    /// The answer line to one request line (without its newline).
    package static func answer(_ line: String) -> String {
        let fields = line.split(separator: " ").map(String.init)
        func bytes(_ text: String) throws(EncodingError) -> [UInt8] { text == "-" ? [] : try Hex.decode(text) }
        do {
            switch (fields.first, fields.count) {
            case ("sign", 3):
                let key = try Ed25519PrivateKey(rawRepresentation: try bytes(fields[1]))
                return Hex.encode(key.publicKey.rawRepresentation) + " " + Hex.encode(key.signature(for: try bytes(fields[2])))
            case ("verify", 4):
                let key = try Ed25519PublicKey(rawRepresentation: try bytes(fields[1]))
                return key.isValidSignature(try bytes(fields[3]), for: try bytes(fields[2])) ? "ok" : "bad"
            default:
                return "error expected 'sign SEED MESSAGE' or 'verify PUBLIC MESSAGE SIGNATURE'"
            }
        } catch {
            return "error \(error)"
        }
    }
}
