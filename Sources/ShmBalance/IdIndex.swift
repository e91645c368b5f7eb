// A writer-only hash index from a 32-byte id to an entry of a table in a record's extension (the
// hold table, the op-id ring). Readers never use it. Linear probing with backward-shift delete (no
// tombstones); a bucket holds entry + 1 (0: empty). It is a hint: every hit is checked against the
// entry it names, and the next lock owner after a dead holder rebuilds it from the entries
// (`Books.recovered`), so a writer killed half-way through an update leaves nothing wrong behind.

@usableFromInline
struct IdIndex {
    @usableFromInline let buckets: UnsafeMutableRawPointer
    @usableFromInline let mask: Int
    /// The table: entry e's id is the 32 bytes at `entries + e × entrySize`.
    @usableFromInline let entries: UnsafeMutableRawPointer
    @usableFromInline let entrySize: Int

    @inlinable
    init(buckets: UnsafeMutableRawPointer, count: Int, entries: UnsafeMutableRawPointer, entrySize: Int) {
        self.buckets = buckets
        mask = count - 1
        self.entries = entries
        self.entrySize = entrySize
    }

    @inlinable func bucket(_ b: Int) -> Int { Int(buckets.load(fromByteOffset: 4 &* b, as: UInt32.self)) }
    @inlinable func setBucket(_ b: Int, _ v: Int) { buckets.storeBytes(of: UInt32(truncatingIfNeeded: v), toByteOffset: 4 &* b, as: UInt32.self) }
    @inlinable func idAt(_ e: Int) -> HoldId { HoldId(loadingFrom: entries + e &* entrySize) }

    /// Where `id`'s probe starts: one multiply of the words folded (ids are short: most of their
    /// words are zero, and a probe that meets another id's bucket just goes on).
    @inlinable @inline(__always)
    func home(_ id: HoldId) -> Int { home(hash: IdIndex.hash(id)) }

    /// The home bucket of an id whose `hash` is known (an `OpCall` carries its id's).
    @inlinable @inline(__always)
    func home(hash h: UInt64) -> Int { Int(truncatingIfNeeded: h >> 32) & mask }

    /// The id's hash, before the mask (the same for every index: each keeps the bits its size needs).
    /// Op-id entries in segments keep its high half (`Layout.OpEntry.hashKnown`): never change it
    /// (pinned by `OperationIdTests`), or entries already written would leave the index wrongly.
    @inlinable @inline(__always)
    static func hash(_ id: HoldId) -> UInt64 {
        (id.w0 ^ (id.w1 &* 0xC2B2_AE3D_27D4_EB4F) ^ (id.w2 &* 0x1656_67B1_9E37_79F9) ^ (id.w3 &* 0x27D4_EB2F_1656_67C5)) &* 0x9E37_79B9_7F4A_7C15
    }

    /// The first entry under `id` that `accept` takes (it checks the entry is live), or nil.
    @inlinable @inline(__always)
    func find(_ id: HoldId, _ accept: (Int) -> Bool) -> Int? { find(id, hash: IdIndex.hash(id), accept) }

    /// `find`, with `hash` = `IdIndex.hash(id)`.
    @inlinable @inline(__always)
    func find(_ id: HoldId, hash: UInt64, _ accept: (Int) -> Bool) -> Int? {
        var b = home(hash: hash)
        var left = mask
        while true {
            let v = bucket(b)
            if v == 0 { return nil }
            if idAt(v &- 1) == id && accept(v &- 1) { return v &- 1 }
            if left == 0 { return nil }
            left &-= 1
            b = (b &+ 1) & mask
        }
    }

    /// Points `id` at entry `e` (in the first empty bucket of its probe, or where `e` already is).
    @inlinable
    func insert(_ id: HoldId, at e: Int) { insert(id, hash: IdIndex.hash(id), at: e) }

    /// `insert`, with `hash` = `IdIndex.hash(id)`.
    @inlinable
    func insert(_ id: HoldId, hash: UInt64, at e: Int) {
        var b = home(hash: hash)
        var left = mask
        while true {
            let v = bucket(b)
            if v == 0 || v == e &+ 1 {
                setBucket(b, e &+ 1)
                return
            }
            if left == 0 { return }  // never met: the index has twice the table's entries
            left &-= 1
            b = (b &+ 1) & mask
        }
    }

    /// The bucket for `id` that names `old` names `new` instead (a partial fill's new entry).
    @inlinable
    func replace(_ id: HoldId, _ old: Int, with new: Int) {
        var b = home(id)
        for _ in 0...mask {
            let v = bucket(b)
            if v == 0 { break }
            if v == old &+ 1 {
                setBucket(b, new &+ 1)
                return
            }
            b = (b &+ 1) & mask
        }
        insert(id, at: new)
    }

    /// Drops the bucket for `id` that names `e`, shifting the probe's later buckets back into the hole.
    @inlinable
    func remove(_ id: HoldId, at e: Int) { remove(at: e, home: home(id)) { home(idAt($0)) } }

    /// `remove`, with `hash` = `IdIndex.hash(id)` (a void or fill that found the hold with it).
    @inlinable
    func remove(_ id: HoldId, hash: UInt64, at e: Int) { remove(at: e, home: home(hash: hash)) { home(idAt($0)) } }

    /// `remove` of entry `e` whose id's home bucket is `start`; `homeOf` gives the home of the id of
    /// the entry a later bucket names (the op-id ring keeps each entry's, so it need not hash the id).
    @inlinable
    func remove(at e: Int, home start: Int, _ homeOf: (Int) -> Int) {
        var hole = start
        var left = mask
        while true {
            let v = bucket(hole)
            if v == 0 { return }
            if v == e &+ 1 { break }
            if left == 0 { return }
            left &-= 1
            hole = (hole &+ 1) & mask
        }
        var j = (hole &+ 1) & mask
        while true {
            let v = bucket(j)
            if v == 0 { break }
            let h = homeOf(v &- 1)
            // Move the bucket at j into the hole unless its home lies cyclically in (hole, j].
            let stays = hole <= j ? (h > hole && h <= j) : (h > hole || h <= j)
            if !stays {
                setBucket(hole, v)
                hole = j
            }
            j = (j &+ 1) & mask
        }
        setBucket(hole, 0)
    }

    /// Every bucket empty.
    func clear() {
        for w in stride(from: 0, to: 4 * (mask + 1), by: 8) { buckets.storeRelaxed(0, w) }
    }
}
