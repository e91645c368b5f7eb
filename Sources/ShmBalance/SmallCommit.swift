import CShmBalanceSys

// The small commit: hold, fill, void, receive, and allocate/release with an op id. Like the hot
// pair (Operations.swift) it works on the published copy in place, with no `RecordState` copy:
// it changes at most the total, the pool and one slot with its held sum and hold count (plus the
// op-id sequence and the hold serial), and brings the unpublished copy up to date by copying only
// what the previous commit changed, when that commit's mark (`Layout.pairMark`/`slotMark`/`heldMark`/`deltaMark`) says
// what that was. Every other writer leaves no mark, and the next small commit copies in full.

/// What a small commit writes, on slot `index`.
@usableFromInline
struct SmallChange {
    @usableFromInline var index: Int
    @usableFromInline var total: Amount?
    @usableFromInline var pool: Amount?
    @usableFromInline var slot: Amount?
    @usableFromInline var held: Amount?
    @usableFromInline var countDelta: Int32 = 0
    @usableFromInline var opensHold = false
    /// A new lower bound for the earliest expiry (a hold with a ttl).
    @usableFromInline var earliestExpiry: Int64?

    @inlinable
    init(index: Int, total: Amount? = nil, pool: Amount? = nil, slot: Amount? = nil, held: Amount? = nil) {
        self.index = index
        self.total = total
        self.pool = pool
        self.slot = slot
        self.held = held
    }
}

extension Books {
    /// Locks `rec`, voids the holds whose ttl passed (one load when none has a ttl), and returns
    /// the published copy and its head word. A damaged count is refused as damage (reset repairs it).
    @inlinable @inline(__always)
    func beginSmall(_ rec: RecordRef) throws(BooksError) -> (cur: UnsafeMutableRawPointer, w0: UInt64) {
        try requireWritable()
        try lock(rec)
        // One load of `earliestExpiry`: only a record with a hold that has a ttl takes the expiry path.
        let cur = lockedCurrentAfterExpiry(rec)
        let w0 = cur.loadRelaxed(Layout.State.strategyCount)
        let count = HeadWord.count(w0)
        guard count >= Layout.minStrategyCount && count <= Layout.slotCount else {
            unlock(rec)
            throw rec.corruptCount(count)
        }
        return (cur, w0)
    }

    /// Makes the unpublished copy equal to the published one (generation `g`, head word `w0`):
    /// the few words the last commit changed when its mark vouches for them, else everything.
    @inlinable @inline(__always)
    func syncUnpublished(from cur: UnsafeMutableRawPointer, to next: UnsafeMutableRawPointer, generation g: UInt64, w0: UInt64) {
        let mark = cur.loadRelaxed(Layout.State.pairMark)
        let last = Layout.State.slots &+ Layout.amountSize &* HeadWord.lastIndex(w0)
        if mark == Layout.pairMark(g) {
            next.copyAmount(from: cur, Layout.State.slots + Layout.amountSize)
            next.copyAmount(from: cur, last)
        } else if mark == Layout.slotMark(g) {
            next.copyAmount(from: cur, Layout.State.slots)
            next.copyAmount(from: cur, Layout.State.slots + Layout.amountSize)
            next.copyAmount(from: cur, last)
            next.storeRelaxed(cur.loadRelaxed(Layout.State.opSeq), Layout.State.opSeq)
        } else {
            // Out of line: with every mark inline, an allocate with an op id grew past the
            // inliner's size limit and its whole commit stayed a call (+175 instructions).
            syncAfterHoldWriter(from: cur, to: next, generation: g, w0: w0)
        }
    }

    /// `syncUnpublished` after a writer other than allocate/release, with or without an op id,
    /// and receive: a hold or a void (`heldMark`), a fill (`deltaMark`), anything else in full.
    @usableFromInline @inline(never)
    func syncAfterHoldWriter(from cur: UnsafeMutableRawPointer, to next: UnsafeMutableRawPointer, generation g: UInt64, w0: UInt64) {
        let mark = cur.loadRelaxed(Layout.State.pairMark)
        if mark == Layout.heldMark(g) {
            copyHoldChange(from: cur, to: next, lastIndex: HeadWord.lastIndex(w0))
        } else if mark == Layout.deltaMark(g) {
            copySmallChange(from: cur, to: next, lastIndex: HeadWord.lastIndex(w0))
        } else {
            copyState(from: cur, to: next, slots: HeadWord.count(w0))
        }
    }

    /// The pair's unpublished copy after a writer other than allocate/release: out of line, so the
    /// pair's own path (after another pair) stays small enough to inline whole.
    @usableFromInline @inline(never)
    func syncAfterOtherWriter(from cur: UnsafeMutableRawPointer, to next: UnsafeMutableRawPointer, generation g: UInt64, w0: UInt64) {
        syncUnpublished(from: cur, to: next, generation: g, w0: w0)
    }

    /// The words a small commit on slot `i` may have changed (`Layout.deltaMark`), but the stamp.
    @inlinable @inline(__always)
    func copySmallChange(from cur: UnsafeMutableRawPointer, to next: UnsafeMutableRawPointer, lastIndex i: Int) {
        next.copyAmount(from: cur, Layout.State.slots)
        next.copyAmount(from: cur, Layout.State.slots + Layout.amountSize)
        next.copyAmount(from: cur, Layout.State.slots &+ Layout.amountSize &* i)
        copyHoldChange(from: cur, to: next, lastIndex: i)
    }

    /// The words a hold or a void on slot `i` may have changed (`Layout.heldMark`), but the stamp.
    @inlinable @inline(__always)
    func copyHoldChange(from cur: UnsafeMutableRawPointer, to next: UnsafeMutableRawPointer, lastIndex i: Int) {
        next.copyAmount(from: cur, Layout.State.held &+ Layout.amountSize &* i)
        let countWord = Layout.State.holdCounts &+ 4 &* (i & ~1)
        next.storeRelaxed(cur.loadRelaxed(countWord), countWord)
        next.storeRelaxed(cur.loadRelaxed(Layout.State.opSeq), Layout.State.opSeq)
        next.storeRelaxed(cur.loadRelaxed(Layout.State.holdSerial), Layout.State.holdSerial)
        next.storeRelaxed(cur.loadRelaxed(Layout.State.earliestExpiry), Layout.State.earliestExpiry)
    }

    /// Publishes the published state changed by `c` (and `tag`'s hold entries, tagged with the new
    /// generation; and `call` with `result` in the op-id ring), with the Latch's one release store.
    /// Then logs the activity and unlocks. The caller holds the lock; nothing here can refuse.
    @inlinable @inline(__always)
    func commitSmall(_ rec: RecordRef, _ cur: UnsafeMutableRawPointer, w0: UInt64, _ c: SmallChange, _ operation: Operation,
                     amount: Amount, detail: Amount, after: Amount, now: Int64, call: OpCall?, result: OpResult,
                     _ tag: (_ g1: UInt64) -> Void) {
        // The fence and expiry bits go back with the count; a hold with a ttl sets the expiry bit
        // (nothing here clears the earliest expiry: only the expiry path does, and settles the bit).
        let count = HeadWord.countWord(w0) | (c.earliestExpiry != nil ? Int(HeadWord.expiryBit) : 0)
        let i = c.index
        rec.stateLatch.publish { (next, cur, g) in
            syncUnpublished(from: cur, to: next, generation: g, w0: w0)
            if let t = c.total { next.storeAmount(t, Layout.State.slots) }
            if let p = c.pool { next.storeAmount(p, Layout.State.slots + Layout.amountSize) }
            if let v = c.slot { next.storeAmount(v, Layout.State.slots &+ Layout.amountSize &* i) }
            if let h = c.held { next.storeAmount(h, Layout.State.held &+ Layout.amountSize &* i) }
            if c.countDelta != 0 {
                let word = Layout.State.holdCounts &+ 4 &* (i & ~1)
                let shift = UInt64(32 &* (i & 1))
                let w = cur.loadRelaxed(word)
                let n = UInt32(truncatingIfNeeded: w >> shift) &+ UInt32(bitPattern: c.countDelta)
                next.storeRelaxed(w & ~(0xFFFF_FFFF << shift) | UInt64(n) << shift, word)
            }
            if c.opensHold { next.storeRelaxed(cur.loadRelaxed(Layout.State.holdSerial) &+ 1, Layout.State.holdSerial) }
            if let e = c.earliestExpiry { next.storeRelaxed(UInt64(bitPattern: e), Layout.State.earliestExpiry) }
            stampState(next, count: count, index: i, opCount: cur.loadRelaxed(Layout.State.opCount), now: now)
            // A change of one slot's money alone (no held sum, count, serial or expiry), or of its
            // hold books alone (no total, pool or budget), vouches for less, so the next commit
            // copies less. Known once this is inlined: no test at run time.
            let slotOnly = c.held == nil && c.countDelta == 0 && !c.opensHold && c.earliestExpiry == nil
            let heldOnly = c.total == nil && c.pool == nil && c.slot == nil
            next.storeRelaxed(slotOnly ? Layout.slotMark(g &+ 1) : heldOnly ? Layout.heldMark(g &+ 1) : Layout.deltaMark(g &+ 1),
                              Layout.State.pairMark)
            tag(g &+ 1)
            if let call { opLog(rec).recordNext(call, result, from: cur, to: next) }
        }
        appendActivity(operation, rec.key, index: i, outcome: 0, epoch: cur.loadRelaxed(Layout.State.epoch),
                       amount: amount, detail: detail, after: after, now: now)
        let stamp = UInt64(bitPattern: now)
        if c.total != nil { rec.p.storeRelaxed(stamp, Layout.Record.slotChangedMicros) }
        if c.pool != nil { rec.p.storeRelaxed(stamp, Layout.Record.slotChangedMicros + 8) }
        if c.slot != nil { rec.p.storeRelaxed(stamp, Layout.Record.slotChangedMicros &+ 8 &* i) }
        unlock(rec)
    }
}

extension UnsafeMutableRawPointer {
    /// Copies the 16-byte amount at `offset` of `source` here, as two relaxed words.
    @inlinable @inline(__always)
    func copyAmount(from source: UnsafeMutableRawPointer, _ offset: Int) {
        storeRelaxed(source.loadRelaxed(offset), offset)
        storeRelaxed(source.loadRelaxed(offset &+ 8), offset &+ 8)
    }
}
