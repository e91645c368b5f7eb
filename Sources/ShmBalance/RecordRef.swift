import Atomics
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
        strategyCount = Int(truncatingIfNeeded: w0 & 0xFFFF_FFFF)
        lastIndex = Int(truncatingIfNeeded: (w0 >> 32) & 63)
        epoch = s.loadRelaxed(Layout.State.epoch)
        opCount = s.loadRelaxed(Layout.State.opCount)
        lastChangeMicros = Int64(bitPattern: s.loadRelaxed(Layout.State.lastChangeMicros))
        lastChangePid = Int32(truncatingIfNeeded: s.loadRelaxed(Layout.State.lastChangePid))
        creditLimit = s.loadAmount(Layout.State.creditLimit)
    }

    public static func == (a: RecordState, b: RecordState) -> Bool {
        guard a.strategyCount == b.strategyCount, a.lastIndex == b.lastIndex, a.epoch == b.epoch, a.opCount == b.opCount,
              a.lastChangeMicros == b.lastChangeMicros, a.lastChangePid == b.lastChangePid, a.creditLimit == b.creditLimit
        else { return false }
        for i in 0..<64 where a.slots[i] != b.slots[i] { return false }
        return true
    }
}

/// A published record inside the mapping. Only the core creates these; the key never changes.
///
/// Commit protocol (the "latch", as in LMDB's two meta pages and Linux's seqcount_latch):
/// the record keeps two copies of its `State`; `generation & 1` names the published one.
/// A writer, holding the record's robust mutex, copies the published state into the other copy,
/// changes it there, and publishes it with one release store of `generation + 1`. A writer
/// killed at any instruction before that store leaves the published copy untouched (there is
/// nothing to roll back); killed after it, the operation is complete. Readers never lock: they
/// read `generation`, copy the state it names, and retry if `generation` moved meanwhile.
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

    @inlinable @inline(__always)
    func state(_ generation: UInt64) -> UnsafeMutableRawPointer {
        p + (Layout.Record.states + Int(generation & 1) * Layout.State.size)
    }

    /// Bound on seqlock retries: a read retries only when two commits land during it, so this
    /// is never reached unless a writer commits non-stop for the whole bound.
    @usableFromInline static let readRetries = 1_000_000

    /// Copies the published state into `out`: consistent, without locking, on a read-only mapping too.
    ///
    /// Allocation-free and about as cheap as a hand-written C seqlock read: it copies the head and
    /// the meaningful slots, and clears only the slots past the new count that `out` had in use
    /// before (a fresh `RecordState` has none), so a caller that stores into slots past
    /// `strategyCount` itself must clear them itself.
    @inlinable @inline(__always)
    public func read(into out: inout RecordState) throws(BooksError) {
        // Slots `out` may hold non-zero past the count it ends with: those of its previous count,
        // and those a discarded (torn) attempt below filled.
        var used = out.strategyCount < 0 ? 0 : (out.strategyCount > 64 ? 64 : out.strategyCount)
        var attempt = 0
        var count: Int
        var clamped: Int
        while true {
            let g1 = p.loadAcquiring(Layout.Record.generation)
            let s = state(g1)
            out.readHead(from: s)
            // A count outside 2…64 can only be a torn read (retry) or damage (reported below).
            count = out.strategyCount
            clamped = count < 2 ? 2 : (count > 64 ? 64 : count)
            // The slots as 16-byte loads, like a C seqlock's memcpy (and unlike 16-byte atomics,
            // fine on a read-only mapping). A slot a writer tears meanwhile is never returned:
            // the acquire fence keeps these loads before the generation check, which then fails.
            let src = UnsafeRawPointer(s + Layout.State.slots)
            withUnsafeMutableBytes(of: &out.slots) { dst in
                var i = 0
                while i < clamped {
                    dst.storeBytes(of: src.loadUnaligned(fromByteOffset: 16 &* i, as: SIMD2<UInt64>.self),
                                   toByteOffset: 16 &* i, as: SIMD2<UInt64>.self)
                    i &+= 1
                }
            }
            atomicMemoryFence(ordering: .acquiring)
            if p.loadRelaxed(Layout.Record.generation) == g1 { break }
            if clamped > used { used = clamped }
            attempt &+= 1
            if attempt >= RecordRef.readRetries { throw readFailure(count: nil) }
        }
        if count != clamped { throw readFailure(count: count) }
        while used > clamped {
            used &-= 1
            out.slots[used] = .zero
        }
    }

    /// Why a read failed: a writer committing non-stop for the whole retry bound (busy), or a
    /// damaged count. Out of line, so the read itself stays small.
    @usableFromInline @inline(never)
    func readFailure(count: Int?) -> BooksError {
        if let count { return .corrupt("\(key): record is corrupt (strategy count \(count))") }
        return .busy(what: "\(key): record", ownerTid: 0, waitedMs: 0)
    }

    /// One slot, consistent with the state it came from.
    @inlinable
    public func readSlot(_ index: Int) throws(BooksError) -> Amount {
        var attempt = 0
        while true {
            let g1 = p.loadAcquiring(Layout.Record.generation)
            let s = state(g1)
            let count = Int(truncatingIfNeeded: s.loadRelaxed(Layout.State.strategyCount) & 0xFFFF_FFFF)
            let value = (index >= 0 && index < 64) ? s.loadAmount(Layout.State.slots + 16 * index) : .zero
            atomicMemoryFence(ordering: .acquiring)
            if p.loadRelaxed(Layout.Record.generation) == g1 {
                guard index >= 0 && index < count else {
                    throw .refused(Refusal(.indexOutOfRange, .get, key, index: index, amount: .zero, detail: Amount(raw: Int128(count))))
                }
                return value
            }
            attempt += 1
            if attempt >= RecordRef.readRetries { throw .busy(what: "\(key): record", ownerTid: 0, waitedMs: 0) }
        }
    }

    /// The 64 slot names, consistent (their own two copies and generation, like the state).
    public func readNames() throws(BooksError) -> [ShortName] {
        var names = [ShortName](repeating: .empty, count: 64)
        for _ in 0..<RecordRef.readRetries {
            let g1 = p.loadAcquiring(Layout.Record.namesGeneration)
            let base = Layout.Record.names + Int(g1 & 1) * Layout.Record.namesSize
            for i in 0..<64 { names[i] = p.loadName(base + 16 * i) }
            atomicMemoryFence(ordering: .acquiring)
            if p.loadRelaxed(Layout.Record.namesGeneration) == g1 { return names }
        }
        throw .busy(what: "\(key): record", ownerTid: 0, waitedMs: 0)
    }

    /// When each slot last changed (µs since the epoch, 0 = never): informational, not part of the commit.
    public func slotChangedMicros() -> [Int64] {
        (0..<64).map { Int64(bitPattern: p.loadRelaxed(Layout.Record.slotChangedMicros + 8 * $0)) }
    }
}
