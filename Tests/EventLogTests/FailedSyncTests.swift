import ArgusTestSupport
import Foundation
import Glibc
import Synchronization
import SystemIO
import Testing
@testable import EventLog

/// A failed `fdatasync` (injected: no disk here fails it on demand) stops the writer for good: the group
/// it covered is answered with the error, its bytes are cut, `onStopped` tells the owner (serve exits for a
/// restart), later appends are refused, and after reopening only acknowledged events are in the log.
@Suite(.timeLimit(.minutes(1))) struct FailedSyncTests {
    @Test func aFailedSyncStopsTheWriterAndTheGroupItCoveredNeverAppears() async throws {
        let directory = NSTemporaryDirectory() + "argus-failed-sync-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let failing = Atomic<Bool>(false)
        let stoppedReasons = Mutex<[String]>([])
        var options = EventLogOptions()
        options.dataSyncFault = {
            failing.load(ordering: .relaxed) ? SystemError(call: "fdatasync", path: "segment", errno: EIO) : nil
        }
        options.onStopped = { reason in stoppedReasons.withLock { $0.append(reason) } }
        func event(_ number: Int) -> NewEvent {
            NewEvent(organizationID: "org_1", type: "user.created", eventID: "evt_\(number)", data: Array(#"{"n":\#(number)}"#.utf8))
        }

        let log = try EventLog(directory: directory, options: options)
        let acknowledged = try await log.append(batch: (0..<3).map(event))
        #expect(acknowledged.map(\.offset) == [0, 1, 2])
        // The acknowledged records end here (the file is longer: the writer's zero-filled space follows).
        let sizeBefore = Int(log.activeSegmentSizeBytes)

        failing.store(true, ordering: .relaxed)
        await #expect(throws: (any Error).self, "the group the failed sync covered is answered with the error") {
            _ = try await log.append(batch: [event(3), event(4)])
        }
        guard case .stopped(let reason) = log.health else {
            Issue.record("health after a failed fdatasync: \(log.health)")
            return
        }
        #expect(reason.contains("fdatasync"), "\(reason)")
        #expect(stoppedReasons.withLock { $0.count } == 1, "the owner is told once")
        let sizeAfter = try TestFiles.sizeBytes(directory + "/" + String(format: "%020d.log", 0))
        #expect(sizeAfter == sizeBefore, "the failed group's bytes (and the zero-filled space) were cut")

        failing.store(false, ordering: .relaxed)
        await #expect(throws: (any Error).self, "a stopped writer takes nothing more") {
            _ = try await log.append(event(5))
        }
        log.close()

        // The restart: only what was acknowledged.
        let reopened = try EventLog(directory: directory)
        defer { reopened.close() }
        #expect(reopened.nextOffset == 3)
        var reader = try reopened.makeReader(from: .offset(0))
        var ids: [String] = []
        while let record = try reader.next() { ids.append(record.eventID) }
        #expect(ids == ["evt_0", "evt_1", "evt_2"])
        let appended = try await reopened.append(event(6))
        #expect(appended.offset == 3, "the next event takes the offset the refused group never got")
    }
}
