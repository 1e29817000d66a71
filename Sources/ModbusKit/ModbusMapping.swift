import CModbus

/// A server-side register table (libmodbus `modbus_mapping_t`) covering one address window per table.
///
/// Not thread-safe: the simulator guards each mapping with its own lock.
public final class ModbusMapping {
    let pointer: UnsafeMutablePointer<modbus_mapping_t>
    public let bitsRange: Range<Int>
    public let inputBitsRange: Range<Int>
    public let holdingRange: Range<Int>
    public let inputRange: Range<Int>

    public init(bits: Range<Int>, inputBits: Range<Int>, holding: Range<Int>, input: Range<Int>) throws {
        guard let created = modbus_mapping_new_start_address(
            UInt32(bits.lowerBound), UInt32(bits.count),
            UInt32(inputBits.lowerBound), UInt32(inputBits.count),
            UInt32(holding.lowerBound), UInt32(holding.count),
            UInt32(input.lowerBound), UInt32(input.count)
        ) else { throw ModbusError.last("modbus_mapping_new") }
        pointer = created
        bitsRange = bits
        inputBitsRange = inputBits
        holdingRange = holding
        inputRange = input
    }

    deinit { modbus_mapping_free(pointer) }

    public func setHolding(_ address: Int, _ word: UInt16) {
        guard holdingRange.contains(address) else { return }
        pointer.pointee.tab_registers[address - holdingRange.lowerBound] = word
    }

    public func holding(_ address: Int) -> UInt16? {
        guard holdingRange.contains(address) else { return nil }
        return pointer.pointee.tab_registers[address - holdingRange.lowerBound]
    }

    public func setInput(_ address: Int, _ word: UInt16) {
        guard inputRange.contains(address) else { return }
        pointer.pointee.tab_input_registers[address - inputRange.lowerBound] = word
    }

    public func input(_ address: Int) -> UInt16? {
        guard inputRange.contains(address) else { return nil }
        return pointer.pointee.tab_input_registers[address - inputRange.lowerBound]
    }

    public func setCoil(_ address: Int, _ value: Bool) {
        guard bitsRange.contains(address) else { return }
        pointer.pointee.tab_bits[address - bitsRange.lowerBound] = value ? 1 : 0
    }

    public func coil(_ address: Int) -> Bool? {
        guard bitsRange.contains(address) else { return nil }
        return pointer.pointee.tab_bits[address - bitsRange.lowerBound] != 0
    }

    public func setDiscrete(_ address: Int, _ value: Bool) {
        guard inputBitsRange.contains(address) else { return }
        pointer.pointee.tab_input_bits[address - inputBitsRange.lowerBound] = value ? 1 : 0
    }
}
