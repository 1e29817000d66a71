import Foundation
import ModbusKit
import Testing
import TestSupport

/// libmodbus waits in `select()`, whose sets hold descriptors below 1024 only. A serial port opened
/// while every lower descriptor is in use (a daemon with over a thousand TCP links reopening its
/// bus) gets a higher one; libmodbus' `FD_SET` would then write past the set, and the fortified C
/// library aborts the process. The client refuses such a connection with an error instead.
@Suite("libmodbus with descriptors beyond select()'s limit", .harnessThreads, .serialized)
struct ModbusHighDescriptorTests {
    @Test("an RTU port that opens above descriptor 1024 is refused with an error, not an abort; the same port opens once descriptors are free")
    func rtuWithHighDescriptors() throws {
        let pty = try PtyPair()
        defer { pty.stop() }
        let sim = try SimulatorProcess(["--rtu", "matrix:\(pty.first):1", "--baudrate", "19200"])
        _ = sim
        let client = try ModbusClient(.rtu(device: pty.second, baudrate: 19200, parity: "N", dataBits: 8, stopBits: 1))
        client.setResponseTimeout(seconds: 1)
        try client.setUnit(1)
        do {
            let held = try MosquittoHighDescriptorTests.occupyDescriptors(above: 1100)
            defer { for fd in held { close(fd) } }
            try #require((held.last ?? 0) >= 1100, "could not occupy descriptors up to 1100 (limit)")
            #expect(throws: ModbusError.self) { try client.connect() }
            #expect(!client.isConnected)
        }
        try client.connect()
        var words = [UInt16](repeating: 0, count: 2)
        try client.readRegisters(input: false, address: 0, count: 2, into: &words)
        client.close()
    }
}
