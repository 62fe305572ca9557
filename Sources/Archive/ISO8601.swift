import EventLog

/// Second-precision UTC times as S3 wants them (`2013-05-24T00:00:00Z`), from the log's own formatter.
enum ISO8601 {
    /// `YYYY-MM-DDTHH:MM:SSZ` for `ms` since 1970 (milliseconds dropped).
    static func format(ms: Int64) -> String {
        let full = Timestamp.format(ms: ms)  // 2013-05-24T00:00:00.000+00:00
        return String(full.prefix(19)) + "Z"
    }
}
