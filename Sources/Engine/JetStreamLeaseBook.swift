import NATS
import Synchronization
import SystemIO

/// Leases in the key-value bucket `ARGUS_LEASES` (key: the leased name, value: the holder). The
/// holder renews by compare-and-set on its last revision (every `durationSeconds / 3` is the intended
/// pace); another process takes the lease over once it has seen the same revision unchanged for
/// `durationSeconds` on its own monotonic clock (`LeaseObservation`: no wall-clock comparison across
/// machines). With a 10 s duration and observers that ask every 2 s, a dead holder's webhook is taken
/// over within 14 s of its last renewal.
package final class JetStreamLeaseBook: LeaseBook, Sendable {
    /// The bucket's name.
    package static let bucketName = "ARGUS_LEASES"
    /// The most names observed at once.
    package static let namesMax = 100_000

    /// The bucket.
    package let bucket: KeyValueBucket
    /// How long an unchanged lease entry keeps its holder, in seconds.
    package let durationSeconds: Double
    private let observations = Mutex<[String: LeaseObservation]>([:])

    private init(bucket: KeyValueBucket, durationSeconds: Double) {
        self.bucket = bucket
        self.durationSeconds = durationSeconds
    }

    /// Creates (or opens) the bucket with `replicas` copies.
    /// - Parameter durationSeconds: 0.1...300.
    package static func open(_ jetStream: JetStream, replicas: Int, durationSeconds: Double = 10) async throws(JetStreamError) -> JetStreamLeaseBook {
        guard durationSeconds >= 0.1 && durationSeconds <= 300 else { throw .invalidArgument("lease duration must be 0.1...300 s") }
        return JetStreamLeaseBook(bucket: try await KeyValueBucket.create(bucketName, in: jetStream, history: 1, replicas: replicas),
                                  durationSeconds: durationSeconds)
    }

    package func acquire(_ name: String, holder: String) async throws -> Lease? {
        let value = Array(holder.utf8)
        guard let entry = try await bucket.entry(name) else {
            do {
                return Lease(name: name, holder: holder, revision: try await bucket.create(name, value))
            } catch {
                if case .keyExists = error { return nil }
                throw error
            }
        }
        let current = String(decoding: entry.value, as: UTF8.self)
        if !entry.isDeleted && current != holder {
            let expired = try observations.withLock { observed in
                guard observed[name] != nil || observed.count < Self.namesMax else { throw LeaseBookError.tooManyLeases(Self.namesMax) }
                return observed[name, default: LeaseObservation()].observe(revision: entry.revision, nowNs: SystemClock.monotonicNanoseconds(),
                                                                           durationNs: UInt64(durationSeconds * 1e9))
            }
            guard expired else { return nil }
        }
        do {
            let revision = try await bucket.update(name, value, revision: entry.revision)
            observations.withLock { _ = $0.removeValue(forKey: name) }
            return Lease(name: name, holder: holder, revision: revision)
        } catch {
            if case .revisionMismatch = error { return nil }
            throw error
        }
    }

    package func renew(_ lease: Lease) async throws -> Lease? {
        do {
            return Lease(name: lease.name, holder: lease.holder, revision: try await bucket.update(lease.name, Array(lease.holder.utf8), revision: lease.revision))
        } catch {
            if case .revisionMismatch = error { return nil }
            throw error
        }
    }

    package func release(_ lease: Lease) async throws {
        do {
            try await bucket.delete(lease.name, revision: lease.revision)
        } catch {
            // Already taken over (revision mismatch): nothing of ours to release.
            if case .revisionMismatch = error { return }
            throw error
        }
    }
}
