import ShmBalance
import ShmBalanceJSON

extension BalanceRecord {
    /// The `get --json` object (SPEC §6 names its required fields).
    var json: JSON {
        .object([
            ("exchange", .string(key.exchange.description)),
            ("currency", .string(key.currency.description)),
            ("strategyCount", .int(Int64(strategyCount))),
            ("slots", .array(slots.map(JSON.amount))),
            ("names", .array(names.map { .string($0.description) })),
            ("creditLimit", .amount(creditLimit)),
            ("pool", .amount(state.pool)),
            ("allocated", .amount(state.allocated)),
            ("headroom", .amount(headroom)),
            ("identityHolds", .bool(identityHolds)),
            ("fenced", .bool(state.fenced)),
            ("identityDifference", .amount(state.identityDifference)),
            ("epoch", .int(Int64(bitPattern: epoch))),
            ("opCount", .int(Int64(bitPattern: state.opCount))),
            ("lastChangeMicros", .int(state.lastChangeMicros)),
            ("lastChangePid", .int(Int64(state.lastChangePid))),
            // Layout 3 (SPEC §9): per meaningful slot like `slots`, from the same read.
            ("held", .array(held.map(JSON.amount))),
            ("free", .array(free.map(JSON.amount))),
            ("holdCount", .array(holdCounts.map { .int(Int64($0)) })),
            ("opIdWindow", .int(Int64(opIdWindow))),
            ("opIdsRemembered", .int(Int64(opIdsRemembered))),
        ])
    }
}
