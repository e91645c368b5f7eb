import Atomics
import CShmBalanceSys
import Glibc

// Taking, saving, reading and restoring snapshots (the format is in SnapshotFormat.swift).
//
// Save: every record is copied consistently through its seqlock (no lock taken, so a read-only
// attach can save), written to a temporary file beside FILE, fsync'd, renamed over FILE and the
// directory fsync'd: FILE is always either the old snapshot or the complete new one.
// Restore: the file is read and checked completely first (checksum, version, every record's
// rules); then it is written only into a fresh segment (built under a temporary name and linked
// into place, so no process ever sees it half-restored) or into an existing one that holds no
// records and no quotes (all records appear at once: one release store of the record count).
// A segment that already holds records is refused: restore never merges into or replaces live books.

/// What `SnapshotFile.restore` did.
public struct RestoreReport: Sendable, Equatable {
    public var snapshot: BooksSnapshot
    /// True when the segment did not exist and was created from the snapshot's geometry.
    public var createdSegment: Bool
}

extension Books {
    /// A copy of the books now: each record consistent (state, names), the quotes, the default exchange.
    public func takeSnapshot() throws(BooksError) -> BooksSnapshot {
        var records: [SnapshotRecord] = []
        for key in keys() {
            guard let rec = record(key) else { continue }
            var state = RecordState()
            try rec.read(into: &state)
            records.append(SnapshotRecord(key: key, state: state, names: try rec.readNames(), slotChangedMicros: rec.slotChangedMicros()))
        }
        var quotes: [SnapshotQuote] = []
        for i in 0..<publishedQuoteCount {
            let p = quotePointer(i)
            let key = QuoteKey(exchange: p.loadName(Layout.Quote.exchange), dataType: p.loadName(Layout.Quote.dataType),
                               currency: p.loadName(Layout.Quote.currency))
            quotes.append(try readQuoteWithPid(p, key: key))
        }
        return BooksSnapshot(geometry: segment.geometry, createdMicros: shmbal_now_micros(), source: segment.path,
                             defaultExchange: defaultExchange, records: records, quotes: quotes.sorted { $0.key < $1.key })
    }

    func readQuoteWithPid(_ p: UnsafeMutableRawPointer, key: QuoteKey) throws(BooksError) -> SnapshotQuote {
        for _ in 0..<RecordRef.readRetries {
            let g = p.loadAcquiring(Layout.Quote.generation)
            let copy = Layout.Quote.copies + Int(g & 1) * Layout.Quote.copySize
            let q = SingleQuote(timestamp: Int64(bitPattern: p.loadRelaxed(copy)), localTimestamp: Int64(bitPattern: p.loadRelaxed(copy + 8)),
                                mid: Double(bitPattern: p.loadRelaxed(copy + 16)))
            let pid = Int32(truncatingIfNeeded: p.loadRelaxed(copy + 24))
            atomicMemoryFence(ordering: .acquiring)
            if p.loadRelaxed(Layout.Quote.generation) == g { return SnapshotQuote(key: key, quote: q, pid: pid) }
        }
        throw .badInput("\(key): quote is being rewritten non-stop; try again")
    }

    /// Writes `snapshot` into this segment, which must hold no records and no quotes.
    func restore(_ snap: BooksSnapshot) throws(SnapshotError) {
        if isReadOnly { throw .books(.segment(.readOnly(path: segment.path))) }
        let g = segment.geometry
        guard snap.records.count <= g.recordCapacity, snap.quotes.count <= g.quoteCapacity else {
            throw .doesNotFit(segment: segment.path, why: "\(snap.records.count) records and \(snap.quotes.count) quotes; it holds \(g.recordCapacity) and \(g.quoteCapacity)")
        }
        // Refuse a non-empty segment before touching anything, then check again under the locks.
        if publishedRecordCount != 0 || publishedQuoteCount != 0 {
            throw .notEmpty(segment: segment.path, records: publishedRecordCount, quotes: publishedQuoteCount)
        }
        let table: UnsafeMutablePointer<pthread_mutex_t>
        let quoteTable: UnsafeMutablePointer<pthread_mutex_t>
        do {
            table = try lockHeaderMutex(Layout.Header.tableMutex, what: "record table")
        } catch { throw .books(error) }
        defer { pthread_mutex_unlock(table) }
        do {
            quoteTable = try lockHeaderMutex(Layout.Header.quoteMutex, what: "quote table")
        } catch { throw .books(error) }
        defer { pthread_mutex_unlock(quoteTable) }
        // Checked under both table locks: no record or quote can appear meanwhile.
        let records = publishedRecordCount, quotes = publishedQuoteCount
        guard records == 0 && quotes == 0 else { throw .notEmpty(segment: segment.path, records: records, quotes: quotes) }

        // Fill unpublished entries; nothing is visible until the counts are stored.
        for (i, r) in snap.records.enumerated() {
            let p = recordPointer(i)
            memset(p, 0, Layout.Record.size)
            p.storeName(r.key.exchange, Layout.Record.exchange)
            p.storeName(r.key.currency, Layout.Record.currency)
            let rc = shmbal_mutex_init_robust_shared((p + Layout.Record.mutex).assumingMemoryBound(to: pthread_mutex_t.self))
            guard rc == 0 else { throw .books(.corrupt("\(r.key): initialising the record's lock failed (errno \(rc))")) }
            writeState(r.state, to: p + Layout.Record.states)
            for (j, name) in r.names.enumerated() { p.storeName(name, Layout.Record.names + 16 * j) }
            for (j, micros) in r.slotChangedMicros.enumerated() where j < r.state.strategyCount {
                p.storeRelaxed(UInt64(bitPattern: micros), Layout.Record.slotChangedMicros + 8 * j)
            }
        }
        for (i, q) in snap.quotes.enumerated() {
            let p = quotePointer(i)
            memset(p, 0, Layout.Quote.size)
            p.storeName(q.key.exchange, Layout.Quote.exchange)
            p.storeName(q.key.dataType, Layout.Quote.dataType)
            p.storeName(q.key.currency, Layout.Quote.currency)
            p.storeRelaxed(UInt64(bitPattern: q.quote.timestamp), Layout.Quote.copies)
            p.storeRelaxed(UInt64(bitPattern: q.quote.localTimestamp), Layout.Quote.copies + 8)
            p.storeRelaxed(q.quote.mid.bitPattern, Layout.Quote.copies + 16)
            p.storeRelaxed(UInt64(UInt32(bitPattern: q.pid)), Layout.Quote.copies + 24)
        }
        // Publish: the records first (the books), then the quotes, then the default exchange.
        base.storeReleasing(UInt64(snap.records.count), Layout.Header.recordCount)
        base.storeReleasing(UInt64(snap.quotes.count), Layout.Header.quoteCount)
        if let d = snap.defaultExchange {
            let dg = base.loadRelaxed(Layout.Header.defaultExchangeGeneration)
            atomicMemoryFence(ordering: .releasing)
            base.storeName(d, Layout.Header.defaultExchange + 16 * Int((dg + 1) & 1))
            base.storeReleasing(dg + 1, Layout.Header.defaultExchangeGeneration)
        }
    }
}

/// Snapshot files: save, read and restore (SPEC §4 "survive a reboot").
public enum SnapshotFile {
    /// Largest snapshot file read (a full segment of 65,536 records is well under this).
    public static let maxBytes = 1 << 30

    /// Takes a snapshot of `books` and writes it to `path` atomically (temp file, fsync, rename,
    /// fsync of the directory). The file gets mode 0600: it holds the books.
    @discardableResult
    public static func save(_ books: Books, to path: String) throws(SnapshotError) -> BooksSnapshot {
        let snap: BooksSnapshot
        do { snap = try books.takeSnapshot() } catch { throw .books(error) }
        try writeAtomically(Array(snap.encoded().utf8), to: path)
        return snap
    }

    /// Reads and checks the snapshot at `path` completely (see `BooksSnapshot.decode`).
    public static func read(_ path: String) throws(SnapshotError) -> BooksSnapshot {
        try BooksSnapshot.decode(try readBytes(path), path: path)
    }

    /// Restores the snapshot at `file` into the segment at `segmentPath`: a fresh segment (created
    /// with the snapshot's geometry and `mode`) or an existing one holding no records and no quotes.
    public static func restore(from file: String, toSegment segmentPath: String, mode: UInt32 = 0o600) throws(SnapshotError) -> RestoreReport {
        let snap = try read(file)
        let existing: Segment?
        do { existing = try Segment.open(segmentPath, .readWrite) } catch .notFound { existing = nil } catch { throw .books(.segment(error)) }
        if let existing {
            try Books(existing).restore(snap)
            return RestoreReport(snapshot: snap, createdSegment: false)
        }
        let temp = temporaryName(for: segmentPath, tag: "restore")
        let fresh: Segment
        do { fresh = try Segment.create(temp, geometry: snap.geometry, mode: mode) } catch { throw .books(.segment(error)) }
        var linked = false
        defer { if !linked { unlink(temp) } }
        try Books(fresh).restore(snap)
        guard link(temp, segmentPath) == 0 else {
            let e = errno
            if e == EEXIST { throw .books(.segment(.exists(path: segmentPath))) }
            throw .file(path: segmentPath, call: "link", errno: e)
        }
        linked = true
        unlink(temp)
        return RestoreReport(snapshot: snap, createdSegment: true)
    }

    static func temporaryName(for path: String, tag: String) -> String {
        let slash = path.lastIndex(of: "/")
        let dir = slash.map { String(path[..<$0]) } ?? "."
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        return "\(dir.isEmpty ? "" : dir)/.\(name).\(tag).\(getpid()).\(UInt32.random(in: 0...UInt32.max))"
    }

    static func readBytes(_ path: String) throws(SnapshotError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .file(path: path, call: "open", errno: errno) }
        defer { close(fd) }
        var st = Glibc.stat()
        guard fstat(fd, &st) == 0 else { throw .file(path: path, call: "fstat", errno: errno) }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw .notASnapshot(path: path, why: "not a regular file") }
        guard Int(st.st_size) <= maxBytes else { throw .notASnapshot(path: path, why: "\(st.st_size) bytes, larger than any snapshot") }
        var bytes = [UInt8](repeating: 0, count: Int(st.st_size))
        var got = 0
        while got < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + got, $0.count - got) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw .file(path: path, call: "read", errno: errno) }
            if n == 0 { break }
            got += n
        }
        return Array(bytes[0..<got])
    }

    static func writeAtomically(_ bytes: [UInt8], to path: String) throws(SnapshotError) {
        let temp = temporaryName(for: path, tag: "tmp")
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .file(path: path, call: "create \(temp)", errno: errno) }
        var renamed = false
        defer { if !renamed { unlink(temp) } }
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + written, $0.count - written) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                let e = errno
                close(fd)
                throw .file(path: path, call: "write", errno: e)
            }
            written += n
        }
        guard fsync(fd) == 0 else {
            let e = errno
            close(fd)
            throw .file(path: path, call: "fsync", errno: e)
        }
        guard close(fd) == 0 else { throw .file(path: path, call: "close", errno: errno) }
        // rename replaces FILE (or a symlink named FILE, never its target) in one step.
        guard rename(temp, path) == 0 else { throw .file(path: path, call: "rename", errno: errno) }
        renamed = true
        let slash = path.lastIndex(of: "/")
        let dir = slash.map { String(path[..<$0]) } ?? "."
        let dfd = open(dir.isEmpty ? "/" : dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 {
            // The rename itself must reach the disk too.
            _ = fsync(dfd)
            close(dfd)
        }
    }
}
