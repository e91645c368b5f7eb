import Atomics
import CShmBalanceSys
import Glibc

/// A consistent copy of one record's money state, as a reader gets it (no heap, no names).
@frozen
public struct RecordState: Sendable, Equatable {
    public var strategyCount: Int
    /// The slot the last applied operation changed (0…63).
    public var lastIndex: Int
    public var epoch: UInt64
    /// Applied mutations of this record since it was created.
    public var opCount: UInt64
    public var lastChangeMicros: Int64
    public var lastChangePid: Int32
    /// Fenced (SPEC §10): allocate is refused until the host's agent reaches the ledger again.
    /// Here, in the 4 bytes after the pid, so the layout stays the C ABI's `shmbal_record_state`
    /// (its `fenced` byte), which `shmbal_record_read` fills in place (CABITests checks it).
    public var fenced: Bool
    public var creditLimit: Amount
    /// `slots[0..<strategyCount]` are meaningful; the rest are zero.
    public var slots: InlineArray<64, Amount>

    @inlinable
    public init() {
        strategyCount = 0
        lastIndex = 0
        epoch = 0
        opCount = 0
        lastChangeMicros = 0
        lastChangePid = 0
        creditLimit = .zero
        fenced = false
        slots = InlineArray(repeating: .zero)
    }

    @inlinable public var total: Amount { slots[0] }
    @inlinable public var pool: Amount { slots[1] }
    /// pool + credit: what `allocate` may still hand out.
    @inlinable public var headroom: Amount { Amount(raw: slots[1].raw &+ creditLimit.raw) }

    /// The sum of the sub-strategy budgets (slots 2…).
    @inlinable public var allocated: Amount {
        var sum: Int128 = 0
        for i in 2..<max(2, min(strategyCount, 64)) { sum &+= slots[i].raw }
        return Amount(raw: sum)
    }

    /// total − (pool + budgets): zero exactly when the identity holds.
    @inlinable public var identityDifference: Amount {
        var sum: Int128 = 0
        for i in 1..<max(1, min(strategyCount, 64)) { sum &+= slots[i].raw }
        return Amount(raw: slots[0].raw &- sum)
    }

    @inlinable public var identityHolds: Bool { identityDifference.raw == 0 }

    /// Everything but the slots, from one state copy in the mapping (relaxed 8-byte loads).
    @inlinable @inline(__always)
    mutating func readHead(from s: UnsafeMutableRawPointer) {
        let w0 = s.loadRelaxed(Layout.State.strategyCount)
        strategyCount = HeadWord.count(w0)
        fenced = HeadWord.fenced(w0)
        lastIndex = HeadWord.lastIndex(w0)
        epoch = s.loadRelaxed(Layout.State.epoch)
        opCount = s.loadRelaxed(Layout.State.opCount)
        lastChangeMicros = Int64(bitPattern: s.loadRelaxed(Layout.State.lastChangeMicros))
        lastChangePid = Int32(truncatingIfNeeded: s.loadRelaxed(Layout.State.lastChangePid))
        creditLimit = s.loadAmount(Layout.State.creditLimit)
    }

    public static func == (a: RecordState, b: RecordState) -> Bool {
        guard a.strategyCount == b.strategyCount, a.lastIndex == b.lastIndex, a.epoch == b.epoch, a.opCount == b.opCount,
              a.lastChangeMicros == b.lastChangeMicros, a.lastChangePid == b.lastChangePid, a.creditLimit == b.creditLimit,
              a.fenced == b.fenced
        else { return false }
        for i in 0..<64 where a.slots[i] != b.slots[i] { return false }
        return true
    }
}

/// A published record inside the mapping. Only the core creates these; the key never changes.
///
/// Its state — money, counters and slot names — is one `Latch` (Latch.swift): written only under
/// the record's robust mutex into the unpublished copy, published with one release store, read
/// without locking.
@frozen
public struct RecordRef: @unchecked Sendable {
    @usableFromInline let p: UnsafeMutableRawPointer
    public let key: BookKey

    @inlinable
    init(p: UnsafeMutableRawPointer, key: BookKey) {
        self.p = p
        self.key = key
    }

    @inlinable @inline(__always)
    var mutex: UnsafeMutablePointer<pthread_mutex_t> {
        (p + Layout.Record.mutex).assumingMemoryBound(to: pthread_mutex_t.self)
    }

    /// The state: two copies of `Layout.State` (money, counters, names).
    @inlinable @inline(__always)
    var stateLatch: Latch {
        Latch(p, generation: Layout.Record.generation, copies: Layout.Record.states, copySize: Layout.State.size, .recordState)
    }

    /// State copy `generation & 1` (for tests that reach into a commit; the core goes through the latch).
    @inlinable @inline(__always)
    func state(_ generation: UInt64) -> UnsafeMutableRawPointer { stateLatch.copy(generation) }

    /// Copies the published state into `out`: consistent, without locking, on a read-only mapping too.
    ///
    /// Allocation-free and about as cheap as a hand-written C seqlock read: it copies the head and
    /// the meaningful slots, and clears only the slots past the new count that `out` had in use
    /// before (a fresh `RecordState` has none), so a caller that stores into slots past
    /// `strategyCount` itself must clear them itself. A count outside 2…64 is damage: `.corrupt`
    /// (`readAsStored` reads such a record anyway, for `check` and the repairs).
    @inlinable @inline(__always)
    public func read(into out: inout RecordState) throws(BooksError) {
        try readSound(into: &out, relaxed: false)
    }

    /// `read(into:)` with every slot copied by relaxed 8-byte atomic loads instead of the racy
    /// 16-byte copy: kept so `Benchmarks/run` measures both in the same run (see SharedMemory.swift).
    @_spi(Benchmarks) @inlinable @inline(__always)
    public func readRelaxed(into out: inout RecordState) throws(BooksError) {
        try readSound(into: &out, relaxed: true)
    }

    /// The hot read: a damaged count is an error, so nothing is left to the caller to clamp.
    @inlinable @inline(__always)
    func readSound(into out: inout RecordState, relaxed: Bool) throws(BooksError) {
        // Slots `out` may hold non-zero past the count it ends with: those of its previous count,
        // and those a discarded (torn) attempt filled.
        var used = out.strategyCount < 0 ? 0 : (out.strategyCount > 64 ? 64 : out.strategyCount)
        var count = 0
        do {
            try stateLatch.read { (s) -> Void in
                out.readHead(from: s)
                count = out.strategyCount
                // A count outside 2…64 can only be a torn read (retried) or damage (reported below).
                let clamped = count < 2 ? 2 : (count > 64 ? 64 : count)
                withUnsafeMutableBytes(of: &out.slots) { dst in
                    let src = UnsafeRawPointer(s + Layout.State.slots)
                    if relaxed { SharedMemory.copySlotsRelaxed(src, dst, clamped) } else { SharedMemory.copySlots(src, dst, clamped) }
                }
                if clamped > used { used = clamped }
            }
        } catch {
            throw readFailed(error)
        }
        if _slowPath(count < 2 || count > 64) { throw corruptCount(count) }
        while used > count {
            used &-= 1
            out.slots[used] = Amount(raw: 0)
        }
    }

    /// A consistent copy as stored, damaged or not: returns the stored strategy count, and leaves
    /// `out.strategyCount` that count clamped into 2…64 (the slots copied are that many). For
    /// `check`, `get` and the repairs; the hot read is `read(into:)`.
    public func readAsStored(into out: inout RecordState) throws(BooksError) -> Int {
        var names: [ShortName] = []
        return try readWithNames(into: &out, names: &names, withNames: false)
    }

    @usableFromInline @inline(never)
    func corruptCount(_ count: Int) -> BooksError { .corrupt("\(key): record is corrupt (strategy count \(count), outside 2…64); reset it to repair") }

    /// A latch read's failure as the books' error, naming this record.
    @usableFromInline @inline(never)
    func readFailed(_ failure: LatchReadFailure) -> BooksError { BooksError(failure, what: "\(key): record") }

    /// One slot, consistent with the state it came from.
    @inlinable
    public func readSlot(_ index: Int) throws(BooksError) -> Amount {
        let (count, value): (Int, Amount)
        do {
            (count, value) = try stateLatch.read { (s) -> (Int, Amount) in
                let count = HeadWord.count(s.loadRelaxed(Layout.State.strategyCount))
                return (count, (index >= 0 && index < 64) ? s.loadAmount(Layout.State.slots + Layout.amountSize * index) : .zero)
            }
        } catch {
            throw readFailed(error)
        }
        guard index >= 0 && index < count else {
            if count < Layout.minStrategyCount || count > Layout.slotCount { throw corruptCount(count) }
            throw .refused(Refusal(.indexOutOfRange, .get, key, index: index, amount: .zero, detail: Amount(raw: Int128(count))))
        }
        return value
    }

    /// The 64 slot names, consistent.
    public func readNames() throws(BooksError) -> [ShortName] {
        var names = [ShortName](repeating: .empty, count: 64)
        do {
            try stateLatch.read { (s) -> Void in
                for i in 0..<64 { names[i] = s.loadName(Layout.State.names + Layout.nameSize * i) }
            }
        } catch {
            throw readFailed(error)
        }
        return names
    }

    /// The state as stored and the names, from one published copy (so the names belong to that
    /// state). Returns the stored count, as `readAsStored` does.
    public func readWithNames(into out: inout RecordState, names: inout [ShortName]) throws(BooksError) -> Int {
        try readWithNames(into: &out, names: &names, withNames: true)
    }

    func readWithNames(into out: inout RecordState, names: inout [ShortName], withNames: Bool) throws(BooksError) -> Int {
        var holds: HoldBooks?
        return try readWithNames(into: &out, names: &names, withNames: withNames, holds: &holds, withHolds: false)
    }

    /// The state, the names and the hold books (held sums, counts, op-id sequence), from one copy.
    func readWithNames(into out: inout RecordState, names: inout [ShortName], holds: inout HoldBooks?) throws(BooksError) -> Int {
        try readWithNames(into: &out, names: &names, withNames: true, holds: &holds, withHolds: true)
    }

    func readWithNames(into out: inout RecordState, names: inout [ShortName], withNames: Bool, holds: inout HoldBooks?,
                       withHolds: Bool) throws(BooksError) -> Int {
        if withNames && names.count != 64 { names = [ShortName](repeating: .empty, count: 64) }
        var stored = 0
        do {
            stored = try stateLatch.read { (s) -> Int in
                if withHolds { holds = HoldBooks(from: s) }
                out = RecordState()
                out.readHead(from: s)
                let count = out.strategyCount
                let clamped = count < 2 ? 2 : (count > 64 ? 64 : count)
                for i in 0..<clamped { out.slots[i] = s.loadAmount(Layout.State.slots + Layout.amountSize * i) }
                out.strategyCount = clamped
                if withNames { for i in 0..<64 { names[i] = s.loadName(Layout.State.names + Layout.nameSize * i) } }
                return count
            }
        } catch {
            throw readFailed(error)
        }
        return stored
    }

    /// When each slot last changed (µs since the epoch, 0 = never): informational, not part of the commit.
    public func slotChangedMicros() -> [Int64] {
        (0..<64).map { Int64(bitPattern: p.loadRelaxed(Layout.Record.slotChangedMicros + 8 * $0)) }
    }
}
