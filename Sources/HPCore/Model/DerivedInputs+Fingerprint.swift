import Foundation

extension DerivedInputs {
    /// A stable text form of the whole derived configuration (registers, unit factors, thresholds):
    /// saved derived state is restored only when the fingerprint it was saved under is unchanged.
    /// (`hashValue` is seeded per process, so it cannot serve across restarts.)
    public var fingerprint: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        // Every field is a finite number, a string or a nested value of those; encoding cannot fail
        // except for a non-finite threshold, which the config parser refuses. Should it fail, the
        // fingerprint matches nothing (not even itself next time): state is dropped, never
        // restored for a configuration that may differ.
        guard let data = try? encoder.encode(self) else { return "unencodable-\(UUID().uuidString)" }
        return String(decoding: data, as: UTF8.self)
    }
}
