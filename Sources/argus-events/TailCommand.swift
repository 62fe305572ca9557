import Archive
import EventLog
import Foundation
import Service

/// `argus-events tail`: prints events as JSON envelopes (one per line) or text, optionally following.
struct TailCommand: Command {
    static let name = "tail"
    static let usage = "tail [--data-dir D | --engine nats://HOST:PORT[,...]] [--from beginning|end|OFFSET|-N] [--since RFC3339] [-f|--follow] [--type PATTERN] [--org O] [--count N] [--format json|text] [--archive TARGET [--s3-endpoint URL] [--region R]]"

    static func run(_ words: [String]) async throws -> Int32 {
        let arguments = try Arguments(words, valueFlags: ["--data-dir", "--engine", "--from", "--since", "--type", "--org", "--count", "--format", "--archive",
                                                                       "--s3-endpoint", "--region"],
                                      switchFlags: ["-f": "--follow", "--follow": "--follow"])
        let dataDirectory = DataDirectory(arguments)
        // With --engine the events come from the engine's stream, not from a data directory.
        var engine: EngineTailReader?
        if let url = arguments.value("--engine") {
            do {
                engine = try await EngineTailReader.attach(url: url)
            } catch let error where EngineBinding.serverListProblem(error) != nil {
                throw UsageError("--engine: \(error)")
            }
        }
        let directory = engine == nil ? try dataDirectory.requireLog() : ""
        let format = try arguments.choice("--format", among: ["json", "text"], default: "json")
        let count = try arguments.integer("--count", in: 0...Int.max)
        let typePattern = arguments.value("--type")
        if let typePattern, !EventType.isValidFilter(typePattern) {
            throw UsageError("--type must be an event type, category.* or *")
        }
        let organization = arguments.value("--org")
        let follow = arguments.isSet("--follow")

        let start: LogReader.Start
        if let since = arguments.value("--since") {
            guard arguments.value("--from") == nil else { throw UsageError("use --from or --since, not both") }
            guard let timestampMs = Timestamp.parse(since) else { throw UsageError("--since must be an RFC 3339 time") }
            start = try await engine?.start(atOrAfterTimeMs: timestampMs) ?? .time(timestampMs)
        } else {
            switch arguments.value("--from") ?? "beginning" {
            case "beginning": start = .beginning
            case "end": start = .end
            case let text where text.hasPrefix("-"):
                guard let last = UInt64(text.dropFirst()) else { throw UsageError("--from -N needs a number") }
                let end = try engine?.nextOffset ?? LogReader(directory: directory, start: .end).nextOffset
                start = .offset(end >= last ? end - last : 0)
            case let text:
                guard let offset = UInt64(text) else { throw UsageError("--from must be beginning, end, an offset or -N") }
                start = .offset(offset)
            }
        }
        // Offsets that retention removed locally are read back from the archive (see TailSource).
        var reader: TailSource
        if let engine {
            reader = .engine(engine.starting(at: start))
        } else {
            reader = try await TailSource.open(dataDirectory: dataDirectory, start: start, arguments: arguments)
        }

        var printed = 0
        var output = [UInt8]()
        while count.map({ printed < $0 }) ?? true {
            guard let record = try await reader.next() else {
                flush(&output)
                guard follow else { break }
                try await Task.sleep(nanoseconds: 100_000_000)
                continue
            }
            if let typePattern, !EventType.matches(record.type, pattern: typePattern) { continue }
            if let organization, record.organizationID != organization { continue }
            if format == "json" {
                output += record.envelope()
            } else {
                output += Array("\(record.offset) \(Timestamp.format(ms: record.timestampMs)) \(record.organizationID) \(record.type) \(record.eventID) ".utf8)
                output += record.data
            }
            output.append(UInt8(ascii: "\n"))
            printed += 1
            if output.count >= 64 * 1024 || follow { flush(&output) }
        }
        flush(&output)
        return 0
    }

    private static func flush(_ output: inout [UInt8]) {
        guard !output.isEmpty else { return }
        FileHandle.standardOutput.write(Data(output))
        output.removeAll(keepingCapacity: true)
    }
}
