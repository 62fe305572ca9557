#if canImport(Glibc)
import Glibc
#endif

/// The project's one clock: wall time for timestamps, monotonic time for deadlines.
public enum SystemClock {
    /// Wall-clock milliseconds since 1970 (`CLOCK_REALTIME`; may jump when the system time is set).
    public static func nowMs() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Int64(time.tv_sec) * 1000 + Int64(time.tv_nsec) / 1_000_000
    }

    /// Seconds on the monotonic clock (arbitrary origin; never jumps): for deadlines and durations.
    package static func monotonicSeconds() -> Double {
        Double(monotonicNanoseconds()) / 1_000_000_000
    }

    /// Nanoseconds on the monotonic clock (arbitrary origin; never jumps): for deadlines kept as integers.
    package static func monotonicNanoseconds() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }
}

extension Duration {
    /// The duration in seconds, as a `Double` (the one conversion the project uses).
    package var inSeconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
