/// What a verification of a run of segments covered and found: how many segments, records and bytes
/// it checked, the first bad offset and what is wrong there, and notes. `LogVerifier.Report` and the
/// archive verifier's report each carry one, and `verify` prints them alike.
public struct VerificationSummary: Sendable {
    /// Segments verified.
    public var segmentCount = 0
    /// Records whose CRC and chain were checked.
    public var recordCount: UInt64 = 0
    /// Bytes of the segments that hold their headers, records and footers: a sealed segment's file
    /// size, an unsealed one's up to the end of its last record (the zero-filled space the writer keeps
    /// ahead, or a torn tail, left out).
    public var sizeBytes: Int64 = 0
    /// The first offset that is missing, altered, out of place or unexpected; nil when intact.
    public var firstBadOffset: UInt64?
    /// What is wrong at `firstBadOffset` (or with a segment); nil when intact.
    public var problem: String?
    /// Observations that are not failures, such as a torn tail that recovery will cut.
    public var notes: [String] = []

    /// Nothing checked yet.
    package init() {}

    /// True when nothing is wrong.
    public var isIntact: Bool { problem == nil }

    /// Counts one verified segment of `recordCount` records and `sizeBytes` bytes.
    package mutating func addSegment(recordCount: UInt64, sizeBytes: Int64) {
        segmentCount += 1
        self.recordCount += recordCount
        self.sizeBytes += sizeBytes
    }

    /// Records the verification's verdict: `problem` at `offset`, the first bad offset.
    package mutating func fail(at offset: UInt64, _ problem: String) {
        firstBadOffset = offset
        self.problem = problem
    }
}
