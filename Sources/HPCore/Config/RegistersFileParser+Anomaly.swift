/// The keys of `derived: anomaly:` that are neither one register nor a plain number.
extension RegistersFileParser {
    static func anomalyKeys(_ section: YAMLMapping, into parsed: inout DerivedSpec.Section) throws {
        if let listNode = section.optional("registers") {
            let names = try listNode.sequence().map { try $0.string() }
            guard !names.isEmpty else { throw listNode.error(.invalidValue, "registers must name at least one register (or leave it out: every numeric read-only gauge)") }
            guard names.count <= AnomalyInputs.maxRegisters else {
                throw listNode.error(.invalidValue, "registers names \(names.count) registers; at most \(AnomalyInputs.maxRegisters)")
            }
            parsed.registers["registers"] = names
        }
        if let node = section.optional("warmup") { parsed.numbers["warmup"] = try node.seconds(within: 0...(90 * 86_400)) }
        if let node = section.optional("max_defrost") { parsed.numbers["max_defrost"] = try node.seconds(within: 1...86_400) }
    }
}
