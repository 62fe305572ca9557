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

    /// True when standard error is a terminal (progress lines go there only then).
    static var standardErrorIsTerminal: Bool { isatty(2) != 0 }
}
