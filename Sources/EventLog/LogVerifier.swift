import Crypto

/// Checks a whole log directory: header and record CRCs, dense offsets, the hash chain within and
/// across segments, footers (count, last offset, last chain, SHA-256 of the segment), and that every
/// index entry points at the record it names. Works on a live directory without a lock.
public enum LogVerifier {
    /// The outcome of a verification.
    public struct Report: Sendable {
        public var segmentCount = 0
        public var recordCount: UInt64 = 0
        public var sizeBytes: Int64 = 0
        /// First offset whose record is missing, altered, out of place or unexpected; nil when the log is intact.
        public var firstBadOffset: UInt64?
        /// What is wrong at `firstBadOffset` (or with a segment), nil when intact.
        public var problem: String?
        /// Observations that are not failures, such as a torn tail that recovery will cut.
        public var notes: [String] = []
        /// The chain value after the last record verified.
        public var lastChain: [UInt8] = []
        /// Offset after the last verified record.
        public var nextOffset: UInt64 = 0

        public var isIntact: Bool { problem == nil }
    }

    /// Verifies the segments of `directory` in order.
    /// - Parameters:
    ///   - expectedChainIn: the chain the first segment must continue from (zero for a log that starts at
    ///     offset 0); nil to accept whatever the first segment's header says (its predecessors were removed).
    ///   - progress: called after each segment with (bytes verified, total bytes).
    public static func verify(directory: String, expectedChainIn: [UInt8]? = nil,
                              progress: (Int64, Int64) -> Void = { _, _ in }) throws(EventLogError) -> Report {
        var report = Report()
        let bases = try SegmentCatalog.baseOffsets(directory: directory)
        var totalBytes: Int64 = 0
        for base in bases {
            if let file = try FileDescriptor.openIfExists(directory + "/" + SegmentName.log(baseOffset: base)) {
                totalBytes += try file.size()
            }
        }
        var expectedOffset: UInt64? = nil
        var chain: [UInt8]? = expectedChainIn
        for (position, base) in bases.enumerated() {
            let isLast = position == bases.count - 1
            let name = SegmentName.log(baseOffset: base)
            func fail(_ offset: UInt64, _ problem: String) -> Report {
                var failed = report
                failed.firstBadOffset = offset
                failed.problem = "\(name): \(problem)"
                return failed
            }
            if let expected = expectedOffset, base != expected {
                return fail(expected, base > expected ? "offsets \(expected)..<\(base) are missing (segment gap)"
                                                     : "segment starts at \(base), overlapping earlier records")
            }
            guard let file = try FileDescriptor.openIfExists(directory + "/" + name) else {
                return fail(base, "segment file disappeared")
            }
            let size = try file.size()
            let header: SegmentHeader
            do throws(EventLogError) {
                header = try SegmentHeader.decode(try file.read(count: SegmentHeader.sizeBytes, at: 0), segment: name)
            } catch {
                if isLast && size < Int64(SegmentHeader.sizeBytes) {
                    report.notes.append("\(name): header being written or torn; recovery recreates it")
                    break
                }
                return fail(base, "\(error)")
            }
            if header.baseOffset != base { return fail(base, "header names base offset \(header.baseOffset)") }
            if let chain, header.chainIn != chain { return fail(base, "header does not continue the hash chain") }
            if chain == nil && base == 0 && header.chainIn != [UInt8](repeating: 0, count: 32) {
                return fail(0, "first segment must start from a zero chain")
            }
            var running = header.chainIn
            var next = base
            var positionsToOffsets: [Int64: (UInt64, Int64)] = [:]
            var scanner = SegmentScanner(file: file, position: Int64(SegmentHeader.sizeBytes))
            var sealed = false
            scan: while true {
                switch try scanner.next() {
                case .event(let record, let at, _):
                    if record.offset != next { return fail(next, "found offset \(record.offset) where \(next) belongs") }
                    if RecordFrame.expectedChain(of: record, previous: running) != record.chainHash {
                        return fail(next, "record content does not match the hash chain")
                    }
                    running = record.chainHash
                    positionsToOffsets[at] = (record.offset, record.timestampMs)
                    next += 1
                case .footer(let footer, let at, let frameSize):
                    if at + Int64(frameSize) != size { return fail(next, "data after the segment footer") }
                    if footer.recordCount != next - base || footer.lastOffset != next &- 1 {
                        return fail(next, "footer counts \(footer.recordCount) records up to \(footer.lastOffset)")
                    }
                    if footer.lastChain != running { return fail(next &- 1, "footer chain does not match the records") }
                    if try ActiveSegment.digestOfFile(file, sizeBytes: at) != footer.segmentDigest {
                        return fail(base, "segment SHA-256 does not match its footer")
                    }
                    sealed = true
                    break scan
                case .end(let at):
                    if at < size {
                        if !isLast { return fail(next, "truncated record") }
                        report.notes.append("\(name): \(size - at) bytes of a record still being written (or a torn tail)")
                    }
                    break scan
                case .invalid(let at, let reason):
                    if isLast, try Recovery.isTornTail(file: file, position: at, fileSize: size) {
                        report.notes.append("\(name): torn tail at offset \(next) (\(reason)); recovery cuts it")
                        break scan
                    }
                    return fail(next, reason)
                }
            }
            if !sealed && !isLast { return fail(next, "segment is not sealed but a later segment exists") }
            let index = try SegmentIndex.load(path: directory + "/" + SegmentName.index(baseOffset: base),
                                              segmentSizeBytes: size, baseOffset: base)
            for entry in index.entries {
                guard let found = positionsToOffsets[entry.position] else {
                    if !sealed && entry.offset >= next { continue }
                    return fail(entry.offset, "index entry points at no record (rebuild by deleting \(SegmentName.index(baseOffset: base)))")
                }
                if found.0 != entry.offset || found.1 != entry.timestampMs {
                    return fail(entry.offset, "index entry does not match its record")
                }
            }
            report.segmentCount += 1
            report.recordCount += next - base
            report.sizeBytes += size
            chain = running
            expectedOffset = next
            progress(report.sizeBytes, totalBytes)
        }
        report.lastChain = chain ?? []
        report.nextOffset = expectedOffset ?? 0
        return report
    }
}
