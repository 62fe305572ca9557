import HTTPClient
import Archive
import Delivery
import EventLog
import Foundation
import HTTPServer
import JSON
import Synchronization
import Testing
@testable import Service

/// Issue 18: after retention removed archived segments locally, every reader of the service reads them
/// back from the archive (a directory target here; tools/archive_moto.sh does S3), with no silent gap.
@Suite(.serialized, .timeLimit(.minutes(5)), .stopsReceivers) struct ArchiveReplayTests {
    /// A service whose event source is the archive in `<path>.archive` followed by the log; 300 `user.login`
    /// events of org_a published in 4 KiB segments, archived, and every archived segment removed locally.
    struct Setup {
        let harness: ServiceHarness
        let archiveRoot: String
        let token: String
        /// Offsets of the 300 `user.login` events (the token's `oauth.token_issued` event comes first).
        let published: [Int64]
        /// Every offset of the log (all of org_a).
        let all: [Int64]
        var cacheDirectory: String { SegmentCache.directory(dataDirectory: harness.path) }

        init(wrap: @escaping @Sendable (any EventSource) -> any EventSource = { $0 }) async throws {
            let path = NSTemporaryDirectory() + "argus-archive-replay-\(UUID().uuidString.prefix(8))"
            let archiveRoot = path + ".archive"
            self.archiveRoot = archiveRoot
            harness = try ServiceHarness(path: path) { configuration in
                configuration.targetGuard = TargetGuard(allowsHTTP: true, allowedCIDRs: [CIDR("127.0.0.0/8")].compactMap { $0 })
                configuration.nowMs = { Int64(Date().timeIntervalSince1970 * 1000) }
                configuration.logOptions.segmentSizeBytesMax = 4096
                let cache = SegmentCache(directory: SegmentCache.directory(dataDirectory: path), target: DirectoryTarget(root: archiveRoot))
                configuration.makeEventSource = { log in wrap(ArchivedEventSource(log: log, cache: cache)) }
            }
            token = try await harness.token(organization: "org_a")
            var published: [Int64] = []
            for batch in 0..<30 {
                let events = (0..<10).map { #"{"type":"user.login","data":{"n":\#(batch * 10 + $0)}}"# }
                let reply = await harness.send("POST", "/v1/events/batch", token: token, body: #"{"events":[\#(events.joined(separator: ","))]}"#)
                published += reply.json?["events"]?.arrayValue?.compactMap { $0["offset"]?.int64Value } ?? []
            }
            #expect(published.count == 300)
            self.published = published
            all = Array(0..<Int64(harness.service.log.nextOffset))
            let state = ArchiveState.directory(dataDirectory: path)
            _ = try await Archiver(logDirectory: path + "/log", stateDirectory: state, target: DirectoryTarget(root: archiveRoot)).run()
            let gate = try ArchiveState.load(directory: state).retentionGate
            let log = harness.service.log
            let deleted = try log.applyRetention(RetentionPolicy(sizeBytesMax: 0), consumersFloor: log.nextOffset, mayDelete: gate)
            #expect(deleted.count >= 5, "\(deleted)")
            #expect(try log.firstRetainedOffset() > 100, "most of the log is only in the archive now")
        }

        func close() {
            harness.close()
            harness.removeDirectory()
            try? FileManager.default.removeItem(atPath: archiveRoot)
        }

        func offsets(after: Int64? = nil) async -> (Int, [Int64], JSONValue?) {
            let reply = await harness.send("GET", "/v1/events?limit=1000" + (after.map { "&after=\($0)" } ?? ""), token: token)
            return (reply.status, reply.json?["data"]?.arrayValue?.compactMap { $0["offset"]?.int64Value } ?? [], reply.json)
        }

        func stats(_ id: String) async -> JSONValue? {
            await harness.send("GET", "/v1/webhooks/\(id)/stats", token: token).json
        }

        func create(_ receiver: Receiver, path: String) async throws -> String {
            let reply = await harness.send("POST", "/v1/webhooks", token: token,
                                           body: #"{"url":"http://127.0.0.1:\#(receiver.port)/\#(path)","event_types":["user.login"],"ordered":true,"start":"beginning"}"#)
            return try #require(reply.json?["id"]?.stringValue, "\(String(decoding: reply.response.body, as: UTF8.self))")
        }

        /// Moves every archived segment object from `base` on away (or back), and empties the cache.
        func hideSegments(from base: UInt64, _ hide: Bool) throws {
            let segments = archiveRoot + "/segments"
            let hidden = archiveRoot + "-hidden"
            try FileManager.default.createDirectory(atPath: hidden, withIntermediateDirectories: true)
            let (from, to) = hide ? (segments, hidden) : (hidden, segments)
            for name in try FileManager.default.contentsOfDirectory(atPath: from) where hide ? name >= SegmentName.log(baseOffset: base) : true {
                try FileManager.default.moveItem(atPath: from + "/" + name, toPath: to + "/" + name)
            }
            try? FileManager.default.removeItem(atPath: cacheDirectory)
        }
    }

    static func offsets(_ deliveries: [Receiver.Delivery], path: String) -> [Int64] {
        deliveries.filter { $0.path == "/" + path }.compactMap(\.offset)
    }

    @Test(.timeLimit(.minutes(2))) func fromTheBeginningReplayFromZeroAndListFromZeroReadTheArchive() async throws {
        let setup = try await Setup()
        defer { setup.close() }
        try await setup.harness.service.startDelivery()
        let (all, published) = (setup.all, setup.published)

        let (status, listed, _) = await setup.offsets()
        #expect(status == 200)
        #expect(listed == all, "GET /v1/events from the start begins at 0, not at the first local offset")
        #expect(await setup.offsets(after: 41).1 == Array(all.dropFirst(42)))

        let receiver = try Receiver()
        let id = try await setup.create(receiver, path: "compliance")
        #expect(await receiver.wait(seconds: 60) { Self.offsets($0, path: "compliance").count >= 300 })
        #expect(Self.offsets(receiver.received, path: "compliance") == published, "start: beginning delivers the archived events, in order")

        let replay = await setup.harness.send("POST", "/v1/webhooks/\(id)/replay", token: setup.token, body: #"{"from_offset":0}"#)
        #expect(replay.status == 202)
        #expect(replay.json?["from_offset"]?.int64Value == 0)
        #expect(replay.json?["until_offset"]?.int64Value == Int64(all.count))
        #expect(replay.json?["event_count"]?.int64Value == Int64(all.count))
        #expect(await receiver.wait(seconds: 60) { Self.offsets($0, path: "compliance").count >= 600 })
        #expect(Self.offsets(receiver.received, path: "compliance") == published + published, "the replay from 0 delivered everything again, in order")
        // The last answer may still be on its way to the engine: wait (bounded) for the cursor to reach the head.
        var stats = await setup.stats(id)
        for _ in 0..<500 where stats?["lag"]?.int64Value != 0 {
            try await Task.sleep(nanoseconds: 20_000_000)
            stats = await setup.stats(id)
        }
        #expect(stats?["status_reason"] == JSONValue.null)
        #expect(stats?["lag"]?.int64Value == 0, "the cursor reached the head")
    }

    @Test(.timeLimit(.minutes(2))) func aLaneWaitsWhileTheArchiveIsUnreadableAndResumesWithoutAGap() async throws {
        let setup = try await Setup()
        defer { setup.close() }
        let manifest = try await ArchiveManifest.load(target: DirectoryTarget(root: setup.archiveRoot))
        let middle = manifest.baseOffsets[manifest.baseOffsets.count / 2]
        try setup.hideSegments(from: middle, true)
        try await setup.harness.service.startDelivery()

        let (status, _, body) = await setup.offsets()
        #expect(status == 503)
        #expect(body?["error"]?["code"]?.stringValue == "archive_unavailable")
        #expect(body?["error"]?["offset"]?.int64Value == Int64(middle))

        let receiver = try Receiver()
        let id = try await setup.create(receiver, path: "compliance")
        var reason: JSONValue? = nil
        for _ in 0..<500 where reason != JSONValue.string("archive_unavailable") {
            reason = await setup.stats(id)?["status_reason"]
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        #expect(reason == JSONValue.string("archive_unavailable"), "stats say why the lane waits")
        let before = setup.published.filter { $0 < Int64(middle) }
        #expect(await receiver.wait(seconds: 10) { Self.offsets($0, path: "compliance").count >= before.count })
        // The lane holds at the first unreadable offset with nothing in flight or pending: nothing past it can go.
        #expect(await receiver.wait(seconds: 10) { _ in
            guard let progress = setup.harness.service.dispatcher.progress(id) else { return false }
            return progress.cursor == UInt64(middle) && progress.inFlight == 0 && progress.unresolved == 0
        }, "the lane waits at offset \(middle)")
        #expect(Self.offsets(receiver.received, path: "compliance") == before, "up to the unreadable segment, nothing past it")
        #expect(setup.harness.service.webhooks.get(id)?.status == .enabled, "waiting, not paused")

        try setup.hideSegments(from: middle, false)
        #expect(await receiver.wait(seconds: 60) { Self.offsets($0, path: "compliance").count >= 300 })
        #expect(Self.offsets(receiver.received, path: "compliance") == setup.published, "resumed where it waited, no gap")
        #expect(await setup.stats(id)?["status_reason"] == JSONValue.null)
        #expect(await setup.offsets().0 == 200)
    }

    @Test(.timeLimit(.minutes(2))) func eventsNoStoreHoldsAre410AndStopALaneInsteadOfSkipping() async throws {
        let setup = try await Setup()
        defer { setup.close() }
        let target = DirectoryTarget(root: setup.archiveRoot)
        let manifest = try await ArchiveManifest.load(target: target)
        let first = try await manifest.entry(baseOffset: 0)
        try FileManager.default.removeItem(atPath: setup.archiveRoot + "/" + first.manifestKey)
        try FileManager.default.removeItem(atPath: setup.archiveRoot + "/" + first.segmentKey)
        try await setup.harness.service.startDelivery()

        let (status, _, body) = await setup.offsets()
        #expect(status == 410)
        #expect(body?["error"]?["code"]?.stringValue == "events_unavailable")
        #expect(body?["error"]?["earliest_available_offset"]?.int64Value == Int64(first.nextOffset))
        let available = setup.all.filter { $0 >= Int64(first.nextOffset) }
        #expect(await setup.offsets(after: Int64(first.nextOffset) - 1).1 == available)

        let receiver = try Receiver()
        let id = try await setup.create(receiver, path: "compliance")
        let paused = await receiver.wait(seconds: 20) { _ in setup.harness.service.webhooks.get(id)?.status == .paused }
        #expect(paused, "the lane stops instead of jumping ahead")
        #expect(receiver.received.isEmpty)
        #expect(await setup.stats(id)?["status_reason"] == JSONValue.string("events_unavailable"))
        #expect(setup.harness.service.webhooks.get(id)?.statusReason?.contains("offset \(first.nextOffset)") == true)

        let gone = await setup.harness.send("POST", "/v1/webhooks/\(id)/replay", token: setup.token, body: #"{"from_offset":0}"#)
        #expect(gone.status == 410)
        let replay = await setup.harness.send("POST", "/v1/webhooks/\(id)/replay", token: setup.token,
                                              body: #"{"from_offset":\#(first.nextOffset)}"#)
        #expect(replay.status == 202)
        #expect(await setup.harness.send("PATCH", "/v1/webhooks/\(id)", token: setup.token, body: #"{"status":"enabled"}"#).status == 200)
        let expected = setup.published.filter { $0 >= Int64(first.nextOffset) }
        #expect(await receiver.wait(seconds: 60) { Self.offsets($0, path: "compliance").count >= expected.count })
        #expect(Self.offsets(receiver.received, path: "compliance") == expected)
    }

    final class SourceHolder: Sendable {
        let source = Mutex<CountingSource?>(nil)
    }

    /// Counts reads in progress through it (the engine's read-ahead bound); each read takes at least 50 ms,
    /// so that reads of lanes created one after another overlap.
    final class CountingSource: EventSource {
        let inner: any EventSource
        private let counts = Mutex((now: 0, most: 0))
        init(_ inner: any EventSource) { self.inner = inner }
        var nextOffset: UInt64 { inner.nextOffset }
        var mostAtOnce: Int { counts.withLock { $0.most } }

        func read(from offset: UInt64, countMax: Int) async throws(EventSourceError) -> [EventRecord] {
            counts.withLock { counts in
                counts.now += 1
                counts.most = max(counts.most, counts.now)
            }
            defer { counts.withLock { $0.now -= 1 } }
            try? await Task.sleep(nanoseconds: 50_000_000)
            return try await inner.read(from: offset, countMax: countMax)
        }

        func firstOffset(atOrAfterTimeMs timestampMs: Int64) async throws(EventSourceError) -> UInt64 {
            try await inner.firstOffset(atOrAfterTimeMs: timestampMs)
        }
    }

    @Test(.timeLimit(.minutes(2))) func moreLanesBehindThanReadSlotsAllCatchUpWithinTheBound() async throws {
        let holder = SourceHolder()
        let setup = try await Setup { inner in
            let source = CountingSource(inner)
            holder.source.withLock { $0 = source }
            return source
        }
        defer { setup.close() }
        try await setup.harness.service.startDelivery()
        let receiver = try Receiver()
        let lanes = DeliveryLimits.CatchUp.readerCountMax + 4
        for number in 0..<lanes { _ = try await setup.create(receiver, path: "lane\(number)") }
        #expect(await receiver.wait(seconds: 90) { $0.count >= lanes * setup.published.count })
        for number in 0..<lanes {
            #expect(Self.offsets(receiver.received, path: "lane\(number)") == setup.published, "lane \(number) caught up in order")
        }
        let most = try #require(holder.source.withLock { $0 }).mostAtOnce
        #expect(most >= 1 && most <= DeliveryLimits.CatchUp.readerCountMax, "read-aheads at once: \(most)")
    }
}
