#if canImport(Glibc)
import Glibc
#endif

/// Time sources for deadlines and log lines.
enum MonotonicClock {
    /// Seconds on the monotonic clock (arbitrary origin; never jumps).
    static func nowSeconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1_000_000_000
    }

    /// Wall-clock time as whole seconds and milliseconds since the Unix epoch.
    static func wallClock() -> (seconds: Int, milliseconds: Int) {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return (Int(time.tv_sec), Int(time.tv_nsec) / 1_000_000)
    }
}
