import Archive
import EventLog
import Foundation
import Service

/// `argus-events serve`: the API on one data directory (`ArgusServer`); this command turns flags,
/// environment and `--config` into its configuration, prints the greeting, and stops it on a signal.
struct ServeCommand: Command {
    static let name = "serve"
    static let usage = "serve [--data-dir D] [--listen H:P] [--engine local|nats://HOST:PORT[,...]] [--config FILE] [--metrics-public] [--max-connections N] [--allow-http] [--allow-target-cidr CIDR]... [--segment-bytes N] [--origin O] [--fsync always|interval[:MS]|none] [--auto-disable-hours H] [--no-supervisor] [--archive-target file:///DIR|s3://BUCKET/PREFIX [--s3-endpoint URL] [--region R] [--object-lock-days N] [--archive-interval-seconds S] [--retention-bytes N] [--retention-hours H] [--archive-cache-bytes N]]"

    static func run(_ words: [String]) async throws -> Int32 {
        let arguments = try Arguments(words, valueFlags: ["--data-dir", "--listen", "--config", "--allow-target-cidr", "--segment-bytes", "--fsync",
                                                          "--archive-target", "--s3-endpoint", "--region", "--object-lock-days",
                                                          "--archive-interval-seconds", "--retention-bytes", "--retention-hours",
                                                          "--auto-disable-hours", "--archive-cache-bytes", "--max-connections", "--origin", "--engine"],
                                      switchFlags: ["--metrics-public": "--metrics-public", "--allow-http": "--allow-http", "--no-supervisor": "--no-supervisor"])
        let file: ServeConfigFile
        do { file = try ServeConfigFile.load(arguments.value("--config")) } catch { throw UsageError(error.description) }
        if arguments.isSet("--no-supervisor") {
            // Runs the server in this process.
        } else if Supervisor.isChild {
            ParentWatch.start(parent: "supervisor")
        } else {
            return Supervisor.run(logger: ServerOutput.directLogger)
        }
        var configuration = try makeConfiguration(arguments, file: file)
        defer { ServerOutput.errorLines.flush() }
        let engineURL = arguments.value("--engine") ?? ProcessInfo.processInfo.environment["ARGUS_ENGINE"] ?? "local"
        if engineURL != "local" {
            // Copies cut segments by size only, so every copy has the same boundaries (see `EventMirror`).
            configuration.service.logOptions.segmentAgeSecondsMax = .infinity
            let engine: EngineBinding
            do {
                engine = try await EngineBinding.open(servers: engineURL, logger: configuration.service.logger)
            } catch let error where EngineBinding.serverListProblem(error) != nil {
                throw UsageError.engineServers(EngineBinding.serverListProblem(error) ?? "")
            }
            do {
                // One roll size for every process: the copies cut the same segments (checked before anything is written).
                try await engine.shareSegmentSize(configuration.service.logOptions.segmentSizeBytesMax, logger: configuration.service.logger)
                // One checkpoint key for every process: one log, one signer (before the service opens the data directory).
                try await engine.shareCheckpointKey(path: configuration.service.layout.checkpointKey, logger: configuration.service.logger)
            } catch let refusal as EngineBinding.JoinRefusal {
                engine.connection.close()
                configuration.service.logger.error("refused to join the engine: \(refusal.description)", [("code", .string(refusal.code))] + refusal.details)
                _ = ServerOutput.errorLines.flush()
                Console.error("argus-events serve: \(refusal.description)")
                return 1
            }
            configuration.engine = engine
            configuration.service.appender = engine.log
        }
        // Stop on SIGTERM or SIGINT: stop accepting, finish in-flight requests, flush the log. Caught from
        // here on (before the greeting, which tells a parent the server is up), so an early signal is kept.
        let stop = TerminationSignals.stream()
        let dataDirectory = configuration.service.dataDirectory

        let server: ArgusServer
        switch Result(catching: { try ArgusServer(configuration: configuration) }) {
        case .success(let opened): server = opened
        case .failure(let error as EventLogError):
            if case .locked(_, let pid) = error {
                Console.error("argus-events serve: \(dataDirectory) is already served\(pid.map { " by pid \($0)" } ?? "")")
                return 1
            }
            throw error
        case .failure(let error): throw error
        }
        let started = try await server.start()
        let base = started.baseURL
        // One write: a reader that sees "listening on" sees the first client's credentials with it.
        var greeting = "Argus Events \(ServerOutput.version) listening on \(base) (data: \(dataDirectory))"
        if let (client, secret) = started.createdAdmin {
            greeting += "\n" + """

            Created the first client, a platform:admin client (organization "platform"). Its secret is shown only now:
              client_id:     \(client.clientID)
              client_secret: \(secret)

            Try it:
              TOKEN=$(curl -s -u \(client.clientID):\(secret) -d grant_type=client_credentials \(base)/oauth/token | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
              curl -s -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' -d '{"type":"user.created","organization_id":"org_demo","data":{"user_id":"u_1"}}' \(base)/v1/events
              swift run -c release argus-events tail --data-dir \(dataDirectory) --from -5
            """
        }
        Console.print(greeting)

        for await signalNumber in stop {
            configuration.service.logger.info("signal \(signalNumber): shutting down")
            break
        }
        await server.shutdown()
        return 0
    }

    /// The server's configuration from flags, then `ARGUS_*` environment variables, then `--config`.
    static func makeConfiguration(_ arguments: Arguments, file: ServeConfigFile) throws -> ArgusServer.Configuration {
        let environment = ProcessInfo.processInfo.environment
        let dataDirectory = arguments.value("--data-dir") ?? environment["ARGUS_DATA_DIR"] ?? file.dataDirectory ?? "./argus-data"
        let listen = arguments.value("--listen") ?? environment["ARGUS_LISTEN"] ?? file.listen ?? "127.0.0.1:8787"
        let (host, port) = try parseListen(listen)

        var service = ServiceConfiguration(dataDirectory: dataDirectory)
        let logger = ServerOutput.logger
        service.logger = logger
        service.logOptions.logger = logger
        service.checkpointOrigin = arguments.value("--origin")
        if let size = try arguments.integer("--segment-bytes", in: ServeConfigFile.segmentBytesRange) ?? file.segmentBytes {
            service.logOptions.segmentSizeBytesMax = size
        }
        if let text = arguments.value("--fsync") ?? file.fsync {
            guard let policy = FsyncPolicy(text) else { throw UsageError("--fsync must be always, interval[:MS] or none") }
            service.logOptions.fsyncPolicy = policy
        }
        service.metricsPublic = arguments.isSet("--metrics-public")
        // Only for measuring the proofs' upkeep (argus-bench api): README, Performance.
        service.proofUpkeep = ProcessInfo.processInfo.environment["ARGUS_PROOF_UPKEEP"] != "off"
        service.logOptions.onStopped = { reason in
            // Only a failed fdatasync gets here: exit so the supervisor starts a fresh server, whose
            // recovery reads what is durable.
            logger.error("log writer stopped: \(reason); exiting for a restart")
            ServerOutput.errorLines.flush(timeoutSeconds: 1)
            _exit(Supervisor.restartExitCode)
        }
        if let hours = try arguments.integer("--auto-disable-hours", in: 1...100_000) {
            service.autoDisableSeconds = Double(hours) * 3600
        }
        do {
            try service.setTargetRules(allowsHTTP: arguments.isSet("--allow-http") || file.allowHTTP,
                                       allowedCIDRs: arguments.allValues("--allow-target-cidr") + file.allowTargetCIDRs)
        } catch {
            throw UsageError("--allow-target-cidr \(error.text) is not a CIDR block")
        }

        // https:// deliveries go through worker processes (URLSession out of the server; README, Delivery).
        if let executable = ServiceConfiguration.currentExecutablePath {
            service.useDeliveryWorkers(executable: executable)
        }

        var configuration = ArgusServer.Configuration(service: service)
        configuration.host = host
        configuration.port = port
        configuration.connectionCountMax = try arguments.integer("--max-connections", in: 1...1_000_000)
        configuration.accessLog = { ServerOutput.errorLines.write($0) }

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
        if let archiveTarget, let archiveURL {
            configuration.archiving = ArgusServer.Archiving(target: archiveTarget, settings: ArchiveTargetArguments.settings(url: archiveURL, arguments: arguments),
                                                           intervalSeconds: intervalSeconds, retention: retention)
        }
        // Every reader (delivery, replay, GET /v1/events) reads what retention removed back from the archive:
        // the one given here, else the one `archive` last used on this data directory.
        configuration.archiveReadTarget = try archiveTarget ?? ArchiveTargetArguments.saved(layout: service.layout)
        if configuration.archiveReadTarget != nil, let cacheBytes = try arguments.integer("--archive-cache-bytes", in: (1 << 20)...(1 << 50)) {
            configuration.archiveCacheBytes = Int64(cacheBytes)
        }
        return configuration
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
