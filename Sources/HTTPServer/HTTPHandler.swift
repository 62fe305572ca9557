/// Answers requests. Called on the Swift concurrency pool, never on the server's I/O thread, so
/// a slow handler delays only its own response (and later ones pipelined on its connection).
public protocol HTTPHandler: Sendable {
    /// The response to `request`.
    func handle(_ request: HTTPRequest) async -> HTTPResponse
}
