import EventLog
import Foundation
import JSON

/// `argus-events cursors`: per webhook, its durable cursor, the head, the lag and the status.
/// Reads the data directory without a lock, next to a running server.
struct CursorsCommand: Command {
    static let name = "cursors"
    static let usage = "cursors [--data-dir D] [--format table|json]"

    static func run(_ words: [String]) async throws -> Int32 {
        let arguments = try Arguments(words, valueFlags: ["--data-dir", "--format"])
        guard arguments.positionals.isEmpty else { throw UsageError("unexpected argument \(arguments.positionals[0])") }
        let format = arguments.value("--format") ?? "table"
        guard format == "table" || format == "json" else { throw UsageError("--format must be table or json") }
        let data = DataDirectory(arguments)
        let logDirectory = try data.requireLog()
        let head = try LogReader(directory: logDirectory, start: .end).nextOffset
        let offsets = CursorStore.readOffsets(directory: data.cursors)
        var rows: [[String]] = []
        let webhooksDirectory = data.root + "/webhooks"
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: webhooksDirectory)) ?? []).filter { $0.hasSuffix(".json") }.sorted()
        for name in names {
            guard let bytes = FileManager.default.contents(atPath: webhooksDirectory + "/" + name),
                  let json = try? JSONParser.parse([UInt8](bytes)), let id = json["id"]?.stringValue else { continue }
            let start = UInt64(max(0, json["start_offset"]?.int64Value ?? 0))
            let cursor = offsets[id] ?? start
            rows.append([id, json["organization_id"]?.stringValue ?? "", String(cursor), String(head),
                         String(head > cursor ? head - cursor : 0), json["status"]?.stringValue ?? ""])
        }
        if format == "json" {
            for row in rows {
                Console.print(JSONValue.object([
                    ("webhook_id", .string(row[0])), ("organization_id", .string(row[1])), ("cursor", .number(row[2])),
                    ("head", .number(row[3])), ("lag", .number(row[4])), ("status", .string(row[5])),
                ]).text)
            }
            return 0
        }
        let header = ["WEBHOOK", "ORGANIZATION", "CURSOR", "HEAD", "LAG", "STATUS"]
        Console.printTable(header: header, rows: rows)
        return 0
    }
}
