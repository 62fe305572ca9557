import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Exits this process when its standard input reaches end-of-file: the rule by which a child never
/// outlives the process that started it.
///
/// Two parents use it: `serve`'s supervisor (the server process reads the supervisor's pipe on its
/// standard input), and tests, which start any command with `ARGUS_EXIT_ON_STDIN_EOF=1` and a pipe on
/// its standard input that only they hold. The kernel closes that pipe when the parent dies for any
/// reason (SIGKILL and crashes included), so the child follows at once. Chosen over
/// `prctl(PR_SET_PDEATHSIG)`, which fires when the spawning *thread* exits, not the process.
public enum ParentWatch {
    /// The environment variable that asks any command to exit when its standard input closes.
    package static let environmentVariable = "ARGUS_EXIT_ON_STDIN_EOF"

    /// True when the environment asks for the watch.
    public static var isRequested: Bool { ProcessInfo.processInfo.environment[environmentVariable] == "1" }

    /// Starts a thread that blocks on standard input and ends the process (exit status 1) at end-of-file
    /// or on a read error. Bytes read are ignored.
    public static func start(parent: String) {
        let thread = Thread {
            var buffer = [UInt8](repeating: 0, count: 512)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(0, $0.baseAddress!, $0.count) }
                if count > 0 || (count < 0 && errno == EINTR) { continue }
                let line = #"{"level":"warning","component":"parent-watch","message":"the \#(parent) is gone; stopping"}"# + "\n"
                _ = line.withCString { write(2, $0, strlen($0)) }
                // _exit: no atexit handlers or stdio flushing that another thread could be holding.
                _exit(1)
            }
        }
        thread.name = "argus-parent-watch"
        thread.start()
    }
}
