/// A register as written in a registers file, before model defaults are applied.
struct RegisterSpec {
    var definition: RegisterDefinition
    /// Nil when the register did not set its own byte order (the model's applies).
    var byteOrder: ByteOrder?
    var writeByteOrder: ByteOrder?
    var unavailable: [Int64]?
    /// Line of each `bitmap_fields` entry by bit name, so errors point at the entry.
    var bitmapFieldLines: [String: Int] = [:]
    /// Line of each key of the register's mapping, so errors point at the offending key.
    var keyLines: [String: Int] = [:]
    /// `stride:` of a template register (nil: the template's).
    var stride: Int?
    /// `instances:` of a template register present in only some instances (nil: all).
    var instances: [String]? = nil
    /// Line of `group:`, so an undeclared group points at it (0: no group).
    var groupLine = 0
    var file: String
    var line: Int
    var path: String
}

/// A model as written in a registers file, before `extends` is resolved.
struct ModelSpec {
    var name: String
    var description: String?
    var manufacturer: String?
    var byteOrder: ByteOrder?
    var writeByteOrder: ByteOrder?
    var addressOffset: Int
    var extends: String?
    var unavailable: [Int64]?
    var writeMultiple: Bool?
    /// `max_gap:` / `max_registers_per_request:` the controller needs; nil: inherited or the collector's.
    var maxGap: Int?
    var maxRegistersPerRequest: Int?
    var registers: [RegisterSpec]
    var templates: [TemplateSpec] = []
    /// `groups:` as written, in file order; nil: none (or inherited).
    var groups: [RegisterGroup]?
    var setup: String?
    /// `operations:` with the line of each operation, so a bad reference points at it.
    var operations: ModelOperations?
    var operationLines: [String: Int] = [:]
    /// `detect:` registers read to recognise the model (`hpmanagerctl detect`); nil: inherited.
    var detect: [String]?
    var detectLine = 0
    /// `derived:` as written (register names, factors not yet known); nil: inherited.
    var derived: DerivedSpec?
    var file: String
    var line: Int
}

/// A `templates:` entry of a model as written, before model defaults are applied.
struct TemplateSpec {
    var key: String
    var label: String
    var instances: [String]
    var defaults: [String]?
    var stride: Int
    var registers: [RegisterSpec]
    var children: [TemplateSpec]
    var file: String
    var line: Int
    var path: String
}
