/// The parts of a Modbus request the simulator needs for routing and faults.
struct SimRequest {
    var unit: Int
    var function: Int
    var table: SimTable?
    var range: Range<Int>

    /// Parses a PDU starting at `pdu` (the function code byte) with the unit id given.
    init?(unit: Int, bytes: ArraySlice<UInt8>, pduStart: Int) {
        guard bytes.endIndex > pduStart else { return nil }
        self.unit = unit
        function = Int(bytes[pduStart])
        func u16(_ i: Int) -> Int { bytes.endIndex > i + 1 ? Int(bytes[i]) << 8 | Int(bytes[i + 1]) : 0 }
        let address = u16(pduStart + 1)
        let count: Int
        switch function {
        case 1: table = .coil; count = u16(pduStart + 3)
        case 2: table = .discrete; count = u16(pduStart + 3)
        case 3: table = .holding; count = u16(pduStart + 3)
        case 4: table = .input; count = u16(pduStart + 3)
        case 5: table = .coil; count = 1
        case 6: table = .holding; count = 1
        case 15: table = .coil; count = u16(pduStart + 3)
        case 16: table = .holding; count = u16(pduStart + 3)
        default: table = nil; count = 0
        }
        range = address..<(address + max(count, 0))
    }
}
