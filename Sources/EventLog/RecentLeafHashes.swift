import Crypto
import Merkle
import Synchronization

/// The RFC 9162 leaf hashes of the most recently appended events, computed by the log writer right
/// after each group commit (the event bytes are in memory there), so `MerkleTileStore` upkeep need
/// not read and format those events again.
///
/// Holds at most `countMax` hashes (the oldest groups are dropped first); a gap (a group whose first
/// offset does not follow the last one) drops everything before it. Thread-safe.
public final class RecentLeafHashes: Sendable {
    /// Hashes kept at most.
    public let countMax: Int

    private struct Group {
        var firstOffset: UInt64
        /// Concatenated 32-byte leaf hashes.
        var hashes: [UInt8]
        var count: Int { hashes.count / MerkleTree.hashByteCount }
    }

    private struct State {
        var groups: [Group] = []
        /// Index of the oldest live group in `groups` (dropped groups are removed in batches).
        var start = 0
        var count = 0
    }

    private let state = Mutex(State())

    /// - Precondition: `countMax > 0`.
    public init(countMax: Int) {
        precondition(countMax > 0, "countMax must be positive")
        self.countMax = countMax
    }

    /// The leaf hash of `record`: `SHA-256(0x00 || envelope line)`.
    /// - Parameter formattedTimestamp: `Timestamp.format(ms: record.timestampMs)` when the caller has it.
    public static func leafHash(of record: EventRecord, formattedTimestamp: String? = nil) -> [UInt8] {
        leafHash(record.head(formattedTimestamp), data: record.data)
    }

    /// The envelope fields before `data` of one leaf.
    struct HeadFields {
        var eventID: String
        var type: String
        var formattedTimestamp: String
        var organizationID: String
        var offset: UInt64
    }

    /// Two scratch buffers for the heads of a pair of leaves, reused from pair to pair (no array per leaf).
    struct LeafHeads {
        var first: [UInt8] = []
        var second: [UInt8] = []
    }

    /// Appends the leaf hashes of two leaves given by their head fields and `data` to `hashes`: what
    /// `leafHash(of:)` gives for each, with the two `data` hashed together (`SHA256.update(_:with:_:with:)`,
    /// two messages at once on SHA-NI), formatting the heads into `heads` (the log writer, after each
    /// group: no `EventRecord` per event).
    static func appendLeafHashes(_ first: HeadFields, data firstData: [UInt8], and second: HeadFields, data secondData: [UInt8],
                                         heads: inout LeafHeads, to hashes: inout [UInt8]) {
        var firstHasher = headHasher(first, scratch: &heads.first)
        var secondHasher = headHasher(second, scratch: &heads.second)
        (firstData.isEmpty ? Self.null : firstData).withUnsafeBytes { firstBytes in
            (secondData.isEmpty ? Self.null : secondData).withUnsafeBytes { secondBytes in
                SHA256.update(&firstHasher, with: firstBytes, &secondHasher, with: secondBytes)
            }
        }
        firstHasher.update(Self.closingBrace)
        secondHasher.update(Self.closingBrace)
        let (firstDigest, secondDigest) = SHA256.finalizeDigests(firstHasher, secondHasher)
        firstDigest.withUnsafeBytes { hashes.append(contentsOf: $0) }
        secondDigest.withUnsafeBytes { hashes.append(contentsOf: $0) }
    }

    /// The leaf hash of one leaf given by its head fields and `data` (as `leafHash(of:)`).
    static func leafHash(_ head: HeadFields, data: [UInt8]) -> [UInt8] {
        var scratch: [UInt8] = []
        var hasher = headHasher(head, scratch: &scratch)
        hasher.update(data.isEmpty ? Self.null : data)
        hasher.update(Self.closingBrace)
        return hasher.finalize()
    }

    /// A leaf's hasher that has absorbed the prefix byte and the envelope up to `data`'s value, formatted
    /// into `scratch`. The envelope's parts go into the hash as they are (the head, then `data` in
    /// place): the line itself, with a copy of `data`, is never built.
    private static func headHasher(_ head: HeadFields, scratch: inout [UInt8]) -> SHA256 {
        scratch.removeAll(keepingCapacity: true)
        scratch.reserveCapacity(192)
        scratch.append(0x00)
        EventRecord.appendEnvelopeHead(eventID: head.eventID, type: head.type, formattedTimestamp: head.formattedTimestamp,
                                       organizationID: head.organizationID, offset: head.offset, to: &scratch)
        scratch.append(contentsOf: #","data":"#.utf8)
        var hasher = SHA256()
        hasher.update(scratch)
        return hasher
    }

    private static let null = Array("null".utf8)
    private static let closingBrace = Array("}".utf8)

    /// Number of hashes held now.
    public var count: Int { state.withLock { $0.count } }

    /// Adds the concatenated leaf hashes of the events from `firstOffset` on.
    public func append(firstOffset: UInt64, hashes: [UInt8]) {
        guard !hashes.isEmpty else { return }
        state.withLock { state in
            if let last = state.groups.last, state.start < state.groups.count, last.firstOffset + UInt64(last.count) != firstOffset {
                state = State()
            }
            let group = Group(firstOffset: firstOffset, hashes: hashes)
            state.groups.append(group)
            state.count += group.count
            while state.count > countMax, state.start < state.groups.count {
                state.count -= state.groups[state.start].count
                state.groups[state.start].hashes = []
                state.start += 1
            }
            if state.start > 64, state.start * 2 > state.groups.count {
                state.groups.removeFirst(state.start)
                state.start = 0
            }
        }
    }

    /// Up to `countMax` leaf hashes from `offset` on, concatenated (32 bytes each; fewer when fewer are
    /// held), or none when `offset` is not held (dropped already, or not appended yet).
    public func concatenatedHashes(from offset: UInt64, countMax: Int) -> [UInt8] {
        state.withLock { state in
            var result: [UInt8] = []
            var next = offset
            var taken = 0
            for group in state.groups[state.start...] where taken < countMax {
                let end = group.firstOffset + UInt64(group.count)
                guard next >= group.firstOffset, next < end else { continue }
                let first = Int(next - group.firstOffset)
                let take = min(group.count - first, countMax - taken)
                if result.isEmpty { result.reserveCapacity(min(countMax, state.count) * MerkleTree.hashByteCount) }
                result += group.hashes[(first * MerkleTree.hashByteCount)..<((first + take) * MerkleTree.hashByteCount)]
                taken += take
                next += UInt64(take)
            }
            return result
        }
    }
}

extension EventRecord {
    /// The envelope fields of this record before `data`.
    func head(_ formattedTimestamp: String?) -> RecentLeafHashes.HeadFields {
        RecentLeafHashes.HeadFields(eventID: eventID, type: type, formattedTimestamp: formattedTimestamp ?? Timestamp.format(ms: timestampMs),
                                    organizationID: organizationID, offset: offset)
    }
}
