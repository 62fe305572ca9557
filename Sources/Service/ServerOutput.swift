import Foundation
import JSON
import SystemIO
import WebhookSigning

/// Where `serve` writes what it has to say while it runs, and what it says about itself.
public enum ServerOutput {
    /// The server's log and access-log lines on standard error, written by a thread of their own
    /// (a slow or stopped reader of standard error never blocks a request; see `LineWriter`: 1 MiB
    /// buffered at most, beyond which lines are dropped and counted).
    public static let errorLines = LineWriter(descriptor: 2)

    /// The server's logger: JSON lines through `errorLines`.
    public static let logger = Logger { errorLines.write($0) }

    /// A logger that writes each line to standard error at once, on the caller's thread (the supervisor,
    /// which serves no requests).
    public static let directLogger = Logger { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }

    /// This build's version, as the greeting and the `User-Agent` of deliveries say it.
    public static var version: String { ArgusVersion.current }
}
