import Atomics
import CShmBalanceSys
import Glibc

// The writer's side of a record: lock, apply the rules to a value, publish it through the
// record's state latch (Latch.swift), append the activity entry, unlock, and report the file's
// state before saying the operation happened.

extension Books {
    /// Unlocks, records the refusal, and returns the error to throw. A refusal decided on a mapping
    /// already known to be gone (its pages zeros after a truncation) is not a refusal by the rules:
    /// the file's state is the answer.
    @usableFromInline
    func refuse(_ rec: RecordRef, _ r: Refusal) -> BooksError {
        unlock(rec)
        recordRefusal(r)
        let state = shmbal_mapping_last_state(mappingId)
        return state == SHMBAL_MAPPING_OK ? .refused(r) : fileGone(state)
    }

    /// Copies the published state's head, its first `count` slots, its names and its hold books
    /// into the unpublished copy.
    @inlinable @inline(__always)
    func copyState(from cur: UnsafeMutableRawPointer, to next: UnsafeMutableRawPointer, slots count: Int) {
        for w in stride(from: 0, to: Layout.State.headBytes + Layout.amountSize * count, by: 8) {
            next.storeRelaxed(cur.loadRelaxed(w), w)
        }
        copyNames(from: cur, to: next)
        copyHoldBooks(from: cur, to: next)
    }

    /// Copies the held sums, hold counts and op-id sequence (layout 3) of one state copy into another:
    /// every writer that does not change them carries them over, as it does the names.
    @inlinable @inline(__always)
    func copyHoldBooks(from cur: UnsafeMutableRawPointer, to next: UnsafeMutableRawPointer) {
        for w in stride(from: Layout.State.held, to: Layout.State.held + Layout.State.holdBooksSize, by: 8) {
            next.storeRelaxed(cur.loadRelaxed(w), w)
        }
    }

    /// Closes every hold visible in generation `g` at `g + 1` and zeroes the held sums and counts of
    /// `next` (the op-id sequence and the hold serial stay): the closes and the zeroed sums appear
    /// together with the latch's one release store.
    @usableFromInline
    func dropHolds(_ table: HoldTable, from cur: UnsafeMutableRawPointer, to next: UnsafeMutableRawPointer, published g: UInt64) {
        for i in 0..<table.entries where table.isVisible(i, in: g) { table.close(i, at: g &+ 1) }
        table.index.clear()
        var hb = HoldBooks(from: cur)
        for i in 0..<64 {
            hb.held[i] = .zero
            hb.counts[i] = 0
        }
        hb.earliestExpiry = 0
        hb.write(to: next)
    }

    /// Copies the names of one state copy into another.
    @inlinable @inline(__always)
    func copyNames(from cur: UnsafeMutableRawPointer, to next: UnsafeMutableRawPointer) {
        for w in stride(from: Layout.State.names, to: Layout.State.names + Layout.State.namesSize, by: 8) {
            next.storeRelaxed(cur.loadRelaxed(w), w)
        }
    }

    /// Writes the names in `changes` into a state copy (inside a publish, or into an unpublished record).
    static func writeNames(_ changes: [Int: ShortName], to copy: UnsafeMutableRawPointer) {
        for (i, name) in changes where i >= 0 && i < Layout.slotCount {
            copy.storeName(name, Layout.State.names + Layout.nameSize * i)
        }
    }

    /// Marks the unpublished copy as the result of one more applied operation on slot `index`.
    @inlinable @inline(__always)
    func stampState(_ next: UnsafeMutableRawPointer, count: Int, index: Int, opCount: UInt64, now: Int64) {
        next.storeRelaxed(HeadWord.pack(count: count, lastIndex: index), Layout.State.strategyCount)
        next.storeRelaxed(opCount &+ 1, Layout.State.opCount)
        next.storeRelaxed(UInt64(bitPattern: now), Layout.State.lastChangeMicros)
        next.storeRelaxed(UInt64(UInt32(bitPattern: pid)), Layout.State.lastChangePid)
    }

    /// Sets the head word's expiry bit (`HeadWord.expiryBit`) to whether `copy`'s earliest expiry
    /// is set. Every publish that writes the head word from a `RecordState` or the hold books from
    /// `HoldBooks` ends with this, after both are written; commits that carry the head word over
    /// and do not change the expiry (the hot pair, the small commit) keep the bit as they read it.
    @inlinable @inline(__always)
    static func settleExpiryBit(_ copy: UnsafeMutableRawPointer) {
        let w = copy.loadRelaxed(Layout.State.strategyCount) & ~HeadWord.expiryBit
        copy.storeRelaxed(copy.loadRelaxed(Layout.State.earliestExpiry) != 0 ? w | HeadWord.expiryBit : w, Layout.State.strategyCount)
    }

    /// The published state as stored, for a writer holding the lock (no retry needed: only lock
    /// holders write). Returns the stored count beside a state whose count is clamped into 2…64.
    @usableFromInline
    func lockedStateAsStored(_ rec: RecordRef) -> (RecordState, storedCount: Int) {
        let s = rec.stateLatch.lockedCurrent
        var out = RecordState()
        out.readHead(from: s)
        let stored = out.strategyCount
        out.strategyCount = min(max(stored, Layout.minStrategyCount), Layout.slotCount)
        // Slots beyond the count are meaningless and may be stale in this copy (allocate/release
        // copy only the meaningful ones, and a reset may shrink the count): read them as zero, as
        // `RecordRef.read` does, so growing the count later never brings back an old budget.
        for i in 0..<out.strategyCount { out.slots[i] = s.loadAmount(Layout.State.slots + Layout.amountSize * i) }
        return (out, stored)
    }

    /// The published state for a writer holding the lock; a damaged count is `.corrupt`.
    @usableFromInline
    func lockedState(_ rec: RecordRef) throws(BooksError) -> RecordState {
        let (s, stored) = lockedStateAsStored(rec)
        guard stored == s.strategyCount else { throw rec.corruptCount(stored) }
        return s
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
        /// `reset --drop-holds`: every open hold closes in the same publish, the hold books zeroed.
        var dropsHolds = false
        /// What an op id remembers, when `detail`/`after` are not what a replay must return (a
        /// reconcile keeps its outcome's kind and figures).
        var remembered: OpResult?

        @usableFromInline init(index: Int, detail: Amount = .zero, after: Amount = .zero, commit: Bool = true, dropsHolds: Bool = false) {
            self.index = index
            self.detail = detail
            self.after = after
            self.commit = commit
            self.dropsHolds = dropsHolds
        }
    }

    /// How a general mutation reads the state it changes.
    @usableFromInline
    enum StateIntake {
        /// The state must be sound (count 2…64): every operation but the repairs.
        case sound
        /// Any stored state, its count clamped (reset and reconcile repair damaged records; the
        /// body learns the stored count and decides).
        case asStored
    }

    /// The general mutation: read the whole published state, let `body` apply the rules to it,
    /// then publish it. Used by every operation but the hot pair allocate/release.
    @usableFromInline
    func mutate(_ rec: RecordRef, _ operation: Operation, index: Int, amount: Amount, intake: StateIntake = .sound, opId call: OpCall? = nil,
                replayed: ((OpResult) -> Void)? = nil,
                _ body: (inout RecordState, _ storedCount: Int) throws(Refusal) -> Change) throws(BooksError) -> RecordState {
        try requireWritable()
        try lock(rec)
        expireIfDue(rec)
        var (s, stored) = lockedStateAsStored(rec)
        if intake == .sound && stored != s.strategyCount {
            unlock(rec)
            throw rec.corruptCount(stored)
        }
        // A call seen before: its first result, nothing applied (docs/holds.md "Operation ids").
        if let call, let first = try replay(rec, call) {
            replayed?(first)
            return s
        }
        let old = s
        let change: Change
        do { change = try body(&s, stored) } catch { throw refuse(rec, remembering: call, error) }
        let now = shmbal_now_micros()
        if change.commit {
            // The rules keep the identity by construction; a bug that broke it must not reach the
            // books (and must not trap the process either: the caller gets an error, nothing changed).
            guard s.identityHolds && s.strategyCount >= Layout.minStrategyCount && s.strategyCount <= Layout.slotCount else {
                unlock(rec)
                throw .corrupt("\(rec.key): internal error: \(operation) would break the identity; nothing was committed")
            }
            s.opCount = old.opCount &+ 1
            s.lastChangeMicros = now
            s.lastChangePid = pid
            s.lastIndex = max(0, change.index)
            let published = s
            let log = call.map { _ in opLog(rec) }
            let table = change.dropsHolds ? holdTable(rec) : nil
            rec.stateLatch.publish { (next, cur, g) in
                writeState(published, to: next)
                copyNames(from: cur, to: next)
                copyHoldBooks(from: cur, to: next)
                if let table { dropHolds(table, from: cur, to: next, published: g) }
                Books.settleExpiryBit(next)
                if let call, let log {
                    log.recordNext(call, change.remembered ?? OpResult(outcome: 0, detail: change.detail, after: change.after), from: cur, to: next)
                }
            }
        } else if let call {
            // Applied but nothing changed (a reconcile in sync): remembered all the same.
            remember(rec, call, change.remembered ?? OpResult(outcome: 0, detail: change.detail, after: change.after))
        }
        appendActivity(operation, rec.key, index: change.index, outcome: 0, epoch: s.epoch,
                       amount: amount, detail: change.detail, after: change.after, now: now)
        if change.commit {
            for i in 0..<64 where s.slots[i] != old.slots[i] {
                rec.p.storeRelaxed(UInt64(bitPattern: now), Layout.Record.slotChangedMicros + 8 * i)
            }
        }
        unlock(rec)
        try confirmWritten(now)
        return s
    }

    /// Writes a whole state (not the names) into an unpublished copy (inside a `Latch.publish`
    /// body, or into a record not yet published).
    @usableFromInline
    func writeState(_ s: RecordState, to next: UnsafeMutableRawPointer) {
        next.storeRelaxed(HeadWord.pack(count: s.strategyCount, lastIndex: s.lastIndex, fenced: s.fenced), Layout.State.strategyCount)
        next.storeRelaxed(s.epoch, Layout.State.epoch)
        next.storeRelaxed(s.opCount, Layout.State.opCount)
        next.storeRelaxed(UInt64(bitPattern: s.lastChangeMicros), Layout.State.lastChangeMicros)
        next.storeRelaxed(UInt64(UInt32(bitPattern: s.lastChangePid)), Layout.State.lastChangePid)
        // Not built by allocate/release: the next one copies this state in full.
        next.storeRelaxed(0, Layout.State.pairMark)
        next.storeAmount(s.creditLimit, Layout.State.creditLimit)
        for i in 0..<64 { next.storeAmount(s.slots[i], Layout.State.slots + Layout.amountSize * i) }
    }

    /// After a write, before it is reported as done: the file must still be the one at the path,
    /// whole (SPEC §4 "the file's own life"). One or two loads per write; a stat of the path at most
    /// every 250 ms (`SHMBAL_FILE_CHECK_US`), so a removed or replaced file is noticed within that.
    @inlinable @inline(__always)
    func confirmWritten(_ now: Int64) throws(BooksError) {
        let state = shmbal_mapping_state(mappingId, now)
        if _slowPath(state != 0) { throw fileGone(state) }
    }

    @usableFromInline @inline(never)
    func fileGone(_ state: Int32) -> BooksError {
        switch state {
        case SHMBAL_MAPPING_REMOVED: return .segment(.removed(path: segment.path))
        case SHMBAL_MAPPING_REPLACED: return .segment(.replaced(path: segment.path))
        default: return .segment(.truncated(path: segment.path))
        }
    }
}
