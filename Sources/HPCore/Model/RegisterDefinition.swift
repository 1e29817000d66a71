/// One data point of a heat-pump model, as written in `registers.yml`.
public struct RegisterDefinition: Sendable, Hashable {
    public var name: String
    /// PDU address sent on the wire (model address offset already applied).
    public var address: Int
    public var registerType: RegisterType
    public var dataType: DataType
    public var byteOrder: ByteOrder
    public var unit: String
    public var scale: Double
    public var offset: Double
    public var description: String
    public var enumValues: [Int64: String]
    /// Raw values meaning "not available"; such reads produce no sample.
    public var unavailable: [Int64]
    public var access: RegisterAccess
    public var min: Double?
    public var max: Double?
    /// Stored in EEPROM (`write_class: eeprom`).
    public var eeprom: Bool {
        get { writeClass == .eeprom }
        set { writeClass = newValue ? .eeprom : (writeClass == .eeprom ? .volatile : writeClass) }
    }
    /// Prometheus type of the register's series.
    public var metricType: MetricType
    /// Write single registers with FC16 (write multiple) instead of FC06, as IDM, NIBE and Luxtronik expect.
    public var writeMultiple: Bool = false
    /// Byte order for writes when it differs from reads (NIBE S-series over TCP: read CDAB, write ABCD).
    public var writeByteOrder: ByteOrder?
    /// The table writes go to when it differs from the one reads come from (IDM: read FC04, write FC16
    /// at the same address). Nil: writes go to `registerType`.
    public var writeRegisterType: RegisterType?
    /// Named bits of a bitmap register, sorted by bit; each becomes its own boolean sample.
    public var bitmapFields: [BitmapField]
    /// Registers a `string` spans (two bytes each); 0 for every other type.
    public var length: Int = 0
    /// One bit (0 = least significant) of a 16-bit register, decoded as a boolean sample.
    public var bit: Int?
    /// Set on registers expanded from a template: the shared series and its labels (`circuit="A"`).
    public var instance: SeriesInstance?
    /// How writes behave: `eeprom: true` is the same as `write_class: eeprom`.
    public var writeClass: WriteClass = .volatile
    /// Seconds between re-sends of a `cyclic` register's wanted value.
    public var refreshInterval: Double?
    /// The one value a `pulse` register accepts (the trigger); nil: any value within min/max.
    public var pulseValue: Double?
    /// The model's register group this register belongs to (`group:`); nil: always polled.
    public var group: String?

    public init(
        name: String, address: Int, registerType: RegisterType = .holding, dataType: DataType = .int16,
        byteOrder: ByteOrder = .abcd, unit: String = "", scale: Double = 1, offset: Double = 0,
        description: String = "", enumValues: [Int64: String] = [:], unavailable: [Int64] = [],
        access: RegisterAccess = .read, min: Double? = nil, max: Double? = nil, eeprom: Bool = false,
        metricType: MetricType? = nil, bitmapFields: [BitmapField] = []
    ) {
        self.name = name
        self.address = address
        self.registerType = registerType
        self.dataType = dataType
        self.byteOrder = byteOrder
        self.unit = unit
        self.scale = scale
        self.offset = offset
        self.description = description
        self.enumValues = enumValues
        self.unavailable = unavailable
        self.access = access
        self.min = min
        self.max = max
        self.writeClass = eeprom ? .eeprom : .volatile
        self.metricType = metricType ?? (name.hasSuffix("_total") ? .counter : .gauge)
        self.bitmapFields = bitmapFields.sorted { $0.bit < $1.bit }
    }

    /// The table a write goes to: `write_register_type`, else the table the register is read from.
    public var writeTable: RegisterType { writeRegisterType ?? registerType }

    /// Whether a write can reach the device at all: only holding registers and coils are writable in Modbus.
    public var writeTableIsWritable: Bool { writeTable == .holding || writeTable == .coil }

    /// Registers (or bits) this value spans.
    public var count: Int { dataType == .string ? length : dataType.registerCount }

    /// Bits the raw value has: 8 for (u)int8, 16 per register otherwise, 1 for a bool.
    public var bitWidth: Int {
        switch dataType {
        case .bool: 1
        case .int8, .uint8: 8
        default: 16 * count
        }
    }

    /// The metric / InfluxDB field name: the shared series for template instances, else the name.
    public var seriesName: String { instance?.series ?? name }

    /// Units HPManager uses for enumerations and bit fields.
    public var isEnum: Bool { !enumValues.isEmpty && !isBitmap }
    /// Checked on every decode: the length test keeps the common case free of allocations.
    public var isBitmap: Bool { unit.utf8.count == 6 && unit.lowercased() == "bitmap" }
}

/// How a register is exposed to Prometheus: counters (cumulative meters) must end in `_total`.
public enum MetricType: String, Sendable, Hashable {
    case gauge
    case counter
}
