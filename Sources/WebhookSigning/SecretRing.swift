import Crypto
import SystemIO
import Foundation

/// The secrets of one webhook across rotations: the current secret, which never expires, and
/// the secrets it replaced, each signing until its expiry so receivers can switch over.
///
/// A value type: `rotated(...)` returns a new ring, `rotate(...)` changes this one.
/// Codable (`{"current":"whsec_...","previous":[{"secret":"whsec_...","expires_at":1780000000}]}`)
/// so it can be persisted; the encoded form contains the secrets in full.
public struct SecretRing: Sendable, Equatable, Codable {
    /// How long a replaced secret keeps signing by default: 24 hours, in seconds.
    public static let defaultGraceSeconds: Int64 = 24 * 60 * 60
    /// The most replaced secrets kept; a rotation beyond it drops the oldest before its expiry.
    package static let previousCountMax = 3

    /// A replaced secret and when it stops signing.
    public struct RetiredSecret: Sendable, Equatable, Codable {
        /// The replaced secret.
        public let secret: WebhookSecret
        /// Unix time, in seconds, from which this secret no longer signs.
        public let expiresAtUnixSeconds: Int64

        /// True when the secret still signs at `unixSeconds`.
        package func isValid(atUnixSeconds unixSeconds: Int64) -> Bool { unixSeconds < expiresAtUnixSeconds }

        enum CodingKeys: String, CodingKey {
            case secret
            case expiresAtUnixSeconds = "expires_at"
        }
    }

    /// The newest secret; it always signs.
    public private(set) var current: WebhookSecret
    /// Replaced secrets, most recently replaced first; some may have expired.
    public private(set) var previous: [RetiredSecret]

    /// A ring of `current` and the secrets it replaced, most recently replaced first, each with the
    /// Unix time in seconds from which it no longer signs (as stored; rings change by `rotated`).
    public init(current: WebhookSecret, previous: [(secret: WebhookSecret, expiresAtUnixSeconds: Int64)] = []) {
        self.init(current: current, retired: previous.map { RetiredSecret(secret: $0.secret, expiresAtUnixSeconds: $0.expiresAtUnixSeconds) })
    }

    private init(current: WebhookSecret, retired: [RetiredSecret]) {
        self.current = current
        previous = retired
    }

    /// Every secret that signs at `unixSeconds`, newest first; never empty (`current` is first).
    package func signingSecrets(atUnixSeconds unixSeconds: Int64) -> [WebhookSecret] {
        [current] + previous.filter { $0.isValid(atUnixSeconds: unixSeconds) }.map(\.secret)
    }

    /// Every secret that signs at `date`, newest first; never empty (`current` is first).
    package func signingSecrets(at date: Date) -> [WebhookSecret] {
        signingSecrets(atUnixSeconds: date.wholeUnixSeconds)
    }

    /// A ring whose current secret is `newSecret`; the old current one signs for `graceSeconds`
    /// more, secrets already expired at `now` are dropped, and at most `previousCountMax`
    /// replaced secrets stay (the oldest go first).
    public func rotated(to newSecret: WebhookSecret, now: Date, graceSeconds: Int64 = defaultGraceSeconds) -> SecretRing {
        let nowSeconds = now.wholeUnixSeconds
        let (expiry, overflow) = nowSeconds.addingReportingOverflow(max(0, graceSeconds))
        let retired = RetiredSecret(secret: current, expiresAtUnixSeconds: overflow ? .max : expiry)
        let kept = previous.filter { $0.isValid(atUnixSeconds: nowSeconds) }
        return SecretRing(current: newSecret, retired: Array(([retired] + kept).prefix(Self.previousCountMax)))
    }

    /// A ring with a freshly generated current secret of the current one's scheme (HMAC or
    /// Ed25519); see `rotated(to:now:graceSeconds:)`.
    /// - Throws: `SystemError` when the kernel gives no random bytes.
    public func rotated(now: Date, graceSeconds: Int64 = defaultGraceSeconds) throws(SystemError) -> SecretRing {
        rotated(to: try WebhookSecret.generate(scheme: current.scheme), now: now, graceSeconds: graceSeconds)
    }

    /// Replaces the current secret with a freshly generated one, in place; returns the new secret.
    /// - Throws: `SystemError` when the kernel gives no random bytes.
    @discardableResult
    public mutating func rotate(now: Date, graceSeconds: Int64 = defaultGraceSeconds) throws(SystemError) -> WebhookSecret {
        self = try rotated(now: now, graceSeconds: graceSeconds)
        return current
    }

    /// The same ring without the secrets that have expired at `now`.
    public func pruned(now: Date) -> SecretRing {
        let nowSeconds = now.wholeUnixSeconds
        return SecretRing(current: current, retired: previous.filter { $0.isValid(atUnixSeconds: nowSeconds) })
    }
}
