/// One register's value in one poll.
public struct Sample: Sendable, Hashable {
    /// Index of the register in the device's model (stable while the config is unchanged);
    /// `Sample.derivedRegister` for a derived series (COP, compressor starts), which has no register.
    public var register: Int
    public var name: String
    public var value: SampleValue
    /// Label from `enum_values`, when the register is an enumeration.
    public var label: String?
    /// Set bits (0 = LSB), when the register is a bitmap.
    public var bits: [Int]
    /// For registers expanded from a template: the shared series and its labels (`circuit="A"`).
    public var instance: SeriesInstance?

    public init(register: Int, name: String, value: SampleValue, label: String? = nil, bits: [Int] = [], instance: SeriesInstance? = nil) {
        self.instance = instance
        self.register = register
        self.name = name
        self.value = value
        self.label = label
        self.bits = bits
    }

    /// The `register` of a derived sample.
    public static let derivedRegister = -1

    /// The metric / InfluxDB field name: the shared series for template instances, else the name.
    public var seriesName: String { instance?.series ?? name }
}
