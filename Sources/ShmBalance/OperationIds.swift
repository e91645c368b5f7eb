// Operation ids (SPEC §9, docs/holds.md "Operation ids"): a per-record ring of the last
// `opIdWindow` operations that carried one, with a writer-only hash index. The entry for sequence
// s is written at s mod (window + 1) inside the state's publish, which makes it live by storing
// opSeq = s + 1 in the state copy; the window is [opSeq − window, opSeq). A writer killed before
// that publish leaves an entry no lookup accepts (its seq is not below opSeq), and the index, a
// hint checked against the entries, is rebuilt by the next lock owner.

/// An operation id: the same rules as a hold id (1–32 printable ASCII bytes, no spaces).
public typealias OperationId = HoldId

/// One call carrying an op id: what is compared when the id comes again.
@usableFromInline
struct OpCall {
    @usableFromInline var id: OperationId
    @usableFromInline var operation: Operation
    @usableFromInline var index: Int
    @usableFromInline var amount: Amount
    @usableFromInline var second: Amount
    /// A mix of the arguments not compared field by field (a hold's ttl, a fill's hold id and
    /// `final`, a name): the same id with any other argument is refused.
    @usableFromInline var digest: UInt64
    /// `IdIndex.hash(id)`: computed once, for every probe of the op-id index (and a hold's own index).
    @usableFromInline var hash: UInt64

    @inlinable
    init(_ id: OperationId, _ operation: Operation, index: Int, amount: Amount, second: Amount = .zero,
         _ x0: UInt64 = 0, _ x1: UInt64 = 0, _ x2: UInt64 = 0, _ x3: UInt64 = 0, _ x4: UInt64 = 0) {
        self.init(id, operation, index: index, amount: amount, second: second, digest: OpCall.digest(index: index, x0, x1, x2, x3, x4))
    }

    /// A call whose digest is already known (`Books.plainCall`: one of `OpDigests`).
    @inlinable @inline(__always)
    init(_ id: OperationId, _ operation: Operation, index: Int, amount: Amount, second: Amount = .zero, digest: UInt64) {
        self.id = id
        self.operation = operation
        self.index = index
        self.amount = amount
        self.second = second
        self.digest = digest
        hash = IdIndex.hash(id)
    }

    /// The digest of the arguments not compared field by field (stored in the entry: never change it).
    @inlinable
    static func digest(index: Int, _ x0: UInt64, _ x1: UInt64, _ x2: UInt64, _ x3: UInt64, _ x4: UInt64) -> UInt64 {
        let k: UInt64 = 0x9E37_79B9_7F4A_7C15
        var h = (x0 ^ 0x4F50_4944 ^ UInt64(bitPattern: Int64(index)) << 40) &* k
        h = (h ^ (h >> 29) ^ x1) &* k
        h = (h ^ (h >> 29) ^ x2) &* k
        h = (h ^ (h >> 29) ^ x3) &* k
        h = (h ^ (h >> 29) ^ x4) &* k
        return h ^ (h >> 32)
    }
}

/// The digests of calls with no argument beyond the slot (x0…x4 all 0: allocate, release, a hold
/// without a ttl, a receive), one per slot 0…63, computed once per process: those calls skip the
/// five dependent multiplies of `OpCall.digest`.
@usableFromInline
enum OpDigests {
    @usableFromInline nonisolated(unsafe) static let table: UnsafePointer<UInt64> = {
        let t = UnsafeMutablePointer<UInt64>.allocate(capacity: Layout.slotCount)
        for i in 0..<Layout.slotCount { t[i] = OpCall.digest(index: i, 0, 0, 0, 0, 0) }
        return UnsafePointer(t)
    }()
}

/// What the first call with an op id did: applied (with its figures) or refused.
@usableFromInline
struct OpResult {
    /// 0: applied; else the `RefusalCode`.
    @usableFromInline var outcome: UInt8
    @usableFromInline var detail: Amount
    @usableFromInline var after: Amount
    /// The kind of an applied result where the figures need it (a reconcile: `ReconcileOutcome.Kind`).
    @usableFromInline var kind: UInt8 = 0

    @usableFromInline
    init(outcome: UInt8, detail: Amount, after: Amount, kind: UInt8 = 0) {
        self.outcome = outcome
        self.detail = detail
        self.after = after
        self.kind = kind
    }
}

/// A record's op-id ring and its index (the caller holds the record's lock for everything here).
@usableFromInline
struct OpLog {
    @usableFromInline let ring: UnsafeMutableRawPointer
    @usableFromInline let window: Int
    @usableFromInline let index: IdIndex
    /// seq mod (window + 1): the ring's entries.
    @usableFromInline let slots: FastModulo

    @inlinable
    init(_ ext: UnsafeMutableRawPointer, _ x: ExtensionGeometry) {
        ring = ext + x.opsOffset
        window = x.opIdWindow
        slots = x.opSlots
        index = IdIndex(buckets: ext + x.opIndexOffset, count: x.opBuckets, entries: ring, entrySize: Layout.OpEntry.size)
    }

    @inlinable func entry(_ position: Int) -> UnsafeMutableRawPointer { ring + position &* Layout.OpEntry.size }
    @inlinable func position(_ seq: UInt64) -> Int { slots.of(seq) }

    /// Live iff its seq is in the window that `opSeq` (published) defines.
    @inlinable
    func isLive(_ position: Int, opSeq: UInt64) -> Bool {
        let seq = entry(position).loadRelaxed(Layout.OpEntry.seq)
        return seq < opSeq && opSeq &- seq <= UInt64(window) && self.position(seq) == position
    }

    /// The live entry for `id`, if any.
    @inlinable
    func find(_ id: OperationId, opSeq: UInt64) -> Int? {
        index.find(id, hash: IdIndex.hash(id)) { p in p <= window && isLive(p, opSeq: opSeq) }
    }

    /// `find` for a call (its id's hash already computed).
    @inlinable @inline(__always)
    func find(_ call: OpCall, opSeq: UInt64) -> Int? {
        index.find(call.id, hash: call.hash) { p in p <= window && isLive(p, opSeq: opSeq) }
    }

    /// The slot as an entry keeps it: 0…63, else 0xFF (the digest tells other indexes apart).
    @inlinable @inline(__always)
    static func storedIndex(_ index: Int) -> UInt64 { index >= 0 && index < 64 ? UInt64(index) : 0xFF }

    /// Does the entry at `p` record exactly `call`?
    @usableFromInline
    func matches(_ p: Int, _ call: OpCall) -> Bool {
        let e = entry(p)
        let packed = e.loadRelaxed(Layout.OpEntry.packed)
        return UInt8(truncatingIfNeeded: packed) == call.operation.rawValue && e.loadRelaxed(Layout.OpEntry.argDigest) == call.digest
            && e.loadAmount(Layout.OpEntry.amount) == call.amount && e.loadAmount(Layout.OpEntry.second) == call.second
            && (packed >> 8) & 0xFF == OpLog.storedIndex(call.index)
    }

    @usableFromInline
    func result(_ p: Int) -> OpResult {
        let e = entry(p)
        return OpResult(outcome: UInt8(truncatingIfNeeded: e.loadRelaxed(Layout.OpEntry.packed) >> 16),
                        detail: e.loadAmount(Layout.OpEntry.detail), after: e.loadAmount(Layout.OpEntry.after),
                        kind: UInt8(truncatingIfNeeded: e.loadRelaxed(Layout.OpEntry.resultKind)))
    }

    /// The refusal for an id already used for other arguments, naming the first use.
    @usableFromInline
    func reuseRefusal(_ p: Int, _ key: BookKey, asked call: OpCall) -> Refusal {
        let e = entry(p)
        let packed = e.loadRelaxed(Layout.OpEntry.packed)
        let first = Operation(rawValue: UInt8(truncatingIfNeeded: packed)) ?? call.operation
        let index = Int(truncatingIfNeeded: (packed >> 8) & 0xFF)
        var r = Refusal(.opIdReused, first, key, index: index == 0xFF ? -1 : index, amount: e.loadAmount(Layout.OpEntry.amount))
        r.opId = call.id.description
        return r
    }

    /// The home bucket of the id of entry `p`: from the hash it keeps (`Layout.OpEntry.hashKnown`),
    /// else (an entry written before it kept one) from its id.
    @inlinable @inline(__always)
    func home(_ p: Int) -> Int {
        let w = entry(p).loadRelaxed(Layout.OpEntry.resultKind)
        return w & Layout.OpEntry.hashKnown != 0 ? index.home(hash: w) : index.home(index.idAt(p))
    }

    /// Writes `call` and its result as sequence `seq` (inside the publish that stores opSeq = seq + 1),
    /// and points the index at it, dropping the entry it overwrites from the index first. Out of
    /// line: inlined, it took the callers past the inliner's size limit (commitSmall itself then
    /// stayed a call, its change passed in memory: +86 instructions per allocate with an op id).
    @usableFromInline
    func record(_ call: OpCall, _ result: OpResult, seq: UInt64, opSeq: UInt64) {
        let p = position(seq)
        index.remove(at: p, home: home(p)) { home($0) }
        let e = entry(p)
        call.id.store(to: e + Layout.OpEntry.opId)
        e.storeRelaxed(seq, Layout.OpEntry.seq)
        let idx = OpLog.storedIndex(call.index)
        e.storeRelaxed(UInt64(call.operation.rawValue) | idx << 8 | UInt64(result.outcome) << 16, Layout.OpEntry.packed)
        e.storeAmount(call.amount, Layout.OpEntry.amount)
        e.storeAmount(call.second, Layout.OpEntry.second)
        e.storeRelaxed(call.digest, Layout.OpEntry.argDigest)
        e.storeAmount(result.detail, Layout.OpEntry.detail)
        e.storeAmount(result.after, Layout.OpEntry.after)
        // The kind, and the high half of the id's hash (its home in an index of any size) for the
        // writer that overwrites this entry; written with the id, so the two always agree.
        e.storeRelaxed(UInt64(result.kind) | Layout.OpEntry.hashKnown | call.hash & 0xFFFF_FFFF_0000_0000, Layout.OpEntry.resultKind)
        index.insert(call.id, hash: call.hash, at: p)
    }

    /// Inside a publish: records `call` as the next sequence of `cur` and makes it live in `next`
    /// (opSeq + 1), so the entry and the books it belongs to appear with one release store.
    @usableFromInline
    func recordNext(_ call: OpCall, _ result: OpResult, from cur: UnsafeMutableRawPointer, to next: UnsafeMutableRawPointer) {
        let seq = cur.loadRelaxed(Layout.State.opSeq)
        record(call, result, seq: seq, opSeq: seq)
        next.storeRelaxed(seq &+ 1, Layout.State.opSeq)
    }

    /// After a holder died: the index from the live entries alone.
    @usableFromInline
    func rebuild(opSeq: UInt64) {
        index.clear()
        for p in 0...window where isLive(p, opSeq: opSeq) { index.insert(index.idAt(p), at: p) }
    }
}

extension Books {
    @inlinable @inline(__always)
    func opLog(_ rec: RecordRef) -> OpLog { OpLog(extensionBase(rec), extensions) }

    /// The call for an op id whose only arguments are the slot and the amount (`OpDigests`).
    @inlinable @inline(__always)
    func plainCall(_ id: OperationId, _ operation: Operation, index: Int, amount: Amount, x0: UInt64 = 0) -> OpCall {
        if x0 == 0 && UInt(bitPattern: index) < UInt(Layout.slotCount) {
            return OpCall(id, operation, index: index, amount: amount, digest: opDigests[index])
        }
        return OpCall(id, operation, index: index, amount: amount, x0)
    }

    /// Under the lock, before any rule runs: nil when `call` is new; else the first call's result
    /// (thrown again if it was a refusal), or a refusal when the id was used for other arguments.
    @inlinable @inline(__always)
    func replay(_ rec: RecordRef, _ call: OpCall) throws(BooksError) -> OpResult? {
        let log = opLog(rec)
        let opSeq = rec.stateLatch.lockedCurrent.loadRelaxed(Layout.State.opSeq)
        guard let p = log.find(call, opSeq: opSeq) else { return nil }
        return try replayFound(rec, log, p, call)
    }

    /// `replay` found the id at `p`: the first result, or the refusal. Unlocks. Out of line.
    @usableFromInline @inline(never)
    func replayFound(_ rec: RecordRef, _ log: OpLog, _ p: Int, _ call: OpCall) throws(BooksError) -> OpResult {
        guard log.matches(p, call) else {
            let r = log.reuseRefusal(p, rec.key, asked: call)
            unlock(rec)
            recordRefusal(r)
            throw .refused(r)
        }
        let result = log.result(p)
        unlock(rec)
        if result.outcome != 0, let code = RefusalCode(rawValue: result.outcome) {
            throw .refused(Refusal(code, call.operation, rec.key, index: call.index, amount: call.amount, detail: result.detail))
        }
        return result
    }

    /// A refusal of a call carrying an op id: remembered (published with the op-id sequence, the
    /// books otherwise unchanged), so the same call again gets the same refusal. Unlocks.
    @usableFromInline
    func refuse(_ rec: RecordRef, remembering call: OpCall?, _ r: Refusal) -> BooksError {
        if let call { remember(rec, call, OpResult(outcome: r.code.rawValue, detail: r.detail, after: .zero)) }
        return refuse(rec, r)
    }

    /// Remembers `call` with `result` in a publish that changes nothing else (only the op-id
    /// sequence; `opCount` stays): a refusal, or an applied call that changed nothing (a reconcile
    /// in sync). The caller holds the lock and keeps it.
    @usableFromInline
    func remember(_ rec: RecordRef, _ call: OpCall, _ result: OpResult) {
        let log = opLog(rec)
        rec.stateLatch.publish { (next, cur, _) in
            for w in stride(from: 0, to: Layout.State.size, by: 8) { next.storeRelaxed(cur.loadRelaxed(w), w) }
            next.storeRelaxed(0, Layout.State.pairMark)  // not an allocate/release: the next one copies in full
            log.recordNext(call, result, from: cur, to: next)
        }
    }
}
