import Archive
import Delivery
import EventLog
import Foundation
import HTTPServer
import JSON
import Service

/// `argus-events serve`: the API on one data directory.
struct ServeCommand: Command {
    static let name = "serve"
    static let usage = "serve [--data-dir D] [--listen H:P] [--config FILE] [--metrics-public] [--max-connections N] [--allow-http] [--allow-target-cidr CIDR]... [--segment-bytes N] [--fsync always|interval[:MS]|none] [--auto-disable-hours H] [--no-supervisor] [--archive-target file:///DIR|s3://BUCKET/PREFIX [--s3-endpoint URL] [--region R] [--object-lock-days N] [--archive-interval-seconds S] [--retention-bytes N] [--retention-hours H] [--archive-cache-bytes N]]"

    static func run(_ words: [String]) async throws -> Int32 {
        let arguments = try Arguments(words, valueFlags: ["--data-dir", "--listen", "--config", "--allow-target-cidr", "--segment-bytes", "--fsync",
                                                          "--archive-target", "--s3-endpoint", "--region", "--object-lock-days",
                                                          "--archive-interval-seconds", "--retention-bytes", "--retention-hours",
                                                          "--auto-disable-hours", "--archive-cache-bytes", "--max-connections"],
                                      switchFlags: ["--metrics-public": "--metrics-public", "--allow-http": "--allow-http", "--no-supervisor": "--no-supervisor"])
        guard arguments.positionals.isEmpty else { throw UsageError("unexpected argument \(arguments.positionals[0])") }
        let file = try ConfigFile.load(arguments.value("--config"))
        if arguments.isSet("--no-supervisor") {
            // Runs the server in this process.
        } else if Supervisor.isChild {
            ParentWatch.start(parent: "supervisor")
        } else {
            return Supervisor.run()
        }
        let environment = ProcessInfo.processInfo.environment
        let dataDirectory = arguments.value("--data-dir") ?? environment["ARGUS_DATA_DIR"] ?? file.dataDirectory ?? "./argus-data"
        let listen = arguments.value("--listen") ?? environment["ARGUS_LISTEN"] ?? file.listen ?? "127.0.0.1:8787"
        let (host, port) = try parseListen(listen)

        var configuration = ServiceConfiguration(dataDirectory: dataDirectory)
        configuration.logger = { Console.error($0) }
        configuration.logOptions.logger = { line in Console.error(JSONValue.object([("level", .string("info")), ("message", .string(line))]).text) }
        if let size = try arguments.integer("--segment-bytes", in: EventLogLimits.segmentSizeBytesMin...(1 << 40)) ?? file.segmentBytes {
            configuration.logOptions.segmentSizeBytesMax = size
        }
        if let text = arguments.value("--fsync") ?? file.fsync {
            guard let policy = FsyncPolicy(text) else { throw UsageError("--fsync must be always, interval[:MS] or none") }
            configuration.logOptions.fsyncPolicy = policy
        }
        configuration.metricsPublic = arguments.isSet("--metrics-public")
        configuration.logOptions.onStopped = { reason in
            // Only a failed fdatasync gets here: exit so the supervisor starts a fresh server, whose
            // recovery reads what is durable.
            Console.error(JSONValue.object([("level", .string("error")), ("message", .string("log writer stopped: \(reason); exiting for a restart"))]).text)
            _exit(Supervisor.restartExitCode)
        }
        if let hours = try arguments.integer("--auto-disable-hours", in: 1...100_000) {
            configuration.autoDisableSeconds = Double(hours) * 3600
        }
        var cidrs: [CIDR] = []
        for text in arguments.allValues("--allow-target-cidr") + file.allowTargetCIDRs {
            guard let cidr = CIDR(text) else { throw UsageError("--allow-target-cidr \(text) is not a CIDR block") }
            cidrs.append(cidr)
        }
        configuration.targetGuard = TargetGuard(allowsHTTP: arguments.isSet("--allow-http") || file.allowHTTP, allowedCIDRs: cidrs)

        let archiveURL = arguments.value("--archive-target")
        let archiveTarget = try archiveURL.map { url in
            try ArchiveTargetArguments.make(url: url, arguments: arguments, objectLockDays: try arguments.integer("--object-lock-days", in: 1...36_500))
        }
        let intervalSeconds = Double(try arguments.integer("--archive-interval-seconds", in: 1...86_400) ?? 60)
        let retentionBytes = try arguments.integer("--retention-bytes", in: 1...Int.max)
        let retentionHours = try arguments.integer("--retention-hours", in: 1...1_000_000)
        let retention = (retentionBytes != nil || retentionHours != nil)
            ? RetentionPolicy(sizeBytesMax: retentionBytes.map(Int64.init), ageSecondsMax: retentionHours.map { Double($0) * 3600 }) : nil
        if retention != nil && archiveTarget == nil {
            throw UsageError("--retention-bytes and --retention-hours need --archive-target: a segment is deleted only once archived and verified")
        }
        // Every reader (delivery, replay, GET /v1/events) reads what retention removed back from the archive:
        // the one given here, else the one `archive` last used on this data directory.
        if let readTarget = try archiveTarget ?? ArchiveTargetArguments.saved(dataDirectory: dataDirectory) {
            let cacheBytes = try arguments.integer("--archive-cache-bytes", in: (1 << 20)...(1 << 50)).map(Int64.init)
            let cache = SegmentCache(directory: SegmentCache.directory(dataDirectory: dataDirectory), target: readTarget,
                                     capacityBytes: cacheBytes ?? SegmentCache.defaultCapacityBytes)
            configuration.makeEventSource = { log in ArchivedEventSource(log: log, cache: cache) }
        }

        let service: ArgusService
        switch Result(catching: { try ArgusService(configuration: configuration) }) {
        case .success(let opened): service = opened
        case .failure(let error as EventLogError):
            if case .locked(_, let pid) = error {
                Console.error("argus-events serve: \(dataDirectory) is already served\(pid.map { " by pid \($0)" } ?? "")")
                return 1
            }
            throw error
        case .failure(let error): throw error
        }
        let admin = try await service.bootstrapAdminClient()
        await service.drainSpool()
        try await service.startDelivery()

        var serverConfiguration = HTTPServerConfiguration()
        serverConfiguration.host = host
        serverConfiguration.port = port
        let descriptorLimit = DescriptorLimit.raiseSoftToHard()
        serverConfiguration.connectionCountMax = try arguments.integer("--max-connections", in: 1...1_000_000)
            ?? ServiceLimits.connectionCountMax(descriptorLimit: descriptorLimit)
        Console.error(JSONValue.object([
            ("level", .string("info")), ("rlimit_nofile", .integer(Int64(descriptorLimit))),
            ("connection_count_max", .integer(Int64(serverConfiguration.connectionCountMax))),
            ("message", .string("open-files limit raised to the hard limit; the connection cap leaves room for deliveries and files")),
        ]).text)
        serverConfiguration.bodySizeBytesMax = { _, path in
            path == "/v1/events/batch" ? ServiceLimits.batchBodySizeBytesMax : ServiceLimits.bodySizeBytesMax
        }
        serverConfiguration.accessLog = { Console.error($0) }
        let server = HTTPServer(configuration: serverConfiguration, handler: service.makeRouter())
        let boundPort = try server.start()
        let base = "http://\(host.contains(":") ? "[\(host)]" : host):\(boundPort)"
        Console.print("Argus Events \(ArgusVersion.current) listening on \(base) (data: \(dataDirectory))")
        if let (client, secret) = admin {
            Console.print("""

            Created the first client, a platform:admin client (organization "platform"). Its secret is shown only now:
              client_id:     \(client.clientID)
              client_secret: \(secret)

            Try it:
              TOKEN=$(curl -s -u \(client.clientID):\(secret) -d grant_type=client_credentials \(base)/oauth/token | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
              curl -s -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' -d '{"type":"user.created","organization_id":"org_demo","data":{"user_id":"u_1"}}' \(base)/v1/events
              swift run -c release argus-events tail --data-dir \(dataDirectory) --from -5
            """)
        }

        // Stop on SIGTERM or SIGINT: stop accepting, finish in-flight requests, flush the log.
        let stop = AsyncStream<Int32> { continuation in
            for signalNumber in [SIGTERM, SIGINT] {
                signal(signalNumber, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .main)
                source.setEventHandler { continuation.yield(signalNumber) }
                source.resume()
                SignalSources.keep(source)
            }
        }
        var archiveTask: Task<Void, Never>?
        if let archiveTarget, let archiveURL {
            let stateDirectory = ArchiveState.directory(dataDirectory: dataDirectory)
            try ArchiveState.load(directory: stateDirectory).saveTargetSettings(ArchiveTargetArguments.settings(url: archiveURL, arguments: arguments))
            archiveTask = BackgroundArchiver(service: service, logDirectory: dataDirectory + "/log", stateDirectory: stateDirectory,
                                             target: archiveTarget, intervalSeconds: intervalSeconds, retention: retention).start()
        }
        let spoolTask = Task {
            while !Task.isCancelled {
                try? await Task.sleep(nanoseconds: 1_000_000_000)
                await service.drainSpool()
            }
        }
        for await signalNumber in stop {
            Console.error(JSONValue.object([("level", .string("info")), ("message", .string("signal \(signalNumber): shutting down"))]).text)
            break
        }
        spoolTask.cancel()
        archiveTask?.cancel()
        await server.shutdown(graceSeconds: 10)
        service.close()
        return 0
    }

    static func parseListen(_ text: String) throws -> (String, Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            throw UsageError("--listen must be HOST:PORT, such as 127.0.0.1:8787")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw UsageError("--listen needs a host") }
        return (host, port)
    }
}

/// Keeps signal sources alive for the life of the process.
enum SignalSources {
    nonisolated(unsafe) private static var sources: [any DispatchSourceSignal] = []
    static func keep(_ source: any DispatchSourceSignal) { sources.append(source) }
}


