import ControlProtocol
import HPCore

/// `GET /api/dashboards/heatpump/{id}`: what one device's dashboard shows (idm_logger's per-device
/// dashboard): status, key values with units, the current operating states, active alerts.
struct DashboardBody: Encodable, Sendable {
    /// One register's latest value; `value` is absent until the device has been polled.
    struct Value: Encodable, Sendable {
        var register: String
        var value: RegisterReading.Value?
        var unit: String
        var label: String?
        var description: String
    }

    var heatpump: HeatpumpSummary
    /// The latest poll's time (absent before the first).
    var timestamp: Double?
    /// display.yml's `visible_fields` of the device, in order; otherwise every non-state register of its model.
    var keyValues: [Value]
    /// Enum and bool registers (operating mode, compressor on, …) with their labels.
    var states: [Value]
    var alerts: [AlertRecord]
    var refreshInterval: Int
    var sparklineMinutes: Int

    enum CodingKeys: String, CodingKey {
        case heatpump, timestamp, states, alerts
        case keyValues = "key_values", refreshInterval = "refresh_interval", sparklineMinutes = "sparkline_minutes"
    }

    init(heatpump: HeatpumpSummary, registers: [RegisterDefinition], latest: (timestamp: Double, values: [String: RegisterReading.Value])?,
         display: DisplaySettings, alerts: [AlertRecord]) {
        self.heatpump = heatpump
        self.alerts = alerts
        timestamp = latest?.timestamp
        refreshInterval = display.refreshInterval
        sparklineMinutes = display.sparklineMinutes(for: heatpump.id)
        let values = latest?.values ?? [:]
        func value(_ name: String, _ register: RegisterDefinition?) -> Value {
            let reading = values[name]
            var label: String?
            if let register, case .number(let number)? = reading, let raw = Int64(exactly: number) { label = register.enumValues[raw] }
            return Value(register: name, value: reading, unit: register?.unit ?? "", label: label, description: register?.description ?? "")
        }
        let isState = { (r: RegisterDefinition) in !r.enumValues.isEmpty || r.dataType == .bool }
        let byName = Dictionary(registers.map { ($0.name, $0) }) { first, _ in first }
        states = registers.filter(isState).map { value($0.name, $0) }
        if let fields = display.visibleFields(for: heatpump.id) {
            keyValues = fields.map { value($0, byName[$0]) }
        } else {
            keyValues = registers.filter { !isState($0) && $0.access != .write }.map { value($0.name, $0) }
        }
    }
}
