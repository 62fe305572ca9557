/// Listen address, limits and timeouts of an ``HTTPServer``.
public struct HTTPServerConfiguration: Sendable {
    /// The address to listen on: an IPv4 or IPv6 literal (`127.0.0.1`, `::1`, `[::1]`, `0.0.0.0`,
    /// `::`) or a host name resolved once at start.
    public var host = "127.0.0.1"
    /// The TCP port; 0 picks an ephemeral port (``HTTPServer/start()`` returns it).
    public var port = 8787
    /// The largest request head (request line and header fields, including the blank line)
    /// in bytes; a larger one is answered 431 `header_too_large` and the connection closes.
    public var headSizeBytesMax = 16 * 1024
    /// The largest request body in bytes for a method and percent-decoded path; a larger one
    /// (by `Content-Length`, or while de-chunking) is answered 413 `body_too_large` and the
    /// connection closes. Called on the I/O thread: keep it cheap.
    public var bodySizeBytesMax: @Sendable (_ method: String, _ path: String) -> Int = { _, _ in 1 << 20 }
    /// The most open connections. When the table is full, a new connection closes the connection
    /// that has been idle longest among those with no request in progress (idle keep-alive
    /// connections, and connections still sending a request head); only when every connection has
    /// a request in progress does the new one get 503 `too_many_connections` and close at once.
    /// Keep it below the soft `RLIMIT_NOFILE`, with room for the process's other descriptors.
    public var connectionCountMax = 4096
    /// How long a keep-alive connection may sit with no request in progress, in seconds.
    package var idleTimeoutSeconds = 60.0
    /// How long a request head may take from its first byte (a stray empty line counts) until
    /// its blank line, in seconds; beyond it the client gets 408 `request_timeout` and the
    /// connection closes. Trickling bytes does not extend it.
    package var headTimeoutSeconds = 10.0
    /// How long a request may take from its first byte until it is fully received, in seconds;
    /// beyond it the client gets 408 `request_timeout` and the connection closes.
    public var requestTimeoutSeconds = 15.0
    /// How long a response write may make no progress before the connection is dropped, in seconds.
    public var writeTimeoutSeconds = 15.0
    /// The most parsed-but-unanswered requests per connection; further pipelined bytes wait
    /// unread until responses go out.
    package var pipelinedRequestCountMax = 16
    /// Receives one JSON line per response: `time`, `request_id`, `method`, `path`, `status`,
    /// `bytes` (body bytes), `duration_ms`, `remote`. Called on the I/O thread: keep it cheap and never
    /// block (hand the line to another thread, as `LineWriter` does).
    ///
    /// It must not re-enter the server: no call into this `HTTPServer` (`shutdown`, `start`) or anything
    /// that runs the I/O loop's code on this thread from inside the callback. It runs in the middle of a
    /// connection's write, and the loop's and the connection's state is `@exclusivity(unchecked)` (one
    /// thread, no overlapping accesses: no runtime check would catch a nested access, it would corrupt
    /// that state silently).
    public var accessLog: (@Sendable (String) -> Void)? = nil

    /// The defaults above.
    public init() {}
}
