/// How to reach one device: transport plus unit id, timeout and retries (HPManager's `modbus:` block).
public struct ModbusSettings: Sendable, Hashable {
    public enum Transport: Sendable, Hashable {
        case tcp(host: String, port: Int)
        case rtu(SerialSettings)
    }

    public var transport: Transport
    public var unitID: Int
    /// Response timeout, seconds.
    public var timeout: Double
    /// Extra attempts for a failed request within one poll.
    public var retries: Int
    /// Pause before such a retry, seconds.
    public var retryDelay: Double

    public init(transport: Transport, unitID: Int = 1, timeout: Double = 5, retries: Int = 3, retryDelay: Double = 1) {
        self.transport = transport
        self.unitID = unitID
        self.timeout = timeout
        self.retries = retries
        self.retryDelay = retryDelay
    }

    /// Devices with equal endpoints share one link (one TCP connection or one serial bus).
    public var endpoint: LinkEndpoint {
        switch transport {
        case .tcp(let host, let port): .tcp(host: host, port: port)
        case .rtu(let serial): .rtu(serial)
        }
    }
}

/// Serial line parameters for Modbus RTU.
public struct SerialSettings: Sendable, Hashable {
    public var device: String
    public var baudrate: Int
    public var bytesize: Int
    /// `N`, `E` or `O`.
    public var parity: Character
    public var stopbits: Int

    public init(device: String, baudrate: Int = 9600, bytesize: Int = 8, parity: Character = "N", stopbits: Int = 1) {
        self.device = device
        self.baudrate = baudrate
        self.bytesize = bytesize
        self.parity = parity
        self.stopbits = stopbits
    }
}

/// The identity of a link: a TCP host:port (gateway) or a serial bus.
public enum LinkEndpoint: Sendable, Hashable, CustomStringConvertible {
    case tcp(host: String, port: Int)
    case rtu(SerialSettings)

    /// Equal keys mean one shared link; a serial bus is keyed by its device path alone.
    public var key: String {
        switch self {
        case .tcp(let host, let port): "tcp://\(host):\(port)"
        case .rtu(let serial): "rtu://\(serial.device)"
        }
    }

    public var description: String {
        switch self {
        case .tcp(let host, let port): "\(host):\(port)"
        case .rtu(let serial): "\(serial.device)@\(serial.baudrate)/\(serial.bytesize)\(serial.parity)\(serial.stopbits)"
        }
    }
}
