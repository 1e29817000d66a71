extension ModbusClient {
    /// Executes one transport-independent request with libmodbus (used for serial buses).
    public func perform(_ request: ModbusRequest) throws(ModbusError) -> ModbusReply {
        try request.validate()
        do {
            switch request {
            case .readHoldingRegisters(let a, let n), .readInputRegisters(let a, let n):
                var words: [UInt16] = []
                if case .readInputRegisters = request {
                    try readRegisters(input: true, address: a, count: n, into: &words)
                } else {
                    try readRegisters(input: false, address: a, count: n, into: &words)
                }
                return .registers(words)
            case .readCoils(let a, let n):
                return .bits(try readBits(discrete: false, address: a, count: n))
            case .readDiscreteInputs(let a, let n):
                return .bits(try readBits(discrete: true, address: a, count: n))
            case .writeSingleCoil(let a, let value):
                try writeBit(address: a, value: value)
            case .writeSingleRegister(let a, let value):
                try writeRegisters(address: a, words: [value], forceMultiple: false)
            case .writeMultipleRegisters(let a, let values):
                try writeRegisters(address: a, words: values, forceMultiple: true)
            }
            return .written
        } catch let error as ModbusError {
            throw error
        } catch {
            throw ModbusError(operation: request.operation, code: -1, message: "\(error)")
        }
    }
}
