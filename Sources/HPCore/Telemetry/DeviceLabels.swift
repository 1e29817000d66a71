/// The identity labels every output carries for a device.
public struct DeviceLabels: Sendable, Hashable {
    public var id: String
    public var name: String
    public var location: String
    public var model: String
    public var manufacturer: String

    public init(id: String, name: String, location: String, model: String, manufacturer: String) {
        self.id = id
        self.name = name
        self.location = location
        self.model = model
        self.manufacturer = manufacturer
    }
}
