import Atomics
import CShmBalance
import Glibc
import ShmBalance

/// The process-wide table of open segments behind `shmbal_books` and `shmbal_record` handles.
///
/// A handle is an id, not a pointer: `generation << 16 | (entry + 1)`. An entry's generation is
/// odd while open and is bumped on close, so a closed or stale handle fails the one comparison
/// every call makes and never reaches freed memory. Entries are written only under `mutex`
/// (open, close, first lookup of a record) and published by a release store of the generation
/// (or of the record count); calls read them with acquire loads and no lock.
struct HandleTable: @unchecked Sendable {
    /// `SHMBAL_HANDLE_CAPACITY` (handle_storage.h).
    static var capacity: Int { 1024 }

    /// Layout-compatible with `struct shmbal_handle_entry`.
    struct Entry {
        /// The records this handle has looked up, append-only (never more than the segment holds).
        var records: UnsafeMutablePointer<RecordRef>?
        var recordCapacity = 0
    }

    // The table's storage is C's (handle_storage.c): static and zeroed, which is its empty state,
    // so nothing here is a lazy global and no call pays a once-check to reach it.
    @inline(__always)
    var generations: UnsafeMutablePointer<UnsafeAtomic<UInt64>.Storage> {
        shmbal_handle_generations_base().assumingMemoryBound(to: UnsafeAtomic<UInt64>.Storage.self)
    }
    @inline(__always)
    var recordCounts: UnsafeMutablePointer<UnsafeAtomic<Int>.Storage> {
        shmbal_handle_record_counts_base().assumingMemoryBound(to: UnsafeAtomic<Int>.Storage.self)
    }
    @inline(__always)
    var entries: UnsafeMutablePointer<Entry> { shmbal_handle_entries_base().assumingMemoryBound(to: Entry.self) }
    /// The open segment of each entry, retained while the entry's generation is odd. Calls reach
    /// it as a guaranteed reference and borrow its `let books`: no retain, release or copy of
    /// `Books` per call (reading a `Books` out of a pointer would copy and retain it).
    @inline(__always)
    var books: UnsafeMutablePointer<Unmanaged<OpenBooks>?> {
        shmbal_handle_books_base().assumingMemoryBound(to: Unmanaged<OpenBooks>?.self)
    }
    @inline(__always)
    var mutex: UnsafeMutablePointer<pthread_mutex_t> { shmbal_handle_mutex_address() }

    @inline(__always)
    func generation(_ i: Int) -> UnsafeAtomic<UInt64> { UnsafeAtomic(at: generations + i) }

    @inline(__always)
    func recordCount(_ i: Int) -> UnsafeAtomic<Int> { UnsafeAtomic(at: recordCounts + i) }

    /// The index of the open entry `id` names, or `.closed`.
    @inline(__always)
    func entry(_ id: UInt64) throws(ABIFailure) -> Int {
        let i = Int(truncatingIfNeeded: id & 0xFFFF) &- 1
        guard i >= 0 && i < Self.capacity, id >> 16 & 1 == 1,
              generation(i).load(ordering: .acquiring) == id >> 16
        else { throw .closed }
        return i
    }

    /// The entry and the record a `shmbal_record` handle names, or `.closed`.
    @inline(__always)
    func record(_ handle: shmbal_record) throws(ABIFailure) -> (entry: Int, ref: RecordRef) {
        let i = try entry(handle.books)
        let n = recordCount(i).load(ordering: .acquiring)
        guard handle.slot < UInt64(n) else { throw .closed }
        return (i, entries[i].records.unsafelyUnwrapped[Int(handle.slot)])
    }

    /// Runs `body` on the books of open entry `i`, borrowed in place; a core error becomes the
    /// C status (`ABIFailure(_:)`). The body does not escape, so the core's inlinable operations
    /// inline into each export.
    @inline(__always)
    func calling<R>(_ i: Int, _ body: (borrowing Books) throws(BooksError) -> R) throws(ABIFailure) -> R {
        // (`_withUnsafeGuaranteedRef` rethrows untyped errors: the typed one travels beside it.)
        var failure: BooksError? = nil
        let result: R? = books[i].unsafelyUnwrapped._withUnsafeGuaranteedRef { open in
            do throws(BooksError) { return try body(open.books) } catch {
                failure = error
                return nil
            }
        }
        if let failure { throw ABIFailure(failure) }
        return result.unsafelyUnwrapped
    }

    /// Runs `body` with the books of the open handle `id`.
    @inline(__always)
    func withBooks<R>(_ id: UInt64, _ body: (borrowing Books) throws(ABIFailure) -> R) throws(ABIFailure) -> R {
        let i = try entry(id)
        var failure: ABIFailure? = nil
        let result: R? = books[i].unsafelyUnwrapped._withUnsafeGuaranteedRef { open in
            do throws(ABIFailure) { return try body(open.books) } catch {
                failure = error
                return nil
            }
        }
        if let failure { throw failure }
        return result.unsafelyUnwrapped
    }

    func open(_ books: Books) throws(ABIFailure) -> UInt64 {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        for i in 0..<Self.capacity {
            let g = generation(i).load(ordering: .relaxed)
            guard g & 1 == 0 else { continue }
            let capacity = books.segment.geometry.recordCapacity
            let records = UnsafeMutablePointer<RecordRef>.allocate(capacity: capacity)
            entries[i] = Entry(records: records, recordCapacity: capacity)
            self.books[i] = Unmanaged.passRetained(OpenBooks(books))
            recordCount(i).store(0, ordering: .relaxed)
            generation(i).store(g &+ 1, ordering: .releasing)
            return (g &+ 1) << 16 | UInt64(i + 1)
        }
        throw ABIFailure(SHMBAL_SEGMENT, "\(books.segment.path): too many open handles (\(Self.capacity)); open each segment once and share the handle")
    }

    func close(_ id: UInt64) throws(ABIFailure) {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        let i = try entry(id)
        generation(i).store(id >> 16 &+ 1, ordering: .releasing)
        let records = entries[i].records
        let n = recordCount(i).load(ordering: .relaxed)
        recordCount(i).store(0, ordering: .relaxed)
        entries[i] = Entry()
        // The last reference to the segment goes here, which unmaps it.
        books[i]?.release()
        books[i] = nil
        records?.deinitialize(count: n)
        records?.deallocate()
    }

    /// A record handle for `ref`: its index in this handle's table, added on first lookup.
    func recordSlot(_ id: UInt64, _ ref: RecordRef) throws(ABIFailure) -> UInt64 {
        let i = try entry(id)
        if let s = findCached(i, ref.key) { return s }
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        // Re-check under the lock: the handle may have been closed, or another thread added it.
        _ = try entry(id)
        if let s = findCached(i, ref.key) { return s }
        let n = recordCount(i).load(ordering: .relaxed)
        guard n < entries[i].recordCapacity, let records = entries[i].records else {
            throw ABIFailure(SHMBAL_CORRUPT, "\(ref.key): more records than the segment holds")
        }
        (records + n).initialize(to: ref)
        recordCount(i).store(n + 1, ordering: .releasing)
        return UInt64(n)
    }

    private func findCached(_ i: Int, _ key: BookKey) -> UInt64? {
        let n = recordCount(i).load(ordering: .acquiring)
        guard let records = entries[i].records else { return nil }
        for s in 0..<n where records[s].key == key { return UInt64(s) }
        return nil
    }
}

let handles = HandleTable()

/// An open segment, owned by its table entry.
final class OpenBooks {
    let books: Books
    init(_ books: Books) { self.books = books }
}
