import EventLog
import Foundation
import Service

/// `argus-events sign`: prints the delivery headers for the body on standard input (`v1,` entries
/// for `whsec_` secrets, `v1a,` entries for `whsk_` Ed25519 keys of 32 or 64 bytes).
enum SignCommand: Command {
    static let name = "sign"
    static let usage = "sign --secret whsec_...|whsk_... [--secret OLDER...] [--id ID] [--timestamp UNIX] [--event TYPE] [--attempt N] < body"

    static func run(_ words: [String]) async throws -> Int32 {
        let signature = try SignatureArguments(words, commandFlags: ["--id", "--timestamp", "--event", "--attempt"])
        let id = signature.arguments.value("--id") ?? UUID().uuidString.lowercased()
        guard !id.isEmpty, id.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw UsageError("--id must be non-empty visible ASCII without spaces")
        }
        let timestampSeconds = try signature.unixSeconds("--timestamp")
        let eventType = signature.arguments.value("--event") ?? "webhook.test"
        guard EventType.isWellFormed(eventType) else { throw UsageError("--event must look like category.action ([a-z0-9_] words)") }
        let attempt = try signature.arguments.integer("--attempt", in: 1...1_000) ?? 1
        let lines = try WebhookSignatureTool.signStandardInput(keys: signature.keys, deliveryID: id, timestampSeconds: timestampSeconds,
                                                               eventType: eventType, attempt: attempt)
        Console.print(lines.joined(separator: "\n"))
        return 0
    }
}
