import Atomics
import CShmBalanceSys
import Glibc
import SystemPackage

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
    /// A copy of the books now: each record consistent (state, names), the quotes, the default
    /// exchange. A record that `snapshot restore` would refuse (damaged: see `RecordProblem`) is left
    /// out and listed in `skipped`, so one bad record never stops the others from being saved.
    public func takeSnapshot() throws(BooksError) -> BooksSnapshot {
        var records: [SnapshotRecord] = []
        var skipped: [SkippedRecord] = []
        for key in keys() {
            guard let rec = record(key) else { continue }
            var state = RecordState()
            var names: [ShortName] = []
            var stored = 0
            var holds: [OpenHold] = []
            // State and names from one published copy (two reads could save a `config apply`'s new
            // names beside the money of the copy before it), and the holds belonging to that state:
            // read both until they come from the same applied operation (every change of holds bumps
            // opCount). Bounded: writers would have to apply an operation between the two reads every time.
            for attempt in 0..<1000 {
                stored = try rec.readWithNames(into: &state, names: &names)
                let read = try readHolds(rec)
                holds = read.holds
                if read.opCount == state.opCount { break }
                if attempt == 999 { throw .contended(what: "\(key): record and its holds", attempts: 1000) }
            }
            let problems = state.problems(storedCount: stored).filter { !$0.isRestorable }
            if !problems.isEmpty {
                skipped.append(SkippedRecord(key: key, problems: problems))
                continue
            }
            var r = SnapshotRecord(key: key, state: state, names: names, slotChangedMicros: rec.slotChangedMicros())
            r.holds = holds.map { h in
                var h = h
                h.expired = false
                return h
            }
            records.append(r)
        }
        var quotes: [SnapshotQuote] = []
        let table = quoteTable
        for i in 0..<table.published {
            let p = table.entry(i)
            let key = quoteKey(at: p)
            let (q, pid) = try readQuote(p, key: key)
            quotes.append(SnapshotQuote(key: key, quote: q, pid: pid))
        }
        let defaultExchange = try self.defaultExchange
        if segment.fileState == .truncated { throw .segment(.truncated(path: segment.path)) }
        var snap = BooksSnapshot(geometry: segment.geometry, createdMicros: shmbal_now_micros(), source: segment.path,
                                 defaultExchange: defaultExchange, records: records, quotes: quotes.sorted { $0.key < $1.key })
        snap.skipped = skipped
        return snap
    }

    /// Writes `snapshot` into this segment: one that holds no records and no quotes, or one that
    /// holds exactly what an interrupted restore of this same snapshot left (so running the command
    /// again finishes the job). Anything else is refused before the first write.
    ///
    /// The records appear together (one store of the record count), then the quotes (one store),
    /// then the default exchange; each store publishes entries written complete beforehand.
    func restore(_ snap: BooksSnapshot) throws(SnapshotError) {
        if isReadOnly { throw .books(.segment(.readOnly(path: segment.path))) }
        let g = segment.geometry
        guard snap.records.count <= g.recordCapacity, snap.quotes.count <= g.quoteCapacity else {
            throw .doesNotFit(segment: segment.path, why: "\(snap.records.count) records and \(snap.quotes.count) quotes; it holds \(g.recordCapacity) and \(g.quoteCapacity)")
        }
        if let r = snap.records.first(where: { $0.holds.count > g.holdCapacity }) {
            throw .doesNotFit(segment: segment.path, why: "\(r.key) has \(r.holds.count) open holds; a record here holds \(g.holdCapacity)")
        }
        // Refuse a segment that holds other books before touching anything, then check again under the locks.
        try restorePlan(snap)
        let table: UnsafeMutablePointer<pthread_mutex_t>
        let quoteLock: UnsafeMutablePointer<pthread_mutex_t>
        do { table = try lockHeaderMutex(Layout.Header.tableMutex, what: "record table") } catch { throw .books(error) }
        defer { pthread_mutex_unlock(table) }
        do { quoteLock = try lockHeaderMutex(Layout.Header.quoteMutex, what: "quote table") } catch { throw .books(error) }
        defer { pthread_mutex_unlock(quoteLock) }
        // Checked under both table locks: no record or quote can appear meanwhile.
        let (writeRecords, writeQuotes) = try restorePlan(snap)

        if writeRecords {
            let records = snap.records.map { (key: $0.key, state: $0.state, names: $0.names) }
            do {
                guard try appendRecords(records, slotChanged: snap.records.map(\.slotChangedMicros), holds: snap.records.map(\.holds)) != nil else {
                    throw SnapshotError.doesNotFit(segment: segment.path, why: "the record table filled meanwhile")
                }
            } catch let e as SnapshotError { throw e } catch let e as BooksError { throw .books(e) } catch { throw .books(.corrupt("\(error)")) }
        }
        if writeQuotes {
            let quotes = snap.quotes
            let appended = quoteTable.append(quotes.count) { (p, i) in
                let q = quotes[i]
                p.storeName(q.key.exchange, Layout.Quote.exchange)
                p.storeName(q.key.dataType, Layout.Quote.dataType)
                p.storeName(q.key.currency, Layout.Quote.currency)
                Books.storeQuote(q.quote, pid: q.pid, to: p + Layout.Quote.copies)
            }
            guard appended != nil else { throw .doesNotFit(segment: segment.path, why: "the quote table filled meanwhile") }
        }
        let current: ShortName?
        do { current = try defaultExchange } catch { throw .books(error) }
        if current != snap.defaultExchange { publishDefaultExchange(snap.defaultExchange) }
        do { try confirmWritten(shmbal_now_micros()) } catch { throw .books(error) }
    }

    /// What a restore of `snap` still has to write here: (records, quotes). Empty tables need
    /// writing; tables holding exactly the snapshot's contents (an interrupted restore of it) are
    /// done; anything else is refused.
    @discardableResult
    func restorePlan(_ snap: BooksSnapshot) throws(SnapshotError) -> (records: Bool, quotes: Bool) {
        let records = publishedRecordCount, quotes = publishedQuoteCount
        func refuse() -> SnapshotError { .notEmpty(segment: segment.path, records: records, quotes: quotes) }
        var recordsDone = false
        if records != 0 {
            guard records == snap.records.count else { throw refuse() }
            for (i, r) in snap.records.enumerated() {
                let p = recordPointer(i)
                let rec = RecordRef(p: p, key: r.key)
                var state = RecordState()
                guard p.loadName(Layout.Record.exchange) == r.key.exchange, p.loadName(Layout.Record.currency) == r.key.currency,
                      (try? rec.read(into: &state)) != nil, state == r.state, (try? rec.readNames()) == r.names
                else { throw refuse() }
            }
            recordsDone = true
        }
        var quotesDone = false
        if quotes != 0 {
            // Quotes come after the records: some without the records is not an interrupted restore.
            guard recordsDone || snap.records.isEmpty, quotes == snap.quotes.count else { throw refuse() }
            let table = quoteTable
            for (i, q) in snap.quotes.enumerated() {
                let p = table.entry(i)
                guard quoteKey(at: p) == q.key, let read = try? readQuote(p, key: q.key), read.quote == q.quote else { throw refuse() }
            }
            quotesDone = true
        }
        return (!recordsDone && !snap.records.isEmpty, !quotesDone && !snap.quotes.isEmpty)
    }
}

/// A record `takeSnapshot` left out, and why (what `snapshot restore` would refuse in it).
public struct SkippedRecord: Sendable, Equatable {
    public var key: BookKey
    public var problems: [RecordProblem]
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
        do { _ = try valueOrErrno { link(temp, segmentPath) } } catch {
            if error == .fileExists { throw .books(.segment(.exists(path: segmentPath))) }
            throw .file(path: segmentPath, call: "link", errno: error.rawValue)
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
        func failed(_ call: String, _ e: Errno) -> SnapshotError { .file(path: path, call: call, errno: e.rawValue) }
        let fd: Int32
        do { fd = try valueOrErrno { open(path, O_RDONLY | O_CLOEXEC) } } catch { throw failed("open", error) }
        defer { close(fd) }
        var st = Glibc.stat()
        do { _ = try valueOrErrno { fstat(fd, &st) } } catch { throw failed("fstat", error) }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw .notASnapshot(path: path, why: "not a regular file") }
        guard Int(st.st_size) <= maxBytes else { throw .notASnapshot(path: path, why: "\(st.st_size) bytes, larger than any snapshot") }
        var bytes = [UInt8](repeating: 0, count: Int(st.st_size))
        var got = 0
        while got < bytes.count {
            var readError: Errno?
            let n = bytes.withUnsafeMutableBytes { b -> Int in
                do throws(Errno) { return try valueOrErrno { Glibc.read(fd, b.baseAddress! + got, b.count - got) } } catch {
                    readError = error
                    return 0
                }
            }
            if let readError { throw failed("read", readError) }
            if n == 0 { break }
            got += n
        }
        return Array(bytes[0..<got])
    }

    static func writeAtomically(_ bytes: [UInt8], to path: String) throws(SnapshotError) {
        func failed(_ call: String, _ e: Errno) -> SnapshotError { .file(path: path, call: call, errno: e.rawValue) }
        let temp = temporaryName(for: path, tag: "tmp")
        let fd: Int32
        do { fd = try valueOrErrno { open(temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600) } } catch {
            throw failed("create \(temp)", error)
        }
        var renamed = false, closed = false
        defer {
            if !closed { close(fd) }
            if !renamed { unlink(temp) }
        }
        var written = 0
        while written < bytes.count {
            var writeError: Errno?
            let n = bytes.withUnsafeBytes { b -> Int in
                do throws(Errno) { return try valueOrErrno { Glibc.write(fd, b.baseAddress! + written, b.count - written) } } catch {
                    writeError = error
                    return 0
                }
            }
            if let writeError { throw failed("write", writeError) }
            guard n > 0 else { throw failed("write", .noSpace) }
            written += n
        }
        do { _ = try valueOrErrno { fsync(fd) } } catch { throw failed("fsync", error) }
        closed = true
        do { _ = try valueOrErrno(retryOnInterrupt: false) { close(fd) } } catch { throw failed("close", error) }
        // rename replaces FILE (or a symlink named FILE, never its target) in one step.
        do { _ = try valueOrErrno { rename(temp, path) } } catch { throw failed("rename", error) }
        renamed = true
        let slash = path.lastIndex(of: "/")
        let dir = slash.map { String(path[..<$0]) } ?? "."
        if let dfd = try? valueOrErrno({ open(dir.isEmpty ? "/" : dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }) {
            // The rename itself must reach the disk too.
            _ = try? valueOrErrno { fsync(dfd) }
            close(dfd)
        }
    }
}
