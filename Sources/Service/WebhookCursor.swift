import Delivery
import EventLog
import JSON

/// One webhook's delivery progress, as `argus-events cursors` shows it.
public struct WebhookCursor: Sendable, Equatable {
    public var webhookID: String
    public var organizationID: String
    /// The next offset to deliver: the durable cursor, else the webhook's start offset.
    public var cursor: UInt64
    /// The log's next offset.
    public var head: UInt64
    /// Events between the cursor and the head.
    public var lag: UInt64 { head > cursor ? head - cursor : 0 }
    public var status: Subscription.State

    /// `cursors --format json`'s line for this webhook: `webhook_id`, `organization_id`, `cursor`,
    /// `head`, `lag`, `status`.
    package var jsonLine: String {
        JSONValue.object([
            ("webhook_id", .string(webhookID)), ("organization_id", .string(organizationID)), ("cursor", .integer(cursor)),
            ("head", .integer(head)), ("lag", .integer(lag)), ("status", .string(status.rawValue)),
        ]).text
    }

    /// Every webhook's progress in the data directory at `layout`, sorted by webhook id. Reads without
    /// a lock, next to a running server (what a concurrent writer has not finished is not seen).
    /// - Throws: `EventLogError` when the log cannot be read.
    public static func all(layout: DataLayout) throws -> [WebhookCursor] {
        let head = try LogReader(directory: layout.log, start: .end).nextOffset
        let offsets = CursorStore.readOffsets(directory: layout.cursors)
        return WebhookStore.readAll(directory: layout.webhooks).map { webhook in
            WebhookCursor(webhookID: webhook.id, organizationID: webhook.organizationID,
                          cursor: offsets[webhook.id] ?? webhook.startOffset, head: head, status: webhook.status)
        }
    }
}
