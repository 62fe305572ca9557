import Archive

/// Every path in a data directory, in one place. The directory holds:
///
/// - `log/`: the event log's segments (`<base>.log`), their indexes (`<base>.index`), the writer lock;
/// - `cursors/`: each webhook's durable delivery cursor (`cursors.snapshot`, `cursors.journal`);
/// - `clients/`: one file per OAuth client (`<client_id>.json`, secrets hashed);
/// - `oauth/`: access tokens (`tokens.journal`) and idempotency keys (`idempotency.journal`);
/// - `webhooks/`: one file per webhook (`<webhook_id>.json`, with its secrets and keys);
/// - `spool/`: events that `clients create|delete` left while a server held the log;
/// - `deliveries/`: per webhook, its delivery history (`<webhook_id>.jsonl`);
/// - `archive/`: the archive state (which segments are uploaded and verified, the target settings);
/// - `archive-cache/`: archived segments read back for readers (bounded, evicted oldest first);
/// - `keys/`: the checkpoint signing key (`checkpoint.key`, 0600);
/// - `merkle/`: the latest signed checkpoint and the log's Merkle tree as C2SP tlog-tiles hashes, the full tiles packed one file per
///   level (`level-<L>.tiles`), the size and right edge in `tree-size` (`MerkleTileStore`; derived data).
public struct DataLayout: Sendable, Equatable {
    /// The data directory itself.
    public let root: String

    public init(root: String) { self.root = root }

    /// Segments and indexes.
    public var log: String { root + "/log" }
    /// Delivery cursors.
    public var cursors: String { root + "/cursors" }
    /// OAuth clients.
    public var clients: String { root + "/clients" }
    /// Access tokens and idempotency keys.
    public var oauth: String { root + "/oauth" }
    /// Webhooks.
    public var webhooks: String { root + "/webhooks" }
    /// Events waiting for the server to append them.
    package var spool: String { root + "/spool" }
    /// Delivery histories.
    public var deliveries: String { root + "/deliveries" }
    /// The archive state (`ArchiveState`).
    public var archiveState: String { ArchiveState.directory(dataDirectory: root) }
    /// The log's Merkle hash tiles (`MerkleTileStore`); rebuilt from the log when missing or damaged.
    public var merkle: String { root + "/merkle" }
    /// The checkpoint signing key (`CheckpointKeyFile`, 0600).
    public var checkpointKey: String { root + "/keys/checkpoint.key" }
    /// Archived segments read back (`SegmentCache`).
    public var archiveCache: String { SegmentCache.directory(dataDirectory: root) }
}
