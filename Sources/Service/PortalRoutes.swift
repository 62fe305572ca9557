/// The routes a delivery-portal session token may use (pure policy): what the session is, reading the
/// organization's webhooks, deliveries, stats and time series, and the portal's actions (retry, replay, pause/enable, test
/// event, rotate secret). Write actions also need `webhooks:write`, which read-only sessions lack.
/// Every other route answers 403 `portal_forbidden` to a portal token.
enum PortalRoutes {
    /// True when a portal token may call `method` on `path` (the decoded path, without the query).
    static func allows(method: String, path: String) -> Bool {
        if method == "GET", path == "/v1/portal/session" { return true }
        let parts = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        guard parts.count >= 2, parts.first == "v1", parts.dropFirst().first == "webhooks" else { return false }
        let rest = Array(parts.dropFirst(2))
        guard rest.allSatisfy({ !$0.isEmpty }) else { return false }
        switch (method, rest.count) {
        case ("GET", 0), ("GET", 1), ("PATCH", 1):
            return true
        case ("GET", 2):
            return rest[1] == "deliveries" || rest[1] == "stats"
        case ("GET", 3):
            return rest[1] == "stats" && rest[2] == "timeseries"
        case ("POST", 2):
            return rest[1] == "replay" || rest[1] == "test" || rest[1] == "rotate-secret"
        case ("POST", 4):
            return rest[1] == "deliveries" && rest[3] == "retry"
        default:
            return false
        }
    }
}
