/// Dispatches requests by method and path pattern.
///
/// Patterns are absolute paths whose segments are literals or `{name}`; `{name}` matches one
/// non-empty segment and its percent-decoded value lands in ``HTTPRequest/pathParameters``.
/// Matching splits the raw (still encoded) path, so `%2F` inside a parameter stays part of it.
/// An unknown path answers 404 `not_found`; a known path with another method answers 405
/// `method_not_allowed` with an `Allow` header. `HEAD` falls back to the `GET` route.
/// Literal routes win over parameter routes where both match (first added wins among equals).
public struct Router: HTTPHandler {
    private enum Segment: Sendable {
        case literal(String)
        case parameter(String)
    }

    private struct Route: Sendable {
        let method: String
        let segments: [Segment]
        let literalCount: Int
        let continueCheck: (@Sendable (HTTPRequest) async -> HTTPResponse?)?
        let inline: InlineHandler?
        let handler: @Sendable (HTTPRequest) async -> HTTPResponse
    }

    /// A route's inline handler, run on the server's I/O thread (see ``HTTPHandler/start(_:respond:)``):
    /// it returns false to leave the request to the route's task handler, or true when it took the
    /// request and will call `respond` exactly once, from any thread. It must not block.
    public typealias InlineHandler = @Sendable (HTTPRequest, _ respond: @escaping @Sendable (HTTPResponse) -> Void) -> Bool

    private enum Resolution {
        case route(Route, HTTPRequest)
        case notFound
        case methodNotAllowed(allowed: [String])
    }

    /// Called by ``turnEnded()`` at the end of each turn of the server's I/O loop (see
    /// ``HTTPHandler/turnEnded()``): it must not block.
    public var onTurnEnd: (@Sendable () -> Void)?

    public func turnEnded() { onTurnEnd?() }

    private var routes: [Route] = []
    /// Routes without parameters by `"<method> <path>"`, the first added for each: a request whose
    /// path needs no decoding finds its route here without trying the others.
    private var literalRoutes: [String: Int] = [:]

    /// An empty router: everything is 404.
    public init() {}

    /// Routes `method` requests whose path matches `pattern` to `handler`.
    public mutating func add(_ method: String, _ pattern: String,
                             _ handler: @escaping @Sendable (HTTPRequest) async -> HTTPResponse) {
        add(method, pattern, continueCheck: nil, handler)
    }

    /// Routes `method` requests whose path matches `pattern` to `handler`. `continueCheck` decides,
    /// from the head alone, whether a request that sent `Expect: 100-continue` may send its body:
    /// nil to go on, or the response to answer instead (see ``HTTPHandler/continueDecision(_:)``).
    /// `inline`, when given, is tried first on the server's I/O thread (see ``InlineHandler``).
    public mutating func add(_ method: String, _ pattern: String,
                             continueCheck: (@Sendable (HTTPRequest) async -> HTTPResponse?)?,
                             inline: InlineHandler? = nil,
                             _ handler: @escaping @Sendable (HTTPRequest) async -> HTTPResponse) {
        let segments: [Segment] = Self.split(Substring(pattern)).map { part in
            if part.hasPrefix("{"), part.hasSuffix("}"), part.count > 2 {
                return .parameter(String(part.dropFirst().dropLast()))
            }
            return .literal(String(part))
        }
        let literalCount = segments.reduce(0) { count, segment in
            if case .literal = segment { return count + 1 }
            return count
        }
        routes.append(Route(method: method, segments: segments, literalCount: literalCount,
                            continueCheck: continueCheck, inline: inline, handler: handler))
        // Stable: more literal segments first, so `/a/b` beats `/a/{id}`.
        routes = routes.enumerated().sorted { left, right in
            left.element.literalCount != right.element.literalCount
                ? left.element.literalCount > right.element.literalCount
                : left.offset < right.offset
        }.map(\.element)
        literalRoutes = [:]
        for (index, route) in routes.enumerated() where route.literalCount == route.segments.count {
            let key = route.method + " /" + route.segments.map { segment -> String in
                if case .literal(let text) = segment { return text }
                return ""
            }.joined(separator: "/")
            if literalRoutes[key] == nil { literalRoutes[key] = index }
        }
    }

    /// Every registered route as its method and pattern (`/v1/webhooks/{id}`), so a test can cover each one.
    package var registeredRoutes: [(method: String, pattern: String)] {
        routes.map { route in
            let parts = route.segments.map { segment -> String in
                switch segment {
                case .literal(let text): return text
                case .parameter(let name): return "{\(name)}"
                }
            }
            return (route.method, "/" + parts.joined(separator: "/"))
        }
    }

    public func handle(_ request: HTTPRequest) async -> HTTPResponse {
        switch resolve(request) {
        case .route(let route, let routed): return await route.handler(routed)
        case .notFound: return Self.notFound(request)
        case .methodNotAllowed(let allowed): return Self.methodNotAllowed(request, allowed: allowed)
        }
    }

    /// Answers 404 and 405 at once, lets the route's inline handler take the request when it has
    /// one, and otherwise runs the route's handler as a child task of `tasks` (the server's group).
    public func start(_ request: HTTPRequest, in tasks: RequestTasks, respond: @escaping @Sendable (HTTPResponse) -> Void) {
        switch resolve(request) {
        case .route(let route, let routed):
            if let inline = route.inline, inline(routed, respond) { return }
            tasks.run { respond(await route.handler(routed)) }
        case .notFound: respond(Self.notFound(request))
        case .methodNotAllowed(let allowed): respond(Self.methodNotAllowed(request, allowed: allowed))
        }
    }

    /// 404 or 405 for a request no route takes; otherwise the route's `continueCheck` (nil without one).
    public func continueDecision(_ request: HTTPRequest) async -> HTTPResponse? {
        switch resolve(request) {
        case .route(let route, let routed): return await route.continueCheck?(routed)
        case .notFound: return Self.notFound(request)
        case .methodNotAllowed(let allowed): return Self.methodNotAllowed(request, allowed: allowed)
        }
    }

    private func resolve(_ request: HTTPRequest) -> Resolution {
        let rawPath = RequestTarget.split(request.target)?.path ?? Substring(request.path)
        if !rawPath.utf8.contains(UInt8(ascii: "%")), let index = literalRoutes[request.method + " " + rawPath] {
            return .route(routes[index], request)
        }
        let segments = Self.split(rawPath)
        var allowed: [String] = []
        var fallback: (Route, [String: String])?
        for index in routes.indices {
            // By index: copying each route (closures and all) costs retains on every request.
            guard routes[index].segments.count == segments.count,
                  let parameters = Self.match(routes[index].segments, segments) else { continue }
            let route = routes[index]
            if route.method == request.method {
                var routed = request
                routed.pathParameters = parameters
                return .route(route, routed)
            }
            if request.method == "HEAD", route.method == "GET", fallback == nil { fallback = (route, parameters) }
            if !allowed.contains(route.method) { allowed.append(route.method) }
        }
        if let (route, parameters) = fallback {
            var routed = request
            routed.pathParameters = parameters
            return .route(route, routed)
        }
        if allowed.isEmpty { return .notFound }
        if allowed.contains("GET"), !allowed.contains("HEAD") { allowed.append("HEAD") }
        return .methodNotAllowed(allowed: allowed)
    }

    private static func notFound(_ request: HTTPRequest) -> HTTPResponse {
        .error(404, code: "not_found", message: "no route for \(request.path)")
    }

    private static func methodNotAllowed(_ request: HTTPRequest, allowed: [String]) -> HTTPResponse {
        var response = HTTPResponse.error(
            405, code: "method_not_allowed", message: "\(request.method) is not allowed on \(request.path)")
        response.headers.add("Allow", allowed.joined(separator: ", "))
        return response
    }

    /// Path segments after the leading `/` (an empty path is one empty segment).
    private static func split(_ path: Substring) -> [Substring] {
        var rest = path
        if rest.utf8.first == ASCII.slash { rest = rest.dropFirst() }
        return rest.split(separator: "/", omittingEmptySubsequences: false)
    }

    private static func match(_ pattern: [Segment], _ segments: [Substring]) -> [String: String]? {
        guard pattern.count == segments.count else { return nil }
        // Literals first, without allocating: most routes fail here.
        for index in pattern.indices {
            guard case .literal(let literal) = pattern[index] else { continue }
            let actual = segments[index]
            if actual.utf8.contains(UInt8(ascii: "%")) {
                guard let decoded = PercentDecoding.decode(actual, plusIsSpace: false), decoded == literal else { return nil }
            } else if !actual.utf8.elementsEqual(literal.utf8) {
                return nil
            }
        }
        var parameters: [String: String] = [:]
        for (expected, actual) in zip(pattern, segments) {
            switch expected {
            case .literal:
                continue
            case .parameter(let name):
                guard !actual.isEmpty, let decoded = PercentDecoding.decode(actual, plusIsSpace: false) else {
                    return nil
                }
                parameters[name] = decoded
            }
        }
        return parameters
    }
}
