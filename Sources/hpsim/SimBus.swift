import Foundation
import ModbusKit
#if canImport(Glibc)
import Glibc
#endif

/// A simulated RS-485 bus on a serial device (or pty) with several units.
///
/// libmodbus' RTU receive ignores frames for other unit ids, so frames are assembled and
/// CRC-checked here and answered with libmodbus. `@unchecked Sendable`: state guarded by `lock`.
final class SimBus: @unchecked Sendable {
    let device: String
    let baudrate: Int
    let parity: Character
    let dataBits: Int
    let stopBits: Int
    let units: [Int: SimUnit]
    /// Sleep for the time the frames would take on a real line at `baudrate`.
    let emulateLineTime: Bool
    private let lock = NSLock()
    private var requestsByFunction: [Int: Int] = [:]
    private var crcErrors = 0

    init(device: String, baudrate: Int, parity: Character, dataBits: Int, stopBits: Int, units: [Int: SimUnit], emulateLineTime: Bool) {
        self.device = device
        self.baudrate = baudrate
        self.parity = parity
        self.dataBits = dataBits
        self.stopBits = stopBits
        self.units = units
        self.emulateLineTime = emulateLineTime
    }

    func start() throws {
        let session = try ModbusServerSession(serialDevice: device, baudrate: baudrate, parity: parity, dataBits: dataBits, stopBits: stopBits)
        let owned = OwnershipTransfer(session)
        Thread.detachNewThread { [self] in serve(owned.value) }
    }

    private func serve(_ session: ModbusServerSession) {
        let fd = session.fileDescriptor
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 512)
        while true {
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, 100)
            if ready == 0 { buffer.removeAll(); continue }  // inter-frame silence: drop partial garbage
            if ready < 0 { if errno == EINTR { continue } else { return } }
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { if n < 0 && (errno == EAGAIN || errno == EINTR) { continue } else { Thread.sleep(forTimeInterval: 0.05); continue } }
            buffer.append(contentsOf: chunk[0..<n])
            while let frame = nextFrame(&buffer) {
                handle(frame, session: session)
            }
        }
    }

    /// Cuts one complete, CRC-valid request off the front of `buffer`.
    private func nextFrame(_ buffer: inout [UInt8]) -> [UInt8]? {
        while buffer.count >= 4 {
            let function = buffer[1]
            let length: Int
            switch function {
            case 1...6: length = 8
            case 15, 16:
                guard buffer.count >= 7 else { return nil }
                length = 9 + Int(buffer[6])
            default:
                buffer.removeFirst()
                continue
            }
            guard buffer.count >= length else { return nil }
            let frame = Array(buffer[0..<length])
            if Self.crc16(frame[0..<(length - 2)]) == UInt16(frame[length - 2]) | UInt16(frame[length - 1]) << 8 {
                buffer.removeFirst(length)
                return frame
            }
            lock.withLock { crcErrors += 1 }
            buffer.removeFirst()
        }
        return nil
    }

    private func handle(_ frame: [UInt8], session: ModbusServerSession) {
        let unitID = Int(frame[0])
        guard let request = SimRequest(unit: unitID, bytes: frame[...], pduStart: 1) else { return }
        guard let unit = units[unitID] else { return }  // RTU: other units stay silent
        lock.withLock { requestsByFunction[request.function, default: 0] += 1 }
        var lineTime = 0.0
        if emulateLineTime {
            let responseBytes = request.function <= 2 ? 5 + (request.range.count + 7) / 8 : (request.function <= 4 ? 5 + 2 * request.range.count : 8)
            lineTime = Double((frame.count + responseBytes) * (1 + dataBits + stopBits + (parity == "N" ? 0 : 1))) / Double(baudrate)
        }
        _ = try? SimResponder.handle(request, frame: frame[...], unit: unit, session: session, extraDelay: lineTime)
    }

    static func crc16(_ bytes: ArraySlice<UInt8>) -> UInt16 {
        var crc: UInt16 = 0xFFFF
        for byte in bytes {
            crc ^= UInt16(byte)
            for _ in 0..<8 {
                crc = crc & 1 != 0 ? (crc >> 1) ^ 0xA001 : crc >> 1
            }
        }
        return crc
    }

    func stats() -> [String: Any] {
        lock.withLock {
            [
                "requests": Dictionary(uniqueKeysWithValues: requestsByFunction.map { (String($0.key), $0.value) }),
                "requests_total": requestsByFunction.values.reduce(0, +),
                "crc_errors": crcErrors,
                "units": Dictionary(uniqueKeysWithValues: units.map { (String($0.key), $0.value.stats()) }),
            ]
        }
    }
}
