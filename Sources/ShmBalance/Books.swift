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
    public let isReadOnly: Bool

    public init(_ segment: Segment, lockTimeoutMs: Int = LockTimeout.fromEnvironment()) {
        self.segment = segment
        self.base = segment.base
        self.recordsOffset = segment.geometry.recordsOffset
        self.ringOffset = segment.geometry.ringOffset
        self.ringMask = UInt64(segment.geometry.ringCapacity - 1)
        self.lockTimeoutNs = Int64(lockTimeoutMs) * 1_000_000
        self.isReadOnly = segment.isReadOnly
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

    @inlinable @inline(__always)
    var publishedRecordCount: Int {
        Int(truncatingIfNeeded: base.loadAcquiring(Layout.Header.recordCount))
    }

    @inlinable @inline(__always)
    func recordPointer(_ i: Int) -> UnsafeMutableRawPointer { base + (recordsOffset + i &* Layout.Record.size) }

    /// The published record for `key`, or nil. A lock-free scan: records are append-only and a key,
    /// once published (release store of the count), never changes.
    @inlinable
    public func record(_ key: BookKey) -> RecordRef? {
        let n = min(publishedRecordCount, segment.geometry.recordCapacity)
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
        let n = min(publishedRecordCount, segment.geometry.recordCapacity)
        return (0..<n).map { i in
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

    /// Takes one of the header's robust mutexes (record table, quote table).
    func lockHeaderMutex(_ offset: Int, what: String) throws(BooksError) -> UnsafeMutablePointer<pthread_mutex_t> {
        let m = (base + offset).assumingMemoryBound(to: pthread_mutex_t.self)
        let rc = lockRobust(m, timeoutNs: lockTimeoutNs)
        switch rc {
        case 0: return m
        case EOWNERDEAD:
            pthread_mutex_consistent(m)
            return m
        case ETIMEDOUT:
            throw .busy(what: "\(segment.path): \(what)", ownerTid: shmbal_mutex_owner_tid(m), waitedMs: Int(lockTimeoutNs / 1_000_000))
        default:
            throw .corrupt("\(segment.path): the \(what) lock failed (errno \(rc))")
        }
    }

    /// The initial contents of a record created by `reset`, `reconcile` or `config apply`.
    struct NewRecord {
        var strategyCount = Layout.defaultStrategyCount
        var creditLimit = Amount.zero
        var names: [Int: ShortName] = [:]
    }

    /// Finds `key`'s record or creates it (zero balances, epoch 0). The record is complete
    /// before the count that publishes it is stored, so no process sees it half-made; a creator
    /// killed midway leaves an unpublished slot the next creator simply reuses.
    func findOrCreate(_ key: BookKey, _ initial: @autoclosure () -> NewRecord, operation: Operation) throws(BooksError) -> (RecordRef, created: Bool) {
        if let r = record(key) { return (r, false) }
        try requireWritable()
        let m = try lockHeaderMutex(Layout.Header.tableMutex, what: "record table")
        defer { pthread_mutex_unlock(m) }
        if let r = record(key) { return (r, false) }
        let n = publishedRecordCount
        guard n < segment.geometry.recordCapacity else {
            let refusal = Refusal(.tableFull, operation, key, index: 0, amount: .zero, detail: Amount(raw: Int128(n)))
            recordRefusal(refusal)
            throw .refused(refusal)
        }
        let spec = initial()
        let p = recordPointer(n)
        memset(p, 0, Layout.Record.size)
        p.storeName(key.exchange, Layout.Record.exchange)
        p.storeName(key.currency, Layout.Record.currency)
        let rc = shmbal_mutex_init_robust_shared((p + Layout.Record.mutex).assumingMemoryBound(to: pthread_mutex_t.self))
        guard rc == 0 else { throw .corrupt("\(key): initialising the record's lock failed (errno \(rc))") }
        let s = p + Layout.Record.states
        s.storeRelaxed(UInt64(spec.strategyCount), Layout.State.strategyCount)
        s.storeAmount(spec.creditLimit, Layout.State.creditLimit)
        s.storeRelaxed(UInt64(bitPattern: shmbal_now_micros()), Layout.State.lastChangeMicros)
        s.storeRelaxed(UInt64(UInt32(bitPattern: pid)), Layout.State.lastChangePid)
        var names = defaultSlotNames
        for (i, name) in spec.names { names[i] = name }
        for (i, name) in names.enumerated() { p.storeName(name, Layout.Record.names + 16 * i) }
        base.storeReleasing(UInt64(n + 1), Layout.Header.recordCount)
        return (RecordRef(p: p, key: key), true)
    }

    /// Names a new record starts with: `total`, `pool`, then empty.
    var defaultSlotNames: [ShortName] {
        var names = [ShortName](repeating: .empty, count: 64)
        names[0] = try! ShortName("total", kind: .label)
        names[1] = try! ShortName("pool", kind: .label)
        return names
    }

    /// The exchange `config apply` named as the default, if any.
    public var defaultExchange: ShortName? {
        for _ in 0..<1000 {
            let g = base.loadAcquiring(Layout.Header.defaultExchangeGeneration)
            let name = base.loadName(Layout.Header.defaultExchange + 16 * Int(g & 1))
            atomicMemoryFence(ordering: .acquiring)
            if base.loadRelaxed(Layout.Header.defaultExchangeGeneration) == g { return name.isEmpty ? nil : name }
        }
        return nil
    }

    func storeDefaultExchange(_ name: ShortName?) throws(BooksError) {
        try requireWritable()
        let m = try lockHeaderMutex(Layout.Header.tableMutex, what: "record table")
        defer { pthread_mutex_unlock(m) }
        let g = base.loadRelaxed(Layout.Header.defaultExchangeGeneration)
        atomicMemoryFence(ordering: .releasing)
        base.storeName(name ?? .empty, Layout.Header.defaultExchange + 16 * Int((g + 1) & 1))
        base.storeReleasing(g + 1, Layout.Header.defaultExchangeGeneration)
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
