import Foundation
import TestSupport

/// One RS-485 bus at 9,600 baud with 16 devices whose cycle cannot fit the interval: is the
/// saturation detected, and is the schedule stretched evenly instead of drifting or piling up?
struct RTUBenchmark {
    var devices = 16
    var baudrate = 9600
    var interval = 2.0
    var duration = 60.0

    func run() async throws -> [String: Double] {
        let pty = try PtyPair()
        defer { pty.stop() }
        let sim = try SimulatorProcess(["--rtu", "bench:\(pty.first):1-\(devices)", "--baudrate", "\(baudrate)", "--emulate-line-time"])
        let dir = try TemporaryDirectory(prefix: "hpm-rtu-bench")
        try dir.write("heatpumps.yml", BenchModel.rtuDevices(units: devices, device: pty.second, baudrate: baudrate, interval: interval))
        try dir.write("registers.yml", BenchModel.registersYAML)
        let files = IsolatedDaemonFiles(dir)
        try dir.write("collector.yml", files.collectorYAML(metricsInterval: 1, extra: "logging:\n  level: WARNING"))
        let daemon = try DaemonProcess(configDir: dir.path, metricsPath: files.metricsPath, logLevel: "warning")
        try await Task.sleep(for: .seconds(20))  // detect and settle
        let first = daemon.metrics()
        try await Task.sleep(for: .seconds(duration))
        let last = daemon.metrics()
        daemon.process.stop()
        _ = sim
        let ids = (1...devices).map { "bus\($0)" }
        func total(_ m: PromMetrics?, _ name: String) -> Double { ids.reduce(0) { $0 + (m?.value(name, ["heatpump_id": $1]) ?? 0) } }
        let polls = total(last, "heatpump_polls_total") - total(first, "heatpump_polls_total")
        let lags = ids.compactMap { last?.value("heatpump_poll_lag_seconds", ["heatpump_id": $0]) }
        let perDevice = ids.map { (last?.value("heatpump_polls_total", ["heatpump_id": $0]) ?? 0) - (first?.value("heatpump_polls_total", ["heatpump_id": $0]) ?? 0) }
        return [
            "devices": Double(devices), "interval": interval,
            "cycle_s": last?.values("hpmanager_link_cycle_seconds").first ?? 0,
            "saturated": last?.values("hpmanager_link_saturated").first ?? 0,
            "polls_per_device_min": perDevice.min() ?? 0, "polls_per_device_max": perDevice.max() ?? 0,
            "effective_interval_s": polls > 0 ? duration * Double(devices) / polls : 0,
            "lag_max_s": lags.max() ?? 0,
            "warnings": Double(daemon.log.components(separatedBy: "link saturated").count - 1),
        ]
    }
}
