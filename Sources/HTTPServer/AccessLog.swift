/// Formats access-log lines: one JSON object per response.
enum AccessLog {
    /// `{"time","request_id","method","path","status","bytes","duration_ms","remote"}`.
    static func line(requestID: String, method: String, path: String, status: Int, bodyBytes: Int,
                     durationSeconds: Double, remote: String) -> String {
        let wall = MonotonicClock.wallClock()
        let microseconds = max(0, Int(durationSeconds * 1_000_000))
        let fraction = String(microseconds % 1000)
        var line = #"{"time":""# + HTTPDate.rfc3339(seconds: wall.seconds, milliseconds: wall.milliseconds)
        line += #"","request_id":"#
        JSONText.appendQuoted(requestID, to: &line)
        line += #","method":"#
        JSONText.appendQuoted(method, to: &line)
        line += #","path":"#
        JSONText.appendQuoted(path, to: &line)
        line += #","status":\#(status),"bytes":\#(bodyBytes),"duration_ms":"#
        line += "\(microseconds / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)"
        line += #","remote":"#
        JSONText.appendQuoted(remote, to: &line)
        line += "}"
        return line
    }
}
