import HPCore
import Testing

/// Loads `registers` (beside an empty heatpumps.yml) and expects it rejected with an error at
/// registers.yml:`line` whose text contains `fragment`.
func expectRegistersRejected(_ loader: ConfigLoader, registers: String, line: Int, fragment: String, _ description: String) {
    do {
        _ = try loader.load(files: ["heatpumps.yml": "heatpumps: []\n", "registers.yml": registers], directory: "/etc/hpm")
        Issue.record("expected \(description) to be rejected")
    } catch let errors as ConfigErrors {
        let match = errors.errors.first { $0.file == "/etc/hpm/registers.yml" && $0.description.contains(fragment) }
        #expect(match != nil, "got: \(errors.description)")
        #expect(match?.line == line, "line of \(String(describing: match))")
    } catch {
        Issue.record("\(description): unexpected \(type(of: error)): \(error)")
    }
}
