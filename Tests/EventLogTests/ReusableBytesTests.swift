import Testing
@testable import EventLog

@Suite struct ReusableBytesTests {
    /// A buffer handed back is taken again empty with its capacity (no new allocation); one grown past
    /// `capacityBytesMax` is released when it comes back.
    @Test func keepsCapacityUpToItsBoundAndReleasesALargerOne() {
        var reusable = ReusableBytes(capacityBytesMax: 4096)
        var bytes = reusable.take(reservingCapacity: 1000)
        #expect(bytes.isEmpty && bytes.capacity >= 1000)
        bytes += [UInt8](repeating: 7, count: 1000)
        let storage = bytes.withUnsafeBufferPointer { $0.baseAddress }
        reusable.keep(bytes)
        bytes = []
        #expect(reusable.capacityBytes >= 1000)

        var again = reusable.take(reservingCapacity: 10)
        #expect(again.isEmpty && again.capacity >= 1000)
        #expect(again.withUnsafeBufferPointer { $0.baseAddress } == storage)
        #expect(reusable.capacityBytes == 0, "taken: held by the caller")

        again.reserveCapacity(8192)
        reusable.keep(again)
        #expect(reusable.capacityBytes == 0, "over the bound: released")
        #expect(reusable.take(reservingCapacity: 0).capacity == 0)
    }
}
