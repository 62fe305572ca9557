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
        #expect(schedule.delayMs(afterAttempt: 1, retryAfterMs: 30_000, random: 0.5) == 30_000)
        #expect(schedule.delayMs(afterAttempt: 1, retryAfterMs: 7_200_000, random: 0.5) == 60_000)
        #expect(schedule.delayMs(afterAttempt: 1, retryAfterMs: .max, random: 0.5) == 60_000)
        #expect(schedule.delayMs(afterAttempt: 1, retryAfterMs: 0, random: 0.5) == 100)
        #expect(schedule.delayMs(afterAttempt: 1, retryAfterMs: .min, random: 0.5) == 100)
        #expect(schedule.delayMs(afterAttempt: 4, retryAfterMs: 5, random: 0.5) == nil, "Retry-After does not add retries")
        #expect(schedule.delayMs(afterAttempt: 1, random: .nan) != nil)
        #expect(RetrySchedule.retryAfterMs(" 120 ", nowMs: 0) == 120_000)
        // 1994-11-06 08:49:37 UTC is 784111777.
        #expect(RetrySchedule.retryAfterMs("Sun, 06 Nov 1994 08:49:37 GMT", nowMs: 784_111_700_000) == 77_000)
        #expect(RetrySchedule.retryAfterMs("Sun, 06 Nov 1994 08:49:37 GMT", nowMs: 784_111_800_000) == 0)
        #expect(RetrySchedule.retryAfterMs("99999999999999999", nowMs: 0) == .max, "absurd, saturated, never a trap")
        #expect(RetrySchedule.retryAfterMs("Sun, 06 Nov 99999999999999 08:49:37 GMT", nowMs: 0) == nil)
        #expect(RetrySchedule.retryAfterMs("Fri, 31 Dec 9999 23:59:59 GMT", nowMs: .min) == .max)
        #expect(RetrySchedule.retryAfterMs("soon", nowMs: 0) == nil)
        #expect(RetrySchedule.retryAfterMs("-3", nowMs: 0) == nil)
        #expect(RetrySchedule.retryAfterMs(nil, nowMs: 0) == nil)
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
