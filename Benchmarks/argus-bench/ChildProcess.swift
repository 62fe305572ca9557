import Foundation
import SystemIO
#if canImport(Glibc)
import Glibc
#endif

/// Runs a program and collects its standard output, with a clean signal state in the child.
///
/// Foundation's `Process` passes on the spawning thread's blocked-signal mask, and Swift's
/// concurrency threads block nearly every signal, so `openssl speed` (which stops each test on
/// SIGALRM) would run forever. `posix_spawn` with an empty mask and default handlers avoids that.
enum ChildProcess {
    /// Why a program could not be run.
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Starts `path` with `argv` (including argv[0]) and `environment`, with an empty signal mask and
    /// default signal handlers, applying `actions` to its file descriptors; returns its pid.
    static func spawn(_ path: String, arguments argv: [String], environment: [String: String],
                      actions: inout posix_spawn_file_actions_t) throws -> pid_t {
        do {
            return try ProcessSpawner.spawn(path, arguments: argv, environment: environment, actions: &actions)
        } catch {
            throw Failure(description: "\(error)")
        }
    }

    /// Runs `path` with `arguments` and `environment`; returns its exit status and standard output.
    /// Standard input is the file `standardInputPath` (or inherited); standard error is discarded.
    static func run(_ path: String, arguments: [String], environment: [String: String],
                    standardInputPath: String? = nil) throws -> (status: Int32, output: Data) {
        var pipeEnds: [Int32] = [0, 0]
        guard pipe(&pipeEnds) == 0 else { throw Failure(description: "pipe failed, errno \(errno)") }
        let (readEnd, writeEnd) = (pipeEnds[0], pipeEnds[1])
        defer { close(readEnd) }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, writeEnd, 1)
        posix_spawn_file_actions_addclose(&actions, readEnd)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        if let standardInputPath { posix_spawn_file_actions_addopen(&actions, 0, standardInputPath, O_RDONLY, 0) }

        let spawned = Result { try spawn(path, arguments: [path] + arguments, environment: environment, actions: &actions) }
        close(writeEnd)
        let pid = try spawned.get()

        var output = Data()
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(readEnd, $0.baseAddress, $0.count) }
            if count > 0 {
                output.append(contentsOf: buffer[0..<count])
            } else if count == 0 || errno != EINTR {
                break
            }
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        // WIFEXITED / WEXITSTATUS, which Glibc's Swift module does not export as functions.
        let exitStatus: Int32 = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : -1
        return (exitStatus, output)
    }
}
