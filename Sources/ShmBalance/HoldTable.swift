import Atomics

// A record's hold table and hold books (layout 3; docs/holds.md has the argument).
//
// The per-slot sums (`HoldBooks`) live in each state copy and publish with the budgets. The
// entries live in the record's extension and publish with the same store, by their tags: an entry
// is visible in published generation g iff openGen != 0 && openGen <= g && (closeGen == 0 ||
// closeGen > g). Writers (under the record lock) tag what they open or close with g + 1 inside the
// state's `Latch.publish`; a visible entry never changes but for its closeGen; a closed one is
// reused once its close is published, which it always is by the time the next writer holds the lock.

/// An order's id: 1–32 printable ASCII bytes without spaces, stored NUL-padded in 32 bytes.
public struct HoldId: Sendable, Hashable, CustomStringConvertible {
    @usableFromInline var w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64

    public init(_ text: String) throws(BooksError) {
        let bytes = Array(text.utf8)
        guard (1...Layout.Hold.idSize).contains(bytes.count), bytes.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw .badInput("a hold id is 1–32 printable ASCII characters without spaces (got \(bytes.count) bytes: \(TerminalText.safe(text)))")
        }
        var w: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        for (i, b) in bytes.enumerated() {
            let v = UInt64(b) << (8 * UInt64(i % 8))
            switch i / 8 {
            case 0: w.0 |= v
            case 1: w.1 |= v
            case 2: w.2 |= v
            default: w.3 |= v
            }
        }
        (w0, w1, w2, w3) = w
    }

    @inlinable
    init(loadingFrom p: UnsafeMutableRawPointer) {
        w0 = p.loadRelaxed(0)
        w1 = p.loadRelaxed(8)
        w2 = p.loadRelaxed(16)
        w3 = p.loadRelaxed(24)
    }

    @inlinable
    func store(to p: UnsafeMutableRawPointer) {
        p.storeRelaxed(w0, 0)
        p.storeRelaxed(w1, 8)
        p.storeRelaxed(w2, 16)
        p.storeRelaxed(w3, 24)
    }

    /// The id's text; a byte that is not printable (an id damaged in the segment) shows as `?`.
    public var description: String {
        var out = ""
        for word in [w0, w1, w2, w3] {
            for k in 0..<8 {
                let b = UInt8(truncatingIfNeeded: word >> (8 * UInt64(k)))
                if b == 0 { return out }
                out.unicodeScalars.append(b > 0x20 && b < 0x7F ? Unicode.Scalar(b) : "?")
            }
        }
        return out
    }
}

/// The hold side of one state copy: per slot the held sum and the number of open holds.
@usableFromInline
struct HoldBooks {
    @usableFromInline var held: InlineArray<64, Amount>
    @usableFromInline var counts: InlineArray<64, UInt32>
    @usableFromInline var holdSerial: UInt64
    @usableFromInline var opSeq: UInt64
    /// No open hold expires before this (µs; 0: none has a ttl). A lower bound, never later than the earliest.
    @usableFromInline var earliestExpiry: Int64

    @usableFromInline
    init(from s: UnsafeMutableRawPointer) {
        held = InlineArray(repeating: .zero)
        counts = InlineArray(repeating: 0)
        for i in 0..<64 { held[i] = s.loadAmount(Layout.State.held + Layout.amountSize * i) }
        for i in stride(from: 0, to: 64, by: 2) {
            let pair = s.loadRelaxed(Layout.State.holdCounts + 4 * i)
            counts[i] = UInt32(truncatingIfNeeded: pair)
            counts[i + 1] = UInt32(truncatingIfNeeded: pair >> 32)
        }
        holdSerial = s.loadRelaxed(Layout.State.holdSerial)
        opSeq = s.loadRelaxed(Layout.State.opSeq)
        earliestExpiry = Int64(bitPattern: s.loadRelaxed(Layout.State.earliestExpiry))
    }

    /// Into an unpublished copy (inside a `Latch.publish` body).
    @usableFromInline
    func write(to next: UnsafeMutableRawPointer) {
        for i in 0..<64 { next.storeAmount(held[i], Layout.State.held + Layout.amountSize * i) }
        for i in stride(from: 0, to: 64, by: 2) {
            next.storeRelaxed(UInt64(counts[i]) | UInt64(counts[i + 1]) << 32, Layout.State.holdCounts + 4 * i)
        }
        next.storeRelaxed(holdSerial, Layout.State.holdSerial)
        next.storeRelaxed(opSeq, Layout.State.opSeq)
        next.storeRelaxed(UInt64(bitPattern: earliestExpiry), Layout.State.earliestExpiry)
    }

    @usableFromInline
    var openHolds: Int {
        var n = 0
        for i in 0..<64 { n &+= Int(counts[i]) }
        return n
    }
}

/// The entries of one record's hold table. Writers hold the record's lock; readers go through
/// `Books.holds`, inside one latch read of the state.
@usableFromInline
struct HoldTable {
    @usableFromInline let base: UnsafeMutableRawPointer
    /// Entries in the table: the capacity + 1 (the spare a partial fill's copy-on-write needs).
    @usableFromInline let entries: Int
    /// Open entries by id, for writers (`IdIndex`): an entry is in it from the publish that opens it
    /// to the one that closes it.
    @usableFromInline let index: IdIndex
    @usableFromInline let slots: FastModulo

    @inlinable
    init(_ base: UnsafeMutableRawPointer, _ x: ExtensionGeometry) {
        self.base = base
        entries = x.holdEntries
        slots = x.holdSlots
        index = IdIndex(buckets: base + x.holdIndexOffset, count: x.holdBuckets, entries: base + Layout.Extension.holds, entrySize: Layout.Hold.size)
    }

    @inlinable
    func entry(_ i: Int) -> UnsafeMutableRawPointer { base + (Layout.Extension.holds + i &* Layout.Hold.size) }

    /// The visibility rule. Readers load closeGen before openGen (acquiring): a writer reusing an
    /// entry stores openGen = g + 1 before it stores closeGen = 0 (releasing), so a reader that sees
    /// the new closeGen also sees an openGen that hides the entry.
    @inlinable
    func isVisible(_ i: Int, in g: UInt64) -> Bool {
        let e = entry(i)
        let close = e.loadAcquiring(Layout.Hold.closeGen)
        let open = e.loadAcquiring(Layout.Hold.openGen)
        return open != 0 && open <= g && (close == 0 || close > g)
    }

    /// The entry open in `g` under `id` (writer side, through the index).
    @inlinable
    func find(_ id: HoldId, in g: UInt64) -> Int? { find(id, hash: IdIndex.hash(id), in: g) }

    /// `find`, with `hash` = `IdIndex.hash(id)` (a hold's call carries it).
    @inlinable
    func find(_ id: HoldId, hash: UInt64, in g: UInt64) -> Int? {
        index.find(id, hash: hash) { e in e < entries && isVisible(e, in: g) }
    }

    /// `find`, and when the index has no entry for `id`, a scan of the table: fill and void use it,
    /// so a hold whose id was changed behind the writers' back (a damaged or hand-edited segment)
    /// can still be closed. Only an unknown id pays the scan; `hold` keeps the index alone (a miss
    /// is its normal case).
    @inlinable
    func findOrScan(_ id: HoldId, in g: UInt64) -> Int? { findOrScan(id, hash: IdIndex.hash(id), in: g) }

    /// `findOrScan`, with `hash` = `IdIndex.hash(id)` (kept for the index's remove).
    @inlinable
    func findOrScan(_ id: HoldId, hash: UInt64, in g: UInt64) -> Int? {
        if let e = find(id, hash: hash, in: g) { return e }
        return scan(id, in: g)
    }

    @usableFromInline @inline(never)
    func scan(_ id: HoldId, in g: UInt64) -> Int? {
        for e in 0..<entries where isVisible(e, in: g) && index.idAt(e) == id { return e }
        return nil
    }

    /// An entry no reader of `g` can see, other than `except` (writer side). The scan starts where
    /// the hold serial points: holds open in turn, so the entry after the last one opened is
    /// usually free, and a table with few open holds finds one at once.
    @inlinable
    func freeEntry(in g: UInt64, from start: UInt64, except: Int = -1) -> Int? {
        var i = slots.of(start)
        for _ in 0..<entries {
            if i != except && !isVisible(i, in: g) { return i }
            i = i &+ 1 == entries ? 0 : i &+ 1
        }
        return nil
    }

    /// The first entry no reader of `g` can see, from `start` as `freeEntry`, when there is a
    /// second one too (a hold needs its own and the spare a partial fill's copy needs): one pass
    /// that goes on from the first, the same as a second `freeEntry` from start + 1 except it.
    @inlinable
    func twoFreeEntries(in g: UInt64, from start: UInt64) -> Int? {
        var i = slots.of(start)
        var first = -1
        for _ in 0..<entries {
            if !isVisible(i, in: g) {
                if first >= 0 { return first }
                first = i
            }
            i = i &+ 1 == entries ? 0 : i &+ 1
        }
        return nil
    }

    /// Entries open in `g` into the index, which starts empty (after a dead holder, a restore).
    @usableFromInline
    func rebuildIndex(published g: UInt64) {
        index.clear()
        for e in 0..<entries where isVisible(e, in: g) { index.insert(index.idAt(e), at: e) }
    }

    @usableFromInline func slot(_ i: Int) -> Int { Int(truncatingIfNeeded: entry(i).loadRelaxed(Layout.Hold.packed) & 0xFF) }
    @usableFromInline func amount(_ i: Int) -> Amount { entry(i).loadAmount(Layout.Hold.amount) }
    @usableFromInline func original(_ i: Int) -> Amount { entry(i).loadAmount(Layout.Hold.original) }
    @usableFromInline func createdMicros(_ i: Int) -> Int64 { Int64(bitPattern: entry(i).loadRelaxed(Layout.Hold.createdMicros)) }
    @usableFromInline func expiresMicros(_ i: Int) -> Int64 { Int64(bitPattern: entry(i).loadRelaxed(Layout.Hold.expiresMicros)) }

    /// Writes entry `i` whole, visible from generation `g1` (inside the publish of `g1`).
    @usableFromInline
    func open(_ i: Int, id: HoldId, slot: Int, amount: Amount, original: Amount, created: Int64, expires: Int64, at g1: UInt64) {
        let e = entry(i)
        e.storeRelaxed(g1, Layout.Hold.openGen)
        e.storeReleasing(0, Layout.Hold.closeGen)
        id.store(to: e + Layout.Hold.id)
        e.storeAmount(amount, Layout.Hold.amount)
        e.storeAmount(original, Layout.Hold.original)
        e.storeRelaxed(UInt64(bitPattern: created), Layout.Hold.createdMicros)
        e.storeRelaxed(UInt64(bitPattern: expires), Layout.Hold.expiresMicros)
        e.storeRelaxed(UInt64(slot & 0xFF), Layout.Hold.packed)
    }

    /// Closes entry `i` from generation `g1` (readers of earlier generations still see it open).
    @usableFromInline
    func close(_ i: Int, at g1: UInt64) { entry(i).storeRelaxed(g1, Layout.Hold.closeGen) }

    /// After a holder died: undo every tag it wrote for a generation after the published `g`, so
    /// the next publish cannot make its unfinished opens or closes true. Returns how many it undid.
    @usableFromInline
    func scrub(published g: UInt64) -> Int {
        var undone = 0
        for i in 0..<entries {
            let e = entry(i)
            if e.loadRelaxed(Layout.Hold.openGen) > g {
                // Hidden first (openGen 0 is never visible), then the rest cleared.
                e.storeReleasing(0, Layout.Hold.openGen)
                e.storeRelaxed(0, Layout.Hold.closeGen)
                undone &+= 1
            } else if e.loadRelaxed(Layout.Hold.closeGen) > g {
                e.storeRelaxed(0, Layout.Hold.closeGen)
                undone &+= 1
            }
        }
        return undone
    }
}

extension Books {
    /// The hold table of `rec`, in the record's extension (records never move, so its index is its place).
    @inlinable @inline(__always)
    func holdTable(_ rec: RecordRef) -> HoldTable { HoldTable(extensionBase(rec), extensions) }

    /// Where `rec`'s extension starts.
    @inlinable @inline(__always)
    func extensionBase(_ rec: RecordRef) -> UnsafeMutableRawPointer {
        // Unsigned: a record lies after the records' start, and an unsigned division by the
        // constant is a multiply and a shift (the signed one needs its sign fixed up).
        extensions.base + Int(bitPattern: UInt(bitPattern: rec.p - (base + recordsOffset)) / UInt(Layout.Record.size)) &* extensions.size
    }
}

/// The extensions' geometry, computed once per open (every hold or op-id operation needs it).
@usableFromInline
struct ExtensionGeometry: @unchecked Sendable {
    @usableFromInline let base: UnsafeMutableRawPointer
    @usableFromInline let size: Int
    @usableFromInline let holdEntries: Int
    @usableFromInline let holdIndexOffset: Int
    @usableFromInline let holdBuckets: Int
    @usableFromInline let opsOffset: Int
    @usableFromInline let opIndexOffset: Int
    @usableFromInline let opBuckets: Int
    @usableFromInline let opIdWindow: Int
    @usableFromInline let holdSlots: FastModulo
    @usableFromInline let opSlots: FastModulo

    init(_ segmentBase: UnsafeMutableRawPointer, _ g: Geometry) {
        typealias X = Layout.Extension
        base = segmentBase + g.extensionsOffset
        size = g.extensionSize
        holdEntries = X.holdEntries(g.holdCapacity)
        holdIndexOffset = X.holdIndex(g.holdCapacity)
        holdBuckets = X.indexBuckets(holdEntries)
        opsOffset = X.ops(g.holdCapacity)
        opIndexOffset = X.opIndex(g.holdCapacity, g.opIdWindow)
        opBuckets = X.indexBuckets(X.opEntries(g.opIdWindow))
        opIdWindow = g.opIdWindow
        holdSlots = FastModulo(holdEntries)
        opSlots = FastModulo(X.opEntries(g.opIdWindow))
    }
}

/// x mod d for a d fixed at open, without a division on the hot path (Lemire's fastmod for
/// 32-bit x; a division past 2³²).
@usableFromInline
struct FastModulo: Sendable {
    @usableFromInline let d: UInt64
    @usableFromInline let m: UInt64

    init(_ d: Int) {
        precondition(d > 0 && d < 1 << 31)
        self.d = UInt64(d)
        m = UInt64.max / UInt64(d) &+ 1
    }

    @inlinable @inline(__always)
    func of(_ x: UInt64) -> Int {
        if _slowPath(x > UInt64(UInt32.max)) { return Int(truncatingIfNeeded: x % d) }
        return Int(truncatingIfNeeded: (m &* x).multipliedFullWidth(by: d).high)
    }
}
