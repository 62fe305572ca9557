import Testing
@testable import EventLog

@Suite struct SequencePairsTests {
    /// `forEachPair` hands over every element once, in order, two at a time, and the last one alone when
    /// their count is odd.
    @Test(arguments: [0, 1, 2, 3, 6, 7])
    func pairsThenTheOddOneOut(count: Int) {
        var calls: [[Int]] = []
        (0..<count).forEachPair { calls.append([$0, $1]) } last: { calls.append([$0]) }
        let expected = stride(from: 0, to: count, by: 2).map { $0 + 1 < count ? [$0, $0 + 1] : [$0] }
        #expect(calls == expected)
    }
}
