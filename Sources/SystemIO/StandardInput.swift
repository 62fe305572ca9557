#if canImport(Glibc)
import Glibc
#endif

/// This process's standard input, read as a stream.
package enum StandardInput {
    /// Reads standard input to its end in pieces of at most `chunkSizeBytes` (one reused buffer, so
    /// constant memory for any input size) and hands each to `body`; retries on EINTR.
    /// - Throws: `SystemError` (`read`, path `<stdin>`, the offset reached) when `read(2)` fails.
    package static func stream(chunkSizeBytes: Int = 256 * 1024, _ body: (UnsafeRawBufferPointer) -> Void) throws(SystemError) {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSizeBytes, alignment: 64)
        defer { buffer.deallocate() }
        var offset: Int64 = 0
        while true {
            let count = read(0, buffer.baseAddress, chunkSizeBytes)
            if count == 0 { return }
            if count < 0 {
                if errno == EINTR { continue }
                throw SystemError.current("read", "<stdin>", offset: offset)
            }
            offset += Int64(count)
            body(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
        }
    }
}
