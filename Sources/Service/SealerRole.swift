import Crypto
import Engine
import EventLog
import JSON
import NATS
import Synchronization
import SystemIO

/// Under `serve --engine`: the one elected sealer. Every process copies the stream into the local log
/// of its data directory (`EventMirror`; delivery and reads use that copy), and each copy seals its
/// own segments; the sealer's copy is the service's record. The sealer holds the lease `sealer` in
/// `ARGUS_LEASES` (renewed every `EngineBinding.leaseRenewSeconds`, taken over within about 14 s of its
/// holder's death), writes each of its seals to `ARGUS_META` key `seal` (`{"next_offset","chain_sha256",
/// "holder"}`, by compare-and-set), and runs the background archiver when `--archive-target` is set.
///
/// A process taking the role over continues from what the engine holds: before it seals for the
/// service it waits until its copy reaches the recorded `next_offset` and checks that its chain hash
/// there is the recorded one (the hash chain covers every event before, so the copies are the same
/// log). A copy that differs gives the role up for good and says so.
///
/// While another process seals, this one (with `--archive-target` and `--retention-*`) applies the same
/// retention to its copy: it uploads nothing, and deletes only sealed segments whose records the archive's
/// manifest holds (`BackgroundArchiver.adoptsOnly`); reads below its copy come back from the archive.
final class SealerRole: Sendable {
    /// The lease's name in `ARGUS_LEASES`.
    static let leaseName = "sealer"
    /// The seal record's key in `ARGUS_META`.
    static let recordKey = "seal"

    enum Phase: Sendable, Equatable {
        case standby
        /// Holding the lease, waiting for the local copy to reach the recorded seal.
        case catchingUp
        case sealing
        /// This copy differs from the recorded seal: never sealer.
        case ineligible
    }

    private struct State {
        var phase = Phase.standby
        var lease: Lease?
        var renewedAtNs: UInt64 = 0
        /// The seal record's revision as this process last wrote or read it.
        var recordRevision: UInt64 = 0
        var recordedNextOffset: UInt64 = 0
        var archiver: Task<Void, Never>?
    }

    let service: ArgusService
    let engine: EngineBinding
    let archiving: ArgusServer.Archiving?
    private let state = Mutex(State())

    init(service: ArgusService, engine: EngineBinding, archiving: ArgusServer.Archiving?) {
        self.service = service
        self.engine = engine
        self.archiving = archiving
    }

    /// Where this process stands.
    var phase: Phase { state.withLock { $0.phase } }

    private var logger: Logger { service.configuration.logger }

    /// Rounds until cancelled; then stops the archiver and releases the lease (another process takes
    /// the role at its next round).
    func run() async {
        while !Task.isCancelled {
            await round()
            try? await Task.sleep(nanoseconds: UInt64(EngineBinding.leaseRenewSeconds * 1e9))
        }
        if let lease = await stop(phase: .standby) { try? await engine.leases.release(lease) }
    }

    /// One round: renew or take the lease, then catch up or record the latest seal.
    func round() async {
        let current = state.withLock { $0 }
        switch current.phase {
        case .ineligible:
            return
        case .standby:
            await take()
            if phase == .standby { startArchiver(adoptsOnly: true) }
        case .catchingUp, .sealing:
            guard await renew(current) else { return }
        }
        switch phase {
        case .catchingUp: await catchUp()
        case .sealing: await record()
        default: break
        }
    }

    private func take() async {
        do {
            guard let lease = try await engine.leases.acquire(Self.leaseName, holder: engine.holder) else { return }
            await stopArchiver()  // the retention of a process that does not seal
            state.withLock { state in
                state.lease = lease
                state.renewedAtNs = SystemClock.monotonicNanoseconds()
                state.phase = .catchingUp
            }
            logger.info("sealer lease taken", [("local_next_offset", .integer(service.log.nextOffset))])
        } catch {
            logger.error("could not take the sealer lease", [("error", .string(String(describing: error)))])
        }
    }

    /// Renews the lease; false when the role was lost.
    private func renew(_ current: State) async -> Bool {
        guard let lease = current.lease else { return false }
        do {
            guard let renewed = try await engine.leases.renew(lease) else {
                logger.info("sealer lease lost")
                _ = await stop(phase: .standby)
                return false
            }
            state.withLock { $0.lease = renewed; $0.renewedAtNs = SystemClock.monotonicNanoseconds() }
            return true
        } catch {
            // Keep the role while the lease may still be ours; give it up before another process may take it.
            if Double(SystemClock.monotonicNanoseconds() - current.renewedAtNs) / 1e9 > EngineBinding.leaseSeconds * 0.6 {
                logger.error("sealer lease not renewed; giving the role up", [("error", .string(String(describing: error)))])
                _ = await stop(phase: .standby)
                return false
            }
            return true
        }
    }

    /// Waits (round by round) until the local copy reaches the engine's seal record, then checks the chain hash there.
    private func catchUp() async {
        do {
            let entry = try await engine.meta.get(Self.recordKey)
            let record = entry.flatMap { SealRecord(json: $0.value) }
            if let record, service.log.nextOffset < record.nextOffset { return }  // the mirror is still copying
            if let record, record.nextOffset > 0 {
                let local = try await service.log.read(from: record.nextOffset - 1, countMax: 1).first
                guard let local, Hex.encode(local.chainHash) == record.chainSHA256 else {
                    logger.error("this data directory's copy differs from the engine's seal record; this process never seals",
                                 [("offset", .integer(record.nextOffset - 1))])
                    if let lease = await stop(phase: .ineligible) { try? await engine.leases.release(lease) }
                    return
                }
            }
            state.withLock { state in
                state.recordRevision = entry?.revision ?? 0
                state.recordedNextOffset = record?.nextOffset ?? 0
                state.phase = .sealing
            }
            logger.info("sealing: continuing from the engine's seal record", [("next_offset", .integer(record?.nextOffset ?? 0))])
            startArchiver(adoptsOnly: false)
        } catch {
            logger.error("could not read the engine's seal record; trying again", [("error", .string(String(describing: error)))])
        }
    }

    /// Writes the latest local seal to the engine when it is past the recorded one.
    private func record() async {
        let (revision, recorded) = state.withLock { ($0.recordRevision, $0.recordedNextOffset) }
        let sealed = service.sealedSize.current
        guard sealed > recorded else { return }
        do {
            guard let last = try await service.log.read(from: sealed - 1, countMax: 1).first else { return }
            let value = SealRecord(nextOffset: sealed, chainSHA256: Hex.encode(last.chainHash), holder: engine.holder).json
            let written = try await engine.meta.update(Self.recordKey, value, revision: revision)
            state.withLock { $0.recordRevision = written; $0.recordedNextOffset = sealed }
            logger.info("seal recorded in the engine", [("next_offset", .integer(sealed))])
        } catch JetStreamError.revisionMismatch {
            logger.info("the seal record was written by another process; giving the sealer role up")
            if let lease = await stop(phase: .standby) { try? await engine.leases.release(lease) }
        } catch {
            logger.error("could not record a seal in the engine; trying again", [("error", .string(String(describing: error)))])
        }
    }

    /// Starts the archiver unless one runs: the sealer's, or (`adoptsOnly`) the retention of a process that
    /// does not seal; only when retention is set for the latter.
    private func startArchiver(adoptsOnly: Bool) {
        guard let archiving, !adoptsOnly || archiving.retention != nil else { return }
        let archiver = BackgroundArchiver(service: service, settings: archiving, adoptsOnly: adoptsOnly)
        state.withLock { state in
            if state.archiver == nil { state.archiver = Task { await archiver.run() } }
        }
    }

    /// Cancels the running archiver and waits for it.
    private func stopArchiver() async {
        let archiver = state.withLock { state in
            defer { state.archiver = nil }
            return state.archiver
        }
        archiver?.cancel()
        await archiver?.value
    }

    /// Leaves the role: cancels the archiver and waits for it (it stops at its next step), and returns
    /// the lease held.
    private func stop(phase: Phase) async -> Lease? {
        let lease = state.withLock { state in
            defer {
                state.lease = nil
                state.phase = phase
            }
            return state.lease
        }
        await stopArchiver()
        return lease
    }
}

/// What the sealer writes to `ARGUS_META` key `seal` after each seal.
struct SealRecord: Sendable, Equatable {
    /// The offset after the sealed segment's last event.
    var nextOffset: UInt64
    /// The hex SHA-256 chain hash of the event at `nextOffset - 1`.
    var chainSHA256: String
    var holder: String

    init(nextOffset: UInt64, chainSHA256: String, holder: String) {
        self.nextOffset = nextOffset
        self.chainSHA256 = chainSHA256
        self.holder = holder
    }

    init?(json bytes: [UInt8]) {
        guard let json = try? JSONParser.parse(bytes), let next = json["next_offset"]?.int64Value, next >= 0,
              let chain = json["chain_sha256"]?.stringValue else { return nil }
        self.init(nextOffset: UInt64(next), chainSHA256: chain, holder: json["holder"]?.stringValue ?? "")
    }

    var json: [UInt8] {
        JSONValue.object([("next_offset", .integer(nextOffset)), ("chain_sha256", .string(chainSHA256)),
                          ("holder", .string(holder))]).encoded()
    }
}

/// The largest sealed size the local log reported since the process started (its `onSeal`).
final class SealedSize: Sendable {
    private let value = Mutex<UInt64>(0)

    /// A segment was sealed: `size` is the offset after its last event.
    func note(_ size: UInt64) { value.withLock { $0 = max($0, size) } }

    var current: UInt64 { value.withLock { $0 } }
}
