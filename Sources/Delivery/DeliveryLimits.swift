/// Every limit of the delivery engine, in one place.
public enum DeliveryLimits {
    /// Total time one attempt may take, connect to last byte, in seconds.
    public static let attemptTimeoutSeconds = 15.0
    /// Bytes of a response body kept in the history.
    package static let responseBodySizeBytesMax = 4096
    /// Records kept in the shared scan cache (the window that lanes read without their own reader).
    package static let cacheRecordCountMax = 16_384
    /// Records one lane reads ahead below the shared window (catching up, replaying, reading the archive).
    package static let catchUpRecordCountMax = 256
    /// Wait before reading again after the archive could not be read, doubling from the first to the
    /// last, in milliseconds.
    package static let readRetryDelayMsMin: Int64 = 1000
    package static let readRetryDelayMsMax: Int64 = 60_000
    /// Wait before loading a webhook's history index again after its journal could not be read, doubling from
    /// the first to the last, in milliseconds.
    package static let historyLoadRetryDelayMsMin: Int64 = 200
    package static let historyLoadRetryDelayMsMax: Int64 = 30_000
    /// Bytes of event data kept in the shared scan cache.
    package static let cacheSizeBytesMax = 64 << 20
    /// Bytes of delivery history indexes kept in memory across webhooks (bodies are never in memory).
    public static let historyMemoryBytesMax = 64 << 20
    /// Delivery records kept listable per webhook (in its history file, indexed in memory while in use).
    public static let historyRecordCountMax = 10_000
    /// Largest encoded delivery record in the history, in bytes (50 attempts of 4 KiB bodies escaped as JSON fit;
    /// beyond, the oldest attempts' bodies are left out).
    public static let historyRecordSizeBytesMax = 2 << 20
    /// History changes waiting for the history's writer thread (the dispatcher starts no new deliveries beyond;
    /// attempts already under way still add theirs).
    public static let historyPendingChangeCountMax = 8192
    /// Webhook history indexes the dispatcher has loading at once (on blocking-I/O threads; the others wait).
    package static let historyLoadCountMax = 2
    /// Webhook history journals the writer keeps open (the least recently used are closed beyond).
    package static let historyOpenJournalCountMax = 128
    /// Attempt requests in flight across all webhooks (URLSession's own pool is the next limit).
    package static let globalInFlightCountMax = 1024
    /// Log readers shared by webhooks that are behind the scan window (each holds a descriptor and a buffer).
    package static let catchUpReaderCountMax = 8
    /// Records one lane examines (or the scan reads) in one turn of the loop before others get theirs.
    package static let pumpRecordCountMax = 4096
    /// How often due retries and throttle windows are checked, in milliseconds.
    package static let timerResolutionMs: UInt64 = 20
    /// Attempts kept per delivery record (the oldest are dropped after repeated manual retries).
    package static let attemptsPerDeliveryMax = 50
    /// Continuous failure after which a webhook is disabled, in seconds (default 5 days).
    public static let autoDisableSecondsDefault: Double = 5 * 86_400
}
