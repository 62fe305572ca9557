import Service

/// `argus-events cursors`: per webhook, its durable cursor, the head, the lag and the status.
/// Reads the data directory without a lock, next to a running server.
struct CursorsCommand: Command {
    static let name = "cursors"
    static let usage = "cursors " + ListingArguments.usage

    static func run(_ words: [String]) async throws -> Int32 {
        let listing = try ListingArguments(words)
        _ = try listing.dataDirectory.requireLog()
        listing.print(try WebhookCursor.all(layout: listing.dataDirectory.layout),
                      header: ["WEBHOOK", "ORGANIZATION", "CURSOR", "HEAD", "LAG", "STATUS"],
                      cells: { row in
                          [row.webhookID, row.organizationID, String(row.cursor), String(row.head), String(row.lag), row.status.rawValue]
                      },
                      jsonLine: \.jsonLine)
        return 0
    }
}
