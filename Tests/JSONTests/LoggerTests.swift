import JSON
import Synchronization
import Testing

@Suite struct LoggerTests {
    final class Lines: Sendable {
        let value = Mutex<[String]>([])
        func append(_ line: String) { value.withLock { $0.append(line) } }
        var all: [String] { value.withLock { $0 } }
    }

    @Test func aQuoteOrNewlineInAMessageStaysInsideOneJSONLine() throws {
        let lines = Lines()
        let logger = Logger { lines.append($0) }.with(("component", .string("archive")))
        logger.error("failed: \"bad\"\nnext", [("path", .string("/a\\b"))])
        #expect(lines.all.count == 1)
        let line = try #require(lines.all.first)
        #expect(!line.contains("\n"))
        let parsed = try JSONParser.parse(Array(line.utf8))
        #expect(parsed["level"]?.stringValue == "error")
        #expect(parsed["component"]?.stringValue == "archive")
        #expect(parsed["message"]?.stringValue == "failed: \"bad\"\nnext")
        #expect(parsed["path"]?.stringValue == "/a\\b")
    }

    @Test func entriesBelowTheMinimumLevelAreDropped() {
        let lines = Lines()
        let logger = Logger(minimumLevel: .warning) { lines.append($0) }
        logger.info("quiet")
        logger.log(.debug, "quieter")
        logger.warning("loud")
        #expect(lines.all.count == 1)
        Logger.discarding.error("nowhere")
    }
}
