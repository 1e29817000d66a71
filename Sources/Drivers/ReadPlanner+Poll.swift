import HPCore

extension ReadPlanner {
    /// The requests one poll of `model` makes: its polled registers (ungrouped ones and those of the
    /// device's selected groups) without `excluded` (quarantined) ones, no read covering `forbidden`
    /// addresses. Polls, `test` and request counts all plan through here.
    public func pollPlan(_ model: ModelDefinition, excluded: Set<Int> = [], forbidden: [RegisterType: Set<Int>] = [:]) -> [ReadRequest] {
        let unpolled = model.unpolled
        return plan(model.registers, excluded: unpolled.isEmpty ? excluded : excluded.union(unpolled), forbidden: forbidden)
    }
}
