import ControlProtocol
import HPCore

extension AlertRule {
    /// The rule as written under `alerts:` in collector.yml (what the settings view shows and a
    /// change sends back; `ConfigLoader.parseAlertRules` reads it).
    var json: JSONValue {
        var o: [String: JSONValue] = ["name": .string(name), "severity": .string(severity), "heatpumps": .array(heatpumps.map(JSONValue.string))]
        switch condition {
        case .above(let register, let threshold):
            o["register"] = .string(register)
            o["above"] = .number(threshold)
        case .below(let register, let threshold):
            o["register"] = .string(register)
            o["below"] = .number(threshold)
        case .offline:
            o["offline_for"] = .number(duration)
            return .object(o)
        case .errorRate(let threshold, let window):
            o["error_rate_above"] = .number(threshold)
            o["window"] = .number(window)
        case .misconfigured:
            o["misconfigured"] = .bool(true)
        case .anomaly:
            o["anomaly"] = .bool(true)
        }
        o["for"] = .number(duration)
        o["hysteresis"] = .number(hysteresis)
        return .object(o)
    }
}
