import Service

/// The command line of `sign` and `verify-signature`: their own flags plus the shared ones, the keys
/// (`--secret`, and `--public-key` where the command takes it) and Unix times that default to now.
struct SignatureArguments {
    /// Every flag given.
    let arguments: Arguments
    /// Every `--public-key`, then every `--secret` value, parsed, in the order given (newest first).
    let keys: WebhookSignatureTool.Keys

    /// Parses `words` with the value flags `--secret` and `commandFlags`, and the keys.
    /// - Throws: `UsageError` for an unknown flag, a missing secret (unless public keys were given) or a
    ///   malformed key; its message never echoes the key.
    init(_ words: [String], commandFlags: Set<String>) throws(UsageError) {
        arguments = try Arguments(words, valueFlags: commandFlags.union(["--secret"]))
        keys = try Self.keys(in: arguments)
    }

    /// The value of `flag` as Unix seconds (0 or more); the current time when absent.
    func unixSeconds(_ flag: String) throws(UsageError) -> Int64 {
        try arguments.integer(flag, in: 0...Int.max).map(Int64.init) ?? WebhookSignatureTool.nowUnixSeconds()
    }

    private static func keys(in arguments: Arguments) throws(UsageError) -> WebhookSignatureTool.Keys {
        let texts = arguments.allValues("--secret")
        do {
            return try WebhookSignatureTool.keys(secretTexts: texts, publicKeyTexts: arguments.allValues("--public-key"))
        } catch {
            switch error {
            case .noSecret:
                throw UsageError("--secret is required")
            case .secret(let index, let reason):
                let which = texts.count == 1 ? "--secret" : "--secret #\(index + 1)"
                throw UsageError("\(which): \(reason)")
            case .publicKey(let reason):
                throw UsageError("--public-key: \(reason)")
            }
        }
    }
}
