/// Vendor-neutral operations a model maps onto its registers (`operations:` in a model): SG Ready
/// and PV surplus, so `hpmanagerctl sg-ready ID boost` means the same on every vendor that has it.
public struct ModelOperations: Sendable, Hashable {
    public var sgReady: SGReadyOperation?
    public var pvSurplus: PVSurplusOperation?

    public init(sgReady: SGReadyOperation? = nil, pvSurplus: PVSurplusOperation? = nil) {
        self.sgReady = sgReady
        self.pvSurplus = pvSurplus
    }

    public var isEmpty: Bool { sgReady == nil && pvSurplus == nil }
}
