import Foundation
import SystemIO

/// Timing helpers shared by the suites.
enum Measure {
    /// Runs `body` (which performs `operationsPerCall` operations) repeatedly for about
    /// `seconds` in `rounds` rounds and returns the best round's operations per second.
    static func operationsPerSecond(seconds: Double, rounds: Int = 5, operationsPerCall: Int = 1, _ body: () -> Void) -> Double {
        let clock = ContinuousClock()
        // Warm up and estimate how many calls fit in one round.
        var calls = 1
        while true {
            let elapsed = clock.measure { for _ in 0..<calls { body() } }
            if elapsed >= .milliseconds(20) || calls >= 1 << 30 {
                let perCall = max(Self.seconds(elapsed) / Double(calls), 1e-9)
                calls = max(1, Int(seconds / Double(rounds) / perCall))
                break
            }
            calls *= 2
        }
        var best = 0.0
        for _ in 0..<rounds {
            let elapsed = clock.measure { for _ in 0..<calls { body() } }
            best = max(best, Double(calls * operationsPerCall) / max(Self.seconds(elapsed), 1e-9))
        }
        return best
    }

    static func seconds(_ duration: Duration) -> Double { duration.inSeconds }
}

/// Keeps results alive so the optimiser cannot drop the work that produced them.
@inline(never) @_optimize(none)
func blackHole<T>(_ value: T) {}
