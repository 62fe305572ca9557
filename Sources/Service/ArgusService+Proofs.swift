import EventLog
import HTTPServer
import JSON
import Merkle
import SystemIO

/// Proofs for auditors: signed checkpoints, the verifier key, inclusion and consistency proofs.
/// The tile work is blocking file I/O, so it runs on `BlockingIO`.
extension ArgusService {
    /// Signs the checkpoints `checkpointSchedule` says are due (one per segment sealed since the last
    /// call, and the durable size when the interval has passed); failures are logged and retried at
    /// the next call. Between checkpoints it brings the tiles up to the log once the log is more than
    /// half the writer's leaf-hash buffer ahead of them. Returns the sizes signed.
    @discardableResult
    package func signDueCheckpoints(nowMs: Int64 = SystemClock.nowMs()) async -> [UInt64] {
        let due = checkpointSchedule.withLock { $0.due(logSize: log.nextOffset, nowMs: nowMs) }
        var signed: [UInt64] = []
        for size in due {
            let transparency = transparency
            let bySeal = checkpointSchedule.withLock { $0.pendingSeals.contains(size) }
            do {
                _ = try await BlockingIO.run { () throws -> String in try transparency.checkpoint(treeSize: size) }
                checkpointSchedule.withLock { $0.signed(size: size, nowMs: nowMs, bySeal: bySeal) }
                signed.append(size)
            } catch {
                configuration.logger.error("signing a checkpoint failed", [("tree_size", .integer(Int(size))), ("error", .string(String(describing: error)))])
                break
            }
        }
        // Between checkpoints, the tiles follow the log before the writer's leaf hashes they need fall
        // out of its bounded buffer (else upkeep would read those events back from the log).
        if signed.isEmpty, let recent = log.recentLeafHashes,
           log.nextOffset > transparency.tiles.treeSize + UInt64(recent.countMax / 2) {
            let transparency = transparency
            do {
                _ = try await BlockingIO.run { () throws -> UInt64 in try transparency.updateTiles() }
            } catch {
                configuration.logger.error("bringing the hash tiles up to the log failed", [("error", .string(String(describing: error)))])
            }
        }
        return signed
    }

    /// `GET /v1/log/checkpoint` (any valid token): the latest signed checkpoint, text/plain.
    func logCheckpoint(_ request: HTTPRequest) async throws -> HTTPResponse {
        _ = try authenticate(request, scope: nil)
        let transparency = transparency
        do {
            return .text(200, try await BlockingIO.run { () throws -> String in try transparency.latestCheckpoint() })
        } catch {
            throw proofError(error)
        }
    }

    /// `GET /v1/log/vkey` (any valid token): the verifier key, text/plain.
    func logVerifierKey(_ request: HTTPRequest) async throws -> HTTPResponse {
        _ = try authenticate(request, scope: nil)
        return .text(200, transparency.verifierKey + "\n")
    }

    /// `GET /v1/log/consistency?from=M&to=N` (any valid token).
    func logConsistency(_ request: HTTPRequest) async throws -> HTTPResponse {
        _ = try authenticate(request, scope: nil)
        let from = try Self.treeSize(request, "from", required: true) ?? 0
        let to = try Self.treeSize(request, "to", required: true) ?? 0
        let transparency = transparency
        return try await proofResponse { try transparency.consistencyProof(from: from, to: to) }
    }

    /// `GET /v1/events/{id}/proof?tree_size=M&offset=N` (events:read; the token's organization only,
    /// 404 otherwise). With `offset` (from the publish answer) the lookup is exact and reads one event;
    /// without it, the events from the time in the id on are searched, at most `ServiceLimits.Events.scanCountMax` of
    /// them (404 `event_lookup_limit` when the search stops there without finding the id). Events that
    /// retention removed locally are read back from the archive.
    func eventProof(_ request: HTTPRequest) async throws -> HTTPResponse {
        let principal = try authenticate(request, scope: Scope.eventsRead)
        let id = request.pathParameters["id"] ?? ""
        let treeSize = try Self.treeSize(request, "tree_size", required: false)
        let offset = try Self.treeSize(request, "offset", required: false)
        let notFound = APIError(404, "not_found", "no event \(id) in this organization's log")
        guard let timeMs = Self.timeOfEventID(id) else { throw notFound }
        let record: EventRecord
        do {
            if let offset {
                guard offset < source.nextOffset, let found = try await source.read(from: offset, countMax: 1).first,
                      found.eventID == id else { throw notFound }
                record = found
            } else {
                record = try await findEvent(id: id, timeMs: timeMs, notFound: notFound)
            }
        } catch let error as EventSourceError {
            throw APIError(error)
        }
        guard principal.isPlatformAdmin || record.organizationID == principal.organizationID else { throw notFound }
        let transparency = transparency
        return try await proofResponse { try transparency.inclusionProof(of: record, treeSize: treeSize) }
    }

    /// The event `id` among the `ServiceLimits.Events.scanCountMax` events from `timeMs` (the time in the id; the log
    /// appends it at that time or later) on.
    private func findEvent(id: String, timeMs: Int64, notFound: APIError) async throws -> EventRecord {
        let head = source.nextOffset
        var next = try await source.firstOffset(atOrAfterTimeMs: timeMs)
        var scanned = 0
        while next < head {
            guard scanned < ServiceLimits.Events.scanCountMax else {
                throw APIError(404, "event_lookup_limit",
                               "event \(id) is not among the \(ServiceLimits.Events.scanCountMax) events from the time in its id on (offsets from \(next - UInt64(scanned))); ask with offset=N (the offset publish answered) for an exact lookup",
                               details: [("scanned_from_offset", .integer(next - UInt64(scanned))), ("scanned_count", .integer(scanned))])
            }
            let records = try await source.read(from: next, countMax: min(1000, ServiceLimits.Events.scanCountMax - scanned))
            if records.isEmpty { break }
            if let found = records.first(where: { $0.eventID == id }) { return found }
            scanned += records.count
            next += UInt64(records.count)
        }
        throw notFound
    }

    private func proofResponse(_ body: @escaping @Sendable () throws -> JSONValue) async throws -> HTTPResponse {
        do {
            return json(200, try await BlockingIO.run(body))
        } catch {
            throw proofError(error)
        }
    }

    /// The API error for a failed proof: 400 `invalid_query` for sizes out of bounds; 410
    /// `events_unavailable` when the tree needs events retention removed; 404 `not_found` for an offset
    /// beyond the log; 503 `log_unavailable` when the log cannot be read; 503 `proof_unavailable` when the
    /// tiles cannot give a proof that verifies (damaged and not rebuildable, or inconsistent with the
    /// stored checkpoint). Server-side failures are logged.
    func proofError(_ error: any Error) -> any Error {
        switch error {
        case let error as MerkleProofError where !error.isVerificationFailure:
            if case .leafIndexOutOfRange = error {
                return APIError(400, "invalid_query", error.description + " (the event is not in a tree of that size)")
            }
            return APIError(400, "invalid_query", error.description)
        case let error as EventLogError:
            if case .offsetOutOfRange(let offset, let first, let next) = error {
                if offset < first {
                    return APIError(.eventsUnavailable(offset: offset, earliestAvailableOffset: first < next ? first : nil))
                }
                return APIError(404, "not_found", "offset \(offset) is not in the log (next offset \(next))")
            }
            configuration.logger.error("a proof could not read the log", [("error", .string(String(describing: error)))])
            return APIError(.log(error))
        case is MerkleTileError, is TransparencyLogError, is MerkleProofError:
            configuration.logger.error("a proof could not be made", [("error", .string(String(describing: error)))])
            return APIError(503, "proof_unavailable", "no verified proof or checkpoint can be made from the hash tiles now; see the server log")
        default:
            return error
        }
    }

    /// A tree size from the query (0 to Int64.max).
    static func treeSize(_ request: HTTPRequest, _ name: String, required: Bool) throws(APIError) -> UInt64? {
        guard let text = request.queryValue(name) else {
            if required { throw APIError(400, "invalid_query", "\(name) is required") }
            return nil
        }
        guard let value = UInt64(text), value <= UInt64(Int64.max) else {
            throw APIError(400, "invalid_query", "\(name) must be a tree size from 0 to \(Int64.max)")
        }
        return value
    }

    /// The millisecond time in an `evt_` ULID (its first 10 base32 characters), or nil.
    static func timeOfEventID(_ id: String) -> Int64? {
        let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)
        let characters = Array(id.utf8)
        guard id.hasPrefix("evt_"), characters.count == 30 else { return nil }
        var time: Int64 = 0
        for character in characters[4..<14] {
            guard let value = alphabet.firstIndex(of: character) else { return nil }
            time = time << 5 | Int64(value)
        }
        return time
    }
}
