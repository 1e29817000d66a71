/// The 50-register model matching hpsim's `bench` profile, written from its documented layout
/// (30 int16 inputs at every other address from 0, 10 float32 holdings from 100, 10 uint16 inputs
/// from 500) — used by the RTU saturation test and the benchmarks.
public enum BenchModel {
    public static let name = "bench_model"

    public static let registersYAML: String = {
        var lines = ["models:", "  \(name):", "    manufacturer: Bench", "    registers:"]
        for i in 0..<30 { lines.append("      - {name: t\(i), address: \(2 * i), register_type: input, data_type: int16, scale: 0.1}") }
        for i in 0..<10 { lines.append("      - {name: f\(i), address: \(100 + 2 * i), register_type: holding, data_type: float32}") }
        for i in 0..<10 { lines.append("      - {name: u\(i), address: \(500 + i), register_type: input, data_type: uint16}") }
        return lines.joined(separator: "\n") + "\n"
    }()

    /// heatpumps.yml for `units` devices on one RTU bus.
    public static func rtuDevices(units: Int, device: String, baudrate: Int, interval: Double) -> String {
        var text = "heatpumps:\n"
        for unit in 1...units {
            text += "  - {id: bus\(unit), model: \(name), poll_interval: \(interval), modbus: {type: rtu, port: \(device), baudrate: \(baudrate), unit_id: \(unit), timeout: 2, retries: 0}}\n"
        }
        return text
    }
}
