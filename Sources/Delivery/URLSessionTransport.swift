import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Synchronization
import WebhookSigning

/// The production transport: one `URLSession` for the life of the process (never invalidated, as
/// session teardown is where swift-corelibs-foundation crashes), a session-level delegate that refuses
/// every redirect and keeps only the first 4 KiB of a body, and a total deadline per attempt enforced
/// by cancelling the task (URLSession's own timeout is an idle timeout).
public final class URLSessionTransport: DeliveryTransport {
    /// The process-wide instance.
    public static let shared = URLSessionTransport()

    private let session: URLSession
    private let delegate: SessionDelegate

    private init() {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpShouldSetCookies = false
        configuration.httpCookieAcceptPolicy = .never
        configuration.urlCache = nil
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        configuration.httpMaximumConnectionsPerHost = 64
        configuration.timeoutIntervalForRequest = DeliveryLimits.attemptTimeoutSeconds
        configuration.timeoutIntervalForResource = DeliveryLimits.attemptTimeoutSeconds * 2
        delegate = SessionDelegate()
        session = URLSession(configuration: configuration, delegate: delegate, delegateQueue: nil)
    }

    public func post(url: URL, headers: [HeaderField], body: [UInt8], timeoutSeconds: Double) async -> TransportResult {
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.httpBody = Data(body)
        for field in headers { request.setValue(field.value, forHTTPHeaderField: field.name) }
        let started = ContinuousClock.now
        let task = session.dataTask(with: request)
        // Weak: a cancelled deadline stays queued until its time, and must not keep the task alive.
        let identifier = task.taskIdentifier
        let deadline = DispatchWorkItem { [delegate, weak task] in
            delegate.markTimedOut(identifier)
            task?.cancel()
        }
        let outcome: SessionDelegate.Outcome = await withCheckedContinuation { continuation in
            delegate.register(task.taskIdentifier, continuation)
            DispatchQueue.global().asyncAfter(deadline: .now() + timeoutSeconds, execute: deadline)
            task.resume()
        }
        deadline.cancel()
        let elapsed = ContinuousClock.now - started
        let durationMs = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        if outcome.timedOut {
            return TransportResult(statusCode: nil, bodyPrefix: outcome.body, error: "timed out after \(Int(timeoutSeconds)) s", durationMs: durationMs)
        }
        guard let response = outcome.response else {
            return TransportResult(statusCode: nil, error: outcome.error ?? "no response", durationMs: durationMs)
        }
        return TransportResult(statusCode: response.statusCode, bodyPrefix: outcome.body,
                               error: outcome.truncated ? nil : outcome.error,
                               retryAfter: response.value(forHTTPHeaderField: "Retry-After"), durationMs: durationMs)
    }

    /// Routes the callbacks of every task of the one session to the attempt waiting for it.
    ///
    /// `@unchecked Sendable`: all state lives in `tasks`, a `Mutex`.
    final class SessionDelegate: NSObject, URLSessionDataDelegate, @unchecked Sendable {
        struct Outcome: Sendable {
            var response: HTTPURLResponse?
            var body: [UInt8] = []
            var error: String?
            var timedOut = false
            /// The body passed 4 KiB and the task was cancelled on purpose.
            var truncated = false
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

        func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                        completionHandler: @escaping @Sendable (URLSession.ResponseDisposition) -> Void) {
            tasks.withLock { $0[dataTask.taskIdentifier, default: Pending()].outcome.response = response as? HTTPURLResponse }
            completionHandler(.allow)
        }

        func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
            let full = tasks.withLock { tasks -> Bool in
                var pending = tasks[dataTask.taskIdentifier, default: Pending()]
                let room = DeliveryLimits.responseBodySizeBytesMax - pending.outcome.body.count
                if room > 0 { pending.outcome.body += data.prefix(room) }
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
            if let error, !pending.outcome.truncated {
                let code = (error as NSError).code
                pending.outcome.error = code == NSURLErrorCancelled && pending.outcome.timedOut
                    ? "timed out" : "network error \(code): \((error as NSError).localizedDescription)"
            }
            continuation.resume(returning: pending.outcome)
        }
    }
}
