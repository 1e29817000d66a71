import ControlProtocol
import Foundation
import HPCore

/// Manufacturers and their models' setup texts, for the add-device wizard.
extension FleetOperations {
    /// Every manufacturer of a known model, by name.
    public func manufacturers() -> [ManufacturerSummary] {
        let byMaker = Dictionary(grouping: control.configuration.models.values) { Self.manufacturerID($0.manufacturer) }
        return byMaker.map { id, models in
            ManufacturerSummary(id: id, name: models.map(\.manufacturer).max() ?? "", models: models.map(\.name).sorted())
        }.sorted { $0.id < $1.id }
    }

    /// The models of manufacturer `id` (its id or name, any case); 404 when no model has that maker.
    public func models(ofManufacturer id: String) throws -> [ModelSummary] {
        let key = Self.manufacturerID(id)
        let models = self.models().models.filter { Self.manufacturerID($0.manufacturer) == key }
        guard !models.isEmpty else { throw CommandError(.notFound, "no manufacturer \(id); see GET /api/manufacturers") }
        return models
    }

    /// The setup text of `model` by manufacturer `id`; 404 for an unknown maker, or a model of another maker.
    public func setup(manufacturer id: String, model name: String) throws -> ModelSetup {
        guard let model = try models(ofManufacturer: id).first(where: { $0.name == name }) else {
            throw CommandError(.notFound, "manufacturer \(id) has no model \(name)")
        }
        return ModelSetup(manufacturer: model.manufacturer, model: model.name, description: model.description, setup: model.setup,
                          templates: model.templates)
    }

    /// `IDM` → `idm`, `Alpha Innotec` → `alpha-innotec`; models without a manufacturer are listed under `other`.
    static func manufacturerID(_ name: String) -> String {
        let words = name.lowercased().split { !($0.isASCII && ($0.isLetter || $0.isNumber)) }
        return words.isEmpty ? "other" : words.joined(separator: "-")
    }
}
