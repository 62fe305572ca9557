import Synchronization

/// Leases within one process (the local engine): a name is held by one holder until released; a
/// holder may take its own lease again. With one `serve` process there is one holder, so every
/// acquire succeeds.
package final class LocalLeaseBook: LeaseBook, Sendable {
    /// The most leases held at once.
    package static let leasesMax = 100_000

    private let leases = Mutex<[String: Lease]>([:])

    package init() {}

    package func acquire(_ name: String, holder: String) async throws -> Lease? {
        try leases.withLock { leases in
            if let current = leases[name], current.holder != holder { return nil }
            guard leases[name] != nil || leases.count < Self.leasesMax else {
                throw LeaseBookError.tooManyLeases(Self.leasesMax)
            }
            let lease = Lease(name: name, holder: holder, revision: (leases[name]?.revision ?? 0) + 1)
            leases[name] = lease
            return lease
        }
    }

    package func renew(_ lease: Lease) async throws -> Lease? {
        leases.withLock { leases in
            guard leases[lease.name] == lease else { return nil }
            let renewed = Lease(name: lease.name, holder: lease.holder, revision: lease.revision + 1)
            leases[lease.name] = renewed
            return renewed
        }
    }

    package func release(_ lease: Lease) async throws {
        leases.withLock { leases in
            if leases[lease.name]?.holder == lease.holder { leases.removeValue(forKey: lease.name) }
        }
    }
}

/// Why a lease book refused.
package enum LeaseBookError: Error, Equatable, Sendable, CustomStringConvertible {
    /// More than this many leases at once.
    case tooManyLeases(Int)

    package var description: String {
        switch self {
        case .tooManyLeases(let count): return "more than \(count) leases held at once"
        }
    }
}
