import Crypto
import Dispatch
import Synchronization
import SystemIO

/// Checks a whole log directory: header and record CRCs, dense offsets, the hash chain within and
/// across segments, footers (count, last offset, last chain, SHA-256 of the segment), and that every
/// index entry points at the record it names. Works on a live directory without a lock.
public enum LogVerifier {
    /// The outcome of a verification.
    public struct Report: Sendable {
        /// Segments read (the active one included), records and bytes checked, the first problem and notes.
        public var summary = VerificationSummary()
        /// The chain value after the last record verified.
        public var lastChain: [UInt8] = []
        /// `lastChain` in lowercase hex, as `verify` prints the chain head.
        public var lastChainHex: String { Hex.encode(lastChain) }
        /// Offset after the last verified record.
        public var nextOffset: UInt64 = 0

        /// True when nothing is wrong.
        public var isIntact: Bool { summary.isIntact }
    }

    /// Verifies the segments of `directory`: each segment on its own (from its header's chain-in) in
    /// parallel on every core, reading each byte once; then their continuity in order, so the report
    /// names the first bad offset of the log.
    /// - Parameters:
    ///   - expectedChainIn: the chain the first segment must continue from (zero for a log that starts at
    ///     offset 0); nil to accept whatever the first segment's header says (its predecessors were removed).
    ///   - progress: called after each segment with (bytes verified, total bytes), from worker threads, one
    ///     call at a time.
    public static func verify(directory: String, expectedChainIn: [UInt8]? = nil,
                              progress: @Sendable (Int64, Int64) -> Void = { _, _ in }) throws(EventLogError) -> Report {
        var report = Report()
        let bases = try SegmentCatalog.baseOffsets(directory: directory)
        var totalBytes: Int64 = 0
        for base in bases {
            if let file = try systemCall({ try FileDescriptor.openIfExists(directory + "/" + SegmentName.log(baseOffset: base)) }) {
                totalBytes += try systemCall { try file.size() }
            }
        }
        let outcomes = checkSegments(directory: directory, bases: bases, totalBytes: totalBytes, progress: progress)
        var expectedOffset: UInt64? = nil
        var chain: [UInt8]? = expectedChainIn
        segments: for (position, base) in bases.enumerated() {
            let isLast = position == bases.count - 1
            let name = SegmentName.log(baseOffset: base)
            func fail(_ offset: UInt64, _ problem: String) -> Report {
                var failed = report
                failed.summary.fail(at: offset, "\(name): \(problem)")
                return failed
            }
            if let expected = expectedOffset, base != expected {
                return fail(expected, base > expected ? "offsets \(expected)..<\(base) are missing (segment gap)"
                                                     : "segment starts at \(base), overlapping earlier records")
            }
            let checked: CheckedSegment
            switch outcomes[position] {
            case .missing: return fail(base, "segment file disappeared")
            case .unreadableHeader(let error, let size):
                if isLast && size < Int64(SegmentHeader.sizeBytes) {
                    report.summary.notes.append("\(name): header being written or torn; recovery recreates it")
                    break segments
                }
                return fail(base, "\(error)")
            case .threw(let error): throw error
            case .checked(let segment): checked = segment
            }
            let header = checked.header
            if header.baseOffset != base { return fail(base, "header names base offset \(header.baseOffset)") }
            if let chain, header.chainIn != chain { return fail(base, "header does not continue the hash chain") }
            if chain == nil && base == 0 && header.chainIn != [UInt8](repeating: 0, count: 32) {
                return fail(0, "first segment must start from a zero chain")
            }
            let check: SegmentCheck
            switch checked.scan {
            case .failed(let offset, let problem): return fail(offset, problem)
            case .passed(let passed): check = passed
            }
            report.summary.notes += check.notes
            let next = check.nextOffset
            if check.footer == nil && !isLast { return fail(next, "segment is not sealed but a later segment exists") }
            if let (offset, problem) = checked.indexProblem { return fail(offset, problem) }
            report.summary.addSegment(recordCount: next - base, sizeBytes: check.recordsEndPosition ?? checked.sizeBytes)
            chain = check.chainOut
            expectedOffset = next
        }
        report.lastChain = chain ?? []
        report.nextOffset = expectedOffset ?? 0
        return report
    }

    /// One segment checked on its own.
    struct CheckedSegment {
        var header: SegmentHeader
        var sizeBytes: Int64
        var scan: SegmentScanOutcome
        /// The first index entry that does not match its record, as (offset, problem).
        var indexProblem: (UInt64, String)?
    }

    enum SegmentOutcome {
        case missing
        case unreadableHeader(EventLogError, sizeBytes: Int64)
        case threw(EventLogError)
        case checked(CheckedSegment)
    }

    /// Checks every segment on its own, in parallel (one worker per core, each with one file open at a
    /// time): header, frames, chain from the header's chain-in, footer, index entries. The last segment
    /// may end in a torn tail.
    private static func checkSegments(directory: String, bases: [UInt64], totalBytes: Int64,
                                      progress: @Sendable (Int64, Int64) -> Void) -> [SegmentOutcome] {
        let outcomes = Mutex<[SegmentOutcome]>(Array(repeating: .missing, count: bases.count))
        let verifiedBytes = Mutex<Int64>(0)
        DispatchQueue.concurrentPerform(iterations: bases.count) { position in
            let outcome: SegmentOutcome
            do throws(EventLogError) {
                guard let file = try systemCall({ try FileDescriptor.openIfExists(directory + "/" + SegmentName.log(baseOffset: bases[position])) })
                else { return }
                outcome = try checkSegment(directory: directory, base: bases[position], file: file,
                                           isLast: position == bases.count - 1)
            } catch {
                outcome = .threw(error)
            }
            outcomes.withLock { $0[position] = outcome }
            if case .checked(let checked) = outcome {
                verifiedBytes.withLock { done in
                    done += checked.sizeBytes
                    progress(done, totalBytes)
                }
            }
        }
        return outcomes.withLock { $0 }
    }

    private static func checkSegment(directory: String, base: UInt64, file: FileDescriptor,
                                     isLast: Bool) throws(EventLogError) -> SegmentOutcome {
        let name = SegmentName.log(baseOffset: base)
        let size = try systemCall { try file.size() }
        let headerBytes = try systemCall { try file.read(count: SegmentHeader.sizeBytes, at: 0) }
        let header: SegmentHeader
        do throws(EventLogError) {
            header = try SegmentHeader.decode(headerBytes, segment: name)
        } catch {
            return .unreadableHeader(error, sizeBytes: size)
        }
        let scan = try scanSegment(file: file, name: name, header: header, headerBytes: headerBytes, sizeBytes: size,
                                   allowTornTail: isLast)
        var checked = CheckedSegment(header: header, sizeBytes: size, scan: scan)
        guard case .passed(let check) = scan else { return .checked(checked) }
        let index = try SegmentIndex.load(path: directory + "/" + SegmentName.index(baseOffset: base),
                                          segmentSizeBytes: size, baseOffset: base)
        if let torn = check.tornTailPosition {
            // Recovery resumes after the last intact index entry: a bad frame before it is no tail it cuts.
            var resume = index
            if let (entry, _, _) = try Recovery.lastIntactEntry(of: &resume, file: file), entry.position > torn {
                checked.scan = .failed(offset: check.nextOffset,
                                       problem: "bad frame before the indexed record at offset \(entry.offset): damage, not a torn tail")
                return .checked(checked)
            }
        }
        for entry in index.entries {
            guard let found = check.positionsToOffsets[entry.position] else {
                if check.footer == nil && entry.offset >= check.nextOffset { continue }
                checked.indexProblem = (entry.offset, "index entry points at no record (rebuild by deleting \(SegmentName.index(baseOffset: base)))")
                break
            }
            if found.0 != entry.offset || found.1 != entry.timestampMs {
                checked.indexProblem = (entry.offset, "index entry does not match its record")
                break
            }
        }
        return .checked(checked)
    }

    /// What scanning one segment's frames found (shared by `verify` and `verifySegment`).
    struct SegmentCheck {
        var chainOut: [UInt8]
        /// Offset after the last intact record.
        var nextOffset: UInt64
        /// The footer of a sealed segment whose counts, chain and SHA-256 all match; nil when not sealed.
        var footer: SegmentFooter?
        /// SHA-256 of the whole file (footer included); nil when not sealed.
        var fileDigest: [UInt8]?
        var firstTimestampMs: Int64?
        var lastTimestampMs: Int64?
        /// Record position to (offset, time), for checking index entries.
        var positionsToOffsets: [Int64: (UInt64, Int64)] = [:]
        var notes: [String] = []
        /// Where a torn tail starts that recovery would cut (`Recovery.isTornTail`), if any.
        var tornTailPosition: Int64?
        /// Where the records of an unsealed segment end (the zero-filled space the writer keeps ahead, a
        /// torn tail or a record being written start there); nil for a sealed one.
        var recordsEndPosition: Int64?
    }

    enum SegmentScanOutcome {
        case passed(SegmentCheck)
        case failed(offset: UInt64, problem: String)
    }

    /// Checks every frame of a segment after its (already decoded) header: dense offsets, CRCs, the chain
    /// from `header.chainIn`, and the footer, whose SHA-256 is computed from the same reads as the frames
    /// (each byte is read once). `allowTornTail` accepts an incomplete or torn end (the active segment of
    /// a live log) as a note.
    static func scanSegment(file: FileDescriptor, name: String, header: SegmentHeader, headerBytes: [UInt8],
                            sizeBytes size: Int64, allowTornTail: Bool) throws(EventLogError) -> SegmentScanOutcome {
        let base = header.baseOffset
        var check = SegmentCheck(chainOut: header.chainIn, nextOffset: base)
        var digest = SHA256()
        digest.update(headerBytes)
        var scanner = SegmentScanner(file: file, position: Int64(SegmentHeader.sizeBytes), digest: digest)
        while true {
            let next = check.nextOffset
            let digestBefore = scanner.digest
            switch try scanner.next() {
            case .event(let record, let at, _):
                if record.offset != next { return .failed(offset: next, problem: "found offset \(record.offset) where \(next) belongs") }
                if RecordFrame.expectedChain(of: record, previous: check.chainOut) != record.chainHash {
                    return .failed(offset: next, problem: "record content does not match the hash chain")
                }
                check.chainOut = record.chainHash
                check.positionsToOffsets[at] = (record.offset, record.timestampMs)
                if check.firstTimestampMs == nil { check.firstTimestampMs = record.timestampMs }
                check.lastTimestampMs = record.timestampMs
                check.nextOffset = next + 1
            case .footer(let footer, let at, let frameSize):
                if at + Int64(frameSize) != size { return .failed(offset: next, problem: "data after the segment footer") }
                if footer.recordCount != next - base || footer.lastOffset != next &- 1 {
                    return .failed(offset: next, problem: "footer counts \(footer.recordCount) records up to \(footer.lastOffset)")
                }
                if footer.lastChain != check.chainOut {
                    return .failed(offset: next &- 1, problem: "footer chain does not match the records")
                }
                if digestBefore?.finalize() != footer.segmentDigest {
                    return .failed(offset: base, problem: "segment SHA-256 does not match its footer")
                }
                check.footer = footer
                check.fileDigest = scanner.digest?.finalize()
                return .passed(check)
            case .end(let at):
                check.recordsEndPosition = at
                if at < size {
                    if !allowTornTail { return .failed(offset: next, problem: "truncated record") }
                    check.notes.append("\(name): \(size - at) bytes of a record still being written (or a torn tail)")
                }
                return .passed(check)
            case .unwritten(let at):
                // The writer's zero-filled space after the last record: the end of a live (or crashed) log.
                check.recordsEndPosition = at
                guard allowTornTail else { return .failed(offset: next, problem: "zero-filled space where records or the footer belong") }
                guard try Recovery.isTornTail(file: file, position: at, fileSize: size) else {
                    return .failed(offset: next, problem: "a zero frame header followed by data")
                }
                if try !Recovery.isZeroFilled(file: file, from: at, to: size) {
                    check.notes.append("\(name): torn tail at offset \(next) (a sector never written, data after it); recovery cuts it")
                    check.tornTailPosition = at
                }
                return .passed(check)
            case .invalid(let at, let reason):
                check.recordsEndPosition = at
                var fresh = SegmentScanner(file: file, position: at)
                if allowTornTail, case .event = try fresh.next() {
                    // Read while the writer was filling it: complete now.
                    check.notes.append("\(name): the log grew while it was verified (checked up to offset \(next))")
                    return .passed(check)
                }
                if allowTornTail, try Recovery.isTornTail(file: file, position: at, fileSize: size) {
                    check.notes.append("\(name): torn tail at offset \(next) (\(reason)); recovery cuts it")
                    check.tornTailPosition = at
                    return .passed(check)
                }
                return .failed(offset: next, problem: reason)
            }
        }
    }

    /// SHA-256 of the bytes before the footer and of the whole file, in one pass.
    static func digests(of file: FileDescriptor, footerPosition: Int64,
                                sizeBytes: Int64) throws(EventLogError) -> (beforeFooter: [UInt8], whole: [UInt8]) {
        var hasher = SHA256()
        var position: Int64 = 0
        var beforeFooter: [UInt8]?
        while position < sizeBytes {
            if position == footerPosition {
                let copy = hasher
                beforeFooter = copy.finalize()
            }
            let end = position < footerPosition ? footerPosition : sizeBytes
            let count = Int(min(Int64(1 << 20), end - position))
            let chunk = try systemCall { try file.read(count: count, at: position) }
            if chunk.count < count { throw .corruptSegment(segment: file.path, reason: "shorter than expected while hashing") }
            hasher.update(chunk)
            position += Int64(count)
        }
        if beforeFooter == nil { beforeFooter = hasher.finalize() }
        let whole = hasher.finalize()
        return (beforeFooter ?? [], whole)
    }
}
