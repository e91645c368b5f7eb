// What can be wrong with a record a reader sees (SPEC §4 "Operators type money": `check` flags every
// broken thing a reader can see). One list, used by `check`, the dashboard, `snapshot save` (which
// leaves out what `snapshot restore` would refuse, and says so) and `snapshot restore` itself, so the
// four never disagree.

/// One thing wrong with a record.
public enum RecordProblem: Sendable, Equatable, CustomStringConvertible {
    /// The stored strategy count is outside 2…64 (the record is read with it clamped).
    case strategyCountOutOfRange(stored: Int)
    /// A slot (or, for nil, the credit limit) holds more than the largest storable amount.
    case amountOutOfRange(slot: Int?, amount: Amount)
    /// total ≠ pool + budgets, by `difference`.
    case identityBroken(difference: Amount)
    /// A sub-strategy budget below 0.
    case negativeBudget(slot: Int, amount: Amount)
    case negativeCredit(Amount)
    /// pool + credit < 0: the books are broken and need a reconcile or a reset.
    case negativeHeadroom(Amount)
    /// A slot's open holds keep more than its budget, or a negative amount (SPEC §9: 0 ≤ held ≤ budget).
    case heldOutOfRange(slot: Int, held: Amount, budget: Amount)
    /// Holds whose ttl has passed and that no writer has voided yet (the record's next writer
    /// will). A notice, not damage: the books are right, the money is kept for orders that are gone.
    case expiredHolds(slot: Int, count: Int)
    /// Fenced by its host's agent (SPEC §10): the agent has not reached the ledger within the
    /// lease's time-to-live, so allocate is refused here until it does. A notice: the books are right.
    case fenced

    public var description: String {
        switch self {
        case .strategyCountOutOfRange(let n): return "strategy count \(n) is outside 2…64 (reset the record to repair it)"
        case .amountOutOfRange(let slot, let a):
            return "\(slot.map { "slot #\($0)" } ?? "the credit limit") holds \(a.raw > 0 ? "" : "-")more than the largest storable amount (10^18 whole units)"
        case .identityBroken(let d): return "identity broken: total differs from pool + budgets by \(d.raw > 0 ? "+" : "")\(d)"
        case .negativeBudget(let slot, let a): return "sub-strategy #\(slot) has a negative budget \(a)"
        case .negativeCredit(let a): return "the credit limit \(a) is negative"
        case .negativeHeadroom(let h): return "headroom \(h) is negative (pool + credit): reconcile or reset"
        case .heldOutOfRange(let slot, let held, let budget):
            return held.raw < 0 ? "sub-strategy #\(slot) holds a negative amount \(held)"
                                : "sub-strategy #\(slot) holds \(held) in open orders, more than its budget \(budget)"
        case .expiredHolds(let slot, let n):
            return "sub-strategy #\(slot) has \(n) expired hold\(n == 1 ? "" : "s") not yet voided (the record's next writer voids \(n == 1 ? "it" : "them"))"
        case .fenced: return "fenced: this host's agent has lost the ledger, allocate is refused until it reconnects"
        }
    }

    /// A notice leaves the books healthy (`check` reports it and still exits 0); every other
    /// problem makes the record broken.
    public var isNotice: Bool {
        switch self {
        case .expiredHolds, .fenced: return true
        default: return false
        }
    }

    /// Whether a snapshot may carry a record with this problem. A negative headroom is a state the
    /// books can legitimately be in (an operator repairs it with reconcile); the others are damage,
    /// which restore refuses rather than spread.
    public var isRestorable: Bool {
        switch self {
        case .negativeHeadroom, .fenced: return true
        default: return false
        }
    }
}

extension RecordState {
    /// Everything wrong with this state, given the strategy count as stored (this state's own count
    /// may be that count clamped into 2…64). Empty for healthy books.
    public func problems(storedCount: Int) -> [RecordProblem] {
        var out: [RecordProblem] = []
        if storedCount != strategyCount || storedCount < Layout.minStrategyCount || storedCount > Layout.slotCount {
            out.append(.strategyCountOutOfRange(stored: storedCount))
        }
        let count = min(max(strategyCount, Layout.minStrategyCount), Layout.slotCount)
        var inRange = creditLimit.isStorable
        if !creditLimit.isStorable { out.append(.amountOutOfRange(slot: nil, amount: creditLimit)) }
        for i in 0..<count where !slots[i].isStorable {
            out.append(.amountOutOfRange(slot: i, amount: slots[i]))
            inRange = false
        }
        // With every amount in range the sums below cannot wrap (64 × 10^36 < 2^127).
        if inRange && !identityHolds { out.append(.identityBroken(difference: identityDifference)) }
        for i in 2..<count where slots[i].raw < 0 { out.append(.negativeBudget(slot: i, amount: slots[i])) }
        if creditLimit.raw < 0 { out.append(.negativeCredit(creditLimit)) }
        if inRange && headroom.raw < 0 { out.append(.negativeHeadroom(headroom)) }
        if fenced { out.append(.fenced) }
        return out
    }
}

extension RecordProblem {
    /// What is wrong with a record's holds, from the held sums of the same copy as `budgets` and the
    /// number of expired holds per slot (both per meaningful slot).
    static func holdProblems(budgets: [Amount], held: [Amount], expired: [Int]) -> [RecordProblem] {
        var out: [RecordProblem] = []
        for i in 2..<max(2, min(budgets.count, held.count)) where held[i].raw < 0 || held[i].raw > budgets[i].raw {
            out.append(.heldOutOfRange(slot: i, held: held[i], budget: budgets[i]))
        }
        for (i, n) in expired.enumerated() where n > 0 { out.append(.expiredHolds(slot: i, count: n)) }
        return out
    }
}
