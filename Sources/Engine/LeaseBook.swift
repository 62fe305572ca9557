/// A lease held on one name (a webhook's delivery) by one process.
package struct Lease: Sendable, Equatable {
    /// What is leased, such as a webhook id.
    package var name: String
    /// The process holding it.
    package var holder: String
    /// The engine's revision of the lease entry (local leases count up from 1).
    package var revision: UInt64
}

/// Who delivers which webhook: each name is held by one live process at a time; the holder renews
/// every few seconds; a holder that stops renewing loses the lease after the duration. The local
/// implementation (`LocalLeaseBook`, one process) always grants; `JetStreamLeaseBook` shares leases
/// among processes. The leases' seam.
package protocol LeaseBook: Sendable {
    /// Takes the lease on `name` for `holder` when it is free, expired, or already `holder`'s.
    /// Returns nil while another holder keeps renewing it.
    func acquire(_ name: String, holder: String) async throws -> Lease?
    /// Renews `lease`; returns the renewed lease, or nil when it was lost (taken over or deleted).
    func renew(_ lease: Lease) async throws -> Lease?
    /// Gives the lease up so another process may take it at once.
    func release(_ lease: Lease) async throws
}
