import CShmBalanceSys

// The operations of SPEC §9 on holds: hold, fill, void, receive, expiry. Each one: the record's
// lock, every check that can refuse, then one `Latch.publish` that writes the state copy (budgets,
// held sums, counts) and tags the hold entries it opens or closes with the generation it publishes.
// hold/fill/void/receive are small commits (SmallCommit.swift: in place, no state copy); holds are
// found through the writer-only index (IdIndex.swift).

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

    @inlinable
    public init(fromHold: Amount, fromFree: Amount, fromPool: Amount, closed: Bool) {
        self.fromHold = fromHold
        self.fromFree = fromFree
        self.fromPool = fromPool
        self.closed = closed
    }
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
    @inlinable
    public func hold(_ key: BookKey, index: Int, _ amount: Amount, id: HoldId, ttlMicros: Int64? = nil) throws(BooksError) {
        try hold(try existing(key, for: .hold, index: index, amount: amount), index: index, amount, id: id, ttlMicros: ttlMicros)
    }

    @inlinable
    public func hold(_ rec: RecordRef, index: Int, _ amount: Amount, id: HoldId, ttlMicros: Int64? = nil) throws(BooksError) {
        if let ttl = ttlMicros, ttl <= 0 { throw .badInput("a hold's ttl must be above 0 (got \(ttl) µs)") }
        let call = plainCall(id, .hold, index: index, amount: amount, x0: UInt64(bitPattern: ttlMicros ?? 0))
        let (cur, w0) = try beginSmall(rec)
        if try replay(rec, call) != nil { return }
        let count = HeadWord.count(w0)
        guard index >= 2 && index < count else {
            throw refuse(rec, remembering: call, Refusal(.notASubStrategy, .hold, rec.key, index: index, amount: amount, detail: Amount(raw: Int128(count))))
        }
        guard amount.raw > 0 else { throw refuse(rec, remembering: call, Refusal(.nonPositiveAmount, .hold, rec.key, index: index, amount: amount)) }
        let table = holdTable(rec)
        let g = rec.stateLatch.lockedGeneration
        if let e = table.find(id, hash: call.hash, in: g) {
            if let refused = holdIdTaken(rec, table, e, call, ttlMicros) { throw refused }
            return  // a replay: the hold exists as asked
        }
        let budget = cur.loadAmount(Layout.State.slots &+ Layout.amountSize &* index).raw
        let held = cur.loadAmount(Layout.State.held &+ Layout.amountSize &* index).raw
        let free = budget &- held
        guard amount.raw <= free else {
            throw refuse(rec, remembering: call, Refusal(.exceedsFree, .hold, rec.key, index: index, amount: amount, detail: Amount(raw: free)))
        }
        // Two free entries: this hold's, and the spare a partial fill's copy needs (so at most
        // `holdCapacity` holds are open).
        let serial = cur.loadRelaxed(Layout.State.holdSerial)
        guard let e = table.twoFreeEntries(in: g, from: serial) else {
            let capacity = Amount(raw: Int128(table.entries - 1))
            throw refuse(rec, remembering: call, Refusal(.holdTableFull, .hold, rec.key, index: index, amount: amount, detail: capacity))
        }
        let now = shmbal_now_micros()
        let expires = ttlMicros.map { now &+ $0 } ?? 0
        var c = SmallChange(index: index, held: Amount(raw: held &+ amount.raw))
        c.countDelta = 1
        c.opensHold = true
        if expires != 0 {
            let earliest = Int64(bitPattern: cur.loadRelaxed(Layout.State.earliestExpiry))
            if earliest == 0 || expires < earliest { c.earliestExpiry = expires }
        }
        let left = Amount(raw: free &- amount.raw)
        commitSmall(rec, cur, w0: w0, c, .hold, amount: amount, detail: left, after: Amount(raw: budget), now: now, call: call,
                    result: OpResult(outcome: 0, detail: left, after: Amount(raw: budget))) { g1 in
            table.open(e, id: id, slot: index, amount: amount, original: amount, created: now, expires: expires, at: g1)
            table.index.insert(id, hash: call.hash, at: e)
        }
        try confirmWritten(now)
    }

    /// `hold` found `call`'s id open: nil (unlocked) if it is the same hold, else the refusal. Out of line.
    @usableFromInline @inline(never)
    func holdIdTaken(_ rec: RecordRef, _ table: HoldTable, _ e: Int, _ call: OpCall, _ ttlMicros: Int64?) -> BooksError? {
        let ttl = table.expiresMicros(e) == 0 ? nil : table.expiresMicros(e) &- table.createdMicros(e)
        if table.slot(e) == call.index && table.original(e) == call.amount && ttl == ttlMicros {
            unlock(rec)
            return nil
        }
        // Not remembered under the id: the id belongs to the open hold, which must stay reachable by it.
        return refuse(rec, Refusal(.holdIdInUse, .hold, rec.key, index: table.slot(e), amount: call.amount, detail: table.original(e), holdId: call.id))
    }

    /// The order `id` spent `amount + fee`: the budget and the total fall by it; the hold by as much
    /// as it covers; an overrun comes from the slot's free budget, then from the pool (never refused
    /// for money: the fill happened). `final` closes the hold, what remains returning to free.
    @discardableResult @inlinable
    public func fill(_ key: BookKey, id: HoldId, _ amount: Amount, fee: Amount = .zero, final: Bool = false,
                     opId: OperationId? = nil) throws(BooksError) -> FillOutcome {
        try fill(try existing(key, for: .fill, amount: amount), id: id, amount, fee: fee, final: final, opId: opId)
    }

    @discardableResult @inlinable
    public func fill(_ rec: RecordRef, id: HoldId, _ amount: Amount, fee: Amount = .zero, final: Bool = false,
                     opId: OperationId? = nil) throws(BooksError) -> FillOutcome {
        let call = opId.map { OpCall($0, .fill, index: -1, amount: amount, second: fee, id.w0, id.w1, id.w2, id.w3, final ? 1 : 0) }
        let (cur, w0) = try beginSmall(rec)
        if let call, let first = try replay(rec, call) {
            let over = first.detail.raw &+ first.after.raw
            return FillOutcome(fromHold: Amount(raw: amount.raw &+ fee.raw &- over), fromFree: first.detail, fromPool: first.after, closed: final)
        }
        let table = holdTable(rec)
        let g = rec.stateLatch.lockedGeneration
        guard amount.raw >= 0 && fee.raw >= 0 else {
            throw refuse(rec, remembering: call, Refusal(.negativeFill, .fill, rec.key, index: -1, amount: amount, detail: fee))
        }
        let hash = IdIndex.hash(id)  // once, for the find and the remove
        guard let e = table.findOrScan(id, hash: hash, in: g) else { throw refuse(rec, remembering: call, Refusal(.unknownHold, .fill, rec.key, index: -1, amount: amount, holdId: id)) }
        let index = table.slot(e)
        let remaining = table.amount(e).raw
        let spent = amount.raw &+ fee.raw
        guard amount.isStorable && fee.isStorable && Amount(raw: spent).isStorable, index >= 2 && index < HeadWord.count(w0) else {
            throw refuse(rec, remembering: call, Refusal(.overflow, .fill, rec.key, index: index, amount: amount))
        }
        let budget = cur.loadAmount(Layout.State.slots &+ Layout.amountSize &* index).raw
        let held = cur.loadAmount(Layout.State.held &+ Layout.amountSize &* index).raw
        let fromHold = min(spent, remaining)
        let over = spent &- fromHold
        let fromFree = min(over, max(0, budget &- held))
        let fromPool = over &- fromFree
        let total = Amount(raw: cur.loadAmount(Layout.State.slots).raw &- spent)
        let pool = Amount(raw: cur.loadAmount(Layout.State.slots + Layout.amountSize).raw &- fromPool)
        guard total.isStorable && pool.isStorable else { throw refuse(rec, remembering: call, Refusal(.overflow, .fill, rec.key, index: index, amount: amount)) }
        let left = remaining &- fromHold
        var c = SmallChange(index: index, total: total, pool: fromPool != 0 ? pool : nil, slot: Amount(raw: budget &- fromHold &- fromFree),
                            held: Amount(raw: held &- fromHold &- (final ? left : 0)))
        if final { c.countDelta = -1 }
        let spare = final ? -1 : table.freeEntry(in: g, from: cur.loadRelaxed(Layout.State.holdSerial), except: e) ?? -2
        // Never met: the table keeps one entry beyond the capacity for exactly this copy.
        guard spare != -2 else { throw refuse(rec, remembering: call, Refusal(.holdTableFull, .fill, rec.key, index: index, amount: amount)) }
        let outcome = FillOutcome(fromHold: Amount(raw: fromHold), fromFree: Amount(raw: fromFree), fromPool: Amount(raw: fromPool), closed: final)
        let now = shmbal_now_micros()
        commitSmall(rec, cur, w0: w0, c, .fill, amount: amount, detail: outcome.overrun, after: c.slot!, now: now, call: call,
                    result: OpResult(outcome: 0, detail: outcome.fromFree, after: outcome.fromPool)) { g1 in
            table.close(e, at: g1)
            if spare >= 0 {
                // A partial fill: the hold goes on with what is left, in a new entry (visible entries never change).
                table.open(spare, id: id, slot: index, amount: Amount(raw: left), original: table.original(e),
                           created: table.createdMicros(e), expires: table.expiresMicros(e), at: g1)
                table.index.replace(id, e, with: spare)
            } else {
                table.index.remove(id, hash: hash, at: e)
            }
        }
        try confirmWritten(now)
        return outcome
    }

    /// Closes the hold `id`: all it still keeps returns to the slot's free budget.
    @inlinable
    public func void(_ key: BookKey, id: HoldId, opId: OperationId? = nil) throws(BooksError) {
        try void(try existing(key, for: .void), id: id, opId: opId)
    }

    @inlinable
    public func void(_ rec: RecordRef, id: HoldId, opId: OperationId? = nil) throws(BooksError) {
        let call = opId.map { OpCall($0, .void, index: -1, amount: .zero, id.w0, id.w1, id.w2, id.w3) }
        let (cur, w0) = try beginSmall(rec)
        if let call, try replay(rec, call) != nil { return }
        let table = holdTable(rec)
        let hash = IdIndex.hash(id)  // once, for the find and the remove
        guard let e = table.findOrScan(id, hash: hash, in: rec.stateLatch.lockedGeneration) else {
            throw refuse(rec, remembering: call, Refusal(.unknownHold, .void, rec.key, index: -1, amount: .zero, holdId: id))
        }
        let index = table.slot(e)
        let remaining = table.amount(e)
        var c = SmallChange(index: index, held: Amount(raw: cur.loadAmount(Layout.State.held &+ Layout.amountSize &* index).raw &- remaining.raw))
        c.countDelta = -1
        let now = shmbal_now_micros()
        let budget = cur.loadAmount(Layout.State.slots &+ Layout.amountSize &* index)
        commitSmall(rec, cur, w0: w0, c, .void, amount: remaining, detail: .zero, after: budget, now: now, call: call,
                    result: OpResult(outcome: 0, detail: .zero, after: budget)) { g1 in
            table.close(e, at: g1)
            table.index.remove(id, hash: hash, at: e)
        }
        try confirmWritten(now)
    }

    /// The proceeds of a fill: the total and sub-strategy `index`'s budget rise by `amount` (the pool is not touched).
    @inlinable
    public func receive(_ key: BookKey, index: Int, _ amount: Amount, opId: OperationId? = nil) throws(BooksError) {
        try receive(try existing(key, for: .receive, index: index, amount: amount), index: index, amount, opId: opId)
    }

    @inlinable
    public func receive(_ rec: RecordRef, index: Int, _ amount: Amount, opId: OperationId? = nil) throws(BooksError) {
        let call = opId.map { plainCall($0, .receive, index: index, amount: amount) }
        let (cur, w0) = try beginSmall(rec)
        if let call, try replay(rec, call) != nil { return }
        let count = HeadWord.count(w0)
        guard index >= 2 && index < count else {
            throw refuse(rec, remembering: call, Refusal(.notASubStrategy, .receive, rec.key, index: index, amount: amount, detail: Amount(raw: Int128(count))))
        }
        guard amount.raw > 0 else { throw refuse(rec, remembering: call, Refusal(.nonPositiveAmount, .receive, rec.key, index: index, amount: amount)) }
        guard let budget = cur.loadAmount(Layout.State.slots &+ Layout.amountSize &* index).adding(amount),
              let total = cur.loadAmount(Layout.State.slots).adding(amount) else {
            throw refuse(rec, remembering: call, Refusal(.overflow, .receive, rec.key, index: index, amount: amount))
        }
        let now = shmbal_now_micros()
        commitSmall(rec, cur, w0: w0, SmallChange(index: index, total: total, slot: budget), .receive, amount: amount, detail: .zero,
                    after: budget, now: now, call: call, result: OpResult(outcome: 0, detail: .zero, after: budget)) { _ in }
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

    /// `expireDue` for writers that are not hold operations (the caller holds the lock). A damaged
    /// record (its count out of range) is left to its repair: expiry refuses before writing anything.
    @usableFromInline @inline(never)
    func expireIfDue(_ rec: RecordRef) {
        try? expireDue(rec, now: shmbal_now_micros())
    }

    /// The published copy for a writer holding the lock, once the holds whose ttl passed are
    /// voided (the small commit's start; the hot pair reads the head word's expiry bit instead).
    /// One load when no hold has a ttl: the copy found first is the one returned, so the fast path
    /// selects it once.
    @inlinable @inline(__always)
    func lockedCurrentAfterExpiry(_ rec: RecordRef) -> UnsafeMutableRawPointer {
        let cur = rec.stateLatch.lockedCurrent
        if _slowPath(cur.loadRelaxed(Layout.State.earliestExpiry) != 0) { return expireThenCurrent(rec) }
        return cur
    }

    /// `expireIfDue`, then the copy it may have published.
    @usableFromInline @inline(never)
    func expireThenCurrent(_ rec: RecordRef) -> UnsafeMutableRawPointer {
        expireIfDue(rec)
        return rec.stateLatch.lockedCurrent
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
                if t != 0 && t <= now {
                    table.close(i, at: g1)
                    table.index.remove(table.index.idAt(i), at: i)
                }
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
            Books.settleExpiryBit(next)
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
