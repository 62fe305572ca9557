import ArgusTestSupport
import Glibc
import Merkle
import SystemIO
import Synchronization
import Testing
@testable import EventLog

/// Appends queued with `deferringWake` wait for `wakeWriterIfDeferred()` and then go to disk as one
/// group (one `fdatasync`); without the wake the idle writer still takes them, within its idle bound.
@Suite(.timeLimit(.minutes(1))) struct DeferredWakeTests {
    static func event(_ number: Int) -> NewEvent {
        NewEvent(organizationID: "org_1", type: "user.login", eventID: "evt_\(number)", data: Array(#"{"n":\#(number)}"#.utf8))
    }

    /// Offsets of the appends that completed, in completion order.
    final class Completions: Sendable {
        let offsets = Mutex<[UInt64]>([])
        let failures = Atomic<Int>(0)
        var count: Int { offsets.withLock { $0.count } }
        func record(_ result: Result<[AppendedEvent], EventLogError>) {
            switch result {
            case .success(let appended): offsets.withLock { $0.append(contentsOf: appended.map(\.offset)) }
            case .failure: failures.add(1, ordering: .relaxed)
            }
        }
    }

    @Test func deferredAppendsWaitForTheWakeAndShareOneSync() async throws {
        let directory = TemporaryDirectory()
        var options = TestSupport.options(fsync: .always)
        options.writerIdleWaitSecondsMax = 3600  // only the wake takes them
        let log = try EventLog(directory: directory.path, options: options)
        defer { log.close() }
        _ = try await log.append(batch: [Self.event(-1)])
        #expect(await eventually(seconds: 10) { log.writerIsIdle }, "the writer goes idle after the first append")
        let syncsBefore = log.syncStatistics.count
        let takenBefore = log.writerTakenQueueCount
        let completions = Completions()
        for number in 0..<10 {
            log.append(batch: [Self.event(number)], deferringWake: true) { completions.record($0) }
        }
        // A writer woken by any of them would take the queue at once; none is, so in 0.3 s nothing is taken.
        #expect(await !eventually(seconds: 0.3) { log.writerTakenQueueCount != takenBefore }, "queued without a wake, nothing is taken")
        #expect(completions.count == 0)
        log.wakeWriterIfDeferred()
        #expect(await eventually(seconds: 10) { completions.count == 10 }, "the wake takes all ten")
        #expect(completions.offsets.withLock { $0 } == Array(1...10))
        #expect(completions.failures.load(ordering: .relaxed) == 0)
        #expect(log.syncStatistics.count - syncsBefore == 1, "one group, one fdatasync")
        #expect(log.writerTakenQueueCount - takenBefore == 1)
        log.wakeWriterIfDeferred()  // nothing deferred now: no effect
        #expect(log.syncStatistics.count - syncsBefore == 1)
    }

    @Test func aDeferredAppendWithoutAWakeIsTakenWithinTheIdleBound() async throws {
        let directory = TemporaryDirectory()
        var options = TestSupport.options(fsync: .always)
        options.writerIdleWaitSecondsMax = 0.05
        let log = try EventLog(directory: directory.path, options: options)
        defer { log.close() }
        #expect(await eventually(seconds: 10) { log.writerIsIdle }, "the writer goes idle after opening")
        let completions = Completions()
        log.append(batch: [Self.event(0)], deferringWake: true) { completions.record($0) }
        #expect(await eventually(seconds: 10) { completions.count == 1 }, "taken without a wake")
        #expect(try TestSupport.readAll(directory.path).map(\.eventID) == ["evt_0"])
    }

    /// Under `--fsync interval` with bytes not synced yet the writer waits for the sync's deadline (60 s
    /// here); a deferred append is still taken within the idle bound.
    @Test func aDeferredAppendIsTakenWithinTheIdleBoundWhileAnIntervalSyncIsDue() async throws {
        let directory = TemporaryDirectory()
        var options = TestSupport.options(fsync: .interval(milliseconds: 60_000))
        options.writerIdleWaitSecondsMax = 0.05
        let log = try EventLog(directory: directory.path, options: options)
        defer { log.close() }
        _ = try await log.append(batch: [Self.event(-1)])  // written, not synced: the writer waits for the interval
        #expect(await eventually(seconds: 10) { log.writerIsIdle })
        let completions = Completions()
        log.append(batch: [Self.event(0)], deferringWake: true) { completions.record($0) }
        #expect(await eventually(seconds: 10) { completions.count == 1 }, "taken without a wake before the sync is due")
    }

    /// Deferred appends of several sizes woken once are one group; its leaf hashes, paired across the
    /// appends' boundaries, are those of the events read back.
    @Test func theLeafHashesOfAGroupOfSeveralAppendsAreThoseOfItsEvents() async throws {
        let directory = TemporaryDirectory()
        var options = TestSupport.options(fsync: .always)
        options.writerIdleWaitSecondsMax = 3600
        options.recentLeafHashCountMax = 1000
        let log = try EventLog(directory: directory.path, options: options)
        defer { log.close() }
        _ = try await log.append(batch: [Self.event(-1)])
        #expect(await eventually(seconds: 10) { log.writerIsIdle })
        let takenBefore = log.writerTakenQueueCount
        let completions = Completions()
        var number = 0
        for size in [1, 3, 2, 5, 1] {
            log.append(batch: (number..<(number + size)).map { Self.event($0) }, deferringWake: true) { completions.record($0) }
            number += size
        }
        log.wakeWriterIfDeferred()
        #expect(await eventually(seconds: 10) { completions.count == 12 })
        #expect(log.writerTakenQueueCount - takenBefore == 1, "one group")
        let ring = try #require(log.recentLeafHashes)
        let expected = try TestSupport.readAll(directory.path).map { MerkleTree.leafHash($0.envelope()) }
        #expect(expected.count == 13)
        #expect(ring.concatenatedHashes(from: 0, countMax: 1000) == expected.flatMap { $0 })
    }

    /// A group whose `fdatasync` fails is answered with an error and adds no leaf hash.
    @Test func aGroupThatFailsAddsNoLeafHashes() async throws {
        let directory = TemporaryDirectory()
        var options = TestSupport.options(fsync: .always)
        options.recentLeafHashCountMax = 1000
        let failing = Atomic<Bool>(false)
        options.dataSyncFault = { failing.load(ordering: .relaxed) ? SystemError(call: "fdatasync", path: "segment", errno: EIO) : nil }
        let log = try EventLog(directory: directory.path, options: options)
        defer { log.close() }
        _ = try await log.append(batch: (0..<3).map { Self.event($0) })
        failing.store(true, ordering: .relaxed)
        await #expect(throws: EventLogError.self) { _ = try await log.append(batch: (3..<5).map { Self.event($0) }) }
        let ring = try #require(log.recentLeafHashes)
        #expect(ring.count == 3)
        #expect(ring.concatenatedHashes(from: 3, countMax: 10).isEmpty)
    }
}
