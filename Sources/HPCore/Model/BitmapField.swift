/// One named bit of a bitmap register (`bitmap_fields: {6: compressor_running}`, as in HPManager).
///
/// Each named bit is exported as its own boolean series (`heatpump_compressor_running 0|1`,
/// InfluxDB field `compressor_running=true`) beside the register's number and `_bit` series.
public struct BitmapField: Sendable, Hashable {
    /// Bit index, 0 = least significant bit of the (byte-order adjusted) raw value.
    public var bit: Int
    public var name: String

    public init(bit: Int, name: String) {
        self.bit = bit
        self.name = name
    }
}
