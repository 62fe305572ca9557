/// Answers requests. Called on the Swift concurrency pool, never on the server's I/O thread, so
/// a slow handler delays only its own response (and later ones pipelined on its connection).
public protocol HTTPHandler: Sendable {
    /// The response to `request`.
    func handle(_ request: HTTPRequest) async -> HTTPResponse

    /// Whether a request that sent `Expect: 100-continue` may send its body: nil to answer
    /// `100 Continue` and read the body, or the final response to answer instead (the connection
    /// then closes, so a body the client sends anyway is never read as a request). `request`
    /// carries the head only (an empty body). The default lets every request continue.
    func continueDecision(_ request: HTTPRequest) async -> HTTPResponse?

    /// Starts answering `request`; `respond` must be called exactly once with the response, from
    /// any thread. Called on the server's I/O thread, so it must neither block nor compute for
    /// long: the default runs ``handle(_:)`` as a child task of `tasks` (the server's group, cancelled
    /// and awaited on shutdown) and returns at once.
    func start(_ request: HTTPRequest, in tasks: RequestTasks, respond: @escaping @Sendable (HTTPResponse) -> Void)

    /// Called on the server's I/O thread at the end of each turn of its event loop, after the
    /// requests of that turn were started: a handler that holds work back to batch it (appends of
    /// several connections in one group) hands it on here. It must not block. The default does nothing.
    func turnEnded()
}

extension HTTPHandler {
    public func turnEnded() {}

    public func continueDecision(_ request: HTTPRequest) async -> HTTPResponse? { nil }

    public func start(_ request: HTTPRequest, in tasks: RequestTasks, respond: @escaping @Sendable (HTTPResponse) -> Void) {
        tasks.run { respond(await handle(request)) }
    }
}
