#if canImport(Glibc)
import Glibc
#endif

/// Starts programs with `posix_spawn`, with an empty signal mask, default signal handlers and no descriptor
/// but 0, 1 and 2.
///
/// Foundation's `Process` is not used anywhere: on Linux its `run()` can crash (an over-read in
/// `findMaximumOpenFromProcSelfFD`, swift-corelibs-foundation #5472), and it passes on the spawning
/// thread's blocked-signal mask, in which Swift's concurrency threads block most signals.
/// glibc's (2.34+) `posix_spawn_file_actions_addclosefrom_np`, which the Glibc module does not export.
@_silgen_name("posix_spawn_file_actions_addclosefrom_np")
private func addCloseFrom(_ actions: UnsafeMutablePointer<posix_spawn_file_actions_t>, _ lowest: Int32) -> Int32

package enum ProcessSpawner {
    /// Starts `path` with `argv` (argv[0] included) and `environment`, applying `actions` to the
    /// child's descriptors. Returns the child's pid.
    /// - Throws: `SystemError` (call `posix_spawn`, with its error number) when the child cannot start.
    package static func spawn(_ path: String, arguments argv: [String], environment: [String: String],
                              actions: inout posix_spawn_file_actions_t) throws(SystemError) -> pid_t {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        // The child keeps only 0, 1 and 2: a socket or lock another thread opened without close-on-exec (or
        // before setting it) must not live on in a child, where it would keep a peer's connection open after
        // we close it, or hold a lock.
        guard addCloseFrom(&actions, 3) == 0 else { throw SystemError(call: "posix_spawn_file_actions_addclosefrom_np", path: path, errno: errno) }
        let arguments = argv.map { strdup($0) } + [nil]
        let variables = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for pointer in arguments + variables { free(pointer) } }
        var pid = pid_t()
        let result = posix_spawn(&pid, path, &actions, &attributes, arguments, variables)
        guard result == 0 else { throw SystemError(call: "posix_spawn", path: path, errno: result) }
        return pid
    }
}
