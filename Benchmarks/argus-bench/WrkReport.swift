import Foundation

/// The figures of one `wrk --latency` run.
struct WrkReport {
    var requestsPerSecond: Double
    var p50Ms: Double
    var p99Ms: Double
    /// Requests completed in the run (wrk's "N requests in ...").
    var requests = 0
    var errors: String?

    /// Parses wrk's text report.
    init?(_ text: String) {
        func milliseconds(_ token: Substring) -> Double? {
            if token.hasSuffix("us"), let value = Double(token.dropLast(2)) { return value / 1000 }
            if token.hasSuffix("ms"), let value = Double(token.dropLast(2)) { return value }
            if token.hasSuffix("s"), let value = Double(token.dropLast(1)) { return value * 1000 }
            return nil
        }
        var rate: Double?
        var p50: Double?
        var p99: Double?
        for line in text.split(separator: "\n") {
            let words = line.split(separator: " ", omittingEmptySubsequences: true)
            if words.first == "Requests/sec:", words.count > 1 { rate = Double(words[1]) }
            if words.count > 2, words[1] == "requests", words[2] == "in", let count = Int(words[0]) { requests = count }
            if words.first == "50%", words.count > 1 { p50 = milliseconds(words[1]) }
            if words.first == "99%", words.count > 1 { p99 = milliseconds(words[1]) }
            if line.contains("Non-2xx") || line.contains("Socket errors") { errors = String(line).trimmingCharacters(in: .whitespaces) }
        }
        guard let rate else { return nil }
        requestsPerSecond = rate
        p50Ms = p50 ?? .nan
        p99Ms = p99 ?? .nan
    }
}
