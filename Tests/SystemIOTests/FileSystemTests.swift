import Foundation
import Glibc
import SystemIO
import Testing

@Suite struct FileSystemTests {
    @Test func errorCarriesCallErrnoAndPath() throws {
        let directory = TemporaryDirectory()
        let missing = directory.appending("missing/file")
        #expect(throws: SystemError(call: "open", path: missing, errno: ENOENT)) {
            _ = try FileDescriptor.open(missing, O_RDONLY)
        }
        let error = SystemError(call: "pread", path: missing, errno: EIO, offset: 42)
        #expect(error.description == "pread \(missing) at byte 42: Input/output error (errno 5)")
        #expect(try FileDescriptor.openIfExists(missing) == nil)
    }

    @Test func writeAllThenReadAll() throws {
        let directory = TemporaryDirectory()
        let path = directory.appending("file")
        let file = try FileDescriptor.open(path, O_RDWR | O_CREAT | O_APPEND)
        let bytes = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try file.writeAll(Array(bytes[..<10]))
        try file.writeAll(Array(bytes[10...]))
        #expect(try file.readAll() == bytes)
        #expect(try file.read(count: 10, at: 99_995) == Array(bytes[99_995...]))
        try file.truncate(to: 3)
        #expect(try FileSystem.contents(of: path) == Array(bytes[..<3]))
    }

    @Test func atomicWriteReplacesAndLeavesNoTemporary() throws {
        let directory = TemporaryDirectory()
        let path = directory.appending("nested/dir/file.json")
        try FileSystem.writeAtomically(Array("one".utf8), to: path, mode: 0o600, creatingDirectory: true)
        try FileSystem.writeAtomically(Array("two".utf8), to: path, mode: 0o600)
        #expect(try FileSystem.contents(of: path) == Array("two".utf8))
        #expect(try FileSystem.names(in: directory.appending("nested/dir")) == ["file.json"])
        var status = stat()
        #expect(stat(path, &status) == 0 && status.st_mode & 0o777 == 0o600)
        #expect(throws: SystemError.self) {
            try FileSystem.writeAtomically(Array("x".utf8), to: directory.appending("absent/file"))
        }
    }

    @Test func removeTreeAndList() throws {
        let directory = TemporaryDirectory()
        try FileSystem.createDirectory(directory.appending("a/b/c"))
        try FileSystem.writeAtomically([1], to: directory.appending("a/b/file"))
        let entries = try FileSystem.list(directory.appending("a/b")).sorted { $0.name < $1.name }
        #expect(entries.map(\.name) == ["c", "file"] && entries.map(\.isDirectory) == [true, false])
        try FileSystem.removeTree(directory.appending("a"))
        #expect(try FileSystem.list(directory.appending("a")).isEmpty)
        try FileSystem.remove(directory.appending("never-there"))
    }

    /// A symbolic link inside a removed tree is removed itself; what it points to is left alone.
    @Test func removeTreeDoesNotFollowLinks() throws {
        let directory = TemporaryDirectory()
        try FileSystem.createDirectory(directory.appending("outside"))
        try FileSystem.writeAtomically([1], to: directory.appending("outside/keep"))
        try FileSystem.createDirectory(directory.appending("tree"))
        #expect(symlink(directory.appending("outside"), directory.appending("tree/link")) == 0)
        #expect(FileSystem.isDirectory(directory.appending("tree/link")))
        #expect(!FileSystem.isDirectory(directory.appending("tree/link"), followingLinks: false))
        try FileSystem.removeTree(directory.appending("tree"))
        #expect(!FileSystem.isDirectory(directory.appending("tree")))
        #expect(try FileSystem.contents(of: directory.appending("outside/keep")) == [1])
        // A link given as the tree itself is removed, not followed.
        #expect(symlink(directory.appending("outside"), directory.appending("top")) == 0)
        try FileSystem.removeTree(directory.appending("top"))
        #expect(!FileSystem.isDirectory(directory.appending("top"), followingLinks: false) && access(directory.appending("top"), F_OK) != 0)
        #expect(try FileSystem.contents(of: directory.appending("outside/keep")) == [1])
    }

    @Test func directoryLockIsExclusiveAndNamesTheHolder() throws {
        let directory = TemporaryDirectory()
        let path = directory.appending("LOCK")
        guard case .acquired(let lock) = try DirectoryLock.acquire(path: path) else {
            Issue.record("the first acquire must succeed")
            return
        }
        // flock is per open file description: a second open in this process contends like another process.
        guard case .held(let holder) = try DirectoryLock.acquire(path: path) else {
            Issue.record("a second acquire must find the lock held")
            return
        }
        #expect(holder == getpid())
        lock.release()
        guard case .acquired = try DirectoryLock.acquire(path: path) else {
            Issue.record("a released lock must be free")
            return
        }
    }
}
