import Glibc
import ShmBalance

// libFuzzer target (a): attaching to arbitrary file contents. Every input is written to a file and
// attached read-only and read-write; attaching either fails with a message or succeeds, and then
// every read (records, names, quotes, activity, snapshot) must not crash; nothing may write to
// the file. Inputs that start with a 0 byte (a segment never does: it starts with its magic) get
// a valid header for a small geometry with the fuzzer's bytes behind it (counters included), so
// the readers of records, quotes and the ring see garbage too.

nonisolated(unsafe) var scratchDir = ""
nonisolated(unsafe) var scratch: String = {
    var template = Array("/dev/shm/shmbal-fuzz-XXXXXX".utf8CString)
    guard let dir = mkdtemp(&template) else { fatalError("mkdtemp") }
    scratchDir = String(cString: dir)
    // libFuzzer ends a bounded run with exit(): remove the scratch folder then.
    atexit {
        unlink(scratchDir + "/segment")
        rmdir(scratchDir)
    }
    return scratchDir + "/segment"
}()

func writeFile(_ path: String, _ bytes: [UInt8]) {
    unlink(path)
    let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
    precondition(fd >= 0)
    if !bytes.isEmpty { precondition(bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } == bytes.count) }
    close(fd)
}

func readFile(_ path: String) -> [UInt8] {
    let fd = open(path, O_RDONLY)
    precondition(fd >= 0)
    defer { close(fd) }
    var out: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 65_536)
    while true {
        let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n <= 0 { break }
        out += buf[0..<n]
    }
    return out
}

/// A header that passes validation for a small geometry chosen by the input, then the input.
func withValidHeader(_ data: [UInt8]) -> [UInt8] {
    let g = Geometry(recordCapacity: 1 + Int(data.first ?? 0) % 4, quoteCapacity: 1 + Int(data.count > 1 ? data[1] : 0) % 4, ringCapacity: 16,
                     holdCapacity: Layout.minHolds, opIdWindow: Layout.minOpIdWindow)
    var file = [UInt8](repeating: 0, count: g.segmentSize)
    // Everything after the checksummed geometry comes from the input: counters, records, quotes, ring.
    for (i, b) in data.dropFirst(2).enumerated() where Layout.Header.checksummedBytes + 8 + i < file.count {
        file[Layout.Header.checksummedBytes + 8 + i] = b
    }
    func put<T: FixedWidthInteger>(_ v: T, _ off: Int) {
        withUnsafeBytes(of: v.littleEndian) { for (i, b) in $0.enumerated() { file[off + i] = b } }
    }
    put(Layout.magic, Layout.Header.magic)
    put(Layout.version, Layout.Header.layoutVersion)
    put(UInt32(Layout.Header.size), Layout.Header.headerSize)
    put(UInt64(g.segmentSize), Layout.Header.segmentSize)
    put(UInt32(g.recordCapacity), Layout.Header.recordCapacity)
    put(UInt32(Layout.Record.size), Layout.Header.recordSize)
    put(UInt32(g.quoteCapacity), Layout.Header.quoteCapacity)
    put(UInt32(Layout.Quote.size), Layout.Header.quoteSize)
    put(UInt32(g.ringCapacity), Layout.Header.ringCapacity)
    put(UInt32(Layout.Ring.entrySize), Layout.Header.ringEntrySize)
    put(UInt64(g.recordsOffset), Layout.Header.recordsOffset)
    put(UInt64(g.quotesOffset), Layout.Header.quotesOffset)
    put(UInt64(g.ringOffset), Layout.Header.ringOffset)
    put(Layout.fixedPointDecimals, Layout.Header.fixedPointDecimals)
    put(UInt32(g.holdCapacity), Layout.Header.holdCapacity)
    put(UInt32(g.opIdWindow), Layout.Header.opIdWindow)
    put(UInt32(Layout.Hold.size), Layout.Header.holdEntrySize)
    put(UInt32(Layout.OpEntry.size), Layout.Header.opEntrySize)
    put(UInt64(g.extensionsOffset), Layout.Header.extensionsOffset)
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for b in file[0..<Layout.Header.checksummedBytes] {
        h ^= UInt64(b)
        h = h &* 0x0000_0100_0000_01B3
    }
    put(h, Layout.Header.geometryChecksum)
    // Keep the record count small so the records area is what gets read (it is still garbage).
    file[Layout.Header.recordCount] %= UInt8(g.recordCapacity + 2)
    for i in 1..<8 { file[Layout.Header.recordCount + i] = 0 }
    file[Layout.Header.quoteCount] %= UInt8(g.quoteCapacity + 2)
    for i in 1..<8 { file[Layout.Header.quoteCount + i] = 0 }
    return file
}

func exercise(_ books: Books) {
    _ = books.keys()
    _ = books.exchanges()
    _ = try? books.defaultExchange
    if let records = try? books.allRecords() {
        for r in records {
            _ = r.isBroken
            _ = r.state.allocated
            _ = r.slots.map { $0.formatted(grouping: true) }
            _ = r.names.map(\.description)
        }
    }
    for key in books.keys() {
        _ = try? books.get(key)
        _ = try? books.balance(key, index: 0)
        _ = try? books.balance(key, index: 63)
    }
    _ = try? books.allQuotes()
    for e in books.activity(limit: 64) {
        _ = e.refusalMessage
        _ = e.amount.description
    }
    if let snap = try? books.takeSnapshot() {
        let text = snap.encoded()
        if case .success(let back) = Result(catching: { () throws(SnapshotError) in try BooksSnapshot.decode(Array(text.utf8), path: "fuzz") }) {
            precondition(back.records.count == snap.records.count, "a snapshot read back with another record count")
        }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSegment(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    let bytes = input.first == 0 ? withValidHeader(Array(input.dropFirst())) : input
    writeFile(scratch, bytes)
    for access in [Segment.AccessMode.readOnly, .readWrite] {
        do {
            let books = try Books.open(scratch, access)
            exercise(books)
        } catch {
            precondition(!error.description.isEmpty, "an error without a message")
            if case .segment(let e) = error { precondition(e.description.contains(scratch), "the message does not name the file: \(e)") }
        }
    }
    precondition(readFile(scratch) == bytes, "attaching and reading changed the file")
    return 0
}
