import ControlProtocol

/// `POST /api/heatpumps/{id}/sg-ready`.
struct SGReadyBody: Decodable, Sendable { var state: String }

/// `POST /api/heatpumps/{id}/pv-surplus`: the surplus (and optionally the production) in kW.
struct PVSurplusBody: Decodable, Sendable {
    var kw: Double
    var productionKW: Double?
    enum CodingKeys: String, CodingKey {
        case kw
        case productionKW = "production_kw"
    }
}

/// `POST /api/heatpumps/{id}/jobs`: a scheduled write.
struct JobBody: Decodable, Sendable {
    var register: String
    var value: WriteValue
    /// `daily` (default), `weekdays`, `mon,wed`, `mon-fri`, …
    var days: String?
    /// `HH:MM[:SS]`, the daemon's local time.
    var at: String
}
