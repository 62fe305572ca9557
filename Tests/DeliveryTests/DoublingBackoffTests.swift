import Testing
@testable import Delivery

@Suite struct DoublingBackoffTests {
    @Test func startsAtTheFirstWaitDoublesAndStopsAtTheLast() {
        let backoff = DoublingBackoff(firstMs: 200, lastMs: 1_000)
        var waits: [Int64] = []
        var previous: Int64? = nil
        for _ in 0..<6 {
            let delay = backoff.delayMs(afterPrevious: previous)
            waits.append(delay)
            previous = delay
        }
        #expect(waits == [200, 400, 800, 1_000, 1_000, 1_000])
    }

    @Test func aResetOrOddPreviousWaitStaysWithinTheBounds() {
        let backoff = DoublingBackoff(firstMs: 1_000, lastMs: 60_000)
        // The dispatcher records 0 when a read problem is not retried on a timer.
        #expect(backoff.delayMs(afterPrevious: 0) == 1_000)
        #expect(backoff.delayMs(afterPrevious: -5) == 1_000)
        #expect(backoff.delayMs(afterPrevious: 100) == 1_000)
        #expect(backoff.delayMs(afterPrevious: 40_000) == 60_000)
        #expect(backoff.delayMs(afterPrevious: .max) == 60_000, "no overflow")
    }

    @Test func theDispatcherBackoffsAreBounded() {
        for backoff in [DeliveryLimits.CatchUp.readRetryBackoff, DeliveryLimits.History.loadRetryBackoff] {
            #expect(backoff.firstMs > 0 && backoff.firstMs <= backoff.lastMs)
        }
    }
}
