import Foundation
import TestSupport

/// Configuration files in HPManager's layout, written for the tests (hosts pointed at loopback).
enum ConfigFixtures {
    /// heatpumps.yml with every HPManager key, comments and an RTU entry.
    static let hpmanagerDevices = """
    heatpumps:
      - id: hp1
        name: Main Heat Pump
        location: Basement
        model: stiebel_eltron_wpm  # reference to registers.yml
        enabled: true
        modbus:
          type: tcp            # tcp or rtu
          host: 127.0.0.1
          port: 502
          unit_id: 1
          timeout: 5           # seconds
          retries: 3
          retry_delay: 1

      - id: hp3
        name: Third Heat Pump
        location: Workshop
        model: stiebel_eltron_wpm
        enabled: false
        modbus:
          type: rtu
          port: /dev/ttyUSB0
          baudrate: 9600
          bytesize: 8
          parity: N
          stopbits: 1
          unit_id: 1
          timeout: 5
          retries: 3
          retry_delay: 1
    """

    /// registers.yml as HPManager writes it: shared addresses, enum and bitmap units, scale 1.
    static let hpmanagerRegisters = """
    # Stiebel-Eltron-like map, addresses sent as written
    models:
      stiebel_eltron_wpm:
        description: "Heat pump with WPM manager"
        registers:
          - name: outside_temperature
            address: 507
            register_type: input
            data_type: int16
            unit: celsius
            scale: 0.1
            description: "Outside temperature"

          - name: operating_mode
            address: 1501
            register_type: holding
            data_type: uint16
            unit: enum
            scale: 1
            description: "Operating mode"
            enum_values:
              0: "Emergency operation"
              1: "Standby mode"
              2: "Programmed operation"

          - name: operating_status
            address: 2501
            register_type: input
            data_type: uint16
            unit: bitmap
            scale: 1
            description: "Operating status (bit-coded)"

          - name: compressor_running
            address: 2501
            register_type: input
            data_type: uint16
            unit: bitmap
            scale: 1
            description: "Same register as operating_status"

          - name: energy_total
            address: 3501
            register_type: input
            data_type: uint32
            unit: kwh
            description: "Energy"
    """

    static let hpmanagerCollector = """
    collector:
      poll_interval: 10  # seconds between polling cycles
      batch_size: 100
      batch_interval: 5

    influxdb:
      url: ${INFLUXDB_URL:-http://influxdb:8086}
      org: ${INFLUXDB_ORG:-heatpump-monitoring}
      bucket: ${INFLUXDB_BUCKET:-heatpump-data}
      token: ${INFLUXDB_TOKEN}
      timeout: 10
      retry_interval: 30

    logging:
      level: INFO  # DEBUG, INFO, WARNING, ERROR, CRITICAL
      format: json
      file: /var/log/hpm-collector.log
    """

    static func directory(devices: String = hpmanagerDevices, registers: String? = hpmanagerRegisters,
                          collector: String? = hpmanagerCollector) throws -> TemporaryDirectory {
        let dir = try TemporaryDirectory(prefix: "hpm-config")
        try dir.write("heatpumps.yml", devices)
        if let registers { try dir.write("registers.yml", registers) }
        if let collector { try dir.write("collector.yml", collector) }
        return dir
    }
}
