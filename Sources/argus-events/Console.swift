import Foundation

/// Output helpers: stdout for results, stderr for diagnostics.
enum Console {
    /// Writes `line` and a newline to standard output.
    static func print(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    /// Writes `line` and a newline to standard error.
    static func error(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// All of standard input, as bytes.
    static func readStandardInput() -> [UInt8] {
        Array(FileHandle.standardInput.readDataToEndOfFile())
    }

    /// Prints `rows` under `header` as left-aligned columns two spaces apart.
    static func printTable(header: [String], rows: [[String]]) {
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        for line in [header] + rows {
            print(zip(line, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  "))
        }
    }

    /// True when standard error is a terminal (progress lines go there only then).
    static var standardErrorIsTerminal: Bool { isatty(2) != 0 }
}
