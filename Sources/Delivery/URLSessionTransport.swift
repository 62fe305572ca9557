import Foundation
import SystemIO
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Synchronization
import WebhookSigning

/// The production transport: one `URLSession` for the life of the process (never invalidated, as
/// session teardown is where swift-corelibs-foundation crashes), a session-level delegate that refuses
/// every redirect and keeps only the first 4 KiB of a body, and a total deadline per attempt enforced
/// by cancelling the task (URLSession's own timeout is an idle timeout).
///
/// Every request carries `Connection: close`, so no connection is ever reused. libcurl resends a
/// request by itself when a *reused* connection closes before any byte of the answer
/// (`Curl_retry_request`), and URLSession cannot rewind a body it has sent (its seek callback succeeds
/// without rewinding), so the receiver got a second copy without its body and the attempt hung until
/// its deadline. A receiver that honours `Connection: close` (RFC 9112 §9.6) closes after its answer, so
/// libcurl has no connection to reuse: one attempt is one POST, and a connection closed without a
/// complete response fails the attempt at once (`connection_closed`). A receiver that ignores it and
/// keeps the connection open can still make libcurl start a resend; the rewind that precedes it is
/// seen here (`needNewBodyStream`), the task is cancelled and the attempt fails at once, but the
/// receiver may see that resend's head without its body.
public final class URLSessionTransport: DeliveryTransport {
    /// The process-wide instance (one session for every request).
    public static let shared = URLSessionTransport(sessionPerRequest: false)

    /// A session per request, invalidated when its request is done: no connection can ever be reused, so
    /// libcurl has nothing to resend on (for the delivery worker process, whose crash costs only its own
    /// attempts: session teardown is where URLSession's known crashes live).
    public static let sessionPerRequest = URLSessionTransport(sessionPerRequest: true)

    private let session: URLSession?
    private let delegate: SessionDelegate?

    private init(sessionPerRequest: Bool) {
        if sessionPerRequest {
            session = nil
            delegate = nil
        } else {
            let delegate = SessionDelegate()
            session = Self.makeSession(delegate)
            self.delegate = delegate
        }
    }

    private static func makeSession(_ delegate: SessionDelegate) -> URLSession {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpShouldSetCookies = false
        configuration.httpCookieAcceptPolicy = .never
        configuration.urlCache = nil
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        configuration.httpMaximumConnectionsPerHost = 64
        configuration.timeoutIntervalForRequest = DeliveryLimits.Attempts.timeoutSeconds
        configuration.timeoutIntervalForResource = DeliveryLimits.Attempts.timeoutSeconds * 2
        return URLSession(configuration: configuration, delegate: delegate, delegateQueue: nil)
    }

    public func post(url: URL, headers: [HeaderField], body: [UInt8], timeoutSeconds: Double) async -> TransportResult {
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.httpBody = Data(body)
        for field in headers { request.setValue(field.value, forHTTPHeaderField: field.name) }
        request.setValue("close", forHTTPHeaderField: "Connection")
        let started = ContinuousClock.now
        let delegate = self.delegate ?? SessionDelegate()
        let session = self.session ?? Self.makeSession(delegate)
        defer { if self.session == nil { session.finishTasksAndInvalidate() } }
        let task = session.dataTask(with: request)
        // Weak: a cancelled deadline stays queued until its time, and must not keep the task alive.
        let identifier = task.taskIdentifier
        let deadline = DispatchWorkItem { [delegate, weak task] in
            delegate.markTimedOut(identifier)
            task?.cancel()
        }
        // Cancelling the calling task (webhook deleted or disabled, shutdown) cancels the request at once.
        let outcome: SessionDelegate.Outcome = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                delegate.register(task.taskIdentifier, continuation)
                DispatchQueue.global().asyncAfter(deadline: .now() + timeoutSeconds, execute: deadline)
                task.resume()
            }
        } onCancel: { [weak task] in
            task?.cancel()
        }
        deadline.cancel()
        let elapsed = ContinuousClock.now - started
        let durationMs = elapsed.inSeconds * 1000
        return Self.result(of: outcome, timeoutSeconds: timeoutSeconds, durationMs: durationMs)
    }

    /// The attempt's result from what the session reported: a status only for a complete response
    /// (or one cut at 4 KiB on purpose), otherwise the failure and why.
    static func result(of outcome: SessionDelegate.Outcome, timeoutSeconds: Double, durationMs: Double) -> TransportResult {
        if outcome.resendCancelled {
            return .failed(.connectionClosed, "the receiver closed a kept-alive connection without a response "
                           + "(the resend libcurl started on a new connection was cancelled)", durationMs: durationMs)
        }
        if outcome.timedOut {
            return .failed(.timedOut, "no complete response within \(Int(timeoutSeconds)) s", bodyPrefix: outcome.body, durationMs: durationMs)
        }
        guard let response = outcome.response else {
            guard let error = outcome.error else {
                return .failed(.networkError, "no response", durationMs: durationMs)
            }
            let failure: TransportFailure = error.isClosedConnection ? .connectionClosed : .networkError
            let detail = failure == .connectionClosed ? "the receiver closed the connection without a response" : "no response"
            return .failed(failure, "\(detail) (\(error))", durationMs: durationMs)
        }
        if let error = outcome.error, !outcome.truncated {
            return .failed(.connectionClosed, "the receiver closed the connection in the middle of a \(response.statusCode) response "
                           + "after \(outcome.bodyBytes) body bytes (\(error))", bodyPrefix: outcome.body, durationMs: durationMs)
        }
        return TransportResult(statusCode: response.statusCode, bodyPrefix: outcome.body,
                               retryAfter: response.value(forHTTPHeaderField: "Retry-After"), durationMs: durationMs)
    }

    /// A task's error as URLSession reported it.
    struct TaskError: Sendable, CustomStringConvertible {
        var code: Int
        var message: String

        /// The peer closed or reset the connection (libcurl: empty reply, receive or send failure, partial body).
        var isClosedConnection: Bool {
            if code == NSURLErrorNetworkConnectionLost { return true }
            let lowered = message.lowercased()
            return ["empty reply", "connection reset", "recv failure", "send failure", "broken pipe", "transfer closed",
                    "connection died", "connection closed"].contains { lowered.contains($0) }
        }

        var description: String { "URLSession error \(code): \(message)" }
    }

    /// Routes the callbacks of every task of the one session to the attempt waiting for it.
    ///
    /// `@unchecked Sendable`: all state lives in `tasks`, a `Mutex`.
    final class SessionDelegate: NSObject, URLSessionDataDelegate, @unchecked Sendable {
        struct Outcome: Sendable {
            var response: HTTPURLResponse?
            var body: [UInt8] = []
            /// Body bytes received, including those past the kept prefix.
            var bodyBytes = 0
            var error: TaskError?
            var timedOut = false
            /// The body passed 4 KiB and the task was cancelled on purpose.
            var truncated = false
            /// libcurl asked to rewind the body to resend it; the task was cancelled instead.
            var resendCancelled = false
        }

        private struct Pending {
            var continuation: CheckedContinuation<Outcome, Never>?
            var outcome = Outcome()
        }

        private let tasks = Mutex<[Int: Pending]>([:])

        func register(_ identifier: Int, _ continuation: CheckedContinuation<Outcome, Never>) {
            tasks.withLock { $0[identifier, default: Pending()].continuation = continuation }
        }

        func markTimedOut(_ identifier: Int) {
            tasks.withLock { $0[identifier]?.outcome.timedOut = true }
        }

        func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                        newRequest request: URLRequest, completionHandler: @escaping @Sendable (URLRequest?) -> Void) {
            completionHandler(nil)
        }

        /// libcurl rewinds the body only to resend the request by itself (a reused connection closed before
        /// any answer): refuse the new stream and cancel the task, so the attempt fails now and only once.
        /// `cancel()` takes the session's queue, on which this runs, hence another queue.
        func urlSession(_ session: URLSession, task: URLSessionTask, needNewBodyStream completionHandler: @escaping @Sendable (InputStream?) -> Void) {
            tasks.withLock { $0[task.taskIdentifier]?.outcome.resendCancelled = true }
            completionHandler(nil)
            DispatchQueue.global().async { [weak task] in task?.cancel() }
        }

        func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                        completionHandler: @escaping @Sendable (URLSession.ResponseDisposition) -> Void) {
            tasks.withLock { $0[dataTask.taskIdentifier, default: Pending()].outcome.response = response as? HTTPURLResponse }
            completionHandler(.allow)
        }

        func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
            let full = tasks.withLock { tasks -> Bool in
                var pending = tasks[dataTask.taskIdentifier, default: Pending()]
                let room = DeliveryLimits.Attempts.responseBodySizeBytesMax - pending.outcome.body.count
                if room > 0 { pending.outcome.body += data.prefix(room) }
                pending.outcome.bodyBytes += data.count
                let full = data.count >= room
                if full { pending.outcome.truncated = true }
                tasks[dataTask.taskIdentifier] = pending
                return full
            }
            if full { dataTask.cancel() }
        }

        func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
            let pending = tasks.withLock { $0.removeValue(forKey: task.taskIdentifier) }
            guard var pending, let continuation = pending.continuation else { return }
            if pending.outcome.response == nil, let response = task.response as? HTTPURLResponse {
                pending.outcome.response = response
            }
            if let error {
                let error = error as NSError
                pending.outcome.error = TaskError(code: error.code, message: error.localizedDescription)
            }
            continuation.resume(returning: pending.outcome)
        }
    }
}
