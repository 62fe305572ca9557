import WebhookSigning

/// Parsing of the `--secret` flags shared by `sign` and `verify-signature`.
enum SecretArguments {
    /// Every `--secret` value, parsed, in the order given (newest first); at least one.
    /// A malformed secret is a usage error whose message never echoes the secret.
    static func secrets(in arguments: Arguments) throws(UsageError) -> [WebhookSecret] {
        let texts = arguments.allValues("--secret")
        guard !texts.isEmpty else { throw UsageError("--secret is required") }
        var secrets: [WebhookSecret] = []
        for (position, text) in texts.enumerated() {
            do {
                secrets.append(try WebhookSecret(parsing: text))
            } catch {
                let which = texts.count == 1 ? "--secret" : "--secret #\(position + 1)"
                throw UsageError("\(which): \(error.description)")
            }
        }
        return secrets
    }
}
