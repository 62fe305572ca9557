#if canImport(Glibc)
import Glibc
#endif

/// glibc's `pipe2`, which the Glibc module does not export.
@_silgen_name("pipe2")
private func systemPipe2(_ descriptors: UnsafeMutablePointer<Int32>, _ flags: Int32) -> Int32

/// A pipe whose two ends are close-on-exec from the start (`pipe2(O_CLOEXEC)`): no child spawned by another
/// thread meanwhile can inherit them.
package enum Pipe {
    /// Creates a pipe. Returns its read and write ends.
    /// - Throws: `SystemError` (call `pipe2`) when the process or the system is out of descriptors.
    package static func make() throws(SystemError) -> (read: Int32, write: Int32) {
        var ends: [Int32] = [-1, -1]
        guard systemPipe2(&ends, O_CLOEXEC) == 0 else { throw SystemError(call: "pipe2", path: "", errno: errno) }
        return (ends[0], ends[1])
    }
}
