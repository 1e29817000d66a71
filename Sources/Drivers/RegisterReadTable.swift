import HPCore

/// What the poll loop needs of each register of a model, flat: built once when a device starts, so
/// decoding a response never copies a `RegisterDefinition` (a large struct whose copies, with a
/// retain and release per string and collection in it, showed as ~5 % of the poll's CPU).
///
/// Only plain numeric registers are decoded from the table alone; those with enum labels, bitmaps,
/// named bits, a single `bit`, "not available" sentinels or text go through the full definition.
public struct RegisterReadTable: Sendable {
    public struct Entry: Sendable {
        public var address: Int
        /// Registers (or bits) the value spans.
        public var count: Int
        public var dataType: DataType
        public var byteOrder: ByteOrder
        public var scale: Double
        public var offset: Double
        /// Decoded from these facts alone (see the type's comment).
        public var plain: Bool
        public var name: String
    }

    public let entries: [Entry]

    public init(_ registers: [RegisterDefinition]) {
        entries = registers.map { r in
            Entry(address: r.address, count: r.count, dataType: r.dataType, byteOrder: r.byteOrder, scale: r.scale, offset: r.offset,
                  plain: Self.isPlain(r), name: r.name)
        }
    }

    public var count: Int { entries.count }

    static func isPlain(_ r: RegisterDefinition) -> Bool {
        r.dataType != .string && r.bit == nil && r.unavailable.isEmpty && r.bitmapFields.isEmpty && r.enumValues.isEmpty && !r.isBitmap
    }
}
