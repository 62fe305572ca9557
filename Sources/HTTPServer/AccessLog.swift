import JSON
import SystemIO

/// Formats access-log lines: one JSON object per response, written as bytes into one buffer (it
/// runs on the I/O thread once per response, so no `String` interpolation or per-field copies).
enum AccessLog {
    /// `{"time","request_id","method","path","status","bytes","duration_ms","remote"}`. `scratch` is
    /// the caller's buffer, reused from line to line (emptied first; released when it grew beyond
    /// `scratchKeptBytesMax`): the line's only allocation is the returned string.
    static func line(requestID: String, method: String, path: String, status: Int, bodyBytes: Int,
                     durationSeconds: Double, remote: String, scratch line: inout [UInt8]) -> String {
        let microseconds = max(0, Int(durationSeconds * 1_000_000))
        line.removeAll(keepingCapacity: true)
        line.reserveCapacity(160 + requestID.utf8.count + method.utf8.count + path.utf8.count + remote.utf8.count)
        line += #"{"time":""#.utf8
        UTCTimestamp.append(ms: SystemClock.nowMs(), to: &line)
        line += #"","request_id":"#.utf8
        JSONValue.appendString(requestID, to: &line)
        line += #","method":"#.utf8
        JSONValue.appendString(method, to: &line)
        line += #","path":"#.utf8
        JSONValue.appendString(path, to: &line)
        line += #","status":"#.utf8
        line.appendDecimal(UInt64(clamping: status))
        line += #","bytes":"#.utf8
        line.appendDecimal(UInt64(clamping: bodyBytes))
        line += #","duration_ms":"#.utf8
        line.appendDecimal(UInt64(microseconds / 1000))
        line.append(UInt8(ascii: "."))
        line.appendDecimal(UInt64(microseconds % 1000), minimumDigitCount: 3)
        line += #","remote":"#.utf8
        JSONValue.appendString(remote, to: &line)
        line.append(UInt8(ascii: "}"))
        let text = String(decoding: line, as: UTF8.self)
        if line.capacity > scratchKeptBytesMax { line = [] }  // a line with a long path does not keep its room
        return text
    }

    /// The most room a scratch buffer keeps between lines, in bytes.
    static let scratchKeptBytesMax = 16 * 1024
}
