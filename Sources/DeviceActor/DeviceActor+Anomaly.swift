import Foundation
import HPCore
import Insight

/// The anomaly detector's hooks: learnt state loaded at start, saved every `saveInterval` and when
/// the actor ends (shutdown, reload, restart); each successful poll scored.
extension DeviceActor {
    /// Scores the poll, appends `anomaly_score` to its samples and saves the state when due.
    func observeAnomaly(_ samples: inout [Sample], at time: Double) -> AnomalyVerdict? {
        guard anomaly != nil else { return nil }
        guard let verdict = anomaly?.observe(samples, at: time) else { return nil }
        samples.append(Sample(register: Sample.derivedRegister, name: DerivedSeries.anomalyScore, value: .double(verdict.score)))
        if anomaly?.saveDue(at: time) == true { saveAnomalyModel(at: time) }
        return verdict
    }

    func saveAnomalyModel(at time: Double) {
        guard let store = anomalyStore, let state = anomaly?.encodedState() else { return }
        store.saveAnomalyModel(heatpumpID: runtime.device.id, state: state, at: time)
        anomaly?.markSaved(at: time)
    }

    /// A stored state learnt for other registers, or damaged, is ignored (logged): learning starts afresh.
    func loadAnomalyModel() async {
        guard anomaly != nil, let store = anomalyStore else { return }
        guard let bytes = await store.loadAnomalyModel(heatpumpID: runtime.device.id) else { return }
        do {
            try anomaly?.restore(bytes)
            logger.info("anomaly model restored", metadata: ["bytes": "\(bytes.count)"])
        } catch {
            logger.warning("stored anomaly model ignored; learning afresh", metadata: ["error": "\(error)", "bytes": "\(bytes.count)"])
        }
    }
}
