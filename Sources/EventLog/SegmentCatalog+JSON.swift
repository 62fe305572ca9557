import JSON

extension SegmentCatalog.Summary {
    /// `segments --format json`'s line for this segment: `base_offset`, `last_offset`, `records`, `bytes`,
    /// `first_time` and `last_time` (RFC 3339, null for an empty segment), `sealed`, and `archived` (given
    /// by the caller, who knows the archive state).
    package func jsonLine(archived: Bool) -> String {
        func time(_ ms: Int64?) -> JSONValue { ms.map { .string(Timestamp.format(ms: $0)) } ?? .null }
        return JSONValue.object([
            ("base_offset", .integer(baseOffset)), ("last_offset", lastOffset.map { .integer($0) } ?? .null),
            ("records", .integer(recordCount)), ("bytes", .integer(sizeBytes)),
            ("first_time", time(firstTimestampMs)), ("last_time", time(lastTimestampMs)),
            ("sealed", .bool(sealed)), ("archived", .bool(archived)),
        ]).text
    }
}
