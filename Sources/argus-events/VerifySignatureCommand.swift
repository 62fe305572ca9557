import Foundation
import Service

/// `argus-events verify-signature`: checks headers and the body on standard input as a
/// receiver would. Exit 0 and "ok" when authentic; 1 and the reason on stderr when not.
enum VerifySignatureCommand: Command {
    static let name = "verify-signature"
    static let usage = "verify-signature (--secret whsec_...|whsk_... | --public-key whpk_...)... --header 'name: value'... [--now UNIX] [--tolerance-seconds N] < body"

    static func run(_ words: [String]) async throws -> Int32 {
        let signature = try SignatureArguments(words, commandFlags: ["--public-key", "--header", "--now", "--tolerance-seconds"])
        let headers = try signature.arguments.allValues("--header").map(parseHeader)
        guard !headers.isEmpty else { throw UsageError("--header is required (once per header)") }
        let nowSeconds = try signature.unixSeconds("--now")
        let toleranceSeconds = try signature.arguments.integer("--tolerance-seconds", in: 0...86_400).map(Int64.init)
            ?? WebhookSignatureTool.defaultToleranceSeconds

        let body = Console.readStandardInput()
        do {
            try WebhookSignatureTool.verify(body: body, headers: headers, keys: signature.keys, nowUnixSeconds: nowSeconds,
                                            toleranceSeconds: toleranceSeconds)
        } catch {
            Console.error("argus-events verify-signature: \(error.description)")
            return 1
        }
        Console.print("ok")
        return 0
    }

    /// `name: value` (the value trimmed); a missing colon or an empty name is a usage error.
    static func parseHeader(_ text: String) throws(UsageError) -> (name: String, value: String) {
        guard let colon = text.firstIndex(of: ":") else { throw UsageError("--header must be 'name: value'") }
        let name = text[..<colon].trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty, !name.contains(" ") else { throw UsageError("--header must be 'name: value'") }
        let value = text[text.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        return (name.lowercased(), value)
    }
}
