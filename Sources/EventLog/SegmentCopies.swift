import Crypto

/// Compares the files of one sealed segment written by two copies of the same log (`serve --engine`
/// processes): each copy writes the same records but stamps the header with its own creation time, so
/// the files differ there and in the footer's SHA-256 over the bytes before it.
package enum SegmentCopies {
    /// Whether `archived` and `local` are both intact sealed segment files that hold the same bytes
    /// everywhere except the header's creation time (and so the header CRC and the footer's digest):
    /// same size, base offset, chain-in, records byte for byte, record count, last offset and last chain,
    /// each footer's SHA-256 matching the bytes before it in its own file.
    package static func holdSameRecords(_ archived: [UInt8], _ local: [UInt8]) -> Bool {
        let footerSizeBytes = RecordFrame.headerSizeBytes + RecordFrame.footerBodySizeBytes
        let size = archived.count
        guard size == local.count, size >= SegmentHeader.sizeBytes + footerSizeBytes,
              let archivedHeader = try? SegmentHeader.decode(Array(archived[..<SegmentHeader.sizeBytes]), segment: "archived"),
              let localHeader = try? SegmentHeader.decode(Array(local[..<SegmentHeader.sizeBytes]), segment: "local"),
              archivedHeader.baseOffset == localHeader.baseOffset, archivedHeader.chainIn == localHeader.chainIn else { return false }
        let footerStart = size - footerSizeBytes
        guard archived[SegmentHeader.sizeBytes..<footerStart] == local[SegmentHeader.sizeBytes..<footerStart],
              let archivedFooter = footer(of: archived, at: footerStart), let localFooter = footer(of: local, at: footerStart),
              archivedFooter.recordCount == localFooter.recordCount, archivedFooter.lastOffset == localFooter.lastOffset,
              archivedFooter.lastChain == localFooter.lastChain else { return false }
        return archivedFooter.segmentDigest == SHA256.hash(Array(archived[..<footerStart]))
            && localFooter.segmentDigest == SHA256.hash(Array(local[..<footerStart]))
    }

    /// The footer frame that ends `bytes` at `position`, nil when it is anything else.
    private static func footer(of bytes: [UInt8], at position: Int) -> SegmentFooter? {
        let parsed = bytes.withUnsafeBytes { RecordFrame.parse(UnsafeRawBufferPointer(rebasing: $0[position...])) }
        if case .footer(let footer, let size) = parsed, position + size == bytes.count { return footer }
        return nil
    }
}
