/// The four SG Ready states (BWP label): 1 lock (utility block, `off`), 2 normal, 3 recommend (switch-on
/// recommendation), 4 boost (forced on). Vendors with three states leave out `recommend`.
public enum SGReadyState: String, Sendable, Hashable, CaseIterable {
    case lock
    case normal
    case recommend
    case boost

    /// Accepts `off` for `lock` (what most users call a utility block).
    public init?(name: String) {
        let lower = name.lowercased()
        if lower == "off" { self = .lock } else if let state = SGReadyState(rawValue: lower) { self = state } else { return nil }
    }
}
