/// The version of this build: printed by `serve`, and sent as `user-agent: Argus-Webhooks/<version>`
/// on every delivery. The one place it is written.
public enum ArgusVersion {
    public static let current = "0.1.0"
}
