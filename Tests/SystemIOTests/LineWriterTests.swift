import Foundation
import Glibc
import Testing
@testable import SystemIO

/// `LineWriter`: lines arrive whole and in order, a reader that never reads blocks no writer, and
/// what does not fit is dropped, counted and reported.
@Suite(.timeLimit(.minutes(1))) struct LineWriterTests {
    /// Reads `descriptor` until `count` newlines arrived or EOF, on a thread (never the test's pool).
    private func readLines(_ descriptor: Int32, count: Int) async -> [String] {
        await withCheckedContinuation { continuation in
            Thread {
                var bytes: [UInt8] = []
                var buffer = [UInt8](repeating: 0, count: 65_536)
                while bytes.reduce(0, { $1 == 0x0A ? $0 + 1 : $0 }) < count {
                    let got = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
                    if got <= 0 { break }
                    bytes += buffer[0..<got]
                }
                continuation.resume(returning: String(decoding: bytes, as: UTF8.self).split(separator: "\n").map(String.init))
            }.start()
        }
    }

    /// N from a `"dropped":N` notice line.
    private static func droppedCount(_ line: String) -> Int? {
        guard let range = line.range(of: #""dropped":"#) else { return nil }
        return Int(line[range.upperBound...].prefix { $0.isNumber })
    }

    @Test func writesEveryLineInOrder() async throws {
        let (readEnd, writeEnd) = try Pipe.make()
        defer { close(readEnd); close(writeEnd) }
        let writer = LineWriter(descriptor: writeEnd, bufferSizeBytesMax: 1 << 20, flushIntervalSeconds: 0.01)
        for index in 0..<1000 { writer.write(#"{"n":\#(index)}"#) }
        #expect(writer.flush())
        let lines = await readLines(readEnd, count: 1000)
        #expect(lines == (0..<1000).map { #"{"n":\#($0)}"# })
        #expect(writer.droppedLineCount == 0)
        writer.close()
    }

    /// Nobody reads the pipe: `write` still returns at once; lines beyond the buffer are dropped
    /// and counted, and once the reader drains, a line says how many were lost.
    @Test func aStalledReaderNeverBlocksWritersAndLossIsReported() async throws {
        let (readEnd, writeEnd) = try Pipe.make()
        defer { close(readEnd); close(writeEnd) }
        let writer = LineWriter(descriptor: writeEnd, bufferSizeBytesMax: 4096, flushIntervalSeconds: 0.01)
        let line = String(repeating: "x", count: 99)
        // The pipe holds 64 KiB; the buffer 4 KiB: 2,000 lines of 100 bytes cannot all fit.
        for _ in 0..<2000 { writer.write(line) }
        let dropped = writer.droppedLineCount
        #expect(dropped > 0)
        // Every line that was kept arrives, and notices (between them) add up to the lost ones.
        let lines = await readLines(readEnd, count: 2000 - dropped + 1)
        var kept = lines.filter { $0 == line }.count
        var reported = lines.compactMap(Self.droppedCount).reduce(0, +)
        while kept < 2000 - dropped || reported < dropped {
            let more = await readLines(readEnd, count: 1)
            guard !more.isEmpty else { break }
            kept += more.filter { $0 == line }.count
            reported += more.compactMap(Self.droppedCount).reduce(0, +)
        }
        #expect(kept == 2000 - dropped)
        #expect(reported == dropped)
        writer.write("after")
        #expect(writer.flush())
        #expect(await readLines(readEnd, count: 1) == ["after"])
        writer.close()
    }

    @Test func aFailingDescriptorDropsAndCounts() async throws {
        let (readEnd, writeEnd) = try Pipe.make()
        close(readEnd)
        defer { close(writeEnd) }
        signal(SIGPIPE, SIG_IGN)
        let writer = LineWriter(descriptor: writeEnd, flushIntervalSeconds: 0.01)
        writer.write("lost")
        #expect(writer.flush())
        #expect(writer.droppedLineCount == 1)
        writer.close()
        writer.write("ignored after close")
        #expect(writer.droppedLineCount == 1)
    }
}
