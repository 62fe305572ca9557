import Synchronization
import Foundation
import Testing
@testable import EventLog

@Suite(.timeLimit(.minutes(3))) struct EventLogTests {
    @Test func hundredThousandEventsRoundTripAcrossRollsAndSeekExactly() async throws {
        let directory = TemporaryDirectory()
        let log = try EventLog(directory: directory.path, options: TestSupport.options(segmentSizeBytes: 512 * 1024))
        var appended: [AppendedEvent] = []
        for batchStart in stride(from: 0, to: 100_000, by: 1000) {
            let batch = (batchStart..<(batchStart + 1000)).map { TestSupport.event($0) }
            appended += try await log.append(batch: batch)
            if batchStart % 10_000 == 0 { try await Task.sleep(nanoseconds: 2_000_000) }
        }
        #expect(appended.map(\.offset) == (0..<100_000).map(UInt64.init))
        #expect(log.nextOffset == 100_000)
        log.close()

        let bases = try SegmentCatalog.baseOffsets(directory: directory.path)
        #expect(bases.count >= 10, "segments rolled: \(bases.count)")
        let records = try TestSupport.readAll(directory.path)
        #expect(records.count == 100_000)
        for (number, record) in records.enumerated() {
            let expected = TestSupport.event(number)
            if record.offset != UInt64(number) || record.eventID != expected.eventID || record.data != expected.data
                || record.type != expected.type || record.organizationID != expected.organizationID {
                Issue.record("record \(number) differs")
                break
            }
        }
        // Seeking by offset lands exactly, including on segment boundaries.
        for target in [0, 1, 999, 1000, 54_321, 99_999] + bases.map(Int.init) + bases.dropFirst().map({ Int($0) - 1 }) {
            var reader = try LogReader(directory: directory.path, start: .offset(UInt64(target)))
            #expect(try reader.next()?.offset == UInt64(target))
        }
        // Seeking by time lands on the first record at or after that time.
        let times = Set(records.map(\.timestampMs)).sorted()
        for time in [times[0], times[times.count / 3], times[times.count / 2], times[times.count - 1]] {
            var reader = try LogReader(directory: directory.path, start: .time(time))
            let expected = records.first { $0.timestampMs >= time }
            #expect(try reader.next()?.offset == expected?.offset)
        }
        var beyond = try LogReader(directory: directory.path, start: .time(times[times.count - 1] + 1))
        #expect(try beyond.next() == nil)
        let report = try LogVerifier.verify(directory: directory.path)
        #expect(report.isIntact, "\(report.summary.problem ?? "")")
        #expect(report.summary.recordCount == 100_000)
    }

    @Test func reopenContinuesOffsetsAndChainUnderAlways() async throws {
        let directory = TemporaryDirectory()
        do {
            let log = try EventLog(directory: directory.path, options: TestSupport.options(fsync: .always))
            for number in 0..<50 { _ = try await log.append(TestSupport.event(number)) }
            // One append at a time: each waits for its own durable commit, one timed fdatasync each.
            let sync = log.syncStatistics
            #expect(sync.count == 50 && sync.totalSeconds > 0, "\(sync.count) fdatasyncs for 50 sequential appends")
            log.close()
        }
        let log = try EventLog(directory: directory.path, options: TestSupport.options(fsync: .always))
        #expect(log.nextOffset == 50)
        let next = try await log.append(TestSupport.event(50))
        #expect(next.offset == 50)
        log.close()
        #expect(try LogVerifier.verify(directory: directory.path).isIntact)
        #expect(try TestSupport.readAll(directory.path).map(\.eventID) == (0...50).map { "evt_\($0)" })
    }

    /// Group commit: 1,000 appends waiting at once share far fewer fdatasyncs than appends (a writer
    /// that syncs once per append needs 1,000), and every append is durable and in the log.
    @Test func concurrentAppendsShareFdatasyncs() async throws {
        let directory = TemporaryDirectory()
        let log = try EventLog(directory: directory.path, options: TestSupport.options(segmentSizeBytes: 1 << 20, fsync: .always))
        let total = 1000
        let offsets = try await withThrowingTaskGroup(of: UInt64.self) { group in
            for number in 0..<total { group.addTask { try await log.append(TestSupport.event(number)).offset } }
            var offsets: [UInt64] = []
            for try await offset in group { offsets.append(offset) }
            return offsets
        }
        let syncs = log.syncStatistics.count
        log.close()
        #expect(offsets.sorted() == (0..<UInt64(total)).map { $0 })
        #expect(syncs >= 1 && syncs <= total / 10, "\(total) concurrent appends took \(syncs) fdatasyncs")
        #expect(try TestSupport.readAll(directory.path).count == total)
    }

    /// The running SHA-256 of a reopened active segment comes from one read at open (and a torn tail cut
    /// first), so the footer written at the next roll matches the file: verify checks it byte for byte.
    @Test func segmentReopenedMidwayAndTornSealsWithTheRightDigest() async throws {
        let directory = TemporaryDirectory()
        do {
            let log = try EventLog(directory: directory.path, options: TestSupport.options())
            for number in 0..<40 { _ = try await log.append(TestSupport.event(number)) }
            log.close()
        }
        // A torn tail: half a frame of garbage after the last record.
        let active = directory.path + "/" + SegmentName.log(baseOffset: 0)
        let handle = try #require(FileHandle(forWritingAtPath: active))
        handle.seekToEndOfFile()
        handle.write(Data([0x40, 0, 0, 0, 1, 2, 3]))
        try handle.close()
        let log = try EventLog(directory: directory.path, options: TestSupport.options())
        // Enough to roll the 64 KiB segment several times.
        for start in stride(from: 40, to: 3040, by: 100) {
            _ = try await log.append(batch: (start..<(start + 100)).map { TestSupport.event($0) })
        }
        log.close()
        let report = try LogVerifier.verify(directory: directory.path)
        #expect(report.isIntact, "\(report.summary.problem ?? "")")
        #expect(report.summary.segmentCount > 2)
        #expect(report.summary.recordCount == 3040)
    }

    @Test func invalidEventsAreRefusedAndChangeNothing() async throws {
        let directory = TemporaryDirectory()
        let log = try EventLog(directory: directory.path, options: TestSupport.options())
        defer { log.close() }
        let tooBig = NewEvent(organizationID: "o", type: "user.created", eventID: "e",
                              data: [UInt8](repeating: 0x20, count: EventLogLimits.dataSizeBytesMax + 1))
        await #expect(throws: EventLogError.self) { try await log.append(tooBig) }
        await #expect(throws: EventLogError.self) {
            try await log.append(NewEvent(organizationID: "", type: "user.created", eventID: "e", data: []))
        }
        await #expect(throws: EventLogError.self) { try await log.append(batch: []) }
        #expect(log.nextOffset == 0)
        #expect(try await log.append(TestSupport.event(1)).offset == 0)
    }

    @Test func secondWriterIsRefusedNamingThePid() throws {
        let directory = TemporaryDirectory()
        let log = try EventLog(directory: directory.path, options: TestSupport.options())
        defer { log.close() }
        #expect(throws: EventLogError.locked(path: directory.path, holderPID: getpid())) {
            _ = try EventLog(directory: directory.path, options: TestSupport.options())
        }
    }

    @Test func inProcessReaderFollowsAcrossRollsWithoutReadingPastTheDurableHead() async throws {
        let directory = TemporaryDirectory()
        let log = try EventLog(directory: directory.path, options: TestSupport.options(segmentSizeBytes: 8192, fsync: .always))
        defer { log.close() }
        let total = 3000
        let producer = Task {
            for start in stride(from: 0, to: total, by: 10) {
                _ = try await log.append(batch: (start..<(start + 10)).map { TestSupport.event($0) })
            }
        }
        var reader = try log.makeReader(from: .beginning)
        var seen: [UInt64] = []
        while seen.count < total {
            if let record = try reader.next() {
                seen.append(record.offset)
            } else {
                await log.waitForAppend(atOrAfter: reader.nextOffset)
            }
        }
        try await producer.value
        #expect(seen == (0..<UInt64(total)).map { $0 })
        #expect(try SegmentCatalog.baseOffsets(directory: directory.path).count > 5)
    }

    /// An append observer hears every durable head, after the events are readable, until it is removed.
    @Test func appendObserversHearEachDurableHeadUntilRemoved() async throws {
        let directory = TemporaryDirectory()
        let log = try EventLog(directory: directory.path, options: TestSupport.options())
        defer { log.close() }
        let heard = Mutex<[UInt64]>([])
        let token = try log.addAppendObserver { head in
            #expect(log.nextOffset >= head, "the head is published before observers run")
            heard.withLock { $0.append(head) }
        }
        _ = try await log.append(batch: (0..<3).map { TestSupport.event($0) })
        _ = try await log.append(TestSupport.event(3))
        #expect(heard.withLock { $0 } == [3, 4])
        log.removeAppendObserver(token)
        _ = try await log.append(TestSupport.event(4))
        #expect(heard.withLock { $0 } == [3, 4])
    }

    /// Observers beyond `appendObserverCountMax` are refused with an error naming the log; removing one makes room.
    @Test func observersBeyondTheLimitAreRefusedUntilOneIsRemoved() async throws {
        let directory = TemporaryDirectory()
        let log = try EventLog(directory: directory.path, options: TestSupport.options())
        defer { log.close() }
        let heard = Mutex(0)
        var tokens: [AppendObserverToken] = []
        for _ in 0..<EventLogLimits.appendObserverCountMax {
            tokens.append(try log.addAppendObserver { _ in heard.withLock { $0 += 1 } })
        }
        #expect(throws: EventLogError.tooManyAppendObservers(directory: directory.path, countMax: EventLogLimits.appendObserverCountMax)) {
            try log.addAppendObserver { _ in heard.withLock { $0 += 1_000 } }
        }
        _ = try await log.append(TestSupport.event(0))
        #expect(heard.withLock { $0 } == EventLogLimits.appendObserverCountMax, "the refused observer was never called")
        log.removeAppendObserver(tokens.removeFirst())
        tokens.append(try log.addAppendObserver { _ in })
        #expect(EventLogError.tooManyAppendObservers(directory: "/d", countMax: 16).description.contains("/d"))
    }

    @Test func readerFromEndSeesOnlyNewEvents() async throws {
        let directory = TemporaryDirectory()
        let log = try EventLog(directory: directory.path, options: TestSupport.options())
        defer { log.close() }
        _ = try await log.append(batch: (0..<10).map { TestSupport.event($0) })
        var reader = try log.makeReader(from: .end)
        #expect(try reader.next() == nil)
        _ = try await log.append(TestSupport.event(10))
        #expect(try reader.next()?.offset == 10)
    }

    @Test func aReaderWaitingAtASealedSegmentWhoseSuccessorIsNotCreatedYetContinuesLater() async throws {
        let directory = TemporaryDirectory()
        do {
            let log = try EventLog(directory: directory.path, options: TestSupport.options(segmentSizeBytes: 4096))
            for number in 0..<40 { _ = try await log.append(TestSupport.event(number)) }
            log.close()
        }
        // The state between writing a footer and creating the next segment.
        let last = try #require(try SegmentCatalog.baseOffsets(directory: directory.path).last)
        try FileManager.default.removeItem(atPath: directory.appending(SegmentName.log(baseOffset: last)))
        try? FileManager.default.removeItem(atPath: directory.appending(SegmentName.index(baseOffset: last)))
        var reader = try LogReader(directory: directory.path, start: .beginning)
        var offsets: [UInt64] = []
        while let record = try reader.next() { offsets.append(record.offset) }
        #expect(try reader.next() == nil, "still waiting at the footer")
        let log = try EventLog(directory: directory.path, options: TestSupport.options(segmentSizeBytes: 4096))
        _ = try await log.append(TestSupport.event(1000))
        log.close()
        while let record = try reader.next() { offsets.append(record.offset) }
        #expect(offsets == (0...last).map { $0 })
    }

    @Test func damagedIndexIsIgnoredAndRebuiltOnOpen() async throws {
        let directory = TemporaryDirectory()
        do {
            let log = try EventLog(directory: directory.path, options: TestSupport.options())
            _ = try await log.append(batch: (0..<500).map { TestSupport.event($0) })
            log.close()
        }
        let indexPath = directory.appending(SegmentName.index(baseOffset: 0))
        try Data(repeating: 0xAB, count: 200).write(to: URL(fileURLWithPath: indexPath))
        var reader = try LogReader(directory: directory.path, start: .offset(321))
        #expect(try reader.next()?.offset == 321)
        let log = try EventLog(directory: directory.path, options: TestSupport.options())
        #expect(log.nextOffset == 500)
        log.close()
        #expect(try LogVerifier.verify(directory: directory.path).isIntact)
    }

    @Test func crashDuringRollIsFinishedOnOpen() async throws {
        let directory = TemporaryDirectory()
        do {
            let log = try EventLog(directory: directory.path, options: TestSupport.options(segmentSizeBytes: 4096))
            for number in 0..<100 { _ = try await log.append(TestSupport.event(number)) }
            log.close()
        }
        // Simulate a crash after the footer was written but before the next segment existed.
        let bases = try SegmentCatalog.baseOffsets(directory: directory.path)
        let last = try #require(bases.last)
        try FileManager.default.removeItem(atPath: directory.appending(SegmentName.log(baseOffset: last)))
        try? FileManager.default.removeItem(atPath: directory.appending(SegmentName.index(baseOffset: last)))
        let log = try EventLog(directory: directory.path, options: TestSupport.options(segmentSizeBytes: 4096))
        let appended = try await log.append(TestSupport.event(1000))
        #expect(appended.offset == last)
        log.close()
        #expect(try LogVerifier.verify(directory: directory.path).isIntact)
    }

    @Test func retentionDeletesOnlyPassedAndApprovedSealedSegments() async throws {
        let directory = TemporaryDirectory()
        let log = try EventLog(directory: directory.path, options: TestSupport.options(segmentSizeBytes: 4096))
        defer { log.close() }
        _ = try await log.append(batch: (0..<200).map { TestSupport.event($0) })
        for number in 200..<400 { _ = try await log.append(TestSupport.event(number)) }
        let before = try SegmentCatalog.summaries(directory: directory.path)
        #expect(before.filter(\.sealed).count >= 3)
        let everything = RetentionPolicy(sizeBytesMax: 0)
        // No consumer has passed anything: nothing goes.
        #expect(try log.applyRetention(everything, consumersFloor: 0).isEmpty)
        // Consumers passed the first sealed segment only.
        let firstLast = try #require(before[0].lastOffset)
        #expect(try log.applyRetention(everything, consumersFloor: firstLast + 1) == [before[0].baseOffset])
        // Consumers passed all, but archival approves none.
        #expect(try log.applyRetention(everything, consumersFloor: .max, mayDelete: { _ in false }).isEmpty)
        // Everything passed and approved: every sealed segment goes, the active one stays.
        let deleted = try log.applyRetention(everything, consumersFloor: .max)
        #expect(deleted == before.filter(\.sealed).dropFirst().map(\.baseOffset))
        let remaining = try SegmentCatalog.summaries(directory: directory.path)
        #expect(remaining.count == 1 && !remaining[0].sealed)
        #expect(try LogVerifier.verify(directory: directory.path).isIntact)
        // A reader asked for a deleted offset starts at the oldest retained one.
        var reader = try LogReader(directory: directory.path, start: .offset(0))
        #expect(try reader.next()?.offset == remaining[0].baseOffset)
        // Age: nothing is older than an hour.
        #expect(try log.applyRetention(RetentionPolicy(ageSecondsMax: 3600), consumersFloor: .max).isEmpty)
    }
}
