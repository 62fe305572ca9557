/// Scopes a token may carry.
public enum Scope {
    package static let eventsPublish = "events:publish"
    package static let eventsRead = "events:read"
    package static let webhooksRead = "webhooks:read"
    package static let webhooksWrite = "webhooks:write"
    package static let clientsWrite = "clients:write"
    package static let metricsRead = "metrics:read"
    package static let platformAdmin = "platform:admin"
    /// Marks a delivery-portal session token: only the portal's routes, only its organization.
    /// Never granted to clients (not in `all`).
    package static let portal = "portal"
    /// Every scope, in the order they are printed.
    public static let all = [eventsPublish, eventsRead, webhooksRead, webhooksWrite, clientsWrite, metricsRead, platformAdmin]
}

/// Who is calling: the client behind a bearer token, its organization and its scopes.
package struct Principal: Sendable, Equatable {
    public var clientID: String
    public var organizationID: String
    public var scopes: Set<String>
    /// When the token expires, in ms since 1970; nil when the principal does not come from a token.
    package var expiresAtMs: Int64?

    public init(clientID: String, organizationID: String, scopes: Set<String>, expiresAtMs: Int64? = nil) {
        self.clientID = clientID
        self.organizationID = organizationID
        self.scopes = scopes
        self.expiresAtMs = expiresAtMs
    }

    package var isPlatformAdmin: Bool { scopes.contains(Scope.platformAdmin) }

    /// True for a delivery-portal session token (limited to `PortalRoutes`).
    package var isPortal: Bool { scopes.contains(Scope.portal) }

    /// True when the token holds `scope` (platform:admin holds every scope).
    public func has(_ scope: String) -> Bool { isPlatformAdmin || scopes.contains(scope) }

    /// True when this principal may see webhooks and deliveries owned by `organizationID`: its own
    /// organization, and for platform:admin also the cross-organization (`*`) webhooks.
    package func canAccess(organizationID: String) -> Bool {
        organizationID == self.organizationID || (organizationID == "*" && isPlatformAdmin)
    }

    /// True when this principal may publish or read events of `organizationID` (platform:admin: any).
    package func canUseEvents(of organizationID: String) -> Bool {
        organizationID == self.organizationID || isPlatformAdmin
    }
}
