import Archive
import Foundation
import Service

/// The options that name an archive target: a URL (`--target` for `archive`, `--archive` for
/// `verify` and `tail`), `--s3-endpoint`, `--region`, and for `archive` `--object-lock-days`.
/// Credentials come from the environment only (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
/// `AWS_SESSION_TOKEN`), the region from `--region`, else `AWS_REGION`, else us-east-1.
enum ArchiveTargetArguments {
    static let valueFlags: Set<String> = ["--s3-endpoint", "--region"]

    /// Builds the target named by `url` with the shared flags; a configuration mistake is a usage error.
    static func make(url: String, arguments: Arguments, objectLockDays: Int? = nil) throws -> any ArchiveTarget {
        do {
            return try ArchiveTargets.make(url: url, endpoint: arguments.value("--s3-endpoint"), region: arguments.value("--region"),
                                           objectLockDays: objectLockDays, environment: ProcessInfo.processInfo.environment)
        } catch where error.kind == .configuration {
            throw UsageError(error.message)
        }
    }

    /// The target the last `archive` or `serve --archive-target` used on the data directory, or nil when
    /// none was used; one that cannot be made now (such as missing credentials) is noted on stderr and nil.
    static func saved(layout: DataLayout) throws -> (any ArchiveTarget)? {
        guard let settings = try ArchiveState.load(directory: layout.archiveState).targetSettings() else {
            return nil
        }
        do {
            return try ArchiveTargets.make(url: settings.url, endpoint: settings.endpoint, region: settings.region,
                                           environment: ProcessInfo.processInfo.environment)
        } catch {
            Console.error("note: not reading the archive \(settings.url): \(error.message)")
            return nil
        }
    }

    /// The settings to remember for `url` (what `tail` needs to read the archive back; never credentials).
    static func settings(url: String, arguments: Arguments) -> ArchiveState.TargetSettings {
        ArchiveState.TargetSettings(url: url, endpoint: arguments.value("--s3-endpoint"), region: arguments.value("--region"))
    }
}
