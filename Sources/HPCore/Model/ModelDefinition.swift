/// A heat-pump model: its registers and model-wide defaults, resolved (`extends` applied).
public struct ModelDefinition: Sendable, Hashable {
    public var name: String
    public var description: String
    public var manufacturer: String
    public var registers: [RegisterDefinition]
    /// Where the model was defined (`builtin` or a file path), for messages.
    public var source: String
    /// SG Ready / PV surplus mapped onto registers (`operations:`); empty when the vendor has none.
    public var operations = ModelOperations()

    public init(name: String, description: String = "", manufacturer: String = "",
                registers: [RegisterDefinition], source: String = "builtin") {
        self.name = name
        self.description = description
        self.manufacturer = manufacturer
        self.registers = registers
        self.source = source
    }
}
