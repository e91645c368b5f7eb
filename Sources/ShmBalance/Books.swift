import Atomics
import CShmBalanceSys
import Glibc

/// The books in one segment: the handle every client (CLI, dashboard, C ABI) calls.
///
/// A value type holding the mapping's address and the few numbers the hot path needs, so an
/// operation reaches shared memory with no lookup, retain or allocation. Look a record up once
/// (`record(_:)`) and keep the `RecordRef` to skip the key search on every call.
public struct Books: @unchecked Sendable {
    public let segment: Segment
    @usableFromInline let base: UnsafeMutableRawPointer
    @usableFromInline let recordsOffset: Int
    @usableFromInline let ringOffset: Int
    @usableFromInline let ringMask: UInt64
    @usableFromInline let lockTimeoutNs: Int64
    /// The mapping's entry in the process's registry (mapping.c): every write checks the file through it.
    @usableFromInline let mappingId: Int32
    public let isReadOnly: Bool
    /// Where each record's hold table and op-id ring are (layout 3), owned by `segment`.
    @usableFromInline let extensionGeometry: UnsafePointer<ExtensionGeometry>
    @inlinable @inline(__always)
    var extensions: ExtensionGeometry { extensionGeometry.pointee }
    /// `OpDigests.table`, reached without a lazy global's check on the op-id path.
    @usableFromInline let opDigests: UnsafePointer<UInt64>

    public init(_ segment: Segment, lockTimeoutMs: Int = LockTimeout.fromEnvironment()) {
        self.segment = segment
        self.base = segment.base
        self.recordsOffset = segment.geometry.recordsOffset
        self.ringOffset = segment.geometry.ringOffset
        self.ringMask = UInt64(segment.geometry.ringCapacity - 1)
        self.lockTimeoutNs = Int64(lockTimeoutMs) * 1_000_000
        self.isReadOnly = segment.isReadOnly
        self.mappingId = segment.mappingId
        self.extensionGeometry = UnsafePointer(segment.extensions)
        self.opDigests = OpDigests.table
    }

    /// Opens the segment at `path` (nil: `$SHMBAL_SEGMENT`, else `/dev/shm/shmbal`).
    public static func open(_ path: String? = nil, _ access: Segment.AccessMode = .readWriteCreating()) throws(BooksError) -> Books {
        do {
            return Books(try Segment.open(try Segment.resolvePath(path), access))
        } catch {
            throw .segment(error)
        }
    }

    @inlinable @inline(__always)
    var pid: Int32 { shmbal_cached_pid() }

    /// The record table: appended to under the table mutex, published by its count.
    @inlinable @inline(__always)
    var recordTable: AppendTable {
        AppendTable(base, count: Layout.Header.recordCount, entries: recordsOffset, entrySize: Layout.Record.size,
                    capacity: segment.geometry.recordCapacity, .newRecords)
    }

    @inlinable @inline(__always)
    var publishedRecordCount: Int { recordTable.published }

    @inlinable @inline(__always)
    func recordPointer(_ i: Int) -> UnsafeMutableRawPointer { base + (recordsOffset + i &* Layout.Record.size) }

    /// The published record for `key`, or nil. A lock-free scan: records are append-only and a key,
    /// once published (release store of the count), never changes.
    @inlinable
    public func record(_ key: BookKey) -> RecordRef? {
        let n = publishedRecordCount
        for i in 0..<n {
            let p = recordPointer(i)
            if p.loadRelaxed(Layout.Record.currency) == key.currency.lo && p.loadRelaxed(Layout.Record.exchange) == key.exchange.lo
                && p.loadRelaxed(Layout.Record.currency + 8) == key.currency.hi && p.loadRelaxed(Layout.Record.exchange + 8) == key.exchange.hi {
                return RecordRef(p: p, key: key)
            }
        }
        return nil
    }

    /// Every record's key, by exchange then currency.
    public func keys() -> [BookKey] {
        (0..<publishedRecordCount).map { i in
            let p = recordPointer(i)
            return BookKey(exchange: p.loadName(Layout.Record.exchange), currency: p.loadName(Layout.Record.currency))
        }.sorted()
    }

    /// The exchanges that have records, sorted.
    public func exchanges() -> [ShortName] {
        Array(Set(keys().map(\.exchange))).sorted()
    }

    @usableFromInline
    func requireWritable() throws(BooksError) {
        if isReadOnly { throw .segment(.readOnly(path: segment.path)) }
    }

    /// The initial contents of a record created by `reset`, `reconcile` or `config apply`.
    struct NewRecord {
        var strategyCount = Layout.defaultStrategyCount
        var creditLimit = Amount.zero
        var names: [Int: ShortName] = [:]

        func initialState(now: Int64, pid: Int32) -> RecordState {
            var s = RecordState()
            s.strategyCount = strategyCount
            s.creditLimit = creditLimit
            s.lastChangeMicros = now
            s.lastChangePid = pid
            return s
        }

        /// `total`, `pool`, then empty, with the configured names over them.
        var slotNames: [ShortName] {
            var all = Books.defaultSlotNames
            for (i, name) in names where i >= 0 && i < Layout.slotCount { all[i] = name }
            return all
        }
    }

    /// Finds `key`'s record or creates it (zero balances, epoch 0), through the record table's
    /// append: the record is complete before the count that publishes it is stored, so no process
    /// sees it half-made; a creator killed midway leaves an unpublished entry the next append
    /// rewrites. The key is looked for again under the table lock, so two first creators of one
    /// key make one record.
    func findOrCreate(_ key: BookKey, _ initial: @autoclosure () -> NewRecord, operation: Operation) throws(BooksError) -> (RecordRef, created: Bool) {
        if let r = record(key) { return (r, false) }
        try requireWritable()
        let m = try lockHeaderMutex(Layout.Header.tableMutex, what: "record table")
        defer { pthread_mutex_unlock(m) }
        if let r = record(key) { return (r, false) }
        let spec = initial()
        guard let first = try appendRecords([(key, spec.initialState(now: shmbal_now_micros(), pid: pid), spec.slotNames)]) else {
            let n = publishedRecordCount
            let refusal = Refusal(.tableFull, operation, key, index: 0, amount: .zero, detail: Amount(raw: Int128(n)))
            recordRefusal(refusal)
            throw .refused(refusal)
        }
        return (RecordRef(p: recordPointer(first), key: key), true)
    }

    /// Appends complete records (caller holds the table mutex) and publishes them with one store;
    /// nil when they do not fit (nothing written). Used by create, `config apply` and `restore`.
    func appendRecords(_ records: [(key: BookKey, state: RecordState, names: [ShortName])],
                       slotChanged: [[Int64]]? = nil, holds: [[OpenHold]]? = nil) throws(BooksError) -> Int? {
        let first = publishedRecordCount
        return try recordTable.append(records.count) { (p, i) throws(BooksError) in
            let r = records[i]
            p.storeName(r.key.exchange, Layout.Record.exchange)
            p.storeName(r.key.currency, Layout.Record.currency)
            let rc = shmbal_mutex_init_robust_shared((p + Layout.Record.mutex).assumingMemoryBound(to: pthread_mutex_t.self))
            guard rc == 0 else { throw .corrupt("\(r.key): initialising the record's lock failed (errno \(rc))") }
            // Generation 0: copy 0 of each latch is the published one.
            writeState(r.state, to: p + Layout.Record.states)
            let copy0 = p + Layout.Record.states
            Books.settleExpiryBit(copy0)
            for (j, name) in r.names.prefix(Layout.slotCount).enumerated() { copy0.storeName(name, Layout.State.names + Layout.nameSize * j) }
            if let changed = slotChanged?[i] {
                for (j, micros) in changed.prefix(r.state.strategyCount).enumerated() {
                    p.storeRelaxed(UInt64(bitPattern: micros), Layout.Record.slotChangedMicros + 8 * j)
                }
            }
            // The record's extension: no entry of an append that died before its count was stored
            // may show through; then a restore's holds, visible from generation 1 (docs/holds.md).
            let ext = extensions.base + (first + i) * extensions.size
            let table = HoldTable(ext, extensions)
            for e in 0..<table.entries { table.entry(e).storeRelaxed(0, Layout.Hold.openGen) }
            table.index.clear()
            OpLog(ext, extensions).index.clear()
            if let hs = holds?[i], !hs.isEmpty {
                var books = HoldBooks(from: copy0)
                for (e, h) in hs.enumerated() {
                    table.open(e, id: h.id, slot: h.index, amount: h.amount, original: h.original, created: h.createdMicros,
                               expires: h.expiresMicros ?? 0, at: 1)
                    books.held[h.index] = Amount(raw: books.held[h.index].raw &+ h.amount.raw)
                    books.counts[h.index] &+= 1
                    books.holdSerial &+= 1
                    if let t = h.expiresMicros, books.earliestExpiry == 0 || t < books.earliestExpiry { books.earliestExpiry = t }
                }
                books.write(to: copy0)
                Books.settleExpiryBit(copy0)
                table.rebuildIndex(published: 1)
                // Both copies alike at generation 1: the entries' tags and the state agree.
                let copy1 = p + Layout.Record.states + Layout.State.size
                for w in stride(from: 0, to: Layout.State.size, by: 8) { copy1.storeRelaxed(copy0.loadRelaxed(w), w) }
                p.storeRelaxed(1, Layout.Record.generation)
            }
        }
    }

    /// Names a new record starts with: `total`, `pool`, then empty.
    static var defaultSlotNames: [ShortName] {
        var names = [ShortName](repeating: .empty, count: 64)
        names[0] = try! ShortName("total", kind: .label)
        names[1] = try! ShortName("pool", kind: .label)
        return names
    }

    /// The default exchange: two copies of a name in the header.
    var defaultExchangeLatch: Latch {
        Latch(base, generation: Layout.Header.defaultExchangeGeneration, copies: Layout.Header.defaultExchange,
              copySize: Layout.nameSize, .defaultExchange)
    }

    /// The exchange `config apply` named as the default, if any.
    public var defaultExchange: ShortName? {
        get throws(BooksError) {
            let name: ShortName
            do { name = try defaultExchangeLatch.read { $0.loadName(0) } } catch {
                throw BooksError(error, what: "\(segment.path): default exchange")
            }
            return name.isEmpty ? nil : name
        }
    }

    /// Publishes the default exchange (caller holds the record table's mutex, which serialises its writers).
    func publishDefaultExchange(_ name: ShortName?) {
        defaultExchangeLatch.publish { (next, _, _) in next.storeName(name ?? .empty, 0) }
    }

    /// Records a refusal in the activity ring (not possible on a read-only mapping).
    @usableFromInline
    func recordRefusal(_ r: Refusal) {
        guard !isReadOnly else { return }
        appendActivity(r.operation, r.key, index: r.index, outcome: r.code.rawValue, epoch: 0,
                       amount: r.amount, detail: r.detail, after: .zero, now: shmbal_now_micros())
    }
}

extension Segment {
    @usableFromInline var publishedRecordCount: Int {
        Int(truncatingIfNeeded: base.loadAcquiring(Layout.Header.recordCount))
    }

    var publishedQuoteCount: Int {
        Int(truncatingIfNeeded: base.loadAcquiring(Layout.Header.quoteCount))
    }
}
