import Atomics
import CShmBalanceSys

// The operations of SPEC §3. Only `allocate` checks the headroom; `set`, `adjust` and `release`
// record what happened to the account and keep the identity by rebalancing through the pool.

extension Books {
    // MARK: - Hot path: allocate / release, written out by hand (no full-state copy, no closure).
    //
    // What keeps them near hand-written C (`Benchmarks/`): refusals are built out of line
    // (`refusePair`), so the fast path keeps its registers and a small frame; the commit copies
    // only what the previous allocate/release changed (`State.pairMark`); the clock and the pid
    // are inline C (no calls); nothing allocates, retains or takes a closure.

    /// Moves `amount` from the pool to sub-strategy `index`. Refused unless 2 ≤ index < count,
    /// amount > 0 and pool − amount + credit ≥ 0.
    @inlinable @inline(__always)
    public func allocate(_ rec: RecordRef, index: Int, _ amount: Amount) throws(BooksError) {
        let (g, cur, w0) = try beginPair(rec, .allocate, index: index, amount)
        let pool = cur.loadAmount(Layout.State.slots + 16).raw
        let headroom = pool &+ cur.loadAmount(Layout.State.creditLimit).raw
        guard amount.raw <= headroom else {
            throw refusePair(rec, .insufficientHeadroom, .allocate, index: index, amount: amount, detail: headroom)
        }
        let slot = cur.loadAmount(Layout.State.slots &+ 16 &* index).raw &+ amount.raw
        guard slot <= Amount.limit else {
            throw refusePair(rec, .overflow, .allocate, index: index, amount: amount, detail: 0)
        }
        commitPair(rec, g, cur, w0: w0, index: index, pool: pool &- amount.raw, slot: slot, operation: .allocate, amount: amount)
    }

    /// Moves `amount` from sub-strategy `index` back to the pool. Refused unless 2 ≤ index < count,
    /// amount > 0 and amount ≤ the budget.
    @inlinable @inline(__always)
    public func release(_ rec: RecordRef, index: Int, _ amount: Amount) throws(BooksError) {
        let (g, cur, w0) = try beginPair(rec, .release, index: index, amount)
        let budget = cur.loadAmount(Layout.State.slots &+ 16 &* index).raw
        guard amount.raw <= budget else {
            throw refusePair(rec, .exceedsBudget, .release, index: index, amount: amount, detail: budget)
        }
        let pool = cur.loadAmount(Layout.State.slots + 16).raw &+ amount.raw
        guard pool <= Amount.limit else {
            throw refusePair(rec, .overflow, .release, index: index, amount: amount, detail: 0)
        }
        commitPair(rec, g, cur, w0: w0, index: index, pool: pool, slot: budget &- amount.raw, operation: .release, amount: amount)
    }

    /// The start both allocate and release share: lock the record, find its published state, and
    /// refuse a slot that is not a sub-strategy or an amount that is not above 0.
    @inlinable @inline(__always)
    func beginPair(_ rec: RecordRef, _ operation: Operation, index: Int, _ amount: Amount) throws(BooksError)
        -> (generation: UInt64, published: UnsafeMutableRawPointer, w0: UInt64) {
        try requireWritable()
        try lock(rec)
        let g = rec.p.loadRelaxed(Layout.Record.generation)
        let cur = rec.state(g)
        let w0 = cur.loadRelaxed(Layout.State.strategyCount)
        let count = Int(truncatingIfNeeded: w0 & 0xFFFF_FFFF)
        // 2 ≤ count ≤ 64 and 2 ≤ index < count, as two unsigned comparisons.
        guard UInt(bitPattern: count &- 2) <= UInt(Layout.slotCount - 2) && UInt(bitPattern: index &- 2) < UInt(bitPattern: count &- 2) else {
            throw refusePair(rec, .notASubStrategy, operation, index: index, amount: amount, detail: Int128(count))
        }
        guard amount.raw > 0 else {
            throw refusePair(rec, .nonPositiveAmount, operation, index: index, amount: amount, detail: 0)
        }
        return (g, cur, w0)
    }

    /// Unlocks and records a refusal of allocate/release; kept out of line so the fast path stays small.
    @usableFromInline @inline(never)
    func refusePair(_ rec: RecordRef, _ code: RefusalCode, _ operation: Operation, index: Int, amount: Amount, detail: Int128) -> BooksError {
        refuse(rec, Refusal(code, operation, rec.key, index: index, amount: amount, detail: Amount(raw: detail)))
    }

    /// Publishes a state equal to the current one but for the pool and slot `index`; then logs and unlocks.
    ///
    /// The unpublished copy already holds the state published before the current one. When an
    /// allocate/release published the current one (its `pairMark` says so, for this generation),
    /// the two differ only in the pool, slot `lastIndex` and the stamp, so copying that one slot
    /// makes the copies equal; otherwise the state is copied in full. A holder that died while
    /// writing the unpublished copy is handled before this runs: the next owner refreshes that
    /// copy in full on EOWNERDEAD (`lockFailed`), so a half-written copy is never trusted.
    @inlinable @inline(__always)
    func commitPair(_ rec: RecordRef, _ g: UInt64, _ cur: UnsafeMutableRawPointer, w0: UInt64, index: Int,
                    pool: Int128, slot: Int128, operation: Operation, amount: Amount) {
        let now = shmbal_now_micros()
        let next = rec.state(g &+ 1)
        let count = Int(truncatingIfNeeded: w0 & 0xFFFF_FFFF)
        // Release fence: a reader that sees any of the stores below also sees a generation ≥ g
        // when it re-checks, so it discards the copy (see `RecordRef.read`).
        atomicMemoryFence(ordering: .releasing)
        faultPoint(.lockedBeforeWrite)
        if cur.loadRelaxed(Layout.State.pairMark) == Layout.pairMark(g) {
            let last = Layout.State.slots &+ 16 &* Int(truncatingIfNeeded: (w0 >> 32) & 63)
            next.storeRelaxed(cur.loadRelaxed(last), last)
            next.storeRelaxed(cur.loadRelaxed(last &+ 8), last &+ 8)
        } else {
            copyState(from: cur, to: next, slots: count)
        }
        next.storeAmount(Amount(raw: pool), Layout.State.slots + 16)
        next.storeAmount(Amount(raw: slot), Layout.State.slots &+ 16 &* index)
        stampState(next, count: count, index: index, opCount: cur.loadRelaxed(Layout.State.opCount), now: now)
        next.storeRelaxed(Layout.pairMark(g &+ 1), Layout.State.pairMark)
        faultPoint(.writtenBeforePublish)
        // The commit: one release store. Before it the operation never happened; after it, it did.
        rec.p.storeReleasing(g &+ 1, Layout.Record.generation)
        faultPoint(.publishedBeforeUnlock)
        appendActivity(operation, rec.key, index: index, outcome: 0, epoch: cur.loadRelaxed(Layout.State.epoch),
                       amount: amount, detail: Amount(raw: 0), after: Amount(raw: slot), now: now)
        rec.p.storeRelaxed(UInt64(bitPattern: now), Layout.Record.slotChangedMicros + 8)
        rec.p.storeRelaxed(UInt64(bitPattern: now), Layout.Record.slotChangedMicros &+ 8 &* index)
        unlock(rec)
    }

    // MARK: - By key (one lookup, then the same code).

    /// The record for `key`, or a `noRecord` refusal (recorded) naming the operation.
    @inlinable
    public func existing(_ key: BookKey, for operation: Operation, index: Int = 0, amount: Amount = .zero) throws(BooksError) -> RecordRef {
        if let r = record(key) { return r }
        let refusal = Refusal(.noRecord, operation, key, index: index, amount: amount)
        if operation != .get { recordRefusal(refusal) }
        throw .refused(refusal)
    }

    @inlinable
    public func allocate(_ key: BookKey, index: Int, _ amount: Amount) throws(BooksError) {
        try allocate(try existing(key, for: .allocate, index: index, amount: amount), index: index, amount)
    }

    @inlinable
    public func release(_ key: BookKey, index: Int, _ amount: Amount) throws(BooksError) {
        try release(try existing(key, for: .release, index: index, amount: amount), index: index, amount)
    }

    // MARK: - reset, set, adjust

    /// total = pool = balance, every sub-strategy 0, epoch + 1. Creates the record if missing
    /// (with `strategyCount`, else 8). Without a count an existing record keeps its count, credit and names.
    public func reset(_ key: BookKey, balance: Amount, strategyCount: Int? = nil) throws(BooksError) {
        try requireWritable()
        if let c = strategyCount, c < Layout.minStrategyCount || c > Layout.slotCount {
            let r = Refusal(.badCount, .reset, key, index: -1, amount: balance, detail: Amount(raw: Int128(c)))
            recordRefusal(r)
            throw .refused(r)
        }
        guard balance.isStorable else { throw refuseNoLock(Refusal(.overflow, .reset, key, index: -1, amount: balance)) }
        let (rec, _) = try findOrCreate(key, NewRecord(strategyCount: strategyCount ?? Layout.defaultStrategyCount), operation: .reset)
        _ = try mutate(rec, .reset, index: -1, amount: balance) { (s) throws(Refusal) -> Change in
            Books.applyReset(&s, balance: balance, strategyCount: strategyCount)
            return Change(index: -1, detail: Amount(raw: Int128(s.strategyCount)), after: balance)
        }
    }

    @usableFromInline
    static func applyReset(_ s: inout RecordState, balance: Amount, strategyCount: Int?) {
        if let c = strategyCount { s.strategyCount = c }
        for i in 0..<64 { s.slots[i] = .zero }
        s.slots[0] = balance
        s.slots[1] = balance
        s.epoch &+= 1
    }

    @usableFromInline
    func refuseNoLock(_ r: Refusal) -> BooksError {
        recordRefusal(r)
        return .refused(r)
    }

    /// slot[index] = amount, then rebalance: a change of the total or a budget is absorbed by the
    /// pool; a change of the pool moves the total with it.
    public func set(_ key: BookKey, _ amount: Amount, index: Int = 0) throws(BooksError) {
        let rec = try existing(key, for: .set, index: index, amount: amount)
        _ = try mutate(rec, .set, index: index, amount: amount) { (s) throws(Refusal) -> Change in
            guard index >= 0 && index < s.strategyCount else {
                throw Refusal(.indexOutOfRange, .set, key, index: index, amount: amount, detail: Amount(raw: Int128(s.strategyCount)))
            }
            if index >= 2 && amount.raw < 0 {
                throw Refusal(.negativeBudget, .set, key, index: index, amount: amount, detail: s.slots[index])
            }
            guard amount.isStorable else { throw Refusal(.overflow, .set, key, index: index, amount: amount) }
            let delta = Amount(raw: amount.raw &- s.slots[index].raw)
            try Books.rebalance(&s, index: index, delta: delta, operation: .set, key: key, asked: amount)
            return Change(index: index, detail: delta, after: s.slots[index])
        }
    }

    /// slot[index] += delta, then rebalance as `set` does.
    public func adjust(_ key: BookKey, _ delta: Amount, index: Int = 0) throws(BooksError) {
        let rec = try existing(key, for: .adjust, index: index, amount: delta)
        _ = try mutate(rec, .adjust, index: index, amount: delta) { (s) throws(Refusal) -> Change in
            guard index >= 0 && index < s.strategyCount else {
                throw Refusal(.indexOutOfRange, .adjust, key, index: index, amount: delta, detail: Amount(raw: Int128(s.strategyCount)))
            }
            guard delta.isStorable else { throw Refusal(.overflow, .adjust, key, index: index, amount: delta) }
            if index >= 2 && s.slots[index].raw &+ delta.raw < 0 {
                throw Refusal(.negativeBudget, .adjust, key, index: index, amount: delta, detail: s.slots[index])
            }
            try Books.rebalance(&s, index: index, delta: delta, operation: .adjust, key: key, asked: delta)
            return Change(index: index, detail: delta, after: s.slots[index])
        }
    }

    /// Applies `delta` to slot `index` and keeps the identity (SPEC §3 "Rebalance").
    @usableFromInline
    static func rebalance(_ s: inout RecordState, index: Int, delta: Amount, operation: Operation, key: BookKey, asked: Amount) throws(Refusal) {
        let overflow = Refusal(.overflow, operation, key, index: index, amount: asked)
        if index <= 1 {
            // Money paid into or out of the account: total and pool move together.
            guard let total = s.slots[0].adding(delta), let pool = s.slots[1].adding(delta) else { throw overflow }
            s.slots[0] = total
            s.slots[1] = pool
        } else {
            // A budget changed: the pool absorbs it.
            guard let budget = s.slots[index].adding(delta), let pool = s.slots[1].subtracting(delta) else { throw overflow }
            s.slots[index] = budget
            s.slots[1] = pool
        }
    }

    // MARK: - reconcile

    /// Brings the local total to the exchange's figure as one atomic step (SPEC §3 "recovery").
    public func reconcile(_ key: BookKey, exchangeBalance: Amount) throws(BooksError) -> ReconcileOutcome {
        try requireWritable()
        guard exchangeBalance.isStorable else {
            throw refuseNoLock(Refusal(.overflow, .reconcile, key, index: -1, amount: exchangeBalance))
        }
        let (rec, created) = try findOrCreate(key, NewRecord(), operation: .reconcile)
        var outcome = ReconcileOutcome.inSync
        _ = try mutate(rec, .reconcile, index: -1, amount: exchangeBalance) { (s) throws(Refusal) -> Change in
            let delta = Amount(raw: exchangeBalance.raw &- s.slots[0].raw)
            if created {
                Books.applyReset(&s, balance: exchangeBalance, strategyCount: nil)
                outcome = .created(balance: exchangeBalance)
                return Change(index: ReconcileOutcome.Kind.reset.rawValue, detail: delta, after: exchangeBalance)
            }
            if delta.raw == 0 {
                outcome = .inSync
                return Change(index: ReconcileOutcome.Kind.inSync.rawValue, detail: .zero, after: s.slots[0], commit: false)
            }
            let pool = s.slots[1].adding(delta)
            if let pool, pool.raw &+ s.creditLimit.raw >= 0 {
                s.slots[0] = exchangeBalance
                s.slots[1] = pool
                outcome = .repaired(delta: delta, pool: pool)
                return Change(index: ReconcileOutcome.Kind.repaired.rawValue, detail: delta, after: exchangeBalance)
            }
            var dropped: [DroppedBudget] = []
            for i in 2..<s.strategyCount where s.slots[i].raw != 0 {
                dropped.append(DroppedBudget(index: i, amount: s.slots[i]))
            }
            let unrepairedPool = pool ?? Amount(raw: s.slots[1].raw &+ delta.raw)
            Books.applyReset(&s, balance: exchangeBalance, strategyCount: nil)
            outcome = .reset(delta: delta, unrepairedPool: unrepairedPool, dropped: dropped)
            return Change(index: ReconcileOutcome.Kind.reset.rawValue, detail: delta, after: exchangeBalance)
        }
        return outcome
    }

    // MARK: - metadata

    /// Sets the credit limit (≥ 0): what `allocate` may lend beyond the pool.
    public func setCreditLimit(_ key: BookKey, _ credit: Amount) throws(BooksError) {
        let rec = try existing(key, for: .setCreditLimit, amount: credit)
        _ = try mutate(rec, .setCreditLimit, index: -1, amount: credit) { (s) throws(Refusal) -> Change in
            guard credit.raw >= 0 else { throw Refusal(.negativeCredit, .setCreditLimit, key, index: -1, amount: credit) }
            guard credit.isStorable else { throw Refusal(.overflow, .setCreditLimit, key, index: -1, amount: credit) }
            let old = s.creditLimit
            s.creditLimit = credit
            return Change(index: -1, detail: old, after: credit)
        }
    }

    /// Sets the number of meaningful slots: it may grow any time, and shrink only over zero slots.
    public func setStrategyCount(_ key: BookKey, _ count: Int) throws(BooksError) {
        let rec = try existing(key, for: .setStrategyCount, amount: Amount(raw: Int128(count)))
        _ = try mutate(rec, .setStrategyCount, index: -1, amount: Amount(raw: Int128(count))) { (s) throws(Refusal) -> Change in
            try Books.applyCount(&s, count, key: key, operation: .setStrategyCount)
            return Change(index: -1, detail: Amount(raw: Int128(count)))
        }
    }

    @usableFromInline
    static func applyCount(_ s: inout RecordState, _ count: Int, key: BookKey, operation: Operation) throws(Refusal) {
        guard count >= Layout.minStrategyCount && count <= Layout.slotCount else {
            throw Refusal(.badCount, operation, key, index: -1, amount: Amount(raw: Int128(count)), detail: Amount(raw: Int128(count)))
        }
        for i in count..<max(count, s.strategyCount) where s.slots[i].raw != 0 {
            throw Refusal(.shrinkOverNonZero, operation, key, index: i, amount: s.slots[i], detail: Amount(raw: Int128(count)))
        }
        s.strategyCount = count
    }

    /// Names slot `index` (printable ASCII, up to 15 characters; empty clears it).
    public func setName(_ key: BookKey, index: Int, _ name: ShortName) throws(BooksError) {
        let rec = try existing(key, for: .setName, index: index)
        try requireWritable()
        try lock(rec)
        let count: Int
        do { count = try lockedState(rec, generation: rec.p.loadRelaxed(Layout.Record.generation)).strategyCount } catch {
            unlock(rec)
            throw error
        }
        guard index >= 0 && index < count else {
            throw refuse(rec, Refusal(.indexOutOfRange, .setName, key, index: index, amount: .zero, detail: Amount(raw: Int128(count))))
        }
        writeNames(rec) { $0[index] = name }
        appendActivity(.setName, key, index: index, outcome: 0, epoch: 0, amount: .zero, detail: .zero, after: .zero,
                       now: shmbal_now_micros())
        unlock(rec)
    }

    /// Publishes a changed copy of the names (caller holds the record's lock).
    func writeNames(_ rec: RecordRef, _ change: (inout [ShortName]) -> Void) {
        let g = rec.p.loadRelaxed(Layout.Record.namesGeneration)
        let cur = Layout.Record.names + Int(g & 1) * Layout.Record.namesSize
        let next = Layout.Record.names + Int((g + 1) & 1) * Layout.Record.namesSize
        var names = (0..<64).map { rec.p.loadName(cur + 16 * $0) }
        change(&names)
        atomicMemoryFence(ordering: .releasing)
        for (i, n) in names.enumerated() { rec.p.storeName(n, next + 16 * i) }
        rec.p.storeReleasing(g + 1, Layout.Record.namesGeneration)
    }

    // MARK: - reads

    /// A consistent copy of the whole record: state, names and when each slot last changed.
    public func get(_ key: BookKey) throws(BooksError) -> BalanceRecord {
        try get(try existing(key, for: .get))
    }

    public func get(_ rec: RecordRef) throws(BooksError) -> BalanceRecord {
        var state = RecordState()
        try rec.read(into: &state)
        let names = try rec.readNames()
        return BalanceRecord(key: rec.key, state: state, names: Array(names[0..<state.strategyCount]),
                             slotChangedMicros: Array(rec.slotChangedMicros()[0..<state.strategyCount]))
    }

    /// One slot (default: the total). Refused when index ≥ strategyCount.
    @inlinable
    public func balance(_ key: BookKey, index: Int = 0) throws(BooksError) -> Amount {
        try existing(key, for: .get, index: index).readSlot(index)
    }

    /// Every record, by exchange then currency.
    public func allRecords() throws(BooksError) -> [BalanceRecord] {
        var out: [BalanceRecord] = []
        for key in keys() {
            guard let rec = record(key) else { continue }
            out.append(try get(rec))
        }
        return out
    }
}

/// A sub-strategy budget that a reconcile had to drop.
public struct DroppedBudget: Sendable, Equatable {
    public var index: Int
    public var amount: Amount

    public init(index: Int, amount: Amount) {
        self.index = index
        self.amount = amount
    }
}

/// What `reconcile` did.
public enum ReconcileOutcome: Sendable, Equatable, CustomStringConvertible {
    /// The local total already equals the exchange's figure; nothing changed.
    case inSync
    /// The total moved by `delta` and the pool absorbed it; budgets stayed.
    case repaired(delta: Amount, pool: Amount)
    /// After the repair the pool + credit would be below 0, so the record was reset to the
    /// exchange's balance and every budget dropped (the sub-strategies must ask again).
    case reset(delta: Amount, unrepairedPool: Amount, dropped: [DroppedBudget])
    /// There was no record: it was created and reset to the exchange's balance.
    case created(balance: Amount)

    /// The code stored in the activity entry's index byte for a reconcile.
    public enum Kind: Int, Sendable {
        case inSync = 0, repaired = 1, reset = 2
    }

    public var description: String {
        switch self {
        case .inSync: return "in sync: nothing to do"
        case .repaired(let d, let pool): return "repaired by \(d.raw > 0 ? "+" : "")\(d): the pool absorbed it and is now \(pool)"
        case .reset(let d, let pool, let dropped):
            let list = dropped.isEmpty ? "none" : dropped.map { "#\($0.index) \($0.amount)" }.joined(separator: ", ")
            return "reset: repairing by \(d.raw > 0 ? "+" : "")\(d) would leave the pool at \(pool), beyond the credit; budgets dropped: \(list)"
        case .created(let b): return "created: no record existed; reset to \(b)"
        }
    }
}

/// A consistent copy of a whole record, with its names.
public struct BalanceRecord: Sendable, Equatable {
    public var key: BookKey
    public var state: RecordState
    /// One per meaningful slot.
    public var names: [ShortName]
    /// When each meaningful slot last changed (µs since the epoch; 0 = never).
    public var slotChangedMicros: [Int64]

    public var strategyCount: Int { state.strategyCount }
    public var slots: [Amount] { (0..<state.strategyCount).map { state.slots[$0] } }
    public var creditLimit: Amount { state.creditLimit }
    public var headroom: Amount { state.headroom }
    public var identityHolds: Bool { state.identityHolds }
    public var epoch: UInt64 { state.epoch }
    /// Broken books: the identity fails, or the headroom is negative.
    public var isBroken: Bool { !state.identityHolds || state.headroom.raw < 0 }
}
