/// What this binary is: the version from `VERSION` and the git commit it was built from (both
/// written by `BuildInfoPlugin` at build time). `hpmanagerd --version`, `hpmanagerctl --version` and
/// `hpmanager_build_info` report them.
public enum BuildInfo {
    public static let version = generatedVersion
    /// Short commit id, `-dirty` when Sources or Package.swift differ from it, or "unknown".
    public static let commit = generatedCommit
    /// `0.2.0 (commit 1a2b3c4d5e6f)`: the text `--version` prints.
    public static let description = "\(version) (commit \(commit))"
}
