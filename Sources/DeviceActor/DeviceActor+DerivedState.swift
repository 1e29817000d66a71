import Foundation
import HPCore
import Insight

/// The derived metrics' state across restarts: restored before the first poll when the device's
/// `derived:` configuration is unchanged, saved periodically while polling and when the actor stops.
extension DeviceActor {
    /// Seconds of polling between two saves of the derived state.
    public static let defaultDerivedSaveInterval = 60.0

    func restoreDerivedState() async {
        guard let store = derivedStore, !derived.inputs.isEmpty else { return }
        derivedSavedAt = Date().timeIntervalSince1970
        let id = runtime.device.id
        let stored: StoredDerivedState?
        do {
            stored = try await store.loadDerivedState(heatpumpID: id)
        } catch {
            logger.warning("derived state could not be read; derived counters start over", metadata: ["error": "\(error)"])
            return
        }
        // Re-checked after the await: a poll never runs before this, but keep the rule.
        guard let stored, !derivedUnsaved else { return }
        guard stored.config == derived.inputs.fingerprint else {
            logger.info("derived configuration changed since the saved state; derived counters start over",
                        metadata: ["saved_at": "\(stored.savedAt)"])
            return
        }
        let state: DerivedState
        do {
            state = try JSONDecoder().decode(DerivedState.self, from: Data(stored.state.utf8))
        } catch {
            logger.warning("saved derived state is corrupt; ignored, derived counters start over", metadata: ["error": "\(error)"])
            return
        }
        guard derived.restore(state, now: derivedSavedAt) else {
            logger.warning("saved derived state is implausible (negative, non-finite or another version); ignored, derived counters start over",
                           metadata: ["version": "\(state.version)"])
            return
        }
        logger.debug("derived state restored", metadata: ["saved_at": "\(stored.savedAt)"])
    }

    /// Queues a save when a poll changed the state since the last one (never blocks: the store has an inbox).
    func saveDerivedState(at now: Double) {
        guard let store = derivedStore, derivedUnsaved else { return }
        let data: Data
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]  // stable rows: easy to compare and inspect
            data = try encoder.encode(derived.saved)
        } catch {
            logger.warning("derived state could not be encoded; not saved", metadata: ["error": "\(error)"])
            return
        }
        store.saveDerivedState(StoredDerivedState(heatpumpID: runtime.device.id, config: derived.inputs.fingerprint,
                                                  state: String(decoding: data, as: UTF8.self), savedAt: now))
        derivedSavedAt = now
        derivedUnsaved = false
    }
}
