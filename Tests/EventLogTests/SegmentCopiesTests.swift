import Crypto
import Foundation
import Testing
@testable import EventLog

/// Two copies of one sealed segment (as two `serve --engine` processes write them) are the same records
/// only when they differ in nothing but the header's creation time and what follows from it; any other
/// byte that differs, even one no parser reads (reserved header bytes, footer padding), makes them two.
@Suite struct SegmentCopiesTests {
    /// A sealed segment file of a fresh log.
    static func sealedSegment() async throws -> [UInt8] {
        let directory = TemporaryDirectory()
        let log = try EventLog(directory: directory.appending("log"), options: TestSupport.options(segmentSizeBytes: 4096))
        for number in 0..<60 { _ = try await log.append(TestSupport.event(number)) }
        log.close()
        let baseOffset = try #require(try SegmentCatalog.baseOffsets(directory: directory.appending("log")).first)
        #expect(try SegmentCatalog.footer(directory: directory.appending("log"), baseOffset: baseOffset) != nil, "sealed")
        return Array(try Data(contentsOf: URL(fileURLWithPath: directory.appending("log") + "/" + SegmentName.log(baseOffset: baseOffset))))
    }

    /// `bytes` changed by `change`, then made intact again as a writer would have written it: the header CRC,
    /// the footer's digest of everything before it, and the footer frame's CRC recomputed.
    static func resealed(_ bytes: [UInt8], _ change: (inout [UInt8], _ footerStart: Int) -> Void) -> [UInt8] {
        var bytes = bytes
        let footerStart = bytes.count - RecordFrame.headerSizeBytes - RecordFrame.footerBodySizeBytes
        change(&bytes, footerStart)
        let headerCRC = CRC32C.checksum(Array(bytes[0..<64]))
        withUnsafeBytes(of: headerCRC.littleEndian) { bytes.replaceSubrange(64..<68, with: $0) }
        let digest = SHA256.hash(Array(bytes[..<footerStart]))
        bytes.replaceSubrange((bytes.count - 32)..<bytes.count, with: digest)
        let footerCRC = CRC32C.update(CRC32C.update(0, Array(bytes[footerStart..<(footerStart + 4)])), Array(bytes[(footerStart + 8)...]))
        withUnsafeBytes(of: footerCRC.littleEndian) { bytes.replaceSubrange((footerStart + 4)..<(footerStart + 8), with: $0) }
        return bytes
    }

    @Test func copiesDifferingOnlyInCreationTimeHoldTheSameRecords() async throws {
        let segment = try await Self.sealedSegment()
        // The digest returned is the whole archived copy's (one pass over it).
        let itself = SegmentCopies.digest(ofCopy: segment, holdingSameRecordsAs: segment)
        #expect(itself == SHA256.hash(segment))
        let otherTime = Self.resealed(segment) { bytes, _ in bytes[24] ^= 0x5a }
        let forward = SegmentCopies.digest(ofCopy: otherTime, holdingSameRecordsAs: segment)
        let backward = SegmentCopies.digest(ofCopy: segment, holdingSameRecordsAs: otherTime)
        #expect(otherTime != segment)
        #expect(forward == SHA256.hash(otherTime) && backward == SHA256.hash(segment))
    }

    @Test func anyOtherDifferenceMakesThemTwo() async throws {
        let segment = try await Self.sealedSegment()
        let changes: [(String, (inout [UInt8], Int) -> Void)] = [
            ("a reserved header byte under the CRC", { bytes, _ in bytes[12] = 0x01 }),
            ("a reserved header byte after the CRC", { bytes, _ in bytes[70] = 0x01 }),
            ("a byte of the chain-in", { bytes, _ in bytes[40] ^= 0x01 }),
            ("a byte of a record", { bytes, _ in bytes[200] ^= 0x01 }),
            ("the footer's padding", { bytes, footerStart in bytes[footerStart + 9] = 0x01 }),
            ("the footer's record count", { bytes, footerStart in bytes[footerStart + 16] ^= 0x01 }),
        ]
        for (name, change) in changes {
            let same = SegmentCopies.digest(ofCopy: Self.resealed(segment, change), holdingSameRecordsAs: segment)
            #expect(same == nil, "\(name)")
        }
        // An archived copy whose footer digest does not match its bytes is no intact copy either: another
        // creation time under a header CRC made to match, the original footer (its digest, its CRC) kept.
        let footerStart = segment.count - RecordFrame.headerSizeBytes - RecordFrame.footerBodySizeBytes
        var stale = Self.resealed(segment) { bytes, _ in bytes[24] ^= 0x5a }
        stale.replaceSubrange(footerStart..., with: segment[footerStart...])
        let staleSame = SegmentCopies.digest(ofCopy: stale, holdingSameRecordsAs: segment)
        #expect(staleSame == nil)
    }
}
