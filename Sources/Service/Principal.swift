/// Who is calling: the client behind a bearer token, its organization and its scopes.
package struct Principal: Sendable, Equatable {
    package var clientID: String
    package var organizationID: String
    /// The names of its scopes (`Scope.rawValue`).
    package var scopes: Set<String>
    /// When the token expires, in ms since 1970; nil when the principal does not come from a token.
    package var expiresAtMs: Int64?

    package var isPlatformAdmin: Bool { scopes.contains(Scope.platformAdmin.rawValue) }

    /// True for a delivery-portal session token (limited to `PortalRoutes`).
    package var isPortal: Bool { scopes.contains(Scope.portal.rawValue) }

    /// True when the token holds `scope` (platform:admin holds every scope).
    package func has(_ scope: Scope) -> Bool { isPlatformAdmin || scopes.contains(scope.rawValue) }

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
