import Atomics
import CShmBalanceSys

// The one publish protocol for every value other processes read (SPEC §4: records, names, quotes,
// the default exchange; the hold table's entries are tagged with the record generation that
// publishes them, so they need no publish of their own: docs/holds.md). Nothing else in the core writes a value a
// reader may be copying, and nothing else retries a read.
//
// `Latch` — a value kept in two copies with a generation word; `generation & 1` names the published
// copy (LMDB's two meta pages, Linux's seqcount_latch). A writer, holding the lock that serialises
// the value's writers, fills the unpublished copy and publishes it with one release store of
// `generation + 1`. Killed at any instruction before that store, it leaves the published copy
// untouched (nothing to roll back); after it, the change is complete. Readers never lock: they load
// the generation, copy the copy it names, and retry if the generation moved meanwhile.
//
// `AppendTable` — an append-only table whose count publishes its entries: a writer, holding the
// table's lock, fills the entries past the count (zeroed first) and publishes them with one release
// store of the new count. An entry is therefore complete — key, lock, first value — before any
// reader can find it. (A quote appended with its count stored before its value could be read as 0.)
//
// Orderings, and why they are enough:
// - publish: the generation is read relaxed (only lock holders write it, and the lock ordered us
//   after the last one); a release fence then orders the previous publish's store before every store
//   into the unpublished copy, so a reader that sees any of those stores also sees a generation
//   that has moved when it re-checks; the publishing store is a release, so a reader that loads the
//   new generation with acquire sees the whole copy.
// - read: generation loaded acquiring, the copy loaded relaxed, an acquire fence keeps those loads
//   before the re-check (a relaxed load of the generation).

/// Why a latch read gave nothing: writers published non-stop for the whole retry bound, or the
/// mapping behind the value was truncated (its pages are zeros now).
public enum LatchReadFailure: Error, Sendable, Equatable {
    case contended(attempts: Int)
    case truncated(mapping: Int32)
}

@frozen @usableFromInline
struct Latch {
    @usableFromInline let word: UnsafeMutableRawPointer
    @usableFromInline let copies: UnsafeMutableRawPointer
    @usableFromInline let copySize: Int
    @usableFromInline let kind: PublishedValue

    /// Bound on read attempts: a read retries only when a publish lands during it, so this is never
    /// reached unless writers publish non-stop for the whole bound (about 10–50 ms of retries).
    @usableFromInline static let readAttempts = 1_000_000

    @inlinable @inline(__always)
    init(_ base: UnsafeMutableRawPointer, generation: Int, copies: Int, copySize: Int, _ kind: PublishedValue) {
        word = base + generation
        self.copies = base + copies
        self.copySize = copySize
        self.kind = kind
    }

    @inlinable @inline(__always)
    func copy(_ generation: UInt64) -> UnsafeMutableRawPointer { copies + Int(generation & 1) &* copySize }

    /// The published generation, for a writer holding the lock (no retry needed: only lock holders write it).
    @inlinable @inline(__always)
    var lockedGeneration: UInt64 { word.loadRelaxed(0) }

    /// The published copy, for a writer holding the lock.
    @inlinable @inline(__always)
    var lockedCurrent: UnsafeMutableRawPointer { copy(lockedGeneration) }

    /// Writer side (the caller holds the value's lock): `body` fills `next`, the unpublished copy,
    /// from `current` and the generation `g` it was published at; then one release store publishes
    /// it. Every check that can refuse runs before this: `body` cannot fail.
    @inlinable @inline(__always)
    func publish<R>(_ body: (_ next: UnsafeMutableRawPointer, _ current: UnsafeMutableRawPointer, _ g: UInt64) -> R) -> R {
        let g = word.loadRelaxed(0)
        let current = copy(g), next = copy(g &+ 1)
        atomicMemoryFence(ordering: .releasing)
        faultPoint(.lockedBeforeWrite, kind)
        let result = body(next, current, g)
        faultPoint(.writtenBeforePublish, kind)
        // The commit: before this store the change never happened; after it, it did.
        word.storeReleasing(g &+ 1, 0)
        faultPoint(.publishedBeforeUnlock, kind)
        return result
    }

    /// After taking the lock from a holder that died: make the unpublished copy equal to the
    /// published one again (the dead holder may have half-written it, and the record's hot path
    /// relies on it holding the previous state).
    @usableFromInline
    func refreshUnpublished() {
        let g = word.loadRelaxed(0)
        let current = copy(g), next = copy(g &+ 1)
        atomicMemoryFence(ordering: .releasing)
        for w in stride(from: 0, to: copySize, by: 8) { next.storeRelaxed(current.loadRelaxed(w), w) }
    }

    /// Reader side: `body` copies what it needs out of the published copy with relaxed loads (or the
    /// one documented racy copy, `SharedMemory.copySlots`); the copy is returned only if no publish
    /// landed meanwhile. On a read-only mapping too; never locks, never writes.
    @inlinable @inline(__always)
    func read<R>(_ body: (_ current: UnsafeMutableRawPointer) -> R) throws(LatchReadFailure) -> R {
        try read { (current: UnsafeMutableRawPointer, _: UInt64) -> R in body(current) }
    }

    /// `read`, handing `body` the generation it reads too: for data tagged with generations beside
    /// the copies (a record's hold table: an entry is visible in `g` by its open/close tags).
    @inlinable @inline(__always)
    func read<R>(_ body: (_ current: UnsafeMutableRawPointer, _ g: UInt64) -> R) throws(LatchReadFailure) -> R {
        var attempt = 0
        var result: R
        while true {
            let g = word.loadAcquiring(0)
            result = body(copy(g), g)
            atomicMemoryFence(ordering: .acquiring)
            if word.loadRelaxed(0) == g { break }
            attempt &+= 1
            if attempt >= Latch.readAttempts { throw .contended(attempts: attempt) }
        }
        if shmbal_any_mapping_faulted() != 0 { try Latch.checkMapping(of: word) }
        return result
    }

    /// Some mapping of this process was truncated: is it the one `address` lies in?
    @usableFromInline @inline(never)
    static func checkMapping(of address: UnsafeMutableRawPointer) throws(LatchReadFailure) {
        let id = shmbal_mapping_containing(address)
        if id >= 0 && shmbal_mapping_last_state(id) == SHMBAL_MAPPING_TRUNCATED { throw .truncated(mapping: id) }
    }
}

@frozen @usableFromInline
struct AppendTable {
    @usableFromInline let countWord: UnsafeMutableRawPointer
    @usableFromInline let entries: UnsafeMutableRawPointer
    @usableFromInline let entrySize: Int
    @usableFromInline let capacity: Int
    @usableFromInline let kind: PublishedValue

    @inlinable
    init(_ base: UnsafeMutableRawPointer, count: Int, entries: Int, entrySize: Int, capacity: Int, _ kind: PublishedValue) {
        countWord = base + count
        self.entries = base + entries
        self.entrySize = entrySize
        self.capacity = capacity
        self.kind = kind
    }

    /// Entries a reader may use: the published count, never beyond the capacity (a damaged count
    /// is refused at attach; one damaged later still never sends a reader past the table).
    @inlinable @inline(__always)
    var published: Int {
        let n = countWord.loadAcquiring(0)
        return n > UInt64(capacity) ? capacity : Int(truncatingIfNeeded: n)
    }

    @inlinable @inline(__always)
    func entry(_ i: Int) -> UnsafeMutableRawPointer { entries + i &* entrySize }

    /// Writer side (the caller holds the table's lock): zeroes the `count` entries past the
    /// published ones, lets `fill` write each of them completely, then publishes them all with one
    /// release store of the count. Returns the first new index, or nil when they do not fit
    /// (nothing written). If `fill` throws, nothing is published (the next append starts over).
    @usableFromInline
    func append<E: Error>(_ count: Int, _ fill: (_ entry: UnsafeMutableRawPointer, _ offset: Int) throws(E) -> Void) throws(E) -> Int? {
        let n = published
        guard count >= 0, count <= capacity - n else { return nil }
        faultPoint(.lockedBeforeWrite, kind)
        for i in 0..<count {
            let e = entry(n + i)
            for w in stride(from: 0, to: entrySize, by: 8) { e.storeRelaxed(0, w) }
            try fill(e, i)
        }
        faultPoint(.writtenBeforePublish, kind)
        countWord.storeReleasing(UInt64(n + count), 0)
        faultPoint(.publishedBeforeUnlock, kind)
        return n
    }
}
