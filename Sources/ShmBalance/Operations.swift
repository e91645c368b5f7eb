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
        let (cur, w0) = try beginPair(rec, .allocate, index: index, amount)
        let pool = cur.loadAmount(Layout.State.slots + 16).raw
        let headroom = pool &+ cur.loadAmount(Layout.State.creditLimit).raw
        guard amount.raw <= headroom else {
            throw refusePair(rec, .insufficientHeadroom, .allocate, index: index, amount: amount, detail: headroom)
        }
        let slot = cur.loadAmount(Layout.State.slots &+ 16 &* index).raw &+ amount.raw
        guard slot <= Amount.limit else {
            throw refusePair(rec, .overflow, .allocate, index: index, amount: amount, detail: 0)
        }
        let now = commitPair(rec, cur, w0: w0, index: index, pool: pool &- amount.raw, slot: slot, operation: .allocate, amount: amount)
        try confirmWritten(now)
    }

    /// Moves `amount` from sub-strategy `index` back to the pool. Refused unless 2 ≤ index < count,
    /// amount > 0 and amount ≤ the budget's free part (budget − held: open orders keep theirs).
    @inlinable @inline(__always)
    public func release(_ rec: RecordRef, index: Int, _ amount: Amount) throws(BooksError) {
        let (cur, w0) = try beginPair(rec, .release, index: index, amount)
        let budget = cur.loadAmount(Layout.State.slots &+ 16 &* index).raw
        let held = cur.loadAmount(Layout.State.held &+ 16 &* index).raw
        guard amount.raw <= budget &- held else {
            let beyond = amount.raw > budget
            throw refusePair(rec, beyond ? .exceedsBudget : .belowHeld, .release, index: index, amount: amount, detail: beyond ? budget : held)
        }
        let pool = cur.loadAmount(Layout.State.slots + 16).raw &+ amount.raw
        guard pool <= Amount.limit else {
            throw refusePair(rec, .overflow, .release, index: index, amount: amount, detail: 0)
        }
        let now = commitPair(rec, cur, w0: w0, index: index, pool: pool, slot: budget &- amount.raw, operation: .release, amount: amount)
        try confirmWritten(now)
    }

    /// The start both allocate and release share: lock the record, find its published state, and
    /// refuse a slot that is not a sub-strategy or an amount that is not above 0.
    @inlinable @inline(__always)
    func beginPair(_ rec: RecordRef, _ operation: Operation, index: Int, _ amount: Amount) throws(BooksError)
        -> (published: UnsafeMutableRawPointer, w0: UInt64) {
        try requireWritable()
        try lock(rec)
        let cur = rec.stateLatch.lockedCurrent
        let w0 = cur.loadRelaxed(Layout.State.strategyCount)
        // The count with the expiry bit, and for allocate the fence bit (`HeadWord`): a record
        // whose holds may expire, or a fenced one, fails this range check and takes the out-of-line
        // path. `operation` is a constant here once inlined, so each of the two gets one form.
        let count = operation == .allocate ? HeadWord.countForAllocate(w0) : HeadWord.countForRelease(w0)
        // 2 ≤ count ≤ 64 and 2 ≤ index < count, as two unsigned comparisons; amount > 0.
        guard UInt(bitPattern: count &- 2) <= UInt(Layout.slotCount - 2) else { return try beginPairSlowly(rec, operation, index: index, amount) }
        guard UInt(bitPattern: index &- 2) < UInt(bitPattern: count &- 2) else { return try beginPairSlowly(rec, operation, index: index, amount) }
        guard amount.raw > 0 else { return try beginPairSlowly(rec, operation, index: index, amount) }
        return (cur, w0)
    }

    /// `beginPair` past its range check: voids due holds when some hold has a ttl, then checks
    /// again without that bit; refuses what is refused. Out of line, so the fast path stays small.
    @usableFromInline @inline(never)
    func beginPairSlowly(_ rec: RecordRef, _ operation: Operation, index: Int, _ amount: Amount) throws(BooksError)
        -> (published: UnsafeMutableRawPointer, w0: UInt64) {
        var cur = rec.stateLatch.lockedCurrent
        if cur.loadRelaxed(Layout.State.earliestExpiry) != 0 { cur = expireThenCurrent(rec) }
        let w0 = cur.loadRelaxed(Layout.State.strategyCount)
        let word = operation == .allocate ? HeadWord.countForAllocate(w0) : HeadWord.countForRelease(w0)
        let count = word & ~Int(HeadWord.expiryBit)
        guard UInt(bitPattern: count &- 2) <= UInt(Layout.slotCount - 2) && UInt(bitPattern: index &- 2) < UInt(bitPattern: count &- 2) else {
            throw refusePair(rec, .notASubStrategy, operation, index: index, amount: amount, detail: Int128(count))
        }
        guard amount.raw > 0 else {
            throw refusePair(rec, .nonPositiveAmount, operation, index: index, amount: amount, detail: 0)
        }
        return (cur, w0)
    }

    /// Unlocks and records a refusal of allocate/release; kept out of line so the fast path stays small.
    @usableFromInline @inline(never)
    func refusePair(_ rec: RecordRef, _ code: RefusalCode, _ operation: Operation, index: Int, amount: Amount, detail: Int128) -> BooksError {
        // The count check is folded into the index check; a damaged count is damage, not a refusal.
        if code == .notASubStrategy && detail >= Int128(HeadWord.fencedBit) {
            let count = HeadWord.count(UInt64(truncatingIfNeeded: detail))
            if count >= Layout.minStrategyCount && count <= Layout.slotCount {
                guard index >= 2 && index < count else {
                    return refuse(rec, Refusal(.notASubStrategy, operation, rec.key, index: index, amount: amount, detail: Amount(raw: Int128(count))))
                }
                return refuse(rec, Refusal(.fenced, operation, rec.key, index: index, amount: amount))
            }
        }
        if code == .notASubStrategy && (detail < Int128(Layout.minStrategyCount) || detail > Int128(Layout.slotCount)) {
            unlock(rec)
            let state = shmbal_mapping_last_state(mappingId)
            return state == SHMBAL_MAPPING_OK ? rec.corruptCount(Int(detail)) : fileGone(state)
        }
        return refuse(rec, Refusal(code, operation, rec.key, index: index, amount: amount, detail: Amount(raw: detail)))
    }

    /// Publishes a state equal to the current one but for the pool and slot `index`; then logs and unlocks.
    ///
    /// The unpublished copy already holds the state published before the current one. When an
    /// allocate/release published the current one (its `pairMark` says so, for this generation),
    /// the two differ only in the pool, slot `lastIndex` and the stamp, so copying that one slot
    /// makes the copies equal; otherwise the state is copied in full. A holder that died while
    /// writing the unpublished copy is handled before this runs: the next owner refreshes that
    /// copy in full on EOWNERDEAD (`recovered`), so a half-written copy is never trusted.
    @inlinable @inline(__always)
    func commitPair(_ rec: RecordRef, _ cur: UnsafeMutableRawPointer, w0: UInt64, index: Int,
                    pool: Int128, slot: Int128, operation: Operation, amount: Amount) -> Int64 {
        let now = shmbal_now_micros()
        let count = HeadWord.countWord(w0)   // the fence bit goes back with it
        rec.stateLatch.publish { (next, cur, g) in
            if cur.loadRelaxed(Layout.State.pairMark) == Layout.pairMark(g) {
                let last = Layout.State.slots &+ Layout.amountSize &* HeadWord.lastIndex(w0)
                next.storeRelaxed(cur.loadRelaxed(last), last)
                next.storeRelaxed(cur.loadRelaxed(last &+ 8), last &+ 8)
            } else {
                syncAfterOtherWriter(from: cur, to: next, generation: g, w0: w0)
            }
            next.storeAmount(Amount(raw: pool), Layout.State.slots + Layout.amountSize)
            next.storeAmount(Amount(raw: slot), Layout.State.slots &+ Layout.amountSize &* index)
            stampState(next, count: count, index: index, opCount: cur.loadRelaxed(Layout.State.opCount), now: now)
            next.storeRelaxed(Layout.pairMark(g &+ 1), Layout.State.pairMark)
        }
        appendActivity(operation, rec.key, index: index, outcome: 0, epoch: cur.loadRelaxed(Layout.State.epoch),
                       amount: amount, detail: Amount(raw: 0), after: Amount(raw: slot), now: now)
        rec.p.storeRelaxed(UInt64(bitPattern: now), Layout.Record.slotChangedMicros + 8)
        rec.p.storeRelaxed(UInt64(bitPattern: now), Layout.Record.slotChangedMicros &+ 8 &* index)
        unlock(rec)
        return now
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

    // MARK: - allocate / release with an op id (a small commit: the hot pair stays without one)

    /// `allocate` that a retry with the same `opId` does not apply again (SPEC §9).
    @inlinable
    public func allocate(_ key: BookKey, index: Int, _ amount: Amount, opId: OperationId) throws(BooksError) {
        try allocate(try existing(key, for: .allocate, index: index, amount: amount), index: index, amount, opId: opId)
    }

    @inlinable
    public func allocate(_ rec: RecordRef, index: Int, _ amount: Amount, opId: OperationId) throws(BooksError) {
        let call = plainCall(opId, .allocate, index: index, amount: amount)
        let (cur, w0) = try beginSmall(rec)
        if try replay(rec, call) != nil { return }
        try checkPairArguments(rec, call, count: HeadWord.count(w0))
        if HeadWord.fenced(w0) { throw refuse(rec, remembering: call, Refusal(.fenced, .allocate, rec.key, index: index, amount: amount)) }
        let pool = cur.loadAmount(Layout.State.slots + Layout.amountSize).raw
        let headroom = pool &+ cur.loadAmount(Layout.State.creditLimit).raw
        guard amount.raw <= headroom else {
            throw refuse(rec, remembering: call, Refusal(.insufficientHeadroom, .allocate, rec.key, index: index, amount: amount, detail: Amount(raw: headroom)))
        }
        let slot = cur.loadAmount(Layout.State.slots &+ Layout.amountSize &* index).raw &+ amount.raw
        guard slot <= Amount.limit else { throw refuse(rec, remembering: call, Refusal(.overflow, .allocate, rec.key, index: index, amount: amount)) }
        let now = shmbal_now_micros()
        commitSmall(rec, cur, w0: w0, SmallChange(index: index, pool: Amount(raw: pool &- amount.raw), slot: Amount(raw: slot)), .allocate,
                    amount: amount, detail: .zero, after: Amount(raw: slot), now: now, call: call,
                    result: OpResult(outcome: 0, detail: .zero, after: Amount(raw: slot))) { _ in }
        try confirmWritten(now)
    }

    /// `release` that a retry with the same `opId` does not apply again (SPEC §9).
    @inlinable
    public func release(_ key: BookKey, index: Int, _ amount: Amount, opId: OperationId) throws(BooksError) {
        try release(try existing(key, for: .release, index: index, amount: amount), index: index, amount, opId: opId)
    }

    @inlinable
    public func release(_ rec: RecordRef, index: Int, _ amount: Amount, opId: OperationId) throws(BooksError) {
        let call = plainCall(opId, .release, index: index, amount: amount)
        let (cur, w0) = try beginSmall(rec)
        if try replay(rec, call) != nil { return }
        try checkPairArguments(rec, call, count: HeadWord.count(w0))
        let budget = cur.loadAmount(Layout.State.slots &+ Layout.amountSize &* index).raw
        let held = cur.loadAmount(Layout.State.held &+ Layout.amountSize &* index).raw
        guard amount.raw <= budget &- held else {
            let beyond = amount.raw > budget
            throw refuse(rec, remembering: call, Refusal(beyond ? .exceedsBudget : .belowHeld, .release, rec.key, index: index, amount: amount,
                                                         detail: Amount(raw: beyond ? budget : held)))
        }
        let pool = cur.loadAmount(Layout.State.slots + Layout.amountSize).raw &+ amount.raw
        guard pool <= Amount.limit else { throw refuse(rec, remembering: call, Refusal(.overflow, .release, rec.key, index: index, amount: amount)) }
        let now = shmbal_now_micros()
        let slot = Amount(raw: budget &- amount.raw)
        commitSmall(rec, cur, w0: w0, SmallChange(index: index, pool: Amount(raw: pool), slot: slot), .release,
                    amount: amount, detail: .zero, after: slot, now: now, call: call, result: OpResult(outcome: 0, detail: .zero, after: slot)) { _ in }
        try confirmWritten(now)
    }

    /// allocate/release with an op id: a slot that is a sub-strategy and an amount above 0, else
    /// the refusal, remembered under the id.
    @inlinable @inline(__always)
    func checkPairArguments(_ rec: RecordRef, _ call: OpCall, count: Int) throws(BooksError) {
        guard call.index >= 2 && call.index < count else {
            throw refuse(rec, remembering: call, Refusal(.notASubStrategy, call.operation, rec.key, index: call.index, amount: call.amount,
                                                         detail: Amount(raw: Int128(count))))
        }
        guard call.amount.raw > 0 else {
            throw refuse(rec, remembering: call, Refusal(.nonPositiveAmount, call.operation, rec.key, index: call.index, amount: call.amount))
        }
    }

    // MARK: - reset, set, adjust

    /// total = pool = balance, every sub-strategy 0, epoch + 1. Creates the record if missing
    /// (with `strategyCount`, else 8). Without a count an existing record keeps its count, credit and names.
    ///
    /// Reset is also the repair of a damaged record: one whose stored count is outside 2…64 gets
    /// `strategyCount`, else the default 8; a credit limit that is negative or not storable becomes 0.
    ///
    /// Open holds are kept (each budget keeps what its holds keep, the pool gets the rest) unless
    /// `dropHolds`: then every hold closes in the same publish and every budget is 0.
    public func reset(_ key: BookKey, balance: Amount, strategyCount: Int? = nil, dropHolds: Bool = false,
                      opId: OperationId? = nil) throws(BooksError) {
        try requireWritable()
        if let c = strategyCount, c < Layout.minStrategyCount || c > Layout.slotCount {
            let r = Refusal(.badCount, .reset, key, index: -1, amount: balance, detail: Amount(raw: Int128(c)))
            recordRefusal(r)
            throw .refused(r)
        }
        guard balance.isStorable else { throw refuseNoLock(Refusal(.overflow, .reset, key, index: -1, amount: balance)) }
        let (rec, _) = try findOrCreate(key, NewRecord(strategyCount: strategyCount ?? Layout.defaultStrategyCount), operation: .reset)
        let call = opId.map { OpCall($0, .reset, index: -1, amount: balance,
                                      UInt64(bitPattern: Int64(strategyCount ?? 0)), dropHolds ? 1 : 0) }
        _ = try mutate(rec, .reset, index: -1, amount: balance, intake: .asStored, opId: call) { (s, stored) throws(Refusal) -> Change in
            // Open orders still exist on the exchange: each budget keeps what its holds keep.
            let books = HoldBooks(from: rec.stateLatch.lockedCurrent)
            let held = dropHolds ? InlineArray(repeating: .zero) : books.held
            let count = strategyCount ?? Books.repairedCount(stored) ?? s.strategyCount
            // A slot with open holds stays (even holds filled down to 0: their orders are open).
            for i in count..<64 where !dropHolds && (held[i].raw != 0 || books.counts[i] != 0) {
                throw Refusal(.shrinkOverNonZero, .reset, key, index: i, amount: held[i], detail: Amount(raw: Int128(count)))
            }
            try Books.applyReset(&s, balance: balance, strategyCount: strategyCount ?? Books.repairedCount(stored), keeping: held, key: key, operation: .reset)
            return Change(index: -1, detail: Amount(raw: Int128(s.strategyCount)), after: balance, dropsHolds: dropHolds)
        }
    }

    /// The count a repair keeps: the stored one when it is sound, else nil (the default applies).
    @usableFromInline
    static func repairedCount(_ stored: Int) -> Int? {
        stored >= Layout.minStrategyCount && stored <= Layout.slotCount ? nil : Layout.defaultStrategyCount
    }

    /// total = balance; each sub-strategy keeps `held` (its open holds; free budget dropped); the
    /// pool gets the rest.
    /// Refused (overflow) when the pool that leaves is beyond the storable range (a balance near
    /// the limit with holds kept).
    @usableFromInline
    static func applyReset(_ s: inout RecordState, balance: Amount, strategyCount: Int?, keeping held: InlineArray<64, Amount>,
                           key: BookKey, operation: Operation) throws(Refusal) {
        if let c = strategyCount { s.strategyCount = c }
        for i in 0..<64 { s.slots[i] = .zero }
        s.slots[0] = balance
        var pool = balance.raw
        for i in 2..<s.strategyCount where held[i].raw > 0 && held[i].raw <= Amount.limit {
            s.slots[i] = held[i]
            pool &-= held[i].raw
        }
        guard Amount(raw: pool).isStorable else { throw Refusal(.overflow, operation, key, index: 1, amount: balance, detail: Amount(raw: pool)) }
        s.slots[1] = Amount(raw: pool)
        if s.creditLimit.raw < 0 || !s.creditLimit.isStorable { s.creditLimit = .zero }
        s.epoch &+= 1
    }

    @usableFromInline
    func refuseNoLock(_ r: Refusal) -> BooksError {
        recordRefusal(r)
        return .refused(r)
    }

    /// slot[index] = amount, then rebalance: a change of the total or a budget is absorbed by the
    /// pool; a change of the pool moves the total with it.
    public func set(_ key: BookKey, _ amount: Amount, index: Int = 0, opId: OperationId? = nil) throws(BooksError) {
        let rec = try existing(key, for: .set, index: index, amount: amount)
        _ = try mutate(rec, .set, index: index, amount: amount, opId: opId.map { OpCall($0, .set, index: index, amount: amount) }) { (s, _) throws(Refusal) -> Change in
            guard index >= 0 && index < s.strategyCount else {
                throw Refusal(.indexOutOfRange, .set, key, index: index, amount: amount, detail: Amount(raw: Int128(s.strategyCount)))
            }
            if index >= 2 && amount.raw < 0 {
                throw Refusal(.negativeBudget, .set, key, index: index, amount: amount, detail: s.slots[index])
            }
            if index >= 2, let held = Books.heldAbove(rec, index, amount.raw) {
                throw Refusal(.belowHeld, .set, key, index: index, amount: amount, detail: held)
            }
            guard amount.isStorable else { throw Refusal(.overflow, .set, key, index: index, amount: amount) }
            let delta = Amount(raw: amount.raw &- s.slots[index].raw)
            try Books.rebalance(&s, index: index, delta: delta, operation: .set, key: key, asked: amount)
            return Change(index: index, detail: delta, after: s.slots[index])
        }
    }

    /// slot[index] += delta, then rebalance as `set` does.
    public func adjust(_ key: BookKey, _ delta: Amount, index: Int = 0, opId: OperationId? = nil) throws(BooksError) {
        let rec = try existing(key, for: .adjust, index: index, amount: delta)
        _ = try mutate(rec, .adjust, index: index, amount: delta, opId: opId.map { OpCall($0, .adjust, index: index, amount: delta) }) { (s, _) throws(Refusal) -> Change in
            guard index >= 0 && index < s.strategyCount else {
                throw Refusal(.indexOutOfRange, .adjust, key, index: index, amount: delta, detail: Amount(raw: Int128(s.strategyCount)))
            }
            guard delta.isStorable else { throw Refusal(.overflow, .adjust, key, index: index, amount: delta) }
            if index >= 2 && s.slots[index].raw &+ delta.raw < 0 {
                throw Refusal(.negativeBudget, .adjust, key, index: index, amount: delta, detail: s.slots[index])
            }
            if index >= 2, let held = Books.heldAbove(rec, index, s.slots[index].raw &+ delta.raw) {
                throw Refusal(.belowHeld, .adjust, key, index: index, amount: delta, detail: held)
            }
            try Books.rebalance(&s, index: index, delta: delta, operation: .adjust, key: key, asked: delta)
            return Change(index: index, detail: delta, after: s.slots[index])
        }
    }

    /// Takes `amount` out of the pool and so out of the books (total and pool fall together), refused
    /// like an allocate when pool − amount + credit < 0: money leaving the host, as the agent's
    /// return of lease to the ledger (SPEC §10). An `adjust` of the pool would take it below the
    /// headroom a strategy allocated meanwhile; this checks under the record's lock. Logged and
    /// remembered as an adjust of slot 1 by −amount.
    public func withdraw(_ key: BookKey, _ amount: Amount, opId: OperationId? = nil) throws(BooksError) {
        let delta = Amount(raw: 0 &- amount.raw)
        let rec = try existing(key, for: .adjust, index: 1, amount: delta)
        _ = try mutate(rec, .adjust, index: 1, amount: delta, opId: opId.map { OpCall($0, .adjust, index: 1, amount: delta, 1) }) { (s, _) throws(Refusal) -> Change in
            guard amount.raw > 0 && amount.isStorable else {
                throw Refusal(.nonPositiveAmount, .adjust, key, index: 1, amount: delta)
            }
            guard amount.raw <= s.headroom.raw else {
                throw Refusal(.insufficientHeadroom, .adjust, key, index: 1, amount: delta, detail: s.headroom)
            }
            try Books.rebalance(&s, index: 1, delta: delta, operation: .adjust, key: key, asked: delta)
            return Change(index: 1, detail: delta, after: s.slots[1])
        }
    }

    /// Fences the record, or lifts the fence (SPEC §10): while fenced, `allocate` is refused
    /// (`RefusalCode.fenced`) and everything else goes on. The agent of a host sets it when it has
    /// not reached the ledger within its lease's time-to-live and lifts it once it has. Applying
    /// the state it already has changes nothing.
    public func setFenced(_ key: BookKey, _ fenced: Bool) throws(BooksError) {
        let rec = try existing(key, for: .fence, index: -1)
        var state = RecordState()
        try rec.read(into: &state)
        guard state.fenced != fenced else { return }
        _ = try mutate(rec, .fence, index: -1, amount: Amount(raw: fenced ? 1 : 0)) { (s, _) throws(Refusal) -> Change in
            s.fenced = fenced
            return Change(index: -1, detail: .zero, after: Amount(raw: Int128(s.strategyCount)))
        }
    }

    /// The held amount of slot `index` when a budget of `budget` would be below it (the caller holds the lock).
    @usableFromInline
    static func heldAbove(_ rec: RecordRef, _ index: Int, _ budget: Int128) -> Amount? {
        let held = rec.stateLatch.lockedCurrent.loadAmount(Layout.State.held + Layout.amountSize * index)
        return budget < held.raw ? held : nil
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
    ///
    /// The total becomes the exchange's figure and the pool becomes total − budgets, so a record
    /// whose identity was broken (by anything: a bug, a hand edit, a torn copy restored) comes out
    /// whole; if pool + credit would then be below 0, or a budget is itself unusable (negative, out
    /// of range, or the stored count damaged), the record is reset to the exchange's figure instead
    /// and the outcome lists the budgets dropped.
    public func reconcile(_ key: BookKey, exchangeBalance: Amount, opId: OperationId? = nil) throws(BooksError) -> ReconcileOutcome {
        try requireWritable()
        guard exchangeBalance.isStorable else {
            throw refuseNoLock(Refusal(.overflow, .reconcile, key, index: -1, amount: exchangeBalance))
        }
        let (rec, created) = try findOrCreate(key, NewRecord(), operation: .reconcile)
        var outcome = ReconcileOutcome.inSync
        let call = opId.map { OpCall($0, .reconcile, index: -1, amount: exchangeBalance) }
        _ = try mutate(rec, .reconcile, index: -1, amount: exchangeBalance, intake: .asStored, opId: call,
                       replayed: { outcome = ReconcileOutcome(replaying: $0) }) { (s, stored) throws(Refusal) -> Change in
            var change = try reconcileRule(&s, stored, rec: rec, created: created, exchangeBalance: exchangeBalance, outcome: &outcome)
            change.remembered = outcome.remembered
            return change
        }
        return outcome
    }

    /// reconcile's rule on the locked state (SPEC §3).
    func reconcileRule(_ s: inout RecordState, _ stored: Int, rec: RecordRef, created: Bool, exchangeBalance: Amount,
                       outcome: inout ReconcileOutcome) throws(Refusal) -> Change {
        let delta = Amount(raw: exchangeBalance.raw &- s.slots[0].raw)
        let held = HoldBooks(from: rec.stateLatch.lockedCurrent).held
        if created {
            try Books.applyReset(&s, balance: exchangeBalance, strategyCount: nil, keeping: held, key: rec.key, operation: .reconcile)
            outcome = .created(balance: exchangeBalance)
            return Change(index: ReconcileOutcome.Kind.reset.rawValue, detail: delta, after: exchangeBalance)
        }
        let soundCount = stored == s.strategyCount
        var budgets: Int128 = 0
        var budgetsUsable = soundCount && s.creditLimit.raw >= 0 && s.creditLimit.isStorable
        for i in 2..<s.strategyCount {
            let b = s.slots[i].raw
            if b < 0 || b > Amount.limit { budgetsUsable = false }
            budgets &+= b  // each ≤ 10^36 in magnitude when usable: no wrap in 62 of them
        }
        let identityHeld = soundCount && s.identityHolds && s.slots[0].isStorable && s.slots[1].isStorable
        if delta.raw == 0 && identityHeld && budgetsUsable {
            outcome = .inSync
            return Change(index: ReconcileOutcome.Kind.inSync.rawValue, detail: .zero, after: s.slots[0], commit: false)
        }
        let pool = budgetsUsable ? Amount(raw: exchangeBalance.raw &- budgets) : nil
        if let pool, pool.isStorable, pool.raw &+ s.creditLimit.raw >= 0 {
            let off = s.identityDifference
            s.slots[0] = exchangeBalance
            s.slots[1] = pool
            outcome = identityHeld ? .repaired(delta: delta, pool: pool) : .identityRepaired(delta: delta, pool: pool, identityWasOffBy: off)
            return Change(index: ReconcileOutcome.Kind.repaired.rawValue, detail: delta, after: exchangeBalance)
        }
        // Holds are kept (their orders are open on the exchange): what is dropped is the free part.
        var dropped: [DroppedBudget] = []
        for i in 2..<s.strategyCount where s.slots[i].raw != held[i].raw {
            dropped.append(DroppedBudget(index: i, amount: Amount(raw: s.slots[i].raw &- held[i].raw)))
        }
        let unrepairedPool = pool ?? Amount(raw: s.slots[1].raw &+ delta.raw)
        try Books.applyReset(&s, balance: exchangeBalance, strategyCount: Books.repairedCount(stored), keeping: held, key: rec.key, operation: .reconcile)
        outcome = .reset(delta: delta, unrepairedPool: unrepairedPool, dropped: dropped)
        return Change(index: ReconcileOutcome.Kind.reset.rawValue, detail: delta, after: exchangeBalance)
    }

    // MARK: - metadata

    /// Sets the credit limit (≥ 0): what `allocate` may lend beyond the pool.
    public func setCreditLimit(_ key: BookKey, _ credit: Amount, opId: OperationId? = nil) throws(BooksError) {
        let rec = try existing(key, for: .setCreditLimit, amount: credit)
        _ = try mutate(rec, .setCreditLimit, index: -1, amount: credit, opId: opId.map { OpCall($0, .setCreditLimit, index: -1, amount: credit) }) { (s, _) throws(Refusal) -> Change in
            guard credit.raw >= 0 else { throw Refusal(.negativeCredit, .setCreditLimit, key, index: -1, amount: credit) }
            guard credit.isStorable else { throw Refusal(.overflow, .setCreditLimit, key, index: -1, amount: credit) }
            let old = s.creditLimit
            s.creditLimit = credit
            return Change(index: -1, detail: old, after: credit)
        }
    }

    /// Sets the number of meaningful slots: it may grow any time, and shrink only over zero slots.
    public func setStrategyCount(_ key: BookKey, _ count: Int, opId: OperationId? = nil) throws(BooksError) {
        let rec = try existing(key, for: .setStrategyCount, amount: Amount(raw: Int128(count)))
        let call = opId.map { OpCall($0, .setStrategyCount, index: -1, amount: Amount(raw: Int128(count))) }
        _ = try mutate(rec, .setStrategyCount, index: -1, amount: Amount(raw: Int128(count)), opId: call) { (s, _) throws(Refusal) -> Change in
            try Books.applyCount(&s, count, key: key, operation: .setStrategyCount, holdCounts: HoldBooks(from: rec.stateLatch.lockedCurrent).counts)
            return Change(index: -1, detail: Amount(raw: Int128(count)))
        }
    }

    @usableFromInline
    static func applyCount(_ s: inout RecordState, _ count: Int, key: BookKey, operation: Operation,
                           holdCounts: InlineArray<64, UInt32>) throws(Refusal) {
        guard count >= Layout.minStrategyCount && count <= Layout.slotCount else {
            throw Refusal(.badCount, operation, key, index: -1, amount: Amount(raw: Int128(count)), detail: Amount(raw: Int128(count)))
        }
        // A slot with an open hold stays, even one filled down to 0 (its order is still open).
        for i in count..<max(count, s.strategyCount) where s.slots[i].raw != 0 || holdCounts[i] != 0 {
            throw Refusal(.shrinkOverNonZero, operation, key, index: i, amount: s.slots[i], detail: Amount(raw: Int128(count)))
        }
        s.strategyCount = count
    }

    /// Names slot `index` (printable ASCII, up to 15 characters; empty clears it).
    public func setName(_ key: BookKey, index: Int, _ name: ShortName, opId: OperationId? = nil) throws(BooksError) {
        let rec = try existing(key, for: .setName, index: index)
        try requireWritable()
        try lock(rec)
        expireIfDue(rec)
        let count: Int
        do { count = try lockedState(rec).strategyCount } catch {
            unlock(rec)
            throw error
        }
        let call = opId.map { OpCall($0, .setName, index: index, amount: .zero, name.lo, name.hi) }
        if let call, try replay(rec, call) != nil { return }
        guard index >= 0 && index < count else {
            throw refuse(rec, remembering: call, Refusal(.indexOutOfRange, .setName, key, index: index, amount: .zero, detail: Amount(raw: Int128(count))))
        }
        publishNames(rec, [index: name], remembering: call)
        let now = shmbal_now_micros()
        appendActivity(.setName, key, index: index, outcome: 0, epoch: 0, amount: .zero, detail: .zero, after: .zero, now: now)
        unlock(rec)
        try confirmWritten(now)
    }

    /// Publishes the record's state unchanged but for the names in `changes` (caller holds the lock).
    func publishNames(_ rec: RecordRef, _ changes: [Int: ShortName], remembering call: OpCall? = nil) {
        let log = call.map { _ in opLog(rec) }
        rec.stateLatch.publish { (next, cur, _) in
            for w in stride(from: 0, to: Layout.State.size, by: 8) { next.storeRelaxed(cur.loadRelaxed(w), w) }
            next.storeRelaxed(0, Layout.State.pairMark)  // not an allocate/release: the next one copies in full
            Books.writeNames(changes, to: next)
            if let call, let log { log.recordNext(call, OpResult(outcome: 0, detail: .zero, after: .zero), from: cur, to: next) }
        }
    }

    // MARK: - reads

    /// A consistent copy of the whole record: state, names and when each slot last changed. A
    /// damaged record is read as stored (its count clamped) and says what is wrong in `problems`.
    public func get(_ key: BookKey) throws(BooksError) -> BalanceRecord {
        try get(try existing(key, for: .get))
    }

    public func get(_ rec: RecordRef) throws(BooksError) -> BalanceRecord {
        var state = RecordState()
        var names: [ShortName] = []
        var holds: HoldBooks?
        let stored = try rec.readWithNames(into: &state, names: &names, holds: &holds)
        var r = BalanceRecord(rec.key, state: state, names: Array(names[0..<state.strategyCount]),
                              slotChangedMicros: Array(rec.slotChangedMicros()[0..<state.strategyCount]), storedStrategyCount: stored)
        if let holds {
            r.held = (0..<state.strategyCount).map { holds.held[$0] }
            r.holdCounts = (0..<state.strategyCount).map { Int(holds.counts[$0]) }
            r.opIdWindow = segment.geometry.opIdWindow
            r.opIdsRemembered = Int(min(holds.opSeq, UInt64(r.opIdWindow)))
            r.opIdSequence = holds.opSeq
            r.expiredHolds = [Int](repeating: 0, count: state.strategyCount)
            if holds.earliestExpiry != 0 && holds.earliestExpiry <= shmbal_now_micros() {
                for h in try readHolds(rec).holds where h.expired && h.index < state.strategyCount { r.expiredHolds[h.index] += 1 }
            }
        }
        return r
    }

    /// One slot (default: the total). Refused when index ≥ strategyCount.
    @inlinable
    public func balance(_ key: BookKey, index: Int = 0) throws(BooksError) -> Amount {
        try existing(key, for: .get, index: index).readSlot(index)
    }

    /// Every record, by exchange then currency, damaged ones included (see `BalanceRecord.problems`):
    /// one bad record never hides the others. Fails only when the segment itself cannot be read
    /// (its file truncated, or writers publishing non-stop).
    public func allRecords() throws(BooksError) -> [BalanceRecord] {
        var out: [BalanceRecord] = []
        for key in keys() {
            guard let rec = record(key) else { continue }
            out.append(try get(rec))
        }
        // After the reads: a file cut short reads as zeros without any fault in its first page.
        if segment.fileState == .truncated { throw .segment(.truncated(path: segment.path)) }
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
    /// The identity was broken (total ≠ pool + budgets by `identityWasOffBy`): the total is now the
    /// exchange's figure and the pool total − budgets; budgets stayed.
    case identityRepaired(delta: Amount, pool: Amount, identityWasOffBy: Amount)

    /// The code stored in the activity entry's index byte for a reconcile.
    public enum Kind: Int, Sendable {
        case inSync = 0, repaired = 1, reset = 2
    }

    /// What an op id remembers of it (docs/holds.md "Operation ids"): the kind and two figures.
    /// A replay returns those; a reset's list of dropped budgets and an identity repair's offset
    /// do not fit in the entry and come back empty and as a plain repair (`shmbal log` has them).
    var remembered: OpResult {
        switch self {
        case .inSync: return OpResult(outcome: 0, detail: .zero, after: .zero, kind: 0)
        case .repaired(let d, let pool), .identityRepaired(let d, let pool, _): return OpResult(outcome: 0, detail: d, after: pool, kind: 1)
        case .reset(let d, let pool, _): return OpResult(outcome: 0, detail: d, after: pool, kind: 2)
        case .created(let b): return OpResult(outcome: 0, detail: .zero, after: b, kind: 3)
        }
    }

    init(replaying r: OpResult) {
        switch r.kind {
        case 1: self = .repaired(delta: r.detail, pool: r.after)
        case 2: self = .reset(delta: r.detail, unrepairedPool: r.after, dropped: [])
        case 3: self = .created(balance: r.after)
        default: self = .inSync
        }
    }

    public var description: String {
        switch self {
        case .inSync: return "in sync: nothing to do"
        case .repaired(let d, let pool): return "repaired by \(d.raw > 0 ? "+" : "")\(d): the pool absorbed it and is now \(pool)"
        case .reset(let d, let pool, let dropped):
            let list = dropped.isEmpty ? "none" : dropped.map { "#\($0.index) \($0.amount)" }.joined(separator: ", ")
            return "reset: repairing by \(d.raw > 0 ? "+" : "")\(d) would leave the pool at \(pool), beyond the credit; budgets dropped: \(list)"
        case .created(let b): return "created: no record existed; reset to \(b)"
        case .identityRepaired(let d, let pool, let off):
            return "repaired a broken identity (total differed from pool + budgets by \(off.raw > 0 ? "+" : "")\(off)): the total moved by \(d.raw > 0 ? "+" : "")\(d) to the exchange's figure, the pool is now \(pool) = total − budgets"
        }
    }
}

/// A consistent copy of a whole record, with its names.
public struct BalanceRecord: Sendable, Equatable {
    public var key: BookKey
    /// As stored, but for a damaged strategy count, which is clamped into 2…64 here (the stored one
    /// is `storedStrategyCount`).
    public var state: RecordState
    /// The strategy count exactly as stored (differs from `state.strategyCount` only when damaged).
    public var storedStrategyCount: Int
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
    /// Per meaningful slot: what its open holds keep (layout 3), from the same copy as `slots`.
    public var held: [Amount] = []
    /// Per meaningful slot: how many holds are open.
    public var holdCounts: [Int] = []
    /// Per meaningful slot: budget − held.
    public var free: [Amount] { zip(slots, held).map { Amount(raw: $0.raw &- $1.raw) } }
    /// Operation ids the record remembers (its window, set at init) and how many it holds now.
    public var opIdWindow = 0
    public var opIdsRemembered = 0
    /// Op-id entries published since the record was created: an id recorded when this was n is
    /// remembered while it is below n + opIdWindow (the agent checks this before it trusts a replay).
    public var opIdSequence: UInt64 = 0
    /// Per meaningful slot: holds whose ttl has passed, not yet voided (counted only when the
    /// record's earliest expiry has passed, so a record without ttls costs one load).
    public var expiredHolds: [Int] = []
    /// Everything wrong with it (empty for healthy books), notices included.
    public var problems: [RecordProblem] {
        state.problems(storedCount: storedStrategyCount) + RecordProblem.holdProblems(budgets: slots, held: held, expired: expiredHolds)
    }
    /// Broken books: any problem that is not a notice (the identity, a negative headroom, damage).
    public var isBroken: Bool { problems.contains { !$0.isNotice } }
}
