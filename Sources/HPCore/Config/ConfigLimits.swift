/// The range every user-supplied number must fall in before the daemon converts it.
///
/// Each bound keeps a later conversion (`Duration.seconds`, `UInt32`/`Int32` for libmodbus, curl's
/// milliseconds, `1 << n` backoff growth, address arithmetic) from trapping, and rejects values
/// that cannot be meant (a metrics file rewritten every microsecond). Durations are in seconds.
public enum ConfigLimits {
    public static let minute = 60.0
    public static let hour = 3600.0
    public static let day = 86400.0
    public static let week = 7 * day

    // MARK: Devices (`heatpumps.yml`, and devices added over the control socket)

    /// Seconds between polls of a device (and `collector.poll_interval`).
    public static let pollInterval: ClosedRange<Double> = 0.05...day
    /// Modbus response timeout; libmodbus takes whole seconds as `UInt32`.
    public static let modbusTimeout: ClosedRange<Double> = 0.001...hour
    public static let retries: ClosedRange<Int> = 0...10
    public static let retryDelay: ClosedRange<Double> = 0...hour
    /// Serial line speed; libmodbus takes it as a C `int`.
    public static let baudrate: ClosedRange<Int> = 50...4_000_000
    public static let tcpPort: ClosedRange<Int> = 1...65535

    // MARK: Registers (`registers.yml`)

    /// An address as written (1-based and 6-digit Modicon numbers included) and a model's
    /// `address_offset`: wide enough for every convention, small enough that their sum cannot
    /// overflow. The sum must then be a Modbus address, 0…65535.
    public static let registerAddress: ClosedRange<Int> = 0...999_999
    public static let addressOffset: ClosedRange<Int> = -999_999...999_999
    public static let modbusAddress: ClosedRange<Int> = 0...65535
    /// Registers of a `string` value: one read request carries at most 125.
    /// Re-send interval of a cyclic write: controllers forget such values after minutes.
    public static let refreshInterval: ClosedRange<Double> = 1...day
    public static let eepromMinInterval: ClosedRange<Double> = 0...day
    public static let eepromDailyCap: ClosedRange<Int> = 1...10_000
    public static let stringLength: ClosedRange<Int> = 1...125

    // MARK: collector.yml

    public static let batchSize: ClosedRange<Int> = 1...100_000
    public static let batchInterval: ClosedRange<Double> = 0.01...day
    /// Connects per second; the throttle waits `1 / rate` between connects.
    public static let reconnectRate: ClosedRange<Double> = 0.01...1_000_000
    public static let backoff: ClosedRange<Double> = 0.01...day
    public static let quarantineRetry: ClosedRange<Double> = 1...week
    public static let influxTimeout: ClosedRange<Double> = 0.1...hour
    public static let influxRetryInterval: ClosedRange<Double> = 0.1...day
    /// Wait between MQTT connection attempts (first and longest).
    public static let mqttReconnect: ClosedRange<Double> = 0.05...hour
    public static let shutdownTimeout: ClosedRange<Double> = 0.1...hour
    public static let deadLetterRetention: ClosedRange<Double> = minute...(3650 * day)
    public static let metricsFileInterval: ClosedRange<Double> = 0.1...day
    public static let readingsRetention: ClosedRange<Double> = minute...(3650 * day)
    public static let derivedStateInterval: ClosedRange<Double> = 0.1...day
    public static let idleTimeout: ClosedRange<Double> = 0.1...day
    public static let restartWindow: ClosedRange<Double> = 0.1...week
    public static let failedCooldown: ClosedRange<Double> = 0.1...week
    public static let restartBackoff: ClosedRange<Double> = 0...day
    public static let alertDuration: ClosedRange<Double> = 0...week
    public static let alertWindow: ClosedRange<Double> = 1...week
    /// Any finite, non-negative margin.
    public static let hysteresis: ClosedRange<Double> = 0...Double.greatestFiniteMagnitude

    // MARK: display.yml (HPManager's web app ranges)

    /// Seconds between dashboard refreshes.
    public static let displayRefreshInterval: ClosedRange<Int> = 5...120
    /// Sparkline window in minutes.
    public static let sparklineMinutes: ClosedRange<Int> = 5...480
}
