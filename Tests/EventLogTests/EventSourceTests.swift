import Foundation
import Testing
@testable import EventLog

/// The local log as an `EventSource`: dense strict reads, gaps reported, pooled readers bounded.
@Suite(.timeLimit(.minutes(3))) struct EventSourceTests {
    static func log(_ directory: TemporaryDirectory, count: Int) async throws -> EventLog {
        let log = try EventLog(directory: directory.path, options: TestSupport.options(segmentSizeBytes: 4096))
        for start in stride(from: 0, to: count, by: 50) {
            _ = try await log.append(batch: (start..<min(count, start + 50)).map { TestSupport.event($0) })
        }
        return log
    }

    @Test func readsAreDenseFromTheOffsetAskedAcrossSegmentsAndEmptyAtTheHead() async throws {
        let directory = TemporaryDirectory()
        let log = try await Self.log(directory, count: 400)
        defer { log.close() }
        #expect(try SegmentCatalog.baseOffsets(directory: directory.path).count > 3)
        var offsets: [UInt64] = []
        var next: UInt64 = 7
        while true {
            let records = try await log.read(from: next, countMax: 33)
            if records.isEmpty { break }
            #expect(records.count <= 33)
            offsets += records.map(\.offset)
            next = records[records.count - 1].offset + 1
        }
        #expect(offsets == Array(7..<400))
        #expect(try await log.read(from: 400, countMax: 10).isEmpty)
        #expect(try await log.read(from: 5000, countMax: 10).isEmpty)
        #expect(try await log.firstOffset(atOrAfterTimeMs: 0) == 0)
        #expect(try await log.firstOffset(atOrAfterTimeMs: .max) == 400)
    }

    @Test func offsetsNoStoreHoldsAreReportedWithTheEarliestAvailableNeverSkipped() async throws {
        let directory = TemporaryDirectory()
        let log = try await Self.log(directory, count: 400)
        defer { log.close() }
        let bases = try SegmentCatalog.baseOffsets(directory: directory.path)
        for base in bases.prefix(2) {
            try FileManager.default.removeItem(atPath: directory.appending(SegmentName.log(baseOffset: base)))
        }
        #expect(try log.firstRetainedOffset() == bases[2])
        await #expect(throws: EventSourceError.eventsUnavailable(offset: 0, earliestAvailableOffset: bases[2])) {
            _ = try await log.read(from: 0, countMax: 10)
        }
        await #expect(throws: EventSourceError.eventsUnavailable(offset: bases[2] - 1, earliestAvailableOffset: bases[2])) {
            _ = try await log.read(from: bases[2] - 1, countMax: 10)
        }
        #expect(try await log.read(from: bases[2], countMax: 1).first?.offset == bases[2])
        // A time before the oldest retained event may name events that are gone.
        await #expect(throws: EventSourceError.self) { _ = try await log.firstOffset(atOrAfterTimeMs: 0) }
    }

    @Test func pooledReadersAreBoundedAndContinueWhereTheyStopped() async throws {
        let directory = TemporaryDirectory()
        let log = try await Self.log(directory, count: 200)
        defer { log.close() }
        for start in 0..<UInt64(EventLogLimits.pooledReaderCountMax + 10) {
            _ = try await log.read(from: start * 2, countMax: 1)
        }
        #expect(log.readers.count == EventLogLimits.pooledReaderCountMax)

        let pool = ReaderPool<Int>(capacity: 3)
        for value in 0..<5 { pool.put(value, at: UInt64(value)) }
        #expect(pool.count == 3)
        #expect(pool.take(at: 0) == nil, "the least recently stored went first")
        #expect(pool.take(at: 4) == 4)
        #expect(pool.take(at: 4) == nil, "taken out while used")
    }
}
