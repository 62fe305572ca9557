import JSON
import SystemIO

/// Formats access-log lines: one JSON object per response.
enum AccessLog {
    /// `{"time","request_id","method","path","status","bytes","duration_ms","remote"}`.
    static func line(requestID: String, method: String, path: String, status: Int, bodyBytes: Int,
                     durationSeconds: Double, remote: String) -> String {
        let nowMs = SystemClock.nowMs()
        let microseconds = max(0, Int(durationSeconds * 1_000_000))
        let fraction = String(microseconds % 1000)
        var line = #"{"time":""# + HTTPDate.rfc3339(seconds: Int(nowMs / 1000), milliseconds: Int(nowMs % 1000))
        line += #"","request_id":"#
        line += JSONValue.string(requestID).text
        line += #","method":"#
        line += JSONValue.string(method).text
        line += #","path":"#
        line += JSONValue.string(path).text
        line += #","status":\#(status),"bytes":\#(bodyBytes),"duration_ms":"#
        line += "\(microseconds / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)"
        line += #","remote":"#
        line += JSONValue.string(remote).text
        line += "}"
        return line
    }
}
