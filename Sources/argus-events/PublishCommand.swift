import EventLog
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Service
import Synchronization

/// `argus-events publish`: through the API (`--url`, `--token`), or appended directly to a data
/// directory no server holds (`--data-dir`, local use and tests).
struct PublishCommand: Command {
    static let name = "publish"
    static let usage = "publish --type T --org O [--data JSON] (--url U --token T | [--data-dir D] [--segment-bytes N] [--fsync always|interval|none] [--repeat N [--concurrency C]])"

    static func run(_ words: [String]) async throws -> Int32 {
        let arguments = try Arguments(words, valueFlags: ["--type", "--org", "--data", "--data-dir", "--segment-bytes",
                                                          "--fsync", "--url", "--token", "--repeat", "--concurrency"])
        let type = try arguments.required("--type")
        let organization = try arguments.required("--org")
        let dataText = arguments.value("--data") ?? "{}"
        let data: [UInt8]
        do throws(APIError) {
            try EventRules.checkType(type, context: "--type")
            try EventRules.checkOrganization(organization, context: "--org")
            data = try EventRules.checkedData(Array(dataText.utf8), context: "--data")
        } catch {
            throw UsageError(error.message)
        }
        if let url = arguments.value("--url") {
            guard arguments.value("--data-dir") == nil else { throw UsageError("use --url or --data-dir, not both") }
            return try await publishThroughAPI(base: url, token: try arguments.required("--token"), type: type,
                                               organization: organization, data: dataText)
        }
        guard arguments.value("--token") == nil else { throw UsageError("--token goes with --url") }
        var options = EventLogOptions()
        if let size = try arguments.integer("--segment-bytes", in: ServeConfigFile.segmentBytesRange) {
            options.segmentSizeBytesMax = size
        }
        if let policy = arguments.value("--fsync") {
            guard let parsed = FsyncPolicy(policy) else { throw UsageError("--fsync must be always, interval[:MS] or none") }
            options.fsyncPolicy = parsed
        }
        options.logger = ServerOutput.directLogger
        let directory = DataDirectory(arguments)
        let opened = Result { () throws(EventLogError) in try EventLog(directory: directory.log, options: options) }
        if case .failure(.locked(_, let pid)) = opened {
            let holder = pid.map { " (pid \($0))" } ?? ""
            Console.error("argus-events publish: \(directory.root) is held by a running writer\(holder); publish through its API instead")
            return 1
        }
        let log = try opened.get()
        defer { log.close() }
        // --repeat publishes the same event N times from C concurrent appenders (load tests, crash tests):
        // each line is printed only after its event is durable.
        let repeatCount = try arguments.integer("--repeat", in: 1...1_000_000_000) ?? 1
        let concurrency = try arguments.integer("--concurrency", in: 1...1024) ?? 1
        let next = Counter()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<concurrency {
                group.addTask {
                    while next.take(below: repeatCount) {
                        let event = NewEvent(organizationID: organization, type: type,
                                             eventID: try EventID.make(), data: data)
                        let appended = try await log.append(event)
                        Console.print(ArgusService.appendedLine(appended))
                    }
                }
            }
            try await group.waitForAll()
        }
        return 0
    }

    /// `POST {base}/v1/events` with the bearer token; prints the service's answer.
    private static func publishThroughAPI(base: String, token: String, type: String, organization: String,
                                          data: String) async throws -> Int32 {
        let trimmed = base.hasSuffix("/") ? String(base.dropLast()) : base
        guard let url = URL(string: trimmed + "/v1/events"), url.scheme == "http" || url.scheme == "https" else {
            throw UsageError("--url must be the service's base URL, such as http://127.0.0.1:8787")
        }
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(EventRules.publishRequestBody(type: type, organizationID: organization, dataJSON: data))
        let (body, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        let text = String(decoding: body, as: UTF8.self)
        guard status == 201 else {
            Console.error("argus-events publish: HTTP \(status): \(text)")
            return 1
        }
        Console.print(text)
        return 0
    }

    /// Hands out numbers below a limit to concurrent appenders.
    private final class Counter: Sendable {
        private let value = Mutex(0)

        func take(below limit: Int) -> Bool {
            value.withLock { current in
                guard current < limit else { return false }
                current += 1
                return true
            }
        }
    }
}
