/// Every limit of the delivery engine, in one place, grouped by concern.
public enum DeliveryLimits {
    /// Delivery attempts.
    public enum Attempts {
        /// Total time one attempt may take, connect to last byte, in seconds.
        public static let timeoutSeconds = 15.0
        /// Bytes of a response body kept in the history.
        package static let responseBodySizeBytesMax = 4096
        /// Attempts kept per delivery record (the oldest are dropped after repeated manual retries).
        package static let countPerDeliveryMax = 50
        /// Attempt requests in flight across all webhooks (URLSession's own pool is the next limit).
        package static let globalInFlightCountMax = 1024
    }

    /// Continuous failure after which a webhook is disabled, in seconds (default 5 days).
    public static let autoDisableSecondsDefault: Double = 5 * 86_400
    /// How often due retries and throttle windows are checked, in milliseconds.
    package static let timerResolutionMs: UInt64 = 20

    /// The shared scan of the log.
    public enum Scan {
        /// Records kept in the shared scan cache (the window that lanes read without their own reader).
        package static let cacheRecordCountMax = 16_384
        /// Bytes of event data kept in the shared scan cache.
        package static let cacheSizeBytesMax = 64 << 20
        /// Records one lane examines (or the scan reads) in one turn of the loop before others get theirs.
        package static let pumpRecordCountMax = 4096
    }

    /// Lanes reading on their own below the shared scan window (catching up, replaying, reading the archive).
    public enum CatchUp {
        /// Records one lane reads ahead.
        package static let recordCountMax = 256
        /// Log readers shared by the lanes behind the window (each holds a descriptor and a buffer).
        package static let readerCountMax = 8
        /// Wait before reading again after the archive could not be read: 1 s, doubling up to a minute.
        package static let readRetryBackoff = DoublingBackoff(firstMs: 1000, lastMs: 60_000)
    }

    /// Delivery histories: one journal per webhook, its index in memory while in use.
    public enum History {
        /// Bytes of delivery history indexes kept in memory across webhooks (bodies are never in memory).
        public static let memoryBytesMax = 64 << 20
        /// Delivery records kept listable per webhook (in its history file, indexed in memory while in use).
        public static let recordCountMax = 10_000
        /// Largest encoded delivery record in the history, in bytes (50 attempts of 4 KiB bodies escaped as JSON fit;
        /// beyond, the oldest attempts' bodies are left out).
        public static let recordSizeBytesMax = 2 << 20
        /// Webhook history indexes the dispatcher has loading at once (on blocking-I/O threads; the others wait).
        package static let loadCountMax = 2
        /// Wait before loading a webhook's history index again after its journal could not be read: 200 ms,
        /// doubling up to 30 s.
        package static let loadRetryBackoff = DoublingBackoff(firstMs: 200, lastMs: 30_000)
    }

    /// The history's writer thread.
    public enum HistoryWriter {
        /// History changes waiting for the writer (the dispatcher starts no new deliveries beyond;
        /// attempts already under way still add theirs).
        public static let pendingChangeCountMax = 8192
        /// Webhook history journals the writer keeps open (the least recently used are closed beyond).
        package static let openJournalCountMax = 128
    }
}
