import Crypto

/// Compares the files of one sealed segment written by two copies of the same log (`serve --engine`
/// processes): each copy writes the same records but stamps the header with its own creation time, so
/// the files differ there and in the footer's SHA-256 over the bytes before it.
package enum SegmentCopies {
    /// The SHA-256 of all of `archived` when it and `local` are sealed segment files that hold the same bytes
    /// everywhere except the header's creation time (and so the header CRC and the footer's digest and CRC):
    /// the whole header but those (reserved bytes included), the records byte for byte, the whole footer
    /// frame but its CRC and digest (padding included), `archived`'s footer SHA-256 matching the bytes before
    /// it. Nil otherwise. `local` must be checked already (its footer's digest, as
    /// `LogVerifier.verifySegment` does): it is not hashed again. Reads both in place (no copy) and hashes
    /// `archived` once, for its footer's digest and the whole (which the caller compares with its manifest entry).
    package static func digest(ofCopy archived: [UInt8], holdingSameRecordsAs local: [UInt8]) -> [UInt8]? {
        let footerSizeBytes = RecordFrame.headerSizeBytes + RecordFrame.footerBodySizeBytes
        let size = archived.count
        guard size == local.count, size >= SegmentHeader.sizeBytes + footerSizeBytes,
              (try? SegmentHeader.decode(Array(archived[..<SegmentHeader.sizeBytes]), segment: "archived")) != nil,
              (try? SegmentHeader.decode(Array(local[..<SegmentHeader.sizeBytes]), segment: "local")) != nil else { return nil }
        let footerStart = size - footerSizeBytes
        let digestStart = size - SHA256.digestByteCount
        // Bytes that may differ: the creation time and the header CRC over it, the footer's CRC and digest.
        let mayDiffer = [SegmentHeader.createdTimeRange, SegmentHeader.crcRange,
                         (footerStart + 4)..<(footerStart + RecordFrame.headerSizeBytes), digestStart..<size]
        var position = 0
        for range in mayDiffer {
            guard archived[position..<range.lowerBound] == local[position..<range.lowerBound] else { return nil }
            position = range.upperBound
        }
        guard let archivedFooter = footer(of: archived, at: footerStart), footer(of: local, at: footerStart) != nil else {
            return nil
        }
        return archived.withUnsafeBytes { bytes -> [UInt8]? in
            var hasher = SHA256()
            hasher.update(UnsafeRawBufferPointer(rebasing: bytes[..<footerStart]))
            let beforeFooter = hasher
            guard beforeFooter.finalize() == archivedFooter.segmentDigest else { return nil }
            hasher.update(UnsafeRawBufferPointer(rebasing: bytes[footerStart...]))
            return hasher.finalize()
        }
    }

    /// The footer frame that ends `bytes` at `position`, nil when it is anything else.
    private static func footer(of bytes: [UInt8], at position: Int) -> SegmentFooter? {
        let parsed = bytes.withUnsafeBytes { RecordFrame.parse(UnsafeRawBufferPointer(rebasing: $0[position...])) }
        if case .footer(let footer, let size) = parsed, position + size == bytes.count { return footer }
        return nil
    }
}
