/// A named set of registers a device polls only when its `config: {groups: [...]}` selects it
/// (model `groups: {name: "description"}`, register `group: name`). Registers without a group are
/// always polled; grouped ones stay part of the model (read and written by name on demand).
public struct RegisterGroup: Sendable, Hashable {
    /// The device `config:` key that selects groups.
    public static let configKey = "groups"
    /// Selects every group of the model.
    public static let all = "all"

    public var name: String
    public var description: String

    public init(name: String, description: String) {
        self.name = name
        self.description = description
    }
}
