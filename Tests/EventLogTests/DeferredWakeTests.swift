import ArgusTestSupport
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
        let completions = Completions()
        for number in 0..<10 {
            log.append(batch: [Self.event(number)], deferringWake: true) { completions.record($0) }
        }
        #expect(completions.count == 0 && log.writerIsIdle, "queued without a wake, nothing is taken")
        log.wakeWriterIfDeferred()
        #expect(await eventually(seconds: 10) { completions.count == 10 }, "the wake takes all ten")
        #expect(completions.offsets.withLock { $0 } == Array(1...10))
        #expect(completions.failures.load(ordering: .relaxed) == 0)
        #expect(log.syncStatistics.count - syncsBefore == 1, "one group, one fdatasync")
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
}
