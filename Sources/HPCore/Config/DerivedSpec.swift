/// `derived:` of a model as written: register names by key, per section, with the lines to point
/// errors at. Resolved against the model's registers (existence, units) by `ModelResolver`.
struct DerivedSpec {
    /// One of `cop`, `scop`, `compressor`, `defrost`, `anomaly`, `comfort`.
    struct Section {
        /// Key → register names (one, or a list for `scop` counters).
        var registers: [String: [String]] = [:]
        var numbers: [String: Double] = [:]
        /// `defrost.values`, `comfort.heating_values`: raw numbers or enum labels.
        var values: [String] = []
        /// `comfort.curve`: (outdoor, supply) points as written.
        var curve: [CurvePoint]?
        var fluid: DerivedFluid?
        var file: String
        var line: Int
        var path: String
        var keyLines: [String: Int] = [:]

        func error(_ key: String?, _ message: String) -> ConfigError {
            ConfigError(.invalidValue, file: file, line: key.flatMap { keyLines[$0] } ?? line,
                        field: key.map { "\(path).\($0)" } ?? path, message: message)
        }
    }

    var sections: [String: Section] = [:]

    static let sectionNames = ["cop", "scop", "compressor", "defrost", "anomaly", "comfort"]

    /// A child model's sections replace its parent's section by section.
    func merged(over parent: DerivedSpec?) -> DerivedSpec {
        var result = parent ?? DerivedSpec()
        for (name, section) in sections { result.sections[name] = section }
        return result
    }
}
