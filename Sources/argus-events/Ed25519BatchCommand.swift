import Crypto

/// `argus-events ed25519-batch` (hidden; for interop tests such as `tools/ed25519_interop.py`):
/// reads one request per line on standard input and answers one line each on standard output.
///
/// - `sign <seed hex> <message hex>` prints `<public key hex> <signature hex>`;
/// - `verify <public key hex> <message hex> <signature hex>` prints `ok` or `bad`;
/// - anything malformed prints `error <reason>` (never the key bytes).
/// An empty message is written `-`. Lines are at most 1 MiB.
enum Ed25519BatchCommand: Command {
    static let name = "ed25519-batch"
    static let usage = "ed25519-batch < requests (hidden: interop testing)"
    static let lineBytesMax = 1 << 20

    static func run(_ words: [String]) async throws -> Int32 {
        guard words.isEmpty else { throw UsageError("ed25519-batch takes no arguments") }
        var output: [String] = []
        while let line = readLine(strippingNewline: true) {
            guard line.utf8.count <= lineBytesMax else {
                output.append("error line longer than \(lineBytesMax) bytes")
                continue
            }
            output.append(answer(line))
            if output.count >= 1024 {
                Console.print(output.joined(separator: "\n"))
                output.removeAll(keepingCapacity: true)
            }
        }
        if !output.isEmpty { Console.print(output.joined(separator: "\n")) }
        return 0
    }

    static func answer(_ line: String) -> String {
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
