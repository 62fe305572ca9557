import EventLog
import JSON
import Testing
@testable import Delivery

/// The lane state machine with a fake log and a fake clock: no sockets, no sleeps.
@Suite struct LaneTests {
    @Test func anUnorderedLaneKeepsMaxInFlightAndTheCursorWaitsForTheOldestDelivery() {
        var driver = LaneDriver(LaneDriver.subscription(maxInFlight: 4))
        let first = driver.pump().sends
        #expect(first.map(\.record.offset) == [0, 1, 2, 3])
        #expect(first.map(\.attempt) == [1, 1, 1, 1])
        #expect(first[0].deliveryID == DeliveryID.make(webhookID: "wh_1", offset: 0))
        #expect(driver.lane.wantedOffset == nil, "the window is full")
        // Acknowledging 1 frees a slot but the cursor stays at 0.
        #expect(driver.answer(first[1], status: 200).cursors.isEmpty)
        #expect(driver.pump().sends.map(\.record.offset) == [4])
        #expect(driver.lane.cursor == 0)
        let acknowledged = driver.answer(first[0], status: 204)
        #expect(acknowledged.cursors == [2], "past 0 and the already acknowledged 1")
        #expect(acknowledged.histories.map(\.status) == [.succeeded])
    }

    @Test func everyReceiverAnswerIsAnOutcomeAndNoneTraps() {
        // (status, Retry-After) -> what the lane does with an unordered webhook's first attempt.
        let cases: [(Int?, String?, String)] = [
            (200, nil, "ack"), (201, nil, "ack"), (299, nil, "ack"), (100, nil, "retry"), (300, nil, "retry"), (302, nil, "retry"),
            (304, nil, "retry"), (400, nil, "retry"), (401, nil, "retry"), (404, nil, "retry"), (408, nil, "retry"), (409, nil, "retry"),
            (410, nil, "disable"), (413, nil, "retry"), (429, nil, "retry"), (429, "3", "retry"), (500, nil, "retry"), (502, nil, "retry"),
            (503, "1", "retry"), (504, nil, "retry"), (599, nil, "retry"), (999, nil, "retry"), (-1, nil, "retry"), (0, nil, "retry"),
            (Int.max, nil, "retry"), (Int.min, "99999999999999999999", "retry"), (nil, nil, "retry"),
        ]
        for (status, retryAfter, expected) in cases {
            var driver = LaneDriver(events: 1)
            let attempt = driver.pump().sends[0]
            let effects = driver.answer(attempt, status: status, retryAfter: retryAfter, body: "\u{0}\u{1b}[31m\u{7f}")
            let history = effects.histories.last
            switch expected {
            case "ack":
                #expect(history?.status == .succeeded, "\(String(describing: status))")
                #expect(effects.cursors == [1])
            case "disable":
                #expect(history?.status == .failed && history?.finalFailure == true)
                #expect(effects.states == [.disabled])
                #expect(effects.publishedTypes == ["webhook.disabled"])
            default:
                #expect(history?.status == .pending, "\(String(describing: status)) is retried")
                #expect(history?.attempt?.statusCode == status)
                #expect(history?.nextAttemptAtMs != nil)
                #expect(effects.cursors.isEmpty)
            }
        }
    }

    @Test func retryAfterFromAbsurdToMalformedIsClampedOrIgnored() {
        // Unordered webhook, backoff 1 s (jitter 0.5 gives exactly 1,000 ms), max delay 10 s.
        let backoff: Int64 = 1_000
        let maxDelay: Int64 = 10_000
        let cases: [(String?, Int64)] = [
            ("0", 100), ("1", 1_000), ("3", 3_000), (" 7 ", 7_000), ("10", 10_000), ("11", maxDelay), ("3600", maxDelay),
            ("99999999999999999", maxDelay), ("9223372036854775807", maxDelay), ("99999999999999999999999999999999999", maxDelay),
            ("Fri, 31 Dec 9999 23:59:59 GMT", maxDelay), ("Sun, 06 Nov 1994 08:49:37 GMT", 100),
            ("Sun, 06 Nov 99999999999999 08:49:37 GMT", backoff), ("Sun, 06 Nov -5 08:49:37 GMT", backoff),
            ("Sun, 99 Nov 2024 08:49:37 GMT", backoff), ("Sun, 06 Nov 2024 99:49:37 GMT", backoff),
            ("-1", backoff), ("1.5", backoff), ("1e3", backoff), ("+5", backoff), ("soon", backoff), ("", backoff), (nil, backoff),
            ("\u{0}", backoff), ("Sunday, 06-Nov-94 08:49:37 GMT", backoff), (String(repeating: "9", count: 5_000), backoff),
        ]
        for status in [429, 503] {
            for (value, expectedDelay) in cases {
                var driver = LaneDriver(LaneDriver.subscription(maxRetries: 3, initialDelayMs: backoff, maxDelayMs: maxDelay), events: 1)
                let attempt = driver.pump().sends[0]
                let effects = driver.answer(attempt, status: status, retryAfter: value)
                #expect(effects.histories.last?.nextAttemptAtMs == driver.nowMs + expectedDelay, "\(status) Retry-After: \(String(describing: value))")
                #expect(effects.wakes.last == driver.nowMs + expectedDelay)
                // Not before its time, then exactly once.
                driver.nowMs += expectedDelay - 1
                #expect(driver.pump().sends.isEmpty)
                driver.nowMs += 1
                #expect(driver.pump().sends.map(\.attempt) == [2])
            }
        }
        // A 500's Retry-After is not honoured: the backoff applies.
        var driver = LaneDriver(events: 1)
        let attempt = driver.pump().sends[0]
        #expect(driver.answer(attempt, status: 500, retryAfter: "5").histories.last?.nextAttemptAtMs == driver.nowMs + backoff)
    }

    @Test func retriesFollowTheScheduleThenAnUnorderedDeliveryFailsAndTheCursorMovesOn() {
        var driver = LaneDriver(LaneDriver.subscription(maxRetries: 2, initialDelayMs: 1_000), events: 2)
        var attempt = driver.pump().sends.first { $0.record.offset == 0 }!
        #expect(driver.answer(attempt, status: 500).histories.last?.nextAttemptAtMs == driver.nowMs + 1_000)
        driver.nowMs += 1_000
        attempt = driver.pump().sends[0]
        #expect(attempt.attempt == 2 && attempt.deliveryID == DeliveryID.make(webhookID: "wh_1", offset: 0))
        #expect(driver.answer(attempt, status: nil).histories.last?.nextAttemptAtMs == driver.nowMs + 6_000)
        driver.nowMs += 6_000
        attempt = driver.pump().sends[0]
        #expect(attempt.attempt == 3)
        let exhausted = driver.answer(attempt, status: 502)
        #expect(exhausted.histories.last?.status == .failed && exhausted.histories.last?.finalFailure == true)
        #expect(exhausted.publishedTypes == ["delivery.exhausted"])
        let data = exhausted.published[0].data
        #expect(data["webhook_id"]?.stringValue == "wh_1" && data["delivery_id"]?.stringValue == attempt.deliveryID)
        #expect(data["event_id"]?.stringValue == "evt_0" && data["offset"]?.int64Value == 0 && data["attempts"]?.int64Value == 3)
        #expect(data["last_status_code"]?.int64Value == 502)
        #expect(exhausted.published[0].organizationID == "org_a")
        #expect(exhausted.states.isEmpty, "an unordered webhook keeps going")
        #expect(driver.lane.subscription.state == .enabled)
    }

    @Test func anOrdered410DisablesWithoutMovingTheCursorAndEnablingSendsThatEventFirst() {
        var driver = LaneDriver(LaneDriver.subscription(ordered: true), events: 5)
        var attempt = driver.pump().sends[0]
        #expect(driver.answer(attempt, status: 200).cursors == [1])
        attempt = driver.pump().sends[0]
        #expect(attempt.record.offset == 1)
        let gone = driver.answer(attempt, status: 410)
        #expect(gone.states == [.disabled])
        #expect(gone.cursors.isEmpty, "the cursor stays at the event the endpoint refused")
        #expect(driver.lane.cursor == 1)
        #expect(gone.published.last?.type == "webhook.disabled")
        #expect(gone.published.last?.data["reason"]?.stringValue?.contains("410") == true)
        driver.nowMs += 3_600_000
        #expect(driver.pump().sends.isEmpty, "nothing goes out while disabled")
        var enabled = LaneDriver.subscription(ordered: true)
        enabled.state = .enabled
        #expect(driver.handle(.configure(enabled)).publishedTypes == ["webhook.enabled"])
        let resumed = driver.pump().sends
        #expect(resumed.map(\.record.offset) == [1], "the refused event first")
        #expect(resumed[0].attempt == 2)
        #expect(driver.answer(resumed[0], status: 200).cursors == [2])
        #expect(driver.pump().sends.map(\.record.offset) == [2])
    }

    @Test func anUnordered410FailsThatDeliveryHoldsTheRestAndDisables() {
        var driver = LaneDriver(LaneDriver.subscription(maxInFlight: 3), events: 5)
        let sends = driver.pump().sends
        let gone = driver.answer(sends[0], status: 410)
        #expect(gone.cancels.sorted() == [sends[1].attemptID, sends[2].attemptID], "attempts in flight are abandoned")
        #expect(gone.cursors == [1])
        // The abandoned attempts' late answers change nothing; they go out again once enabled.
        #expect(driver.answer(sends[1], status: 200).isEmpty)
        var enabled = LaneDriver.subscription(maxInFlight: 3)
        enabled.state = .enabled
        driver.handle(.configure(enabled))
        #expect(driver.pump().sends.map(\.record.offset) == [1, 2, 3])
    }

    @Test func anOrderedExhaustionPausesAndResumingDeliversInOrderWithoutAGap() {
        var driver = LaneDriver(LaneDriver.subscription(ordered: true, maxRetries: 1), events: 4)
        var attempt = driver.pump().sends[0]
        driver.answer(attempt, status: 500)
        driver.nowMs += 1_000
        attempt = driver.pump().sends[0]
        #expect(attempt.record.offset == 0 && attempt.attempt == 2)
        let exhausted = driver.answer(attempt, status: 500)
        #expect(exhausted.publishedTypes == ["delivery.exhausted", "webhook.paused"])
        #expect(exhausted.states == [.paused])
        #expect(exhausted.cursors.isEmpty)
        #expect(driver.lane.wantedOffset == nil)
        driver.nowMs += 86_400_000
        #expect(driver.pump().sends.isEmpty)
        // The API pausing it again (the store echoing the engine's change) changes nothing.
        var paused = LaneDriver.subscription(ordered: true, maxRetries: 1)
        paused.state = .paused
        #expect(driver.handle(.configure(paused)).isEmpty)
        paused.state = .enabled
        driver.handle(.configure(paused))
        var offsets: [UInt64] = []
        for _ in 0..<4 {
            let sends = driver.pump().sends
            #expect(sends.count == 1, "one at a time")
            offsets += sends.map(\.record.offset)
            driver.answer(sends[0], status: 200)
        }
        #expect(offsets == [0, 1, 2, 3])
        #expect(driver.lane.cursor == 4)
    }

    @Test func manualRetriesAreOnePerDeliveryAndNeverMoveTheCursor() {
        var driver = LaneDriver(LaneDriver.subscription(maxRetries: 0), events: 3)
        let sends = driver.pump().sends
        driver.answer(sends[0], status: 500)
        #expect(driver.lane.cursor == 1, "failed without retries: the cursor moved on")
        let record = driver.log[0]
        let prior = PriorDelivery(status: .failed, attemptCount: 1)
        let accepted = driver.handle(.manualRetry(record, prior: prior))
        #expect(accepted.answers == [.accepted])
        #expect(accepted.histories.map(\.status) == [.pending])
        #expect(driver.handle(.manualRetry(record, prior: prior)).answers == [.inProgress], "a second call while it runs")
        // A retry of a delivery that is live in the window is in progress as well.
        #expect(driver.handle(.manualRetry(driver.log[1], prior: prior)).answers == [.inProgress])
        let retry = driver.pump().sends
        #expect(retry.count == 1 && retry[0].isManual && retry[0].attempt == 2 && retry[0].deliveryID == sends[0].deliveryID)
        #expect(driver.handle(.manualRetry(record, prior: prior)).answers == [.inProgress], "still in flight")
        let done = driver.answer(retry[0], status: 200)
        #expect(done.histories.map(\.status) == [.succeeded])
        #expect(done.cursors.isEmpty)
        #expect(driver.handle(.manualRetry(record, prior: PriorDelivery(status: .succeeded, attemptCount: 2))).answers == [.accepted])
    }

    @Test func aManualRetryUsesTheRetrySeriesAndHonoursRetryAfterLikeAnyAttempt() {
        var driver = LaneDriver(LaneDriver.subscription(maxRetries: 1, initialDelayMs: 1_000, maxDelayMs: 5_000), events: 0)
        driver.log = [LaneDriver.record(0)]
        #expect(driver.handle(.manualRetry(driver.log[0], prior: PriorDelivery(status: .failed, attemptCount: 4))).answers == [.accepted])
        let first = driver.pump().sends[0]
        #expect(first.attempt == 5)
        let throttled = driver.answer(first, status: 429, retryAfter: "2")
        #expect(throttled.histories.last?.nextAttemptAtMs == driver.nowMs + 2_000)
        driver.nowMs += 2_000
        let second = driver.pump().sends[0]
        let gone = driver.answer(second, status: 410)
        #expect(gone.states == [.disabled], "410 disables from a manual retry too")
        #expect(gone.histories.first?.status == .failed)
    }

    @Test func disablingOrDeletingCancelsManualRetriesAndRefusesNewOnes() {
        var driver = LaneDriver(events: 0)
        driver.log = [LaneDriver.record(0), LaneDriver.record(1)]
        driver.handle(.manualRetry(driver.log[0], prior: PriorDelivery(status: .failed, attemptCount: 1)))
        driver.handle(.manualRetry(driver.log[1], prior: PriorDelivery(status: .failed, attemptCount: 1)))
        let inFlight = driver.handle(.tick(nowMs: driver.nowMs, sendSlots: 1)).sends
        #expect(inFlight.count == 1)
        var disabled = LaneDriver.subscription()
        disabled.state = .disabled
        disabled.url = "https://new.example/hook"
        let stop = driver.handle(.configure(disabled))
        #expect(stop.cancels == [inFlight[0].attemptID])
        #expect(stop.histories.map(\.status) == [.failed, .failed], "both retries end; the deliveries stay failed")
        #expect(stop.publishedTypes == ["webhook.disabled"])
        #expect(stop.states.isEmpty, "the API already stored the state")
        #expect(driver.answer(inFlight[0], status: 200).isEmpty, "a late answer of a cancelled attempt changes nothing")
        #expect(driver.handle(.manualRetry(driver.log[0], prior: PriorDelivery(status: .failed, attemptCount: 1))).answers == [.notEnabled])
        #expect(driver.lane.subscription.url == "https://new.example/hook", "attempts use the URL as it is now")

        var deleted = LaneDriver(events: 0)
        deleted.log = [LaneDriver.record(0)]
        deleted.handle(.manualRetry(deleted.log[0], prior: PriorDelivery(status: .failed, attemptCount: 1)))
        let attempt = deleted.pump().sends[0]
        #expect(deleted.handle(.remove).cancels == [attempt.attemptID])
        #expect(deleted.answer(attempt, status: 500).isEmpty)
        deleted.nowMs += 86_400_000
        #expect(deleted.pump().sends.isEmpty)
    }

    @Test func deletingDuringAnAttemptCancelsItAndNothingFollows() {
        var driver = LaneDriver(LaneDriver.subscription(maxInFlight: 2), events: 5)
        let sends = driver.pump().sends
        let removal = driver.handle(.remove)
        #expect(removal.cancels.sorted() == sends.map(\.attemptID).sorted())
        #expect(removal.cursors.isEmpty)
        for attempt in sends { #expect(driver.answer(attempt, status: 500).isEmpty) }
        driver.nowMs += 86_400_000
        #expect(driver.handle(.tick(nowMs: driver.nowMs, sendSlots: 100)).isEmpty)
    }

    @Test func theRateLimitCapsStartsRetriesIncludedInAnyOneSecondWindow() {
        var driver = LaneDriver(LaneDriver.subscription(maxInFlight: 100, maxRetries: 5, initialDelayMs: 100, maxDelayMs: 100,
                                                        rateLimitPerSecond: 3), events: 10)
        var first = driver.pump()
        #expect(first.sends.count == 3)
        #expect(first.wakes == [driver.nowMs + 1_000])
        // A failed attempt's retry is due in 100 ms but the window is full until +1,000.
        driver.answer(first.sends[0], status: 500)
        driver.nowMs += 999
        #expect(driver.pump().sends.isEmpty)
        driver.nowMs += 1
        first = driver.pump()
        #expect(first.sends.count == 3)
        #expect(first.sends[0].record.offset == 0 && first.sends[0].attempt == 2, "the retry counts against the limit, oldest first")
        // Staggered starts: the window slides, it does not reset.
        driver.nowMs += 500
        #expect(driver.pump().sends.isEmpty)
        driver.nowMs += 500
        #expect(driver.pump().sends.count == 3)
        // Lowering the limit through the API applies to the starts already made.
        var lowered = LaneDriver.subscription(maxInFlight: 100, rateLimitPerSecond: 1)
        lowered.state = .enabled
        driver.handle(.configure(lowered))
        driver.nowMs += 999
        #expect(driver.pump().sends.isEmpty)
        driver.nowMs += 1
        #expect(driver.pump().sends.count == 1)
    }

    @Test func theGlobalCapHandsOutSlotsAndMaxInFlightCountsManualRetries() {
        var driver = LaneDriver(LaneDriver.subscription(maxInFlight: 4), events: 10)
        #expect(driver.pump(slots: 2).sends.map(\.record.offset) == [0, 1])
        #expect(driver.pump(slots: 0).sends.isEmpty)
        #expect(driver.pump(slots: 10).sends.map(\.record.offset) == [2, 3])
        // A manual retry waits for room in max_in_flight.
        var other = LaneDriver(LaneDriver.subscription(maxInFlight: 1), events: 1)
        let live = other.pump().sends
        other.log.append(LaneDriver.record(5))
        other.handle(.manualRetry(other.log[1], prior: PriorDelivery(status: .failed, attemptCount: 1)))
        #expect(other.handle(.tick(nowMs: other.nowMs, sendSlots: 10)).sends.isEmpty)
        other.answer(live[0], status: 200)
        #expect(other.handle(.tick(nowMs: other.nowMs, sendSlots: 10)).sends.map(\.isManual) == [true])
    }

    @Test func theFifthConsecutiveFailureAnnouncesFailingOnceAndASuccessRecovered() {
        var driver = LaneDriver(LaneDriver.subscription(types: ["*"], maxInFlight: 1, maxRetries: 10, initialDelayMs: 100, maxDelayMs: 100),
                                events: 2)
        var announced: [String] = []
        for _ in 0..<7 {
            let attempt = driver.pump().sends[0]
            announced += driver.answer(attempt, status: 503).publishedTypes
            driver.nowMs += 100
        }
        #expect(announced == ["webhook.failing"])
        let failing = driver.effects.published.first { $0.type == "webhook.failing" }
        #expect(failing?.data["consecutive_failures"]?.int64Value == 5 && failing?.data["last_status_code"]?.int64Value == 503)
        let attempt = driver.pump().sends[0]
        #expect(driver.answer(attempt, status: 200).publishedTypes == ["webhook.recovered"])
        #expect(driver.answer(driver.pump().sends[0], status: 200).publishedTypes.isEmpty, "recovered once")
        // A lane restarted in a failing streak does not announce it again.
        var restarted = LaneDriver(LaneDriver.subscription(maxRetries: 10, initialDelayMs: 100, maxDelayMs: 100), events: 1,
                                   consecutiveFailures: 7)
        #expect(restarted.answer(restarted.pump().sends[0], status: 500).published.isEmpty)
    }

    @Test func aWebhookFailingLongerThanTheAutoDisableTimeIsDisabled() {
        var driver = LaneDriver(LaneDriver.subscription(maxRetries: 10, initialDelayMs: 1_000, maxDelayMs: 1_000), events: 1,
                                autoDisableMs: 3_000)
        var effects: [LaneEffect] = []
        for _ in 0..<4 {
            effects = driver.answer(driver.pump().sends[0], status: 500)
            driver.nowMs += 1_000
        }
        #expect(effects.states == [.disabled])
        #expect(effects.published.last?.data["reason"]?.stringValue?.contains("failing continuously since") == true)
    }

    @Test func operationalEventsGoToTheOrganizationOrPlatformAndNeverToTheirWebhook() {
        var global = LaneDriver(LaneDriver.subscription(id: "wh_g", organization: "*", types: ["*"], maxRetries: 0), events: 1)
        let effects = global.answer(global.pump().sends[0], status: 500)
        #expect(effects.published.map(\.organizationID) == ["platform"])
        let subscription = LaneDriver.subscription(id: "wh_1", types: ["*"])
        #expect(!subscription.wants(LaneDriver.record(0, type: "webhook.failing", data: #"{"webhook_id":"wh_1"}"#)))
        #expect(!subscription.wants(LaneDriver.record(0, type: "delivery.exhausted", data: #"{"webhook_id":"wh_1","offset":3}"#)))
        #expect(subscription.wants(LaneDriver.record(0, type: "webhook.failing", data: #"{"webhook_id":"wh_2"}"#)))
        #expect(subscription.wants(LaneDriver.record(0, type: "webhook.test", data: #"{"webhook_id":"wh_1"}"#)))
        #expect(!subscription.wants(LaneDriver.record(0, type: "webhook.test", data: #"{"webhook_id":"wh_2"}"#)))
        // Routed by the parsed member, not by searching the text: the id quoted inside another string does not route.
        #expect(!subscription.wants(LaneDriver.record(0, type: "webhook.test", data: #"{"webhook_id":"wh_2","message":"\"webhook_id\":\"wh_1\""}"#)))
        #expect(subscription.wants(LaneDriver.record(0, type: "webhook.test", data: #"{"message":"x", "webhook_id": "wh_1"}"#)))
    }

    @Test func replayCancelsLiveAttemptsCommitsDurablyAndSendsSettledEventsAgainWithTheSameIds() {
        var driver = LaneDriver(LaneDriver.subscription(maxInFlight: 2), events: 4)
        var sent: [String] = []
        for _ in 0..<2 {
            let sends = driver.pump().sends
            sent += sends.map(\.deliveryID)
            for attempt in sends { driver.answer(attempt, status: 200) }
        }
        let inFlight = driver.pump().sends
        #expect(inFlight.isEmpty && driver.lane.cursor == 4)
        let replay = driver.handle(.replay(fromOffset: 1))
        #expect(replay.contains { if case .commitCursor(1, durable: true) = $0 { true } else { false } })
        let again = driver.pump { _ in PriorDelivery(status: .succeeded, attemptCount: 1) }.sends
        #expect(again.map(\.record.offset) == [1, 2], "settled deliveries go out again after a replay")
        #expect(again.map(\.deliveryID) == Array(sent[1...2]))
        #expect(again.map(\.attempt) == [2, 2])
        let cancelled = driver.handle(.replay(fromOffset: 0))
        #expect(cancelled.cancels.sorted() == again.map(\.attemptID).sorted())
    }

    @Test func afterARestartSettledDeliveriesAreSkippedExceptAnOrderedWebhooksHeldOne() {
        let history: (UInt64) -> PriorDelivery? = { offset in
            switch offset {
            case 0: PriorDelivery(status: .succeeded, attemptCount: 1)
            case 1: PriorDelivery(status: .failed, attemptCount: 4)
            case 2: PriorDelivery(status: .pending, attemptCount: 2, nextAttemptAtMs: 1_780_000_005_000)
            default: nil
            }
        }
        var unordered = LaneDriver(events: 4)
        let sends = unordered.pump(prior: history).sends
        #expect(sends.map(\.record.offset) == [3], "0 succeeded, 1 failed, 2 waits for its retry time")
        unordered.nowMs = 1_780_000_005_000
        #expect(unordered.pump(prior: history).sends.map(\.attempt) == [3])
        var ordered = LaneDriver(LaneDriver.subscription(ordered: true), events: 4, cursor: 1)
        #expect(ordered.pump(prior: history).sends.map(\.record.offset) == [1], "an ordered webhook's failed delivery was held")
    }

    @Test func nothingIsSentWhilePausedAndPausingAbandonsAttemptsInFlight() {
        var driver = LaneDriver(LaneDriver.subscription(maxInFlight: 2), events: 3)
        let sends = driver.pump().sends
        var paused = LaneDriver.subscription(maxInFlight: 2)
        paused.state = .paused
        let pause = driver.handle(.configure(paused))
        #expect(pause.cancels.count == 2)
        #expect(pause.publishedTypes == ["webhook.paused"])
        #expect(driver.lane.wantedOffset == nil)
        driver.nowMs += 10_000
        #expect(driver.pump().sends.isEmpty)
        #expect(driver.lane.cursor == 0)
        paused.state = .enabled
        driver.handle(.configure(paused))
        let resumed = driver.pump().sends
        #expect(resumed.map(\.deliveryID) == sends.map(\.deliveryID))
    }

    /// Random sequences of every event against the invariants: limits hold, nothing is sent unless enabled, one
    /// attempt per delivery at a time, the cursor never passes an unresolved delivery and only a replay moves it back.
    @Test(arguments: 0..<40) func randomSequencesKeepEveryInvariant(seed: Int) {
        var random = SplitMix(seed: UInt64(seed))
        let ordered = seed % 3 == 0
        let limit = seed % 4 == 0 ? 2 : nil
        var subscription = LaneDriver.subscription(ordered: ordered, maxInFlight: 1 + seed % 4, maxRetries: seed % 3,
                                                   initialDelayMs: 100, maxDelayMs: 400, rateLimitPerSecond: limit)
        var driver = LaneDriver(subscription, events: 30, autoDisableMs: 5_000)
        var inFlight: [UInt64: LaneAttempt] = [:]
        var starts: [Int64] = []
        var lastCursor = driver.lane.cursor
        var acknowledged: Set<UInt64> = []
        for _ in 0..<400 {
            var effects: [LaneEffect]
            switch random.next() % 10 {
            case 0, 1, 2: effects = driver.pump(slots: Int(random.next() % 4))
            case 3, 4, 5:
                guard let attempt = inFlight.values.sorted(by: { $0.attemptID < $1.attemptID }).first else { continue }
                let statuses: [Int?] = [200, 200, 500, 503, 429, 410, nil, 302]
                let status = statuses[Int(random.next() % UInt64(statuses.count))]
                effects = driver.answer(attempt, status: status, retryAfter: ["1", "junk", "99999999999999999999", nil][Int(random.next() % 4)])
                inFlight[attempt.attemptID] = nil
                if let status, (200..<300).contains(status), !attempt.isManual { acknowledged.insert(attempt.record.offset) }
            case 6:
                driver.nowMs += Int64(random.next() % 700)
                continue
            case 7:
                subscription.state = [.enabled, .enabled, .paused, .disabled][Int(random.next() % 4)]
                effects = driver.handle(.configure(subscription))
            case 8:
                let offset = random.next() % 30
                effects = driver.handle(.manualRetry(driver.log[Int(offset)], prior: PriorDelivery(status: .failed, attemptCount: 1)))
            default:
                if random.next() % 8 == 0 {
                    let offset = random.next() % 10
                    effects = driver.handle(.replay(fromOffset: offset))
                    lastCursor = offset
                    acknowledged = acknowledged.filter { $0 < offset }
                } else {
                    continue
                }
            }
            for id in effects.cancels { inFlight[id] = nil }
            for attempt in effects.sends {
                #expect(driver.lane.subscription.state == .enabled, "sent only while enabled")
                #expect(!inFlight.values.contains { $0.deliveryID == attempt.deliveryID }, "one attempt per delivery at a time")
                inFlight[attempt.attemptID] = attempt
                starts.append(driver.nowMs)
            }
            #expect(inFlight.count <= driver.lane.subscription.maxInFlight)
            #expect(inFlight.count == driver.lane.inFlightCount)
            if ordered { #expect(inFlight.values.filter { !$0.isManual }.count <= 1) }
            if let limit { #expect(starts.filter { $0 > driver.nowMs - 1_000 }.count <= limit) }
            #expect(driver.lane.cursor >= lastCursor, "the cursor only moves forward")
            #expect(driver.lane.unresolvedCount <= driver.lane.window)
            lastCursor = driver.lane.cursor
            _ = acknowledged
        }
    }
}

/// A small deterministic generator for the random sequences.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE5_E9B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
