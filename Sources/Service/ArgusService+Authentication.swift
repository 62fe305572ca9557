import HTTPServer
import EventLog

extension ArgusService {
    /// The principal behind the request's bearer token, which must hold `scope` (nil: any valid token).
    /// - Throws: 401 `missing_token`, 400 `invalid_request`, 401 `invalid_token`, `token_expired`,
    ///   `token_revoked`; 403 `insufficient_scope`.
    func authenticate(_ request: HTTPRequest, scope: Scope?) throws(APIError) -> Principal {
        let realm = "Bearer realm=\"argus\""
        guard let header = request.headers["authorization"] else {
            throw APIError(401, "missing_token", "send an access token: Authorization: Bearer <token> (get one at POST /oauth/token)",
                           headers: [("WWW-Authenticate", realm)])
        }
        guard let token = Self.bearerToken(header) else {
            throw APIError(400, "invalid_request", "the Authorization header must be: Bearer <token>",
                           headers: [("WWW-Authenticate", realm + ", error=\"invalid_request\"")])
        }
        let invalid = #"Bearer realm="argus", error="invalid_token""#
        switch tokens.lookup(token, nowMs: configuration.nowMs()) {
        case .unknown:
            throw APIError(401, "invalid_token", "the access token is not valid", headers: [("WWW-Authenticate", invalid)])
        case .expired:
            throw APIError(401, "token_expired", "the access token has expired; get a new one",
                           headers: [("WWW-Authenticate", invalid + ", error_description=\"expired\"")])
        case .revoked:
            throw APIError(401, "token_revoked", "the access token was revoked",
                           headers: [("WWW-Authenticate", invalid + ", error_description=\"revoked\"")])
        case .valid(let principal):
            if principal.isPortal, !PortalRoutes.allows(method: request.method, path: request.path) {
                throw APIError(403, "portal_forbidden", "a portal session token may only use the portal's routes")
            }
            if let scope, !principal.has(scope) {
                throw APIError(403, "insufficient_scope", "this route needs the \(scope.rawValue) scope",
                               headers: [("WWW-Authenticate", realm + ", error=\"insufficient_scope\", scope=\"\(scope.rawValue)\"")])
            }
            return principal
        }
    }

    /// The token of an `Authorization: Bearer <token>` value: the scheme (any case) after optional
    /// spaces, one space, then 1 to 512 bytes without a space. Nil otherwise. Scanned as bytes and
    /// handed back as a part of `header` (no copy): it runs for every API request.
    static func bearerToken(_ header: String) -> Substring? {
        func tokenBounds(_ bytes: UnsafeBufferPointer<UInt8>) -> Range<Int>? {
            var index = 0
            while index < bytes.count, bytes[index] == UInt8(ascii: " ") { index += 1 }
            var scheme = "bearer".utf8.makeIterator()
            while index < bytes.count, bytes[index] != UInt8(ascii: " ") {
                guard let expected = scheme.next(), bytes[index] | 0x20 == expected else { return nil }
                index += 1
            }
            guard scheme.next() == nil, index < bytes.count else { return nil }
            let token = UnsafeBufferPointer(rebasing: bytes[(index + 1)...])
            guard !token.isEmpty, token.count <= 512, !token.contains(UInt8(ascii: " ")) else { return nil }
            return (index + 1)..<bytes.count
        }
        let utf8 = header.utf8
        guard let bounds = utf8.withContiguousStorageIfAvailable(tokenBounds)
                ?? Array(utf8).withUnsafeBufferPointer(tokenBounds) else { return nil }
        return Substring(utf8[utf8.index(utf8.startIndex, offsetBy: bounds.lowerBound)...])
    }

    /// `serve --engine`: makes a bearer token another process issued known here before the request is
    /// authenticated (a read of the engine's token bucket when the token is unknown, see `EngineTokens`).
    func fetchSharedToken(_ request: HTTPRequest) async {
        guard let engineTokens, let header = request.headers["authorization"], let token = Self.bearerToken(header) else { return }
        await engineTokens.fetchIfUnknown(String(token))
    }

    /// `serve --engine`: puts a token just issued here into the engine before it is answered; when the
    /// engine refuses or does not answer, the token is revoked here and the request fails with 503.
    func shareIssuedToken(_ token: String, clientID: String) async throws(APIError) {
        guard let engineTokens else { return }
        do {
            try await engineTokens.shareIssued(token)
        } catch {
            configuration.logger.error("could not store an issued token in the engine; the token was revoked", [("error", .string(String(describing: error)))])
            let tokens = tokens
            _ = try? await BlockingIO.run { () throws -> Bool in try tokens.revoke(token, clientID: clientID) }
            throw APIError(503, "temporarily_unavailable", "the engine did not store the token; retry", headers: [("Retry-After", "1")])
        }
    }
}
