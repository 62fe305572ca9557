import Service

/// `argus-events ed25519-batch` (hidden; for interop tests such as `tools/ed25519_interop.py`):
/// reads one request per line on standard input and answers one line each on standard output
/// (`Ed25519Batch` says which requests and answers). Lines are at most 1 MiB.
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
            output.append(Ed25519Batch.answer(line))
            if output.count >= 1024 {
                Console.print(output.joined(separator: "\n"))
                output.removeAll(keepingCapacity: true)
            }
        }
        if !output.isEmpty { Console.print(output.joined(separator: "\n")) }
        return 0
    }
}
