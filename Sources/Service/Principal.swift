/// Scopes a token may carry.
public enum Scope {
    public static let eventsPublish = "events:publish"
    public static let eventsRead = "events:read"
    public static let webhooksRead = "webhooks:read"
    public static let webhooksWrite = "webhooks:write"
    public static let clientsWrite = "clients:write"
    public static let metricsRead = "metrics:read"
    public static let platformAdmin = "platform:admin"
    /// Marks a delivery-portal session token: only the portal's routes, only its organization.
    /// Never granted to clients (not in `all`).
    public static let portal = "portal"
    /// Every scope, in the order they are printed.
    public static let all = [eventsPublish, eventsRead, webhooksRead, webhooksWrite, clientsWrite, metricsRead, platformAdmin]
}

/// Who is calling: the client behind a bearer token, its organization and its scopes.
public struct Principal: Sendable, Equatable {
    public var clientID: String
    public var organizationID: String
    public var scopes: Set<String>
    /// When the token expires, in ms since 1970; nil when the principal does not come from a token.
    public var expiresAtMs: Int64?

    public init(clientID: String, organizationID: String, scopes: Set<String>, expiresAtMs: Int64? = nil) {
        self.clientID = clientID
        self.organizationID = organizationID
        self.scopes = scopes
        self.expiresAtMs = expiresAtMs
    }

    public var isPlatformAdmin: Bool { scopes.contains(Scope.platformAdmin) }

    /// True for a delivery-portal session token (limited to `PortalRoutes`).
    public var isPortal: Bool { scopes.contains(Scope.portal) }

    /// True when the token holds `scope` (platform:admin holds every scope).
    public func has(_ scope: String) -> Bool { isPlatformAdmin || scopes.contains(scope) }

    /// True when this principal may see webhooks and deliveries owned by `organizationID`: its own
    /// organization, and for platform:admin also the cross-organization (`*`) webhooks.
    public func canAccess(organizationID: String) -> Bool {
        organizationID == self.organizationID || (organizationID == "*" && isPlatformAdmin)
    }

    /// True when this principal may publish or read events of `organizationID` (platform:admin: any).
    public func canUseEvents(of organizationID: String) -> Bool {
        organizationID == self.organizationID || isPlatformAdmin
    }
}
