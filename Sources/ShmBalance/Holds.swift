import CShmBalanceSys

// The operations of SPEC §9 on holds: hold, fill, void, receive, expiry. Each one: the record's
// lock, every check that can refuse, then one `Latch.publish` that writes the state copy (budgets,
// held sums, counts) and tags the hold entries it opens or closes with the generation it publishes.
// Not the hot path yet: holds are found by a linear scan (the hash index is docs/holds.md's next step).

/// What a fill spent, and where the money came from beyond the hold.
public struct FillOutcome: Sendable, Equatable {
    /// The part of amount + fee the hold covered.
    public var fromHold: Amount
    /// The overrun taken from the slot's free budget.
    public var fromFree: Amount
    /// The overrun the budget could not cover, taken from the pool (the fill happened on the exchange).
    public var fromPool: Amount
    /// The hold is closed (a final fill).
    public var closed: Bool

    public var overrun: Amount { Amount(raw: fromFree.raw &+ fromPool.raw) }
}

/// An open hold as a reader sees it, consistent with the state it was read with.
public struct OpenHold: Sendable, Equatable {
    public var id: HoldId
    public var index: Int
    /// What the hold still covers.
    public var amount: Amount
    /// What it was opened with.
    public var original: Amount
    public var createdMicros: Int64
    /// nil without a ttl.
    public var expiresMicros: Int64?
    /// Its ttl passed; the next writer of the record voids it.
    public var expired: Bool
}

/// Per slot: the budget, what its open holds keep, and what is free.
public struct SlotHolds: Sendable, Equatable {
    public var budget: Amount
    public var held: Amount
    public var count: Int
    public var free: Amount { Amount(raw: budget.raw &- held.raw) }
}

extension Books {
    /// Holds `amount` of sub-strategy `index`'s free budget for the order `id`. The same id with the
    /// same slot, amount and ttl while it is open is a replay: nothing changes.
    /// The id is the hold's operation id too: the same call again returns the first result.
    public func hold(_ key: BookKey, index: Int, _ amount: Amount, id: HoldId, ttlMicros: Int64? = nil) throws(BooksError) {
        if let ttl = ttlMicros, ttl <= 0 { throw .badInput("a hold's ttl must be above 0 (got \(ttl) µs)") }
        let rec = try existing(key, for: .hold, index: index, amount: amount)
        let call = OpCall(id, .hold, index: index, amount: amount, extra: [UInt64(bitPattern: ttlMicros ?? 0)])
        let (s, hb, now) = try beginHolds(rec)
        if try replay(rec, call) != nil { return }
        let table = holdTable(rec)
        let g = rec.stateLatch.lockedGeneration
        guard index >= 2 && index < s.strategyCount else {
            throw refuse(rec, remembering: call, Refusal(.notASubStrategy, .hold, key, index: index, amount: amount, detail: Amount(raw: Int128(s.strategyCount))))
        }
        guard amount.raw > 0 else { throw refuse(rec, remembering: call, Refusal(.nonPositiveAmount, .hold, key, index: index, amount: amount)) }
        if let e = table.find(id, in: g) {
            let ttl = table.expiresMicros(e) == 0 ? nil : table.expiresMicros(e) &- table.createdMicros(e)
            if table.slot(e) == index && table.original(e) == amount && ttl == ttlMicros {
                unlock(rec)  // a replay: the hold exists as asked
                return
            }
            // Not remembered under the id: the id belongs to the open hold, which must stay reachable by it.
            throw refuse(rec, Refusal(.holdIdInUse, .hold, key, index: table.slot(e), amount: amount, detail: table.original(e)))
        }
        let free = s.slots[index].raw &- hb.held[index].raw
        guard amount.raw <= free else {
            throw refuse(rec, remembering: call, Refusal(.exceedsFree, .hold, key, index: index, amount: amount, detail: Amount(raw: free)))
        }
        let capacity = segment.geometry.holdCapacity
        guard hb.openHolds < capacity, let e = table.freeEntry(in: g) else {
            throw refuse(rec, remembering: call, Refusal(.holdTableFull, .hold, key, index: index, amount: amount, detail: Amount(raw: Int128(capacity))))
        }
        var next = hb
        next.held[index] = Amount(raw: hb.held[index].raw &+ amount.raw)
        next.counts[index] &+= 1
        next.holdSerial &+= 1
        let expires = ttlMicros.map { now &+ $0 } ?? 0
        if expires != 0 && (next.earliestExpiry == 0 || expires < next.earliestExpiry) { next.earliestExpiry = expires }
        commitHolds(rec, .hold, s, next, index: index, amount: amount, detail: Amount(raw: free &- amount.raw), now: now, remembering: call) { g1 in
            table.open(e, id: id, slot: index, amount: amount, original: amount, created: now, expires: expires, at: g1)
        }
        try confirmWritten(now)
    }

    /// The order `id` spent `amount + fee`: the budget and the total fall by it; the hold by as much
    /// as it covers; an overrun comes from the slot's free budget, then from the pool (never refused
    /// for money: the fill happened). `final` closes the hold, what remains returning to free.
    @discardableResult
    public func fill(_ key: BookKey, id: HoldId, _ amount: Amount, fee: Amount = .zero, final: Bool = false,
                     opId: OperationId? = nil) throws(BooksError) -> FillOutcome {
        let rec = try existing(key, for: .fill, amount: amount)
        let call = opId.map { OpCall($0, .fill, index: -1, amount: amount, second: fee, extra: [id.w0, id.w1, id.w2, id.w3, final ? 1 : 0]) }
        let (s0, hb, now) = try beginHolds(rec)
        if let call, let first = try replay(rec, call) {
            let over = first.detail.raw &+ first.after.raw
            return FillOutcome(fromHold: Amount(raw: amount.raw &+ fee.raw &- over), fromFree: first.detail, fromPool: first.after, closed: final)
        }
        var s = s0
        let table = holdTable(rec)
        let g = rec.stateLatch.lockedGeneration
        guard amount.raw >= 0 && fee.raw >= 0 else { throw refuse(rec, remembering: call, Refusal(.negativeFill, .fill, key, index: -1, amount: amount, detail: fee)) }
        guard let e = table.find(id, in: g) else { throw refuse(rec, remembering: call, Refusal(.unknownHold, .fill, key, index: -1, amount: amount)) }
        let index = table.slot(e)
        let remaining = table.amount(e).raw
        let spent = amount.raw &+ fee.raw
        guard amount.isStorable && fee.isStorable && Amount(raw: spent).isStorable, index >= 2 && index < s.strategyCount else {
            throw refuse(rec, remembering: call, Refusal(.overflow, .fill, key, index: index, amount: amount))
        }
        let fromHold = min(spent, remaining)
        let over = spent &- fromHold
        let free = max(0, s.slots[index].raw &- hb.held[index].raw)
        let fromFree = min(over, free)
        let fromPool = over &- fromFree
        s.slots[index] = Amount(raw: s.slots[index].raw &- fromHold &- fromFree)
        s.slots[1] = Amount(raw: s.slots[1].raw &- fromPool)
        s.slots[0] = Amount(raw: s.slots[0].raw &- spent)
        guard s.slots[0].isStorable && s.slots[1].isStorable else { throw refuse(rec, remembering: call, Refusal(.overflow, .fill, key, index: index, amount: amount)) }
        var next = hb
        let left = remaining &- fromHold
        next.held[index] = Amount(raw: hb.held[index].raw &- fromHold &- (final ? left : 0))
        if final { next.counts[index] &-= 1 }
        let spare = final ? -1 : table.freeEntry(in: g, except: e)
        // Never met: the table keeps one entry beyond the capacity for exactly this copy.
        guard spare != nil else { throw refuse(rec, remembering: call, Refusal(.holdTableFull, .fill, key, index: index, amount: amount)) }
        let outcome = FillOutcome(fromHold: Amount(raw: fromHold), fromFree: Amount(raw: fromFree), fromPool: Amount(raw: fromPool), closed: final)
        commitHolds(rec, .fill, s, next, index: index, amount: amount, detail: outcome.overrun, now: now,
                    remembering: call, result: (outcome.fromFree, outcome.fromPool)) { g1 in
            table.close(e, at: g1)
            // A partial fill: the hold goes on with what is left, in a new entry (visible entries never change).
            if let n = spare.flatMap({ $0 >= 0 ? $0 : nil }) {
                table.open(n, id: id, slot: index, amount: Amount(raw: left), original: table.original(e),
                           created: table.createdMicros(e), expires: table.expiresMicros(e), at: g1)
            }
        }
        try confirmWritten(now)
        return outcome
    }

    /// Closes the hold `id`: all it still keeps returns to the slot's free budget.
    public func void(_ key: BookKey, id: HoldId, opId: OperationId? = nil) throws(BooksError) {
        let rec = try existing(key, for: .void)
        let call = opId.map { OpCall($0, .void, index: -1, amount: .zero, extra: [id.w0, id.w1, id.w2, id.w3]) }
        let (s, hb, now) = try beginHolds(rec)
        if let call, try replay(rec, call) != nil { return }
        let table = holdTable(rec)
        guard let e = table.find(id, in: rec.stateLatch.lockedGeneration) else {
            throw refuse(rec, remembering: call, Refusal(.unknownHold, .void, key, index: -1, amount: .zero))
        }
        let index = table.slot(e)
        let remaining = table.amount(e)
        var next = hb
        next.held[index] = Amount(raw: hb.held[index].raw &- remaining.raw)
        next.counts[index] &-= 1
        commitHolds(rec, .void, s, next, index: index, amount: remaining, detail: .zero, now: now, remembering: call) { g1 in
            table.close(e, at: g1)
        }
        try confirmWritten(now)
    }

    /// The proceeds of a fill: the total and sub-strategy `index`'s budget rise by `amount` (the pool is not touched).
    public func receive(_ key: BookKey, index: Int, _ amount: Amount, opId: OperationId? = nil) throws(BooksError) {
        let rec = try existing(key, for: .receive, index: index, amount: amount)
        let call = opId.map { OpCall($0, .receive, index: index, amount: amount) }
        let (s0, hb, now) = try beginHolds(rec)
        if let call, try replay(rec, call) != nil { return }
        var s = s0
        guard index >= 2 && index < s.strategyCount else {
            throw refuse(rec, remembering: call, Refusal(.notASubStrategy, .receive, key, index: index, amount: amount, detail: Amount(raw: Int128(s.strategyCount))))
        }
        guard amount.raw > 0 else { throw refuse(rec, remembering: call, Refusal(.nonPositiveAmount, .receive, key, index: index, amount: amount)) }
        guard let budget = s.slots[index].adding(amount), let total = s.slots[0].adding(amount) else {
            throw refuse(rec, remembering: call, Refusal(.overflow, .receive, key, index: index, amount: amount))
        }
        s.slots[index] = budget
        s.slots[0] = total
        commitHolds(rec, .receive, s, hb, index: index, amount: amount, detail: .zero, now: now, remembering: call) { _ in }
        try confirmWritten(now)
    }

    // MARK: - reads

    /// Per meaningful slot: budget, held, count and free, all from one published copy.
    public func slotHolds(_ key: BookKey) throws(BooksError) -> [SlotHolds] {
        let rec = try existing(key, for: .get)
        var out: [SlotHolds] = []
        do {
            try rec.stateLatch.read { (c) -> Void in
                out.removeAll(keepingCapacity: true)
                let count = min(max(HeadWord.count(c.loadRelaxed(Layout.State.strategyCount)), 2), 64)
                let hb = HoldBooks(from: c)
                for i in 0..<count {
                    out.append(SlotHolds(budget: c.loadAmount(Layout.State.slots + Layout.amountSize * i), held: hb.held[i], count: Int(hb.counts[i])))
                }
            }
        } catch {
            throw rec.readFailed(error)
        }
        return out
    }

    /// The open holds (of slot `index`, or all), consistent with the published state: one latch
    /// read covers the whole pass, and entries are taken by the generation it read.
    public func holds(_ key: BookKey, index: Int? = nil) throws(BooksError) -> [OpenHold] {
        try readHolds(try existing(key, for: .get), index: index).holds
    }

    /// The open holds and the hold books of the copy they were read with.
    func readHolds(_ rec: RecordRef, index: Int? = nil) throws(BooksError) -> (holds: [OpenHold], books: HoldBooks, opCount: UInt64) {
        let table = holdTable(rec)
        let now = shmbal_now_micros()
        var out: [OpenHold] = []
        var books: HoldBooks?
        var opCount: UInt64 = 0
        do {
            try rec.stateLatch.read { (c, g) -> Void in
                out.removeAll(keepingCapacity: true)
                books = HoldBooks(from: c)
                opCount = c.loadRelaxed(Layout.State.opCount)
                for i in 0..<table.entries where table.isVisible(i, in: g) {
                    let slot = table.slot(i)
                    if let index, index != slot { continue }
                    let expires = table.expiresMicros(i)
                    out.append(OpenHold(id: HoldId(loadingFrom: table.entry(i) + Layout.Hold.id), index: slot, amount: table.amount(i), original: table.original(i),
                                        createdMicros: table.createdMicros(i), expiresMicros: expires == 0 ? nil : expires,
                                        expired: expires != 0 && expires <= now))
                }
            }
        } catch {
            throw rec.readFailed(error)
        }
        let sorted = out.sorted { ($0.index, $0.createdMicros, $0.id.description) < ($1.index, $1.createdMicros, $1.id.description) }
        return (sorted, books ?? HoldBooks(from: rec.stateLatch.copy(0)), opCount)
    }

    // MARK: - the commit

    /// Locks `rec`, voids the holds whose ttl passed (a publish of its own), and returns the state
    /// and hold books the operation starts from.
    @usableFromInline
    func beginHolds(_ rec: RecordRef) throws(BooksError) -> (RecordState, HoldBooks, Int64) {
        try requireWritable()
        try lock(rec)
        let now = shmbal_now_micros()
        do {
            try expireDue(rec, now: now)
            return (try lockedState(rec), HoldBooks(from: rec.stateLatch.lockedCurrent), now)
        } catch {
            unlock(rec)
            throw error
        }
    }

    /// `expireDue` for writers that are not hold operations (the caller holds the lock). A damaged
    /// record (its count out of range) is left to its repair: expiry refuses before writing anything.
    @usableFromInline @inline(never)
    func expireIfDue(_ rec: RecordRef) {
        try? expireDue(rec, now: shmbal_now_micros())
    }

    /// Voids every open hold whose ttl has passed (the caller holds the lock); one publish for all.
    @usableFromInline
    func expireDue(_ rec: RecordRef, now: Int64) throws(BooksError) {
        let cur = rec.stateLatch.lockedCurrent
        let earliest = Int64(bitPattern: cur.loadRelaxed(Layout.State.earliestExpiry))
        guard earliest != 0 && earliest <= now else { return }
        let s = try lockedState(rec)
        var next = HoldBooks(from: cur)
        let table = holdTable(rec)
        let g = rec.stateLatch.lockedGeneration
        var expired = 0
        var later: Int64 = 0
        for i in 0..<table.entries where table.isVisible(i, in: g) {
            let t = table.expiresMicros(i)
            if t == 0 { continue }
            if t <= now {
                let slot = table.slot(i)
                next.held[slot] = Amount(raw: next.held[slot].raw &- table.amount(i).raw)
                next.counts[slot] &-= 1
                expired &+= 1
            } else if later == 0 || t < later {
                later = t
            }
        }
        next.earliestExpiry = later
        commitHolds(rec, .expire, s, next, index: -1, amount: Amount(raw: Int128(expired)), detail: .zero, now: now, unlocking: false) { g1 in
            for i in 0..<table.entries where table.isVisible(i, in: g1 &- 1) {
                let t = table.expiresMicros(i)
                if t != 0 && t <= now { table.close(i, at: g1) }
            }
        }
    }

    /// Publishes `s` with the hold books `hb`; `tag` writes the hold entries, tagged with the
    /// generation this publish makes current. Then logs the activity and unlocks.
    @usableFromInline
    func commitHolds(_ rec: RecordRef, _ operation: Operation, _ s0: RecordState, _ hb0: HoldBooks, index: Int, amount: Amount,
                     detail: Amount, now: Int64, unlocking: Bool = true, remembering call: OpCall? = nil,
                     result: (Amount, Amount)? = nil, _ tag: (_ g1: UInt64) -> Void) {
        var s = s0
        var hb = hb0
        if call != nil { hb.opSeq &+= 1 }
        let log = opLog(rec)
        s.opCount &+= 1
        s.lastChangeMicros = now
        s.lastChangePid = pid
        s.lastIndex = max(0, index)
        let published = s
        let old = rec.stateLatch.lockedCurrent
        var changed: InlineArray<64, Bool> = InlineArray(repeating: false)
        for i in 0..<64 { changed[i] = old.loadAmount(Layout.State.slots + Layout.amountSize * i) != s.slots[i] }
        rec.stateLatch.publish { (next, cur, g) in
            writeState(published, to: next)
            copyNames(from: cur, to: next)
            hb.write(to: next)
            tag(g &+ 1)
            if let call {
                let r = result ?? (detail, index >= 0 && index < 64 ? published.slots[index] : .zero)
                log.record(call, OpResult(outcome: 0, detail: r.0, after: r.1), seq: hb0.opSeq, opSeq: hb0.opSeq)
            }
        }
        appendActivity(operation, rec.key, index: index, outcome: 0, epoch: s.epoch, amount: amount, detail: detail,
                       after: index >= 0 && index < 64 ? s.slots[index] : .zero, now: now)
        for i in 0..<64 where changed[i] { rec.p.storeRelaxed(UInt64(bitPattern: now), Layout.Record.slotChangedMicros + 8 * i) }
        if unlocking { unlock(rec) }
    }
}
