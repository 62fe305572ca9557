/// Event type names (`category.action`, `[a-z0-9_]` words), the built-in catalog, and filters.
public enum EventType {
    /// The built-in catalog of DESIGN.md.
    public static let catalog: [String] = [
        "user.created", "user.login", "user.login_failed", "user.logout", "user.password_changed",
        "user.email_changed", "user.profile_updated", "mfa.enabled", "mfa.disabled", "mfa.passkey_registered",
        "mfa.challenge_failed", "security.breach_attempt_detected", "security.account_locked",
        "security.suspicious_login", "security.password_breach_detected", "sso.authentication_completed",
        "sso.provider_linked", "sso.provider_unlinked", "organization.user_added", "organization.user_removed",
        "organization.role_changed", "session.created", "session.terminated", "session.concurrent_limit_reached",
        "oauth.client_registered", "oauth.token_issued", "oauth.token_revoked", "webhook.test",
        // Operational events, published by the delivery engine into the webhook's organization.
        "webhook.failing", "webhook.recovered", "webhook.paused", "webhook.disabled", "webhook.enabled", "delivery.exhausted",
    ]

    private static let catalogSet = Set(catalog)

    /// True for a name in the built-in catalog.
    public static func isKnown(_ type: String) -> Bool { catalogSet.contains(type) }

    /// True for `category.action` with `[a-z0-9_]+` words.
    public static func isWellFormed(_ type: String) -> Bool {
        var dots = 0
        var wordLength = 0
        for byte in type.utf8 {
            if byte == UInt8(ascii: ".") {
                guard wordLength > 0, dots == 0 else { return false }
                dots += 1
                wordLength = 0
            } else {
                guard isWordByte(byte) else { return false }
                wordLength += 1
            }
        }
        return dots == 1 && wordLength > 0
    }

    private static func isWordByte(_ byte: UInt8) -> Bool {
        (byte >= 97 && byte <= 122) || (byte >= 48 && byte <= 57) || byte == 95
    }

    private static func isWord(_ word: Substring) -> Bool {
        !word.isEmpty && word.utf8.allSatisfy(isWordByte)
    }

    /// True for a valid filter: an exact well-formed type, `category.*`, or `*`.
    public static func isValidFilter(_ pattern: String) -> Bool {
        if pattern == "*" { return true }
        if pattern.hasSuffix(".*") { return isWord(pattern.dropLast(2)) }
        return isWellFormed(pattern)
    }

    /// True when `type` matches `pattern` (exact, `category.*`, or `*`).
    public static func matches(_ type: String, pattern: String) -> Bool {
        if pattern == "*" { return true }
        if pattern.hasSuffix(".*") {
            let category = pattern.dropLast(1)
            return type.hasPrefix(category)
        }
        return type == pattern
    }
}
