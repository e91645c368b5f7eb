// Public memberwise initialisers for the values readers get back (a Swift struct's own is
// internal; these differ from it in the first label), so a client can build them by hand:
// the dashboard's snapshot-render tests draw frames from records and activity made up in the
// test, with no segment behind them.

extension BalanceRecord {
    public init(_ key: BookKey, state: RecordState, names: [ShortName], slotChangedMicros: [Int64], storedStrategyCount: Int? = nil) {
        self.key = key
        self.state = state
        self.storedStrategyCount = storedStrategyCount ?? state.strategyCount
        self.names = names
        self.slotChangedMicros = slotChangedMicros
    }
}

extension ActivityEntry {
    public init(_ sequence: UInt64, timeMicros: Int64, pid: Int32, operation: Operation?, refusal: RefusalCode?, index: Int?,
                epoch: UInt64, key: BookKey, amount: Amount, detail: Amount, after: Amount) {
        self.sequence = sequence
        self.timeMicros = timeMicros
        self.pid = pid
        self.operation = operation
        self.refusal = refusal
        self.index = index
        self.epoch = epoch
        self.key = key
        self.amount = amount
        self.detail = detail
        self.after = after
    }
}
