import EventLog
import Foundation
import Merkle
import Testing
@testable import Service

/// When `serve` signs checkpoints: at every seal, and for growth at most once per interval.
@Suite(.timeLimit(.minutes(2))) struct CheckpointScheduleTests {
    @Test func sealsAreSignedAtOnceGrowthAtMostOncePerInterval() {
        var schedule = CheckpointSchedule(intervalMs: 10_000)
        #expect(schedule.due(logSize: 0, nowMs: 0).isEmpty, "an empty log signs nothing")
        #expect(schedule.due(logSize: 5, nowMs: 0) == [5], "the first growth is signed at once")
        schedule.signed(size: 5, nowMs: 0, bySeal: false)
        #expect(schedule.due(logSize: 9, nowMs: 9_999).isEmpty, "growth waits for the interval")
        schedule.noteSeal(size: 8)
        schedule.noteSeal(size: 7)
        schedule.noteSeal(size: 8)
        #expect(schedule.pendingSeals == [7, 8])
        #expect(schedule.due(logSize: 9, nowMs: 9_999) == [7, 8], "seals do not wait")
        schedule.signed(size: 7, nowMs: 9_999, bySeal: true)
        schedule.signed(size: 8, nowMs: 9_999, bySeal: true)
        #expect(schedule.due(logSize: 9, nowMs: 9_999).isEmpty)
        #expect(schedule.due(logSize: 9, nowMs: 10_000) == [9], "a seal does not restart the growth interval")
        schedule.signed(size: 9, nowMs: 10_000, bySeal: false)
        #expect(schedule.due(logSize: 9, nowMs: 90_000).isEmpty, "no growth, nothing to sign")
        schedule.noteSeal(size: 4)
        #expect(schedule.pendingSeals.isEmpty, "a seal at or below a signed size is covered already")
        schedule.noteSeal(size: 20)
        #expect(schedule.due(logSize: 15, nowMs: 90_000) == [15], "a seal beyond the log waits for the log")
    }

    @Test func pendingSealsAreBounded() {
        var schedule = CheckpointSchedule(intervalMs: 10_000)
        for size in 1...UInt64(CheckpointSchedule.pendingSealCountMax + 10) { schedule.noteSeal(size: size) }
        #expect(schedule.pendingSeals.count == CheckpointSchedule.pendingSealCountMax)
        #expect(schedule.pendingSeals.first == 11, "the oldest are dropped (a later checkpoint covers them)")
    }

    @Test func serviceSignsACheckpointAtEverySegmentSeal() async throws {
        let harness = try ServiceHarness { configuration in configuration.logOptions.segmentSizeBytesMax = 4096 }
        defer { harness.close(); harness.removeDirectory() }
        let log = harness.service.log
        let data = Array("{\"pad\":\"\(String(repeating: "x", count: 900))\"}".utf8)
        var number = 0
        while try SegmentCatalog.summaries(directory: log.directory).filter(\.sealed).count < 2, number < 100 {
            _ = try await log.append(NewEvent(organizationID: "org_1", type: "user.created", eventID: "evt_\(number)", data: data))
            number += 1
        }
        let seals = try SegmentCatalog.summaries(directory: log.directory).filter(\.sealed).map { ($0.lastOffset ?? 0) + 1 }
        #expect(seals.count >= 2)
        let signed = await harness.service.signDueCheckpoints(nowMs: 0)
        #expect(Array(signed.prefix(seals.count)) == seals, "one checkpoint per seal, at the sealed size, in order")
        #expect(signed.last == log.nextOffset, "then the durable head")
        let stored = try #require(try harness.service.transparency.storedCheckpoint())
        #expect(stored.checkpoint.treeSize == log.nextOffset)
        #expect(await harness.service.signDueCheckpoints(nowMs: 1).isEmpty, "nothing new: nothing signed")
    }

    @Test func tilesFollowTheLogBeforeTheWritersHashesFallOut() async throws {
        let harness = try ServiceHarness { configuration in configuration.logOptions.recentLeafHashCountMax = 100 }
        defer { harness.close(); harness.removeDirectory() }
        let log = harness.service.log
        func append(_ count: Int) async throws {
            _ = try await log.append(batch: (0..<count).map {
                NewEvent(organizationID: "org_1", type: "user.created", eventID: "evt_\(log.nextOffset)_\($0)", data: Array("{}".utf8))
            })
        }
        try await append(10)
        #expect(await harness.service.signDueCheckpoints(nowMs: 0) == [log.nextOffset])
        let signedSize = log.nextOffset
        try await append(40)
        #expect(await harness.service.signDueCheckpoints(nowMs: 1).isEmpty)
        #expect(harness.service.transparency.tiles.treeSize == signedSize, "40 behind, within half the buffer of 100: left for later")
        try await append(20)
        #expect(await harness.service.signDueCheckpoints(nowMs: 2).isEmpty, "no checkpoint before the interval")
        #expect(harness.service.transparency.tiles.treeSize == log.nextOffset, "60 behind: the tiles were brought up to the log")
    }
}
