/// A permission a token may carry; `rawValue` is its name in tokens, client files and the API (`events:publish`).
public enum Scope: String, Sendable, CaseIterable {
    case eventsPublish = "events:publish"
    case eventsRead = "events:read"
    case webhooksRead = "webhooks:read"
    case webhooksWrite = "webhooks:write"
    case clientsWrite = "clients:write"
    case metricsRead = "metrics:read"
    case platformAdmin = "platform:admin"
    /// Marks a delivery-portal session token: only the portal's routes, only its organization.
    /// Never granted to clients (not in `all`).
    case portal

    /// The names of every scope a client may be granted, in the order they are printed.
    public static let all = allCases.filter { $0 != .portal }.map(\.rawValue)
}
