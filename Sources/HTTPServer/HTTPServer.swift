#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import SystemIO

/// An HTTP/1.1 server: one dedicated I/O thread running an `epoll` loop over non-blocking
/// sockets (accept, read, parse, write); handlers run as child tasks of the server's
/// ``RequestTasks`` group (cancelled and awaited by shutdown) and never block it.
///
/// Keep-alive, pipelining (answered in order), chunked request bodies, `Expect: 100-continue`,
/// size limits, timeouts and a connection cap are described on ``HTTPServerConfiguration``.
/// Every response carries `X-Request-Id`, `Content-Length` and `Date`; errors the server
/// produces itself are JSON `{"error":{"code","message"}}`.
///
/// Call ``shutdown(graceSeconds:)`` to stop it: the I/O thread keeps running (and keeps the
/// server's state alive) until then, even if the `HTTPServer` value is released.
public final class HTTPServer: Sendable {
    private enum Phase: Sendable {
        case idle
        case running
        case stopped
    }

    private struct State: Sendable {
        var phase = Phase.idle
        var loop: IOLoop?
        var thread: pthread_t?
        var tasks: RequestTasks?
    }

    private let configuration: HTTPServerConfiguration
    private let handler: any HTTPHandler
    private let state = Mutex<State>(State())

    /// Turns of the I/O loop begun so far, 0 before ``start()`` (for tests: which turn a handler call belongs to).
    var ioTurnCount: Int { state.withLock { $0.loop }?.turnCount.load(ordering: .relaxed) ?? 0 }

    /// A server for `handler`; nothing happens until ``start()``.
    public init(configuration: HTTPServerConfiguration, handler: any HTTPHandler) {
        self.configuration = configuration
        self.handler = handler
    }

    /// Binds (SO_REUSEADDR) and listens on the configured address, starts the I/O thread, and
    /// returns the bound port (useful with port 0). A server starts at most once.
    public func start() throws(HTTPServerError) -> Int {
        let configuration = self.configuration
        let handler = self.handler
        return try state.withLock { state throws(HTTPServerError) -> Int in
            guard case .idle = state.phase else {
                throw HTTPServerError.configuration("the server was already started")
            }
            let (listener, port) = try ListeningSocket.open(host: configuration.host, port: configuration.port)
            let loop: IOLoop
            let tasks = RequestTasks()
            do throws(HTTPServerError) {
                loop = try IOLoop(configuration: configuration, handler: handler, tasks: tasks, listener: listener)
            } catch {
                close(listener)
                throw error
            }
            let retained = Unmanaged.passRetained(loop).toOpaque()
            var thread = pthread_t()
            let status = pthread_create(&thread, nil, { argument in
                guard let argument else { return nil }
                let loop = Unmanaged<IOLoop>.fromOpaque(argument).takeRetainedValue()
                loop.run()
                return nil
            }, retained)
            if status != 0 {
                Unmanaged<IOLoop>.fromOpaque(retained).release()
                throw HTTPServerError.system(SystemError(call: "pthread_create", path: "", errno: status))
            }
            state.phase = .running
            state.loop = loop
            state.thread = thread
            state.tasks = tasks
            return port
        }
    }

    /// Stops accepting, lets handlers already running finish (up to `graceSeconds`) and writes
    /// their responses with `Connection: close`, closes every connection and joins the I/O
    /// thread, then cancels the handlers still running and waits until they have ended. Requests
    /// not yet dispatched are dropped. Safe to call more than once.
    public func shutdown(graceSeconds: Double = 10) async {
        let (loop, thread, tasks) = state.withLock { state -> (IOLoop?, pthread_t?, RequestTasks?) in
            defer {
                state.thread = nil
                state.tasks = nil
                state.phase = .stopped
            }
            return (state.loop, state.thread, state.tasks)
        }
        guard let loop else { return }
        await loop.stop(graceSeconds: graceSeconds)
        if let thread { pthread_join(thread, nil) }
        await tasks?.shutdown()
    }
}
