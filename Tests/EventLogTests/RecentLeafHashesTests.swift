import Dispatch
import Foundation
import Merkle
import Synchronization
import Testing
@testable import EventLog

/// The writer's leaf hashes (computed at append time) against the leaves the log holds, their bound,
/// and tile upkeep that takes them instead of reading the log.
@Suite(.timeLimit(.minutes(5))) struct RecentLeafHashesTests {
    static func hash(_ byte: UInt8) -> [UInt8] { [UInt8](repeating: byte, count: 32) }

    /// `ring.concatenatedHashes` as one array per hash.
    static func hashes(_ ring: RecentLeafHashes, from offset: UInt64, countMax: Int) -> [[UInt8]] {
        let bytes = ring.concatenatedHashes(from: offset, countMax: countMax)
        return stride(from: 0, to: bytes.count, by: 32).map { Array(bytes[$0..<($0 + 32)]) }
    }

    @Test func keepsAtMostCountMaxDroppingTheOldestGroups() {
        let ring = RecentLeafHashes(countMax: 4)
        ring.append(firstOffset: 10, hashes: Self.hash(1) + Self.hash(2))
        ring.append(firstOffset: 12, hashes: Self.hash(3) + Self.hash(4))
        #expect(ring.count == 4)
        #expect(Self.hashes(ring, from: 11, countMax: 10) == [Self.hash(2), Self.hash(3), Self.hash(4)])
        #expect(Self.hashes(ring, from: 12, countMax: 1) == [Self.hash(3)])
        ring.append(firstOffset: 14, hashes: Self.hash(5))
        #expect(ring.count <= 4)
        #expect(Self.hashes(ring, from: 10, countMax: 10).isEmpty, "offset 10 fell out")
        #expect(Self.hashes(ring, from: 12, countMax: 10) == [Self.hash(3), Self.hash(4), Self.hash(5)])
        #expect(Self.hashes(ring, from: 15, countMax: 10).isEmpty, "not appended yet")
        // Many groups: still bounded.
        for offset in UInt64(15)..<1000 { ring.append(firstOffset: offset, hashes: Self.hash(UInt8(offset % 256))) }
        #expect(ring.count == 4)
        #expect(Self.hashes(ring, from: 996, countMax: 10) == (996..<1000).map { Self.hash(UInt8($0 % 256)) })
    }

    @Test func aGapDropsWhatCameBefore() {
        let ring = RecentLeafHashes(countMax: 100)
        ring.append(firstOffset: 0, hashes: Self.hash(1) + Self.hash(2))
        ring.append(firstOffset: 5, hashes: Self.hash(6))
        #expect(Self.hashes(ring, from: 0, countMax: 10).isEmpty)
        #expect(Self.hashes(ring, from: 5, countMax: 10) == [Self.hash(6)])
        #expect(ring.count == 1)
    }

    /// Leaves hashed two at a time equal leaves hashed one by one: empty `data` (hashed as `null`), short,
    /// and long `data` of unequal lengths, in both orders, with heads of equal and of unequal block counts.
    @Test(arguments: ["org_bb", String(repeating: "o", count: 150)])
    func twoLeavesHashedTogetherEqualEachHashedAlone(secondOrganization: String) {
        let datas: [[UInt8]] = [[], Array("{}".utf8), Array("{\"pad\":\"\(String(repeating: "y", count: 1000))\"}".utf8),
                                Array("[\(String(repeating: "1,", count: 300))1]".utf8)]
        for (firstIndex, firstData) in datas.enumerated() {
            for (secondIndex, secondData) in datas.enumerated() {
                let first = EventRecord(NewEvent(organizationID: "org_a", type: "user.created", eventID: "evt_\(firstIndex)", data: firstData),
                                        offset: 7, timestampMs: 1_700_000_000_000, chainHash: [])
                let second = EventRecord(NewEvent(organizationID: secondOrganization, type: "user.deleted", eventID: "evt_x\(secondIndex)", data: secondData),
                                         offset: 8, timestampMs: 1_700_000_000_123, chainHash: [])
                var hashes: [UInt8] = []
                var heads = RecentLeafHashes.LeafHeads()
                RecentLeafHashes.appendLeafHashes(first.head(nil), data: first.data, and: second.head(nil), data: second.data,
                                                  heads: &heads, to: &hashes)
                #expect(hashes == MerkleTree.leafHash(first.envelope()) + MerkleTree.leafHash(second.envelope()),
                        "data \(firstIndex) and \(secondIndex)")
            }
        }
    }

    /// The envelope's offset is written in decimal without a String: the edge values.
    @Test(arguments: [0, 7, 10, 99, 100, 12_345_678, UInt64.max] as [UInt64])
    func theOffsetIsWrittenInDecimal(offset: UInt64) {
        let record = EventRecord(NewEvent(organizationID: "o", type: "t", eventID: "e", data: Array("1".utf8)),
                                 offset: offset, timestampMs: 0, chainHash: [])
        let expected = #"{"id":"e","type":"t","timestamp":"\#(Timestamp.format(ms: 0))","organization_id":"o","offset":\#(offset),"data":1}"#
        #expect(String(decoding: record.envelope(), as: UTF8.self) == expected)
    }

    @Test func theWriterHashesEachEventsEnvelopeLine() async throws {
        let directory = TemporaryDirectory()
        var options = TestSupport.options(segmentSizeBytes: 8 * 1024)
        options.recentLeafHashCountMax = 1000
        let sealed = Mutex<[UInt64]>([])
        options.onSeal = { size in sealed.withLock { $0.append(size) } }
        let log = try EventLog(directory: directory.appending("log"), options: options)
        for number in 0..<300 { _ = try await log.append(TestSupport.event(number)) }
        _ = try await log.append(batch: (300..<340).map { TestSupport.event($0) })
        log.close()
        let ring = try #require(log.recentLeafHashes)
        let expected = try TestSupport.readAll(directory.appending("log")).map { MerkleTree.leafHash($0.envelope()) }
        #expect(Self.hashes(ring, from: 0, countMax: 1000) == expected)
        // Every seal was reported with the offset after the sealed segment's last event.
        let summaries = try SegmentCatalog.summaries(directory: directory.appending("log")).filter(\.sealed)
        #expect(!summaries.isEmpty)
        #expect(sealed.withLock { $0 } == summaries.map { ($0.lastOffset ?? 0) + 1 })
    }

    @Test func upkeepTakesTheWritersHashesAndGivesTheSameTiles() async throws {
        let directory = TemporaryDirectory()
        var options = TestSupport.options(segmentSizeBytes: 16 * 1024)
        options.recentLeafHashCountMax = 100_000
        let log = try EventLog(directory: directory.appending("log"), options: options)
        for number in 0..<600 { _ = try await log.append(TestSupport.event(number)) }
        // The writer adds a group's hashes before it answers the group: every one is there at once.
        let ring = try #require(log.recentLeafHashes)
        #expect(ring.count == 600)
        let withRing = MerkleTileStore(directory: directory.appending("merkle-ring"), logDirectory: directory.appending("log"),
                                       recentLeafHashes: log.recentLeafHashes)
        // The ring holds every hash: remove the segments' bytes from view by reading through a store whose
        // log directory is empty, so any read of the log would fail.
        let ringOnly = MerkleTileStore(directory: directory.appending("merkle-only"), logDirectory: directory.appending("empty"),
                                       recentLeafHashes: log.recentLeafHashes)
        let fromLog = MerkleTileStore(directory: directory.appending("merkle-log"), logDirectory: directory.appending("log"))
        #expect(try withRing.update(to: log.nextOffset) == 600)
        #expect(try ringOnly.update(to: 600) == 600)
        #expect(try fromLog.update(to: 600) == 600)
        let root = try fromLog.rootHash(treeSize: 600)
        #expect(try withRing.rootHash(treeSize: 600) == root)
        #expect(try ringOnly.rootHash(treeSize: 600) == root)
        #expect(try ringOnly.inclusionProof(leafIndex: 257, treeSize: 600) == fromLog.inclusionProof(leafIndex: 257, treeSize: 600))
        log.close()
    }
}
