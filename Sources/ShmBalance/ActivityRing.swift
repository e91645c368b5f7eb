import Atomics
import CShmBalanceSys
import Glibc

/// One entry of the activity ring: an applied or refused mutation.
public struct ActivityEntry: Sendable, Equatable {
    public var sequence: UInt64
    public var timeMicros: Int64
    public var pid: Int32
    public var operation: Operation?
    /// nil when the operation was applied, else why it was refused.
    public var refusal: RefusalCode?
    /// The slot index, or nil when the operation is not about one slot.
    public var index: Int?
    public var epoch: UInt64
    public var key: BookKey
    /// The operation's argument (amount, delta, balance, credit, count …).
    public var amount: Amount
    /// The figure behind the outcome: the limit a refusal hit, the Δ a reconcile repaired …
    public var detail: Amount
    /// The changed slot's value after an applied operation.
    public var after: Amount

    public var applied: Bool { refusal == nil }

    /// The refusal's message, rebuilt from the entry.
    public var refusalMessage: String? {
        guard let code = refusal, let op = operation else { return nil }
        return Refusal(code, op, key, index: index ?? 0, amount: amount, detail: detail).description
    }
}

extension Books {
    /// Appends an entry: claims a sequence number `s` with one atomic add, takes the entry's slot
    /// by a compare-and-swap of its stamp from the previous occupant's "complete" value to
    /// `2s + 1` (writing), fills it, and publishes it by storing `2s` (complete, release).
    ///
    /// Why the compare-and-swap: a writer preempted between claiming and writing can be lapped —
    /// the ring goes round and a newer writer takes the same slot — and two writers storing into
    /// one entry made a mixed entry whose stamp checked out (found by `ReadRaceTests`). Now a slot
    /// has one writer at a time: a writer that finds it taken by a newer one drops its entry
    /// (overwritten anyway), one that finds an older writer still in it waits a moment and then
    /// drops its own; only a writer at least two laps old (dead, or stopped that long) is taken
    /// over. A dropped entry is what a reader already sees for an overwritten or unfinished one.
    @inlinable @inline(__always)
    func appendActivity(_ operation: Operation, _ key: BookKey, index: Int, outcome: UInt8, epoch: UInt64,
                        amount: Amount, detail: Amount, after: Amount, now: Int64) {
        let seq = base.atomic64(Layout.Header.ringHead).loadThenWrappingIncrement(ordering: .relaxed) &+ 1
        let e = base + (ringOffset &+ Int(truncatingIfNeeded: (seq &- 1) & ringMask) &* Layout.Ring.entrySize)
        // The previous occupant of this slot, complete: `seq − capacity` (a new segment's slots say
        // so for the sequence numbers 1 − capacity … 0 that never were: `Segment.initialise`).
        let previous = RingStamp.complete(seq &- (ringMask &+ 1))
        let (taken, _) = e.atomic64(Layout.Ring.stamp).compareExchange(expected: previous, desired: RingStamp.writing(seq), ordering: .relaxed)
        if _slowPath(!taken) { guard claimRingSlot(e, seq) else { return } }
        // Release fence: the stamp's "writing" is visible before any field we store next.
        atomicMemoryFence(ordering: .releasing)
        e.storeRelaxed(UInt64(bitPattern: now), Layout.Ring.timeMicros)
        e.storeRelaxed(RingWord.pack(pid: pid, operation: operation.rawValue, outcome: outcome, index: index), Layout.Ring.pid)
        e.storeRelaxed(epoch, Layout.Ring.epoch)
        e.storeName(key.exchange, Layout.Ring.exchange)
        e.storeName(key.currency, Layout.Ring.currency)
        e.storeAmount(amount, Layout.Ring.amount)
        e.storeAmount(detail, Layout.Ring.detail)
        e.storeAmount(after, Layout.Ring.after)
        e.storeReleasing(RingStamp.complete(seq), Layout.Ring.stamp)
    }

    /// The slot was not as expected: decide whether this writer may have it (see `appendActivity`).
    @usableFromInline @inline(never)
    func claimRingSlot(_ e: UnsafeMutableRawPointer, _ seq: UInt64) -> Bool {
        let stamp = e.atomic64(Layout.Ring.stamp)
        let lap = ringMask &+ 1
        for turn in 0..<256 {
            let v = stamp.load(ordering: .relaxed)
            let owner = RingStamp.sequence(v)
            if owner >= seq { return false }  // a newer writer has it: ours is overwritten anyway
            if RingStamp.isWriting(v) && owner &+ 2 &* lap > seq {
                // An older writer is still in it: give it a moment (it is a few stores from done).
                shmbal_cpu_relax()
                if turn & 63 == 63 { sched_yield() }
                continue
            }
            // Complete and older (its writer gave its slot up), or a writer two laps old: take it.
            if stamp.compareExchange(expected: v, desired: RingStamp.writing(seq), ordering: .relaxed).exchanged { return true }
        }
        return false
    }

    /// The sequence number of the newest entry claimed so far (0 when none).
    public var activityHead: UInt64 { base.loadAcquiring(Layout.Header.ringHead) }

    /// Complete entries with sequence numbers after `sequence`, oldest first (at most the ring's capacity,
    /// and at most `limit`, the newest ones).
    public func activity(after sequence: UInt64 = 0, limit: Int = .max) -> [ActivityEntry] {
        let head = activityHead
        let capacity = UInt64(segment.geometry.ringCapacity)
        var first = max(sequence &+ 1, head > capacity ? head - capacity + 1 : 1)
        if limit < Int.max, head >= first, head - first + 1 > UInt64(limit) { first = head - UInt64(limit) + 1 }
        var out: [ActivityEntry] = []
        guard head >= first else { return out }
        out.reserveCapacity(Int(head - first + 1))
        for seq in first...head {
            if let entry = readActivity(seq) { out.append(entry) }
        }
        return out
    }

    func readActivity(_ seq: UInt64) -> ActivityEntry? {
        let e = base + (ringOffset + Int(truncatingIfNeeded: (seq &- 1) & ringMask) * Layout.Ring.entrySize)
        let s1 = e.loadAcquiring(Layout.Ring.stamp)
        guard s1 == RingStamp.complete(seq) else { return nil }
        let time = Int64(bitPattern: e.loadRelaxed(Layout.Ring.timeMicros))
        let packed = e.loadRelaxed(Layout.Ring.pid)
        let epoch = e.loadRelaxed(Layout.Ring.epoch)
        let key = BookKey(exchange: e.loadName(Layout.Ring.exchange), currency: e.loadName(Layout.Ring.currency))
        let amount = e.loadAmount(Layout.Ring.amount)
        let detail = e.loadAmount(Layout.Ring.detail)
        let after = e.loadAmount(Layout.Ring.after)
        atomicMemoryFence(ordering: .acquiring)
        guard e.loadRelaxed(Layout.Ring.stamp) == s1 else { return nil }
        let outcome = RingWord.outcome(packed)
        return ActivityEntry(
            sequence: seq, timeMicros: time, pid: RingWord.pid(packed), operation: Operation(rawValue: RingWord.operation(packed)),
            refusal: outcome == 0 ? nil : RefusalCode(rawValue: outcome),
            index: RingWord.index(packed), epoch: epoch, key: key, amount: amount, detail: detail, after: after)
    }
}

/// An activity entry's stamp: `2s` once entry `s` is complete, `2s + 1` while its writer is filling it.
@usableFromInline
enum RingStamp {
    @inlinable @inline(__always) static func complete(_ seq: UInt64) -> UInt64 { seq &<< 1 }
    @inlinable @inline(__always) static func writing(_ seq: UInt64) -> UInt64 { seq &<< 1 | 1 }
    @inlinable @inline(__always) static func sequence(_ stamp: UInt64) -> UInt64 { stamp >> 1 }
    @inlinable @inline(__always) static func isWriting(_ stamp: UInt64) -> Bool { stamp & 1 != 0 }
}
