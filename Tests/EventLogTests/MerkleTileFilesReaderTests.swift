import Foundation
import Merkle
import Testing
@testable import EventLog

/// `MerkleTileFiles.Reader`: one descriptor per level file for a pass.
@Suite struct MerkleTileFilesReaderTests {
    /// The reads, the hole check and the flush of a level go through the descriptor opened first: a level
    /// file unlinked after the first read is still the one examined and flushed (a second open would find
    /// nothing), and a level without a file stays without one for the reader.
    @Test func aPassOpensEachLevelFileOnce() throws {
        let directory = TemporaryDirectory()
        let files = MerkleTileFiles(directory: directory.appending("merkle"))
        var writer = files.writer()
        let tiles = (0..<3).map { index in [UInt8](repeating: UInt8(index + 1), count: MerkleTileFiles.tileSizeBytes) }
        for (index, bytes) in tiles.enumerated() {
            try writer.write(bytes, of: MerkleTile(level: 0, index: UInt64(index), width: 256))
        }
        let reader = files.reader(flushing: true)
        #expect(try reader.read(MerkleTile(level: 0, index: 1, width: 256)) == tiles[1])
        try FileManager.default.removeItem(atPath: files.path(level: 0))
        #expect(try files.read(MerkleTile(level: 0, index: 1, width: 256)) == nil, "a new open finds no file")
        #expect(try reader.read(MerkleTile(level: 0, index: 2, width: 256)) == tiles[2])
        #expect(try reader.read(MerkleTile(level: 0, index: 3, width: 256)) == nil, "beyond the file")
        #expect(try reader.dataPrefixBytes(level: 0) == Int64(3 * MerkleTileFiles.tileSizeBytes))
        try reader.synchronize(level: 0)
        #expect(try reader.read(MerkleTile(level: 1, index: 0, width: 256)) == nil)
        try writer.write(tiles[0], of: MerkleTile(level: 1, index: 0, width: 256))
        #expect(try reader.dataPrefixBytes(level: 1) == 0, "missing at first use: missing for this reader")
        #expect(try files.reader().dataPrefixBytes(level: 1) == Int64(MerkleTileFiles.tileSizeBytes))
        try reader.synchronize(level: 1)
    }
}
