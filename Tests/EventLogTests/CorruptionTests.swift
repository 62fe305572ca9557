import Crypto
import Foundation
import Testing
@testable import EventLog

/// Damage to segment files: what recovery cuts, and what `verify` reports.
@Suite(.timeLimit(.minutes(5))) struct CorruptionTests {
    /// A log with several sealed segments; returns the records.
    static func makeLog(_ directory: TemporaryDirectory, count: Int = 120, segmentSizeBytes: Int = 4096) async throws -> [EventRecord] {
        let log = try EventLog(directory: directory.path, options: TestSupport.options(segmentSizeBytes: segmentSizeBytes))
        for number in 0..<count { _ = try await log.append(TestSupport.event(number)) }
        log.close()
        return try TestSupport.readAll(directory.path)
    }

    static func bytes(_ path: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) }

    static func write(_ bytes: [UInt8], _ path: String) throws { try Data(bytes).write(to: URL(fileURLWithPath: path)) }

    @Test func truncatingTheLastRecordAtEveryByteRecoversToThePreviousRecord() async throws {
        let source = TemporaryDirectory()
        let records = try await Self.makeLog(source, count: 40, segmentSizeBytes: 1 << 20)
        let segmentPath = source.appending(SegmentName.log(baseOffset: 0))
        let original = try Self.bytes(segmentPath)
        let last = try #require(try TestSupport.frames(of: segmentPath).last)
        #expect(last.position + last.size == original.count)
        for cut in last.position..<(last.position + last.size) {
            let copy = TemporaryDirectory("torn\(cut)")
            try Self.write(Array(original[0..<cut]), copy.appending(SegmentName.log(baseOffset: 0)))
            let log = try EventLog(directory: copy.path, options: TestSupport.options())
            #expect(log.nextOffset == 39, "cut at byte \(cut)")
            let appended = try await log.append(TestSupport.event(1000))
            #expect(appended.offset == 39)
            log.close()
            let reread = try TestSupport.readAll(copy.path)
            #expect(Array(reread.prefix(39)) == Array(records.prefix(39)))
            #expect(try LogVerifier.verify(directory: copy.path).isIntact, "cut at byte \(cut)")
        }
    }

    @Test func badCRCOnTheLastRecordIsATornTailButInTheMiddleIsAnError() async throws {
        let directory = TemporaryDirectory()
        _ = try await Self.makeLog(directory, count: 10, segmentSizeBytes: 1 << 20)
        let path = directory.appending(SegmentName.log(baseOffset: 0))
        let frames = try TestSupport.frames(of: path)
        var bytes = try Self.bytes(path)
        bytes[frames[4].position + 20] ^= 0x01
        try Self.write(bytes, path)
        #expect(throws: EventLogError.self) { _ = try EventLog(directory: directory.path, options: TestSupport.options()) }
        let report = try LogVerifier.verify(directory: directory.path)
        #expect(report.summary.firstBadOffset == 4)
        bytes[frames[4].position + 20] ^= 0x01
        bytes[frames[9].position + 20] ^= 0x01
        try Self.write(bytes, path)
        let log = try EventLog(directory: directory.path, options: TestSupport.options())
        #expect(log.nextOffset == 9)
        log.close()
    }

    /// Segments are checked in parallel, but the report names the first damage in log order, whichever
    /// segment's worker finishes first.
    @Test func damageInTwoSegmentsIsReportedAtTheEarlierOffset() async throws {
        let directory = TemporaryDirectory()
        _ = try await Self.makeLog(directory, count: 120)
        let bases = try SegmentCatalog.baseOffsets(directory: directory.path)
        try #require(bases.count >= 4)
        for base in [bases[3], bases[1]] {
            let path = directory.appending(SegmentName.log(baseOffset: base))
            let frames = try TestSupport.frames(of: path)
            var bytes = try Self.bytes(path)
            bytes[frames[1].position + 20] ^= 0x01
            try Self.write(bytes, path)
        }
        for _ in 0..<5 {
            let report = try LogVerifier.verify(directory: directory.path)
            #expect(report.summary.firstBadOffset == bases[1] + 1)
            #expect(report.summary.recordCount == bases[1], "segments before the damage are counted, none after")
        }
    }

    /// Record offset owning each byte of a sealed segment (header bytes belong to the base offset).
    static func owners(of path: String, records: [EventRecord], base: UInt64) throws -> [UInt64?] {
        let frames = try TestSupport.frames(of: path)
        var owners = [UInt64?](repeating: base, count: SegmentHeader.sizeBytes)
        for (number, frame) in frames.enumerated() {
            let owner: UInt64? = number < frames.count - 1 ? base + UInt64(number) : nil  // the footer: any offset
            owners += [UInt64?](repeating: owner, count: frame.size)
        }
        return owners
    }

    @Test func aFlippedBitAnywhereInASealedSegmentIsDetectedAtTheRightOffset() async throws {
        let directory = TemporaryDirectory()
        let records = try await Self.makeLog(directory)
        let bases = try SegmentCatalog.baseOffsets(directory: directory.path)
        #expect(bases.count >= 3)
        let base = bases[1]
        let path = directory.appending(SegmentName.log(baseOffset: base))
        let original = try Self.bytes(path)
        let owners = try Self.owners(of: path, records: records, base: base)
        #expect(owners.count == original.count)
        for position in 0..<original.count {
            var damaged = original
            damaged[position] ^= UInt8(1 << (position % 8))
            try Self.write(damaged, path)
            let report = try LogVerifier.verify(directory: directory.path)
            #expect(!report.isIntact, "flip at byte \(position) not detected")
            if let owner = owners[position] {
                #expect(report.summary.firstBadOffset == owner, "flip at byte \(position): \(report.summary.problem ?? "")")
            }
        }
        try Self.write(original, path)
        #expect(try LogVerifier.verify(directory: directory.path).isIntact)
    }

    /// Rewrites a sealed segment's frames with `edit` and returns the verification report.
    /// Returns the report and the edited segment's base offset.
    static func verifyAfterEditing(_ edit: (inout [[UInt8]]) throws -> Void) async throws -> (report: LogVerifier.Report, base: UInt64) {
        let directory = TemporaryDirectory("edit")
        _ = try await makeLog(directory)
        let base = try SegmentCatalog.baseOffsets(directory: directory.path)[1]
        let path = directory.appending(SegmentName.log(baseOffset: base))
        let bytes = try Self.bytes(path)
        var frames = try TestSupport.frames(of: path).map { Array(bytes[$0.position..<($0.position + $0.size)]) }
        try edit(&frames)
        try Self.write(Array(bytes[0..<SegmentHeader.sizeBytes]) + frames.joined(), path)
        return (try LogVerifier.verify(directory: directory.path), base)
    }

    @Test func removedDuplicatedReorderedAndInsertedRecordsAreDetected() async throws {
        // Frame 3 of the second segment holds offset base + 3.
        let removed = try await Self.verifyAfterEditing { $0.remove(at: 3) }
        #expect(removed.report.summary.firstBadOffset == removed.base + 3)
        let duplicated = try await Self.verifyAfterEditing { $0.insert($0[3], at: 4) }
        #expect(duplicated.report.summary.firstBadOffset == duplicated.base + 4)
        let reordered = try await Self.verifyAfterEditing { $0.swapAt(3, 4) }
        #expect(reordered.report.summary.firstBadOffset == reordered.base + 3)
        // An inserted record forged with a valid CRC and the right offset still breaks the chain.
        let inserted = try await Self.verifyAfterEditing { frames in
            var forged = frames[3]
            forged[forged.count - 2] = UInt8(ascii: "9")
            let crc = CRC32C.update(CRC32C.checksum(forged[0..<4]), forged[8...])
            withUnsafeBytes(of: crc.littleEndian) { for index in 0..<4 { forged[4 + index] = $0[index] } }
            frames.insert(forged, at: 3)
        }
        #expect(inserted.report.summary.firstBadOffset == inserted.base + 3)
        #expect(inserted.report.summary.problem?.contains("hash chain") == true)
    }

    @Test func aMissingSegmentIsAGap() async throws {
        let directory = TemporaryDirectory()
        _ = try await Self.makeLog(directory)
        let bases = try SegmentCatalog.baseOffsets(directory: directory.path)
        try FileManager.default.removeItem(atPath: directory.appending(SegmentName.log(baseOffset: bases[1])))
        let report = try LogVerifier.verify(directory: directory.path)
        #expect(report.summary.firstBadOffset == bases[1])
    }
}
