import Crypto
import Foundation
import WebhookSigning

/// `argus-events verify-signature`: checks headers and the body on standard input as a
/// receiver would. Exit 0 and "ok" when authentic; 1 and the reason on stderr when not.
enum VerifySignatureCommand: Command {
    static let name = "verify-signature"
    static let usage = "verify-signature (--secret whsec_...|whsk_... | --public-key whpk_...)... --header 'name: value'... [--now UNIX] [--tolerance-seconds N] < body"

    static func run(_ words: [String]) async throws -> Int32 {
        let arguments = try Arguments(words, valueFlags: ["--secret", "--public-key", "--header", "--now", "--tolerance-seconds"])
        var publicKeys: [Ed25519PublicKey] = []
        for text in arguments.allValues("--public-key") {
            do {
                publicKeys.append(try WebhookPublicKey.parse(text))
            } catch {
                throw UsageError("--public-key: \(error.description)")
            }
        }
        let secrets = publicKeys.isEmpty || !arguments.allValues("--secret").isEmpty ? try SecretArguments.secrets(in: arguments) : []
        let headers = try arguments.allValues("--header").map(parseHeader)
        guard !headers.isEmpty else { throw UsageError("--header is required (once per header)") }
        let nowSeconds = try arguments.integer("--now", in: 0...Int.max).map(Int64.init) ?? Date().wholeUnixSeconds
        let toleranceSeconds = try arguments.integer("--tolerance-seconds", in: 0...86_400).map(Int64.init)
            ?? WebhookVerifier.defaultToleranceSeconds

        let body = Console.readStandardInput()
        let verifier = WebhookVerifier(secrets: secrets, publicKeys: publicKeys, toleranceSeconds: toleranceSeconds)
        do {
            try verifier.verify(body: body, headers: headers, nowUnixSeconds: nowSeconds)
        } catch {
            Console.error("argus-events verify-signature: \(error.description)")
            return 1
        }
        Console.print("ok")
        return 0
    }

    /// `name: value` (the value trimmed); a missing colon or an empty name is a usage error.
    static func parseHeader(_ text: String) throws(UsageError) -> HeaderField {
        guard let colon = text.firstIndex(of: ":") else { throw UsageError("--header must be 'name: value'") }
        let name = text[..<colon].trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty, !name.contains(" ") else { throw UsageError("--header must be 'name: value'") }
        let value = text[text.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        return HeaderField(name: name.lowercased(), value: value)
    }
}
