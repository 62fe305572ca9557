import Crypto

/// Compares the files of one sealed segment written by two copies of the same log (`serve --engine`
/// processes): each copy writes the same records but stamps the header with its own creation time, so
/// the files differ there and in the footer's SHA-256 over the bytes before it.
package enum SegmentCopies {
    /// Whether `archived` and `local` are both intact sealed segment files that hold the same bytes
    /// everywhere except the header's creation time (and so the header CRC and the footer's digest and CRC):
    /// the whole header but those (reserved bytes included), the records byte for byte, the whole footer
    /// frame but its CRC and digest (padding included), each footer's SHA-256 matching the bytes before it
    /// in its own file. Reads both in place (no copy).
    package static func holdSameRecords(_ archived: [UInt8], _ local: [UInt8]) -> Bool {
        let footerSizeBytes = RecordFrame.headerSizeBytes + RecordFrame.footerBodySizeBytes
        let size = archived.count
        guard size == local.count, size >= SegmentHeader.sizeBytes + footerSizeBytes,
              (try? SegmentHeader.decode(Array(archived[..<SegmentHeader.sizeBytes]), segment: "archived")) != nil,
              (try? SegmentHeader.decode(Array(local[..<SegmentHeader.sizeBytes]), segment: "local")) != nil else { return false }
        let footerStart = size - footerSizeBytes
        let digestStart = size - SHA256.digestByteCount
        // Bytes that may differ: the creation time and the header CRC over it, the footer's CRC and digest.
        let mayDiffer = [SegmentHeader.createdTimeRange, SegmentHeader.crcRange,
                         (footerStart + 4)..<(footerStart + RecordFrame.headerSizeBytes), digestStart..<size]
        var position = 0
        for range in mayDiffer {
            guard archived[position..<range.lowerBound] == local[position..<range.lowerBound] else { return false }
            position = range.upperBound
        }
        guard let archivedFooter = footer(of: archived, at: footerStart), let localFooter = footer(of: local, at: footerStart) else {
            return false
        }
        func digest(_ bytes: [UInt8]) -> [UInt8] {
            bytes.withUnsafeBytes { SHA256.hash(UnsafeRawBufferPointer(rebasing: $0[..<footerStart])) }
        }
        return archivedFooter.segmentDigest == digest(archived) && localFooter.segmentDigest == digest(local)
    }

    /// The footer frame that ends `bytes` at `position`, nil when it is anything else.
    private static func footer(of bytes: [UInt8], at position: Int) -> SegmentFooter? {
        let parsed = bytes.withUnsafeBytes { RecordFrame.parse(UnsafeRawBufferPointer(rebasing: $0[position...])) }
        if case .footer(let footer, let size) = parsed, position + size == bytes.count { return footer }
        return nil
    }
}
