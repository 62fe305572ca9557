import Service

/// Parsing of the `--secret` and `--public-key` flags shared by `sign` and `verify-signature`.
enum SecretArguments {
    /// Every `--public-key`, then every `--secret` value, parsed, in the order given (newest first);
    /// at least one secret unless public keys were given. A malformed key is a usage error whose
    /// message never echoes the key.
    static func keys(in arguments: Arguments) throws(UsageError) -> WebhookSignatureTool.Keys {
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
