import Service

/// `argus-events cursors`: per webhook, its durable cursor, the head, the lag and the status.
/// Reads the data directory without a lock, next to a running server.
struct CursorsCommand: Command {
    static let name = "cursors"
    static let usage = "cursors [--data-dir D] [--format table|json]"

    static func run(_ words: [String]) async throws -> Int32 {
        let arguments = try Arguments(words, valueFlags: ["--data-dir", "--format"])
        let format = try arguments.choice("--format", among: ["table", "json"], default: "table")
        let data = DataDirectory(arguments)
        _ = try data.requireLog()
        let cursors = try WebhookCursor.all(layout: data.layout)
        if format == "json" {
            for row in cursors { Console.print(row.jsonLine) }
            return 0
        }
        let header = ["WEBHOOK", "ORGANIZATION", "CURSOR", "HEAD", "LAG", "STATUS"]
        Console.printTable(header: header, rows: cursors.map { row in
            [row.webhookID, row.organizationID, String(row.cursor), String(row.head), String(row.lag), row.status.rawValue]
        })
        return 0
    }
}
