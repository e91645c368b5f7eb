import Atomics
import CShmBalanceSys
import Glibc

// The writer's side of the latch protocol described on `RecordRef`: lock, fill the unpublished
// copy, publish with one release store, append the activity entry, unlock.

extension Books {
    /// Takes `rec`'s lock within the bound, repairing it if its holder died.
    @inlinable @inline(__always)
    func lock(_ rec: RecordRef) throws(BooksError) {
        let rc = lockRobust(rec.mutex, timeoutNs: lockTimeoutNs)
        if rc != 0 { try lockFailed(rc, rec) }
    }

    @usableFromInline
    func lockFailed(_ rc: Int32, _ rec: RecordRef) throws(BooksError) {
        let (result, error) = lockOutcome(rc, rec.mutex, key: rec.key, timeoutNs: lockTimeoutNs)
        if let error { throw error }
        if result == .recoveredFromDeadHolder {
            // Nothing to undo: the dead holder only ever wrote the unpublished copy. Refresh that copy
            // in full, since the next allocate/release copies into it only what the last one changed.
            let g = rec.p.loadRelaxed(Layout.Record.generation)
            let cur = rec.state(g), next = rec.state(g &+ 1)
            atomicMemoryFence(ordering: .releasing)
            for w in stride(from: 0, to: Layout.State.size, by: 8) { next.storeRelaxed(cur.loadRelaxed(w), w) }
            // Say that it happened.
            appendActivity(.recoverLock, rec.key, index: -1, outcome: 0, epoch: 0, amount: .zero, detail: .zero,
                           after: .zero, now: shmbal_now_micros())
        }
    }

    @inlinable @inline(__always)
    func unlock(_ rec: RecordRef) { pthread_mutex_unlock(rec.mutex) }

    /// Unlocks, records the refusal, and returns the error to throw.
    @usableFromInline
    func refuse(_ rec: RecordRef, _ r: Refusal) -> BooksError {
        unlock(rec)
        recordRefusal(r)
        return .refused(r)
    }

    /// Copies the published state's head and its first `count` slots into the unpublished copy.
    @inlinable @inline(__always)
    func copyState(from cur: UnsafeMutableRawPointer, to next: UnsafeMutableRawPointer, slots count: Int) {
        for w in stride(from: 0, to: Layout.State.headBytes + 16 * count, by: 8) {
            next.storeRelaxed(cur.loadRelaxed(w), w)
        }
    }

    /// Marks the unpublished copy as the result of one more applied operation on slot `index`.
    @inlinable @inline(__always)
    func stampState(_ next: UnsafeMutableRawPointer, count: Int, index: Int, opCount: UInt64, now: Int64) {
        next.storeRelaxed(UInt64(truncatingIfNeeded: count) | UInt64(truncatingIfNeeded: index & 63) << 32, Layout.State.strategyCount)
        next.storeRelaxed(opCount &+ 1, Layout.State.opCount)
        next.storeRelaxed(UInt64(bitPattern: now), Layout.State.lastChangeMicros)
        next.storeRelaxed(UInt64(UInt32(bitPattern: pid)), Layout.State.lastChangePid)
    }

    /// Reads the published state while holding the lock (no retry needed: only lock holders write).
    @usableFromInline
    func lockedState(_ rec: RecordRef, generation g: UInt64) throws(BooksError) -> RecordState {
        let s = rec.state(g)
        var out = RecordState()
        out.readHead(from: s)
        guard out.strategyCount >= Layout.minStrategyCount && out.strategyCount <= Layout.slotCount else {
            throw .corrupt("\(rec.key): record is corrupt (strategy count \(out.strategyCount))")
        }
        // Slots beyond the count are meaningless and may be stale in this copy (allocate/release
        // copy only the meaningful ones, and a reset may shrink the count): read them as zero, as
        // `RecordRef.read` does, so growing the count later never brings back an old budget.
        for i in 0..<64 { out.slots[i] = i < out.strategyCount ? s.loadAmount(Layout.State.slots + 16 * i) : .zero }
        return out
    }

    /// What a general mutation did, for the commit and its activity entry.
    @usableFromInline
    struct Change {
        /// The slot the operation is about (-1: none).
        var index: Int
        var detail: Amount = .zero
        var after: Amount = .zero
        /// False when nothing changed (a reconcile in sync): the entry is logged, nothing is committed.
        var commit = true

        @usableFromInline init(index: Int, detail: Amount = .zero, after: Amount = .zero, commit: Bool = true) {
            self.index = index
            self.detail = detail
            self.after = after
            self.commit = commit
        }
    }

    /// The general mutation: copy the whole published state, let `body` apply the rules to it,
    /// then publish it. Used by every operation but the hot pair allocate/release.
    @usableFromInline
    func mutate(_ rec: RecordRef, _ operation: Operation, index: Int, amount: Amount,
                _ body: (inout RecordState) throws(Refusal) -> Change) throws(BooksError) -> RecordState {
        try requireWritable()
        try lock(rec)
        let g = rec.p.loadRelaxed(Layout.Record.generation)
        var s: RecordState
        do { s = try lockedState(rec, generation: g) } catch {
            unlock(rec)
            throw error
        }
        let old = s
        let change: Change
        do { change = try body(&s) } catch { throw refuse(rec, error) }
        let now = shmbal_now_micros()
        if change.commit {
            // The rules keep the identity by construction; a bug that broke it must not reach the books.
            assert(s.identityHolds, "\(rec.key): \(operation) would break the identity")
            guard s.identityHolds else {
                unlock(rec)
                throw .corrupt("\(rec.key): internal error: \(operation) would break the identity; nothing was committed")
            }
            s.opCount = old.opCount &+ 1
            s.lastChangeMicros = now
            s.lastChangePid = pid
            s.lastIndex = max(0, change.index)
            let next = rec.state(g &+ 1)
            atomicMemoryFence(ordering: .releasing)
            faultPoint(.lockedBeforeWrite)
            writeState(s, to: next)
            faultPoint(.writtenBeforePublish)
            rec.p.storeReleasing(g &+ 1, Layout.Record.generation)
            faultPoint(.publishedBeforeUnlock)
        }
        appendActivity(operation, rec.key, index: change.index, outcome: 0, epoch: s.epoch,
                       amount: amount, detail: change.detail, after: change.after, now: now)
        if change.commit {
            for i in 0..<64 where s.slots[i] != old.slots[i] {
                rec.p.storeRelaxed(UInt64(bitPattern: now), Layout.Record.slotChangedMicros + 8 * i)
            }
        }
        unlock(rec)
        return s
    }

    @usableFromInline
    func writeState(_ s: RecordState, to next: UnsafeMutableRawPointer) {
        next.storeRelaxed(UInt64(s.strategyCount) | UInt64(s.lastIndex & 63) << 32, Layout.State.strategyCount)
        next.storeRelaxed(s.epoch, Layout.State.epoch)
        next.storeRelaxed(s.opCount, Layout.State.opCount)
        next.storeRelaxed(UInt64(bitPattern: s.lastChangeMicros), Layout.State.lastChangeMicros)
        next.storeRelaxed(UInt64(UInt32(bitPattern: s.lastChangePid)), Layout.State.lastChangePid)
        // Not built by allocate/release: the next one copies this state in full.
        next.storeRelaxed(0, Layout.State.pairMark)
        next.storeAmount(s.creditLimit, Layout.State.creditLimit)
        for i in 0..<64 { next.storeAmount(s.slots[i], Layout.State.slots + 16 * i) }
    }
}
