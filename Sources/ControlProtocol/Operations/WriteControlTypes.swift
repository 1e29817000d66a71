/// `sg-ready`: one of the vendor's SG Ready states (`boost`, `normal`, `off`, `recommend`, `lock`).
public struct SGReadyRequest: Sendable, Codable, Hashable {
    public var id: String
    public var state: String
    public var client: String?
    public init(id: String, state: String, client: String? = nil) {
        self.id = id
        self.state = state
        self.client = client
    }
}

public struct SGReadyResponse: Sendable, Codable, Hashable {
    public var id: String
    public var state: String
    public var writes: [WriteResponse]
    public init(id: String, state: String, writes: [WriteResponse]) {
        self.id = id
        self.state = state
        self.writes = writes
    }
}

/// `pv-surplus`: the PV surplus (and optionally the production) in kW.
public struct PVSurplusRequest: Sendable, Codable, Hashable {
    public var id: String
    public var kw: Double
    public var productionKW: Double?
    public var client: String?
    public init(id: String, kw: Double, productionKW: Double? = nil, client: String? = nil) {
        self.id = id
        self.kw = kw
        self.productionKW = productionKW
        self.client = client
    }
    enum CodingKeys: String, CodingKey {
        case id, kw, client
        case productionKW = "production_kw"
    }
}

public struct PVSurplusResponse: Sendable, Codable, Hashable {
    public var id: String
    public var kw: Double
    public var writes: [WriteResponse]
    public init(id: String, kw: Double, writes: [WriteResponse]) {
        self.id = id
        self.kw = kw
        self.writes = writes
    }
}

/// `wanted`: the cyclic values being re-sent, optionally of one heat pump.
public struct WantedRequest: Sendable, Codable, Hashable {
    public var id: String?
    public init(id: String? = nil) { self.id = id }
}

public struct WantedValue: Sendable, Codable, Hashable {
    public var heatpumpID: String
    public var register: String
    public var value: String
    public var refreshInterval: Double
    public var nextRefresh: Double
    public var client: String
    public init(heatpumpID: String, register: String, value: String, refreshInterval: Double, nextRefresh: Double, client: String) {
        self.heatpumpID = heatpumpID
        self.register = register
        self.value = value
        self.refreshInterval = refreshInterval
        self.nextRefresh = nextRefresh
        self.client = client
    }
    enum CodingKeys: String, CodingKey {
        case register, value, client
        case heatpumpID = "heatpump_id"
        case refreshInterval = "refresh_interval"
        case nextRefresh = "next_refresh"
    }
}

public struct WantedResponse: Sendable, Codable, Hashable {
    public var wanted: [WantedValue]
    public init(wanted: [WantedValue]) { self.wanted = wanted }
}

/// `jobs`: `action` list (default), add or remove scheduled writes.
public struct JobsRequest: Sendable, Codable, Hashable {
    public var action: String?
    public var id: String?
    public var register: String?
    public var value: WriteValue?
    /// `daily`, `weekdays`, `mon,wed`, `mon-fri`, … (default daily).
    public var days: String?
    /// `HH:MM[:SS]` in the daemon's local time.
    public var at: String?
    /// The job number, for remove (a JSON number; a fraction is refused by the operation).
    public var job: Double?
    public var client: String?
    public init(action: String? = nil, id: String? = nil, register: String? = nil, value: WriteValue? = nil, days: String? = nil,
                at: String? = nil, job: Double? = nil, client: String? = nil) {
        self.action = action
        self.id = id
        self.register = register
        self.value = value
        self.days = days
        self.at = at
        self.job = job
        self.client = client
    }
}

public struct JobRecord: Sendable, Codable, Hashable {
    public var job: Int64
    public var heatpumpID: String
    public var register: String
    public var value: String
    public var days: String
    public var at: String
    public var nextRun: Double?
    public var lastRun: Double?
    public var client: String
    public init(job: Int64, heatpumpID: String, register: String, value: String, days: String, at: String, nextRun: Double?,
                lastRun: Double?, client: String) {
        self.job = job
        self.heatpumpID = heatpumpID
        self.register = register
        self.value = value
        self.days = days
        self.at = at
        self.nextRun = nextRun
        self.lastRun = lastRun
        self.client = client
    }
    enum CodingKeys: String, CodingKey {
        case job, register, value, days, at, client
        case heatpumpID = "heatpump_id"
        case nextRun = "next_run"
        case lastRun = "last_run"
    }
}

public struct JobsResponse: Sendable, Codable, Hashable {
    public var jobs: [JobRecord]
    public init(jobs: [JobRecord]) { self.jobs = jobs }
}

public struct JobRemovedResponse: Sendable, Codable, Hashable {
    public var removed: Int64
    public init(removed: Int64) { self.removed = removed }
}
