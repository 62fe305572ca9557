import Foundation

/// Results of one suite: printed as an aligned table for people, then as JSON lines
/// (one object per row) for scripts, e.g.
/// `{"bench":"crypto","name":"sha256","impl":"argus","size_bytes":65536,"mb_per_s":412.5}`.
struct BenchmarkReport: Sendable {
    /// The unit of a row's value; its JSON key is `key`.
    enum Unit: String, Sendable {
        /// 10^6 bytes per second.
        case megabytesPerSecond = "mb_per_s"
        /// Operations per second.
        case operationsPerSecond = "ops_per_s"
        /// Nanoseconds per operation.
        case nanosecondsPerOperation = "ns_per_op"
        /// Milliseconds (a latency or a duration).
        case milliseconds = "ms"
        /// Mebibytes (memory).
        case mebibytes = "mib"
        /// A share, in percent.
        case percent = "percent"

        var label: String {
            switch self {
            case .megabytesPerSecond: return "MB/s"
            case .operationsPerSecond: return "ops/s"
            case .nanosecondsPerOperation: return "ns/op"
            case .milliseconds: return "ms"
            case .mebibytes: return "MiB"
            case .percent: return "%"
            }
        }
    }

    /// One measurement.
    struct Row: Sendable {
        var name: String
        var impl: String
        var sizeBytes: Int?
        var value: Double
        var unit: Unit
        var note: String?
    }

    /// The suite name, the `bench` field of every JSON line.
    let bench: String
    private(set) var rows: [Row] = []

    init(bench: String) { self.bench = bench }

    /// Adds a row.
    mutating func add(name: String, impl: String, sizeBytes: Int? = nil, value: Double, unit: Unit, note: String? = nil) {
        rows.append(Row(name: name, impl: impl, sizeBytes: sizeBytes, value: value, unit: unit, note: note))
    }

    /// The table, one row per line, columns aligned.
    func table() -> String {
        let header = ["name", "impl", "size", "value", "unit", "note"]
        let cells = rows.map { row in
            [row.name, row.impl, row.sizeBytes.map(Self.formatSize) ?? "", Self.formatValue(row.value), row.unit.label, row.note ?? ""]
        }
        var widths = header.map(\.count)
        for line in cells { for (column, cell) in line.enumerated() { widths[column] = max(widths[column], cell.count) } }
        func render(_ line: [String]) -> String {
            line.enumerated().map { column, cell in
                // Right-align size and value, left-align the rest.
                column == 2 || column == 3
                    ? String(repeating: " ", count: widths[column] - cell.count) + cell
                    : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }
        let rule = widths.map { String(repeating: "-", count: $0) }
        return ([render(header), render(rule)] + cells.map(render)).joined(separator: "\n")
    }

    /// One JSON object per row.
    func jsonLines() -> [String] {
        rows.map { row in
            var fields = ["\"bench\":\(Self.quote(bench))", "\"name\":\(Self.quote(row.name))", "\"impl\":\(Self.quote(row.impl))"]
            if let size = row.sizeBytes { fields.append("\"size_bytes\":\(size)") }
            fields.append("\"\(row.unit.rawValue)\":\(Self.formatJSONNumber(row.value))")
            if let note = row.note { fields.append("\"note\":\(Self.quote(note))") }
            return "{" + fields.joined(separator: ",") + "}"
        }
    }

    /// Prints the table, a blank line, then the JSON lines, to standard output.
    func print() {
        Swift.print(table())
        Swift.print("")
        for line in jsonLines() { Swift.print(line) }
    }

    static func formatSize(_ bytes: Int) -> String {
        if bytes >= 1 << 20, bytes % (1 << 20) == 0 { return "\(bytes >> 20) MiB" }
        if bytes >= 1 << 10, bytes % (1 << 10) == 0 { return "\(bytes >> 10) KiB" }
        return "\(bytes) B"
    }

    static func formatValue(_ value: Double) -> String {
        if value >= 10_000 { return String(Int(value.rounded())) }
        if value >= 100 { return String(format: "%.1f", value) }
        return String(format: "%.2f", value)
    }

    static func formatJSONNumber(_ value: Double) -> String {
        value.isFinite ? String(format: "%.3f", value) : "null"
    }

    /// A JSON string literal.
    static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
