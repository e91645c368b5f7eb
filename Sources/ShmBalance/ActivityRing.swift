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
    /// "being written by this process", fills it, and publishes it by storing `2s` (release).
    ///
    /// A slot has one writer at a time, and a live writer is never taken over: a writer preempted
    /// between claiming and filling can be lapped (the ring goes round and a newer writer comes to
    /// the same slot), and two writers storing into one entry made a mixed entry whose stamp
    /// checked out (found by `ReadRaceTests`, first with a takeover after two laps, which a writer
    /// stopped that long still suffered). So a writer that finds its slot taken drops its entry,
    /// and takes the slot over only from a writer whose process is gone (killed mid-append). A
    /// dropped entry is what a reader already sees for an overwritten or unfinished one.
    @inlinable @inline(__always)
    func appendActivity(_ operation: Operation, _ key: BookKey, index: Int, outcome: UInt8, epoch: UInt64,
                        amount: Amount, detail: Amount, after: Amount, now: Int64) {
        let seq = base.atomic64(Layout.Header.ringHead).loadThenWrappingIncrement(ordering: .relaxed) &+ 1
        let e = base + (ringOffset &+ Int(truncatingIfNeeded: (seq &- 1) & ringMask) &* Layout.Ring.entrySize)
        // The previous occupant of this slot, complete: `seq − capacity` (a new segment's slots say
        // so for the sequence numbers 1 − capacity … 0 that never were: `Segment.initialise`).
        let previous = RingStamp.complete(seq &- (ringMask &+ 1))
        let writer = pid
        let (taken, _) = e.atomic64(Layout.Ring.stamp).compareExchange(expected: previous, desired: RingStamp.writing(writer), ordering: .relaxed)
        if _slowPath(!taken) { guard claimRingSlot(e, seq, writer) else { return } }
        // Release fence: the stamp's "writing" is visible before any field we store next.
        atomicMemoryFence(ordering: .releasing)
        e.storeRelaxed(UInt64(bitPattern: now), Layout.Ring.timeMicros)
        e.storeRelaxed(RingWord.pack(pid: writer, operation: operation.rawValue, outcome: outcome, index: index), Layout.Ring.pid)
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
    func claimRingSlot(_ e: UnsafeMutableRawPointer, _ seq: UInt64, _ writer: Int32) -> Bool {
        let stamp = e.atomic64(Layout.Ring.stamp)
        var turn = 0
        while turn < 1024 {
            let v = stamp.load(ordering: .relaxed)
            if RingStamp.isWriting(v) {
                // Another writer is in it: give it a moment (it is a few stores from done) …
                turn += 1
                if turn & 255 != 0 {
                    shmbal_cpu_relax()
                    if turn & 63 == 0 { sched_yield() }
                    continue
                }
                // … and never take it from a live one; a dead one's entry is lost anyway.
                let holder = RingStamp.writer(v)
                if holder == writer || processExists(holder) { return false }
                if stamp.compareExchange(expected: v, desired: RingStamp.writing(writer), ordering: .relaxed).exchanged { return true }
                continue
            }
            // Complete: a newer entry (ours is overwritten anyway), or an older one whose next
            // writer gave the slot up or has not come yet.
            if !RingStamp.isOlder(v, than: seq) { return false }
            if stamp.compareExchange(expected: v, desired: RingStamp.writing(writer), ordering: .relaxed).exchanged { return true }
            turn += 1
        }
        return false
    }

    /// The sequence number of the newest entry claimed so far (0 when none).
    public var activityHead: UInt64 { base.loadAcquiring(Layout.Header.ringHead) }

    /// Complete entries with sequence numbers after `sequence`, oldest first (at most the ring's capacity,
    /// and at most `limit`, the newest ones).
    public func activity(after sequence: UInt64 = 0, limit: Int = .max) -> [ActivityEntry] {
        let head = activityHead
        // Nothing comes after the last number (`sequence + 1` would wrap round to the oldest).
        guard sequence < head else { return [] }
        let capacity = UInt64(segment.geometry.ringCapacity)
        var first = max(sequence + 1, head > capacity ? head - capacity + 1 : 1)
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

/// An activity entry's stamp: `2s` once entry `s` is complete; `2·pid + 1` while the process
/// `pid` is writing it (the pid, not the number: whether a slot may be taken over depends only on
/// whether its writer still lives).
@usableFromInline
enum RingStamp {
    @inlinable @inline(__always) static func complete(_ seq: UInt64) -> UInt64 { seq &<< 1 }
    @inlinable @inline(__always) static func writing(_ pid: Int32) -> UInt64 { UInt64(UInt32(bitPattern: pid)) &<< 1 | 1 }
    @inlinable @inline(__always) static func isWriting(_ stamp: UInt64) -> Bool { stamp & 1 != 0 }
    @inlinable @inline(__always) static func writer(_ stamp: UInt64) -> Int32 { Int32(bitPattern: UInt32(truncatingIfNeeded: stamp >> 1)) }
    /// Whether a complete stamp is of an entry before `seq` (compared modulo 2^63, so the stamps a
    /// new segment starts with, of the numbers 1 − capacity … 0, count as older).
    @inlinable @inline(__always) static func isOlder(_ stamp: UInt64, than seq: UInt64) -> Bool {
        Int64(bitPattern: stamp &- complete(seq)) < 0
    }
}
