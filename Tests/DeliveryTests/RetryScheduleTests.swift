import Testing
@testable import Delivery

@Suite struct RetryScheduleTests {
    @Test func delaysGrowBySixWithBoundedJitterAndStopAfterTheLastRetry() {
        let schedule = RetrySchedule()
        #expect(schedule.delayMs(afterAttempt: 1, random: 0.5) == 10_000)
        #expect(schedule.delayMs(afterAttempt: 2, random: 0.5) == 60_000)
        #expect(schedule.delayMs(afterAttempt: 3, random: 0.5) == 360_000)
        #expect(schedule.delayMs(afterAttempt: 4, random: 0.5) == nil, "3 retries after the first attempt")
        #expect(schedule.delayMs(afterAttempt: 1, random: 0) == 8_000)
        #expect(schedule.delayMs(afterAttempt: 1, random: 0.999_999) == 11_999)
        let capped = RetrySchedule(maxRetries: 10, initialDelayMs: 1_000, maxDelayMs: 5_000)
        #expect(capped.delayMs(afterAttempt: 5, random: 1) == 5_000)
    }

    @Test func retryAfterIsHonouredWithinBounds() {
        let schedule = RetrySchedule(maxRetries: 3, initialDelayMs: 1_000, maxDelayMs: 60_000)
        #expect(schedule.delayMs(afterAttempt: 1, retryAfterSeconds: 30, random: 0.5) == 30_000)
        #expect(schedule.delayMs(afterAttempt: 1, retryAfterSeconds: 7_200, random: 0.5) == 60_000)
        #expect(schedule.delayMs(afterAttempt: 1, retryAfterSeconds: 0, random: 0.5) == 100)
        #expect(RetrySchedule.retryAfterSeconds(" 120 ", nowSeconds: 0) == 120)
        // 1994-11-06 08:49:37 UTC is 784111777.
        #expect(RetrySchedule.retryAfterSeconds("Sun, 06 Nov 1994 08:49:37 GMT", nowSeconds: 784_111_700) == 77)
        #expect(RetrySchedule.retryAfterSeconds("Sun, 06 Nov 1994 08:49:37 GMT", nowSeconds: 784_111_800) == 0)
        #expect(RetrySchedule.retryAfterSeconds("soon", nowSeconds: 0) == nil)
        #expect(RetrySchedule.retryAfterSeconds(nil, nowSeconds: 0) == nil)
    }

    @Test func deliveryIDsAreStableUUIDv4ShapedAndDistinct() {
        let id = DeliveryID.make(webhookID: "wh_1", offset: 42)
        #expect(id == DeliveryID.make(webhookID: "wh_1", offset: 42))
        #expect(id != DeliveryID.make(webhookID: "wh_1", offset: 43))
        #expect(id != DeliveryID.make(webhookID: "wh_2", offset: 42))
        let characters = Array(id)
        #expect(characters.count == 36 && characters[14] == "4" && "89ab".contains(characters[19]))
    }
}
