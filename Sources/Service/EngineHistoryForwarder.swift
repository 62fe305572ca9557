import Foundation
import HTTPClient
import HTTPServer
import JSON
import NATS
import Synchronization
import SystemIO

/// Under `serve --engine`: a webhook's delivery history lives with the process that delivers it (its
/// lease holder), so the history routes (`GET .../deliveries`, `GET .../stats`,
/// `GET .../stats/timeseries`, `POST .../deliveries/{id}/retry`) asked at another process are
/// forwarded to the holder, with the caller's `Authorization`, and its answer is returned as it is
/// (with `Argus-Answered-By: <holder>`). Each process advertises its address in the key-value bucket
/// `ARGUS_PROCESSES` (key: its holder name; refreshed every `refreshSeconds`, dropped by the bucket
/// after `limits.ageSecondsMax`). When no live holder can be reached (no lease, no address, no answer
/// within `timeoutSeconds`), the asked process answers from its own history, marked
/// `Argus-History: local`. A forwarded request (`Argus-Forwarded: 1`), and one about a webhook this
/// process delivers (its own lease book says so: the engine is not asked), are answered locally.
/// Only webhooks visible to the token's organization are asked about (`ArgusService.respondFromDeliverer`
/// answers any other id with the unmarked 404 of an unknown one, before reading a lease).
final class EngineHistoryForwarder: Sendable {
    /// The bucket's name.
    static let bucketName = "ARGUS_PROCESSES"
    /// At most 10,000 processes, each entry dropped 60 s after its last refresh, addresses of at most 1 KiB.
    static let limits = KeyValueBucket.Limits(entriesMax: 10_000, ageSecondsMax: 60, valueBytesMax: 1_024, dropsOldest: false)
    /// How often a process rewrites its address, in seconds.
    static let refreshSeconds = 10.0
    /// How long a forwarded request may take, in seconds.
    static let timeoutSeconds = 10.0
    /// The largest forwarded answer, in bytes (a page of deliveries with 4 KiB bodies is far below).
    static let answerSizeBytesMax = 8 << 20
    static let forwardedHeader = "Argus-Forwarded"

    let processes: KeyValueBucket
    let leases: KeyValueBucket
    let holder: String
    /// Whether this process holds a webhook's delivery lease now (`DeliveryLeases.holds`); nil until
    /// delivery starts.
    private let deliversHere = Mutex<(@Sendable (String) -> Bool)?>(nil)
    private let client = HTTPClient(configuration: {
        var configuration = HTTPClient.Configuration()
        configuration.threadCountMax = 8
        configuration.threadName = "argus-history-forwarder"
        return configuration
    }())

    init(processes: KeyValueBucket, leases: KeyValueBucket, holder: String) {
        self.processes = processes
        self.leases = leases
        self.holder = holder
    }

    /// From now on, a webhook for which `holds` is true is answered here without asking the engine.
    func consultLocalLeases(_ holds: @escaping @Sendable (String) -> Bool) {
        deliversHere.withLock { $0 = holds }
    }

    /// `host` without the brackets of an IPv6 literal (`[::1]` → `::1`); any other host as it is.
    static func unbracketed(_ host: String) -> String {
        host.hasPrefix("[") && host.hasSuffix("]") && host.count >= 2 ? String(host.dropFirst().dropLast()) : host
    }

    /// The address other processes reach this one at: `http://HOST:PORT`, the listening host (an IPv6
    /// literal in brackets, whether or not it was given with them), or this machine's name when it listens on
    /// every address.
    static func advertisedURL(host: String, port: Int) -> String {
        let name = unbracketed(["", "0.0.0.0", "::", "[::]"].contains(host) ? ProcessInfo.processInfo.hostName : host)
        return "http://\(name.contains(":") ? "[\(name)]" : name):\(port)"
    }

    /// Until cancelled: writes `url` under this process's name every `refreshSeconds`; removes it at the end.
    func advertise(_ url: String, logger: Logger) async {
        while !Task.isCancelled {
            do {
                try await processes.put(holder, Array(url.utf8))
            } catch {
                logger.error("could not advertise this process's address in \(Self.bucketName)", [("error", .string(String(describing: error)))])
            }
            try? await Task.sleep(nanoseconds: UInt64(Self.refreshSeconds * 1e9))
        }
        _ = try? await processes.delete(holder)
    }

    /// The URL of `target` at the process advertising `holderAddress`, or nil unless `target` is a path
    /// (origin form) and `holderAddress` is `http://HOST[:PORT][/]` and nothing more (a KV entry: a path,
    /// query, fragment or user part in it would move the request's path): the host and port always come
    /// from the holder's address, never from the request (an absolute-form target would otherwise send the
    /// caller's token wherever it names).
    /// An IPv6 holder (`http://[::1]:8787`) keeps its brackets in the URL; `URLComponents.host` keeps them and
    /// `URL.host` drops them, so the check compares the address without.
    static func forwardURL(target: String, holderAddress: String) -> URL? {
        guard target.hasPrefix("/"), let holder = URLComponents(string: holderAddress), holder.scheme == "http",
              var host = holder.host, !host.isEmpty, holder.path.isEmpty || holder.path == "/",
              holder.query == nil, holder.fragment == nil, holder.user == nil, holder.password == nil else { return nil }
        host = unbracketed(host)
        let authority = host.contains(":") ? "[\(host)]" : (holder.percentEncodedHost ?? host)
        let base = "http://" + authority + (holder.port.map { ":\($0)" } ?? "")
        guard let url = URL(string: base + target), url.host == host, url.port == holder.port, url.scheme == "http" else { return nil }
        return url
    }

    /// The holder's answer to `request` about `webhookID`, or nil when this process answers itself: it
    /// holds the lease, the request was forwarded already, or no holder could be reached (`reason`
    /// then says why, for the `Argus-History: local` mark).
    func forward(_ request: HTTPRequest, webhookID: String) async -> (response: HTTPResponse?, localReason: String?) {
        guard request.headers[Self.forwardedHeader] == nil, deliversHere.withLock({ $0 })?(webhookID) != true else { return (nil, nil) }
        guard (try? KeyValueBucket.validate(key: webhookID)) != nil,
              let lease = try? await leases.get(webhookID) else { return (nil, "no process holds this webhook's delivery lease") }
        let leaseHolder = String(decoding: lease.value, as: UTF8.self)
        guard leaseHolder != holder else { return (nil, nil) }
        guard (try? KeyValueBucket.validate(key: leaseHolder)) != nil, let entry = try? await processes.get(leaseHolder) else {
            return (nil, "the delivering process advertises no address")
        }
        var headers: [(name: String, value: String)] = [(Self.forwardedHeader, "1")]
        for name in ["authorization", "content-type"] {
            if let value = request.headers[name] { headers.append((name, value)) }
        }
        guard let target = Self.forwardURL(target: request.target, holderAddress: String(decoding: entry.value, as: UTF8.self)),
              let outgoing = HTTPClient.Request(method: request.method, url: target, headers: headers, body: .bytes(request.body)) else {
            return (nil, "the delivering process's address is not an http:// URL, or the request target is not a path")
        }
        let reader = HTTPResponseReader(bodyPrefixSizeBytesMax: Self.answerSizeBytesMax, bodySizeBytesMax: Self.answerSizeBytesMax,
                                        keepsHeaders: false)
        let outcome = await client.send(outgoing, reader: reader, timeoutSeconds: Self.timeoutSeconds)
        guard outcome.failure == nil, let status = outcome.response.statusCode, outcome.response.keptWholeBody else {
            // A change (a manual retry) may have been made there before the answer was lost: answering it
            // here as well could start it twice, so only reads fall back to this process's history.
            guard request.method == "GET" else {
                let error = APIError(503, "temporarily_unavailable",
                                     "the webhook's delivering process did not answer in full; the retry may have started there: read the delivery before retrying",
                                     headers: [("Retry-After", "1")])
                return (error.response, nil)
            }
            return (nil, "the delivering process did not answer in full")
        }
        var response = HTTPResponse(status: status, body: outcome.response.bodyPrefix)
        response.headers.add("Content-Type", "application/json")
        response.headers.add("Argus-Answered-By", leaseHolder)
        return (response, nil)
    }
}
