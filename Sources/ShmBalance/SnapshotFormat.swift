// The snapshot file: the books as versioned, checksummed text, so they survive a reboot
// (a segment in /dev/shm does not) or move to another machine. Text, not the segment's bytes:
// amounts are exact decimals a person can read and diff, and nothing depends on the layout.
//
//   shmbal-snapshot 1                      format and version (a file without it is foreign)
//   layout 3                               the segment layout it was taken from (1… accepted)
//   decimals 18                            fixed-point decimals of every amount below
//   created-micros 1732570000000000        when it was taken
//   source /dev/shm/shmbal                 which segment (informational)
//   geometry 64 1024 4096 1024 4096        record, quote, activity, hold and op-id capacities
//                                          (layouts 1–2: the first three; the defaults fill in)
//   default-exchange KRAKEN                or "-" when none
//   records 1
//   record KRAKEN USDC
//     count 5                              strategyCount
//     epoch 3
//     ops 17                               applied mutations so far
//     credit 5000
//     last-change 1732569999000000 4121 2  micros, pid, slot
//     slot 0 10000 1732569999000000        index, amount, when it last changed (0 = never)
//     …                                    one line per meaningful slot
//     name 2 grid-bot                      every non-empty slot name
//     hold o-17 2 150 200 1732569999 0     open holds: id, slot, amount, original, created, expires (0: no ttl)
//   end
//   quotes 1
//   quote KRAKEN BALANCE USDC 1732569990000000 1732569990000100 40c3880000000000 4121
//                                          timestamp, local timestamp, mid's IEEE bits, writer pid
//   checksum fnv1a64 0123456789abcdef      FNV-1a over every byte before this line
//
// FNV-1a changes its result for any change of a single byte (each step is a bijection), and a
// random multi-byte corruption passes with probability 2^-64. It is a check against damage, not
// against forgery.

/// One record as a snapshot holds it.
public struct SnapshotRecord: Sendable, Equatable {
    public var key: BookKey
    public var state: RecordState
    /// All 64 slot names (empty ones included).
    public var names: [ShortName]
    /// When each of the 64 slots last changed (µs since the epoch, 0 = never).
    public var slotChangedMicros: [Int64]
    /// Its open holds (layout 3 snapshots; `expired` is not kept: it follows from the time).
    public var holds: [OpenHold] = []

    public init(key: BookKey, state: RecordState, names: [ShortName], slotChangedMicros: [Int64]) {
        self.key = key
        self.state = state
        self.names = names
        self.slotChangedMicros = slotChangedMicros
    }
}

/// One quote as a snapshot holds it.
public struct SnapshotQuote: Sendable, Equatable {
    public var key: QuoteKey
    public var quote: SingleQuote
    public var pid: Int32

    public init(key: QuoteKey, quote: SingleQuote, pid: Int32) {
        self.key = key
        self.quote = quote
        self.pid = pid
    }

    public static func == (a: SnapshotQuote, b: SnapshotQuote) -> Bool {
        // Compare mid by its bits, so a snapshot compares equal to itself exactly.
        a.key == b.key && a.pid == b.pid && a.quote.timestamp == b.quote.timestamp
            && a.quote.localTimestamp == b.quote.localTimestamp && a.quote.mid.bitPattern == b.quote.mid.bitPattern
    }
}

/// The books of one segment at one moment: every record (each one consistent), the quotes and
/// the default exchange.
public struct BooksSnapshot: Sendable, Equatable {
    /// The version written in the first line; files of another version are refused.
    public static let formatVersion = 1
    public static let magicLine = "shmbal-snapshot"

    public var geometry: Geometry
    public var createdMicros: Int64
    public var source: String
    public var defaultExchange: ShortName?
    public var records: [SnapshotRecord]
    public var quotes: [SnapshotQuote]
    /// Records `Books.takeSnapshot` left out because restore would refuse them (never in a file).
    public var skipped: [SkippedRecord] = []

    public init(geometry: Geometry, createdMicros: Int64, source: String, defaultExchange: ShortName?,
                records: [SnapshotRecord], quotes: [SnapshotQuote]) {
        self.geometry = geometry
        self.createdMicros = createdMicros
        self.source = source
        self.defaultExchange = defaultExchange
        self.records = records
        self.quotes = quotes
    }
}

/// Why a snapshot cannot be saved, read or restored. Nothing was changed when one is thrown.
public enum SnapshotError: Error, Sendable, Equatable, CustomStringConvertible {
    case file(path: String, call: String, errno: Int32)
    case notASnapshot(path: String, why: String)
    case wrongVersion(path: String, found: String)
    case checksumMismatch(path: String)
    case malformed(path: String, line: Int, why: String)
    /// The target segment cannot hold the snapshot (capacity).
    case doesNotFit(segment: String, why: String)
    /// Restore writes only into a fresh or empty segment.
    case notEmpty(segment: String, records: Int, quotes: Int)
    case books(BooksError)

    public var description: String {
        switch self {
        case .file(let p, let call, let e): return "\(p): \(call) failed: \(errnoText(e))"
        case .notASnapshot(let p, let why): return "\(p): not a ShmBalance snapshot (\(why))"
        case .wrongVersion(let p, let v):
            return "\(p): snapshot format version \(v); this build reads version \(BooksSnapshot.formatVersion)"
        case .checksumMismatch(let p): return "\(p): snapshot is corrupt (checksum mismatch); nothing was restored"
        case .malformed(let p, let line, let why): return "\(p):\(line): snapshot is corrupt (\(why)); nothing was restored"
        case .doesNotFit(let s, let why): return "\(s): the snapshot does not fit (\(why)); nothing was restored"
        case .notEmpty(let s, let r, let q):
            return "\(s): segment already holds \(r) records and \(q) quotes; restore writes only into a fresh or empty segment (remove it first, or restore to another --segment); nothing was restored"
        case .books(let e): return e.description
        }
    }
}

extension BooksSnapshot {
    /// The file's text, checksum line included.
    public func encoded() -> String {
        var out = ""
        func line(_ s: String) { out += s + "\n" }
        line("\(BooksSnapshot.magicLine) \(BooksSnapshot.formatVersion)")
        line("layout \(Layout.version)")
        line("decimals \(Amount.decimals)")
        line("created-micros \(createdMicros)")
        line("source \(String(source.unicodeScalars.map { $0.value >= 0x20 && $0.value < 0x7F ? Character($0) : "?" }))")
        line("geometry \(geometry.recordCapacity) \(geometry.quoteCapacity) \(geometry.ringCapacity) \(geometry.holdCapacity) \(geometry.opIdWindow)")
        line("default-exchange \(defaultExchange.map(\.description) ?? "-")")
        line("records \(records.count)")
        for r in records {
            let s = r.state
            line("record \(r.key.exchange) \(r.key.currency)")
            line("  count \(s.strategyCount)")
            line("  epoch \(s.epoch)")
            line("  ops \(s.opCount)")
            line("  credit \(s.creditLimit.exactText)")
            line("  last-change \(s.lastChangeMicros) \(s.lastChangePid) \(s.lastIndex)")
            for i in 0..<s.strategyCount { line("  slot \(i) \(s.slots[i].exactText) \(r.slotChangedMicros[i])") }
            for (i, n) in r.names.enumerated() where !n.isEmpty { line("  name \(i) \(n)") }
            for h in r.holds {
                line("  hold \(h.id) \(h.index) \(h.amount.exactText) \(h.original.exactText) \(h.createdMicros) \(h.expiresMicros ?? 0)")
            }
            line("end")
        }
        line("quotes \(quotes.count)")
        for q in quotes {
            let bits = String(q.quote.mid.bitPattern, radix: 16)
            line("quote \(q.key.exchange) \(q.key.dataType) \(q.key.currency) \(q.quote.timestamp) \(q.quote.localTimestamp) \(String(repeating: "0", count: 16 - bits.count) + bits) \(q.pid)")
        }
        let sum = String(BooksSnapshot.checksum(Array(out.utf8)), radix: 16)
        line("checksum fnv1a64 \(String(repeating: "0", count: 16 - sum.count) + sum)")
        return out
    }

    static func checksum(_ bytes: [UInt8]) -> UInt64 {
        bytes.withUnsafeBytes { fnv1a($0) }
    }

    /// Parses and checks a snapshot file's bytes completely: format, version, checksum, and every
    /// record's rules (count, identity, storable amounts, names). `path` only names it in errors.
    public static func decode(_ bytes: [UInt8], path: String) throws(SnapshotError) -> BooksSnapshot {
        let magic = Array("\(magicLine) ".utf8)
        guard bytes.count >= magic.count, Array(bytes[0..<magic.count]) == magic else {
            throw .notASnapshot(path: path, why: bytes.isEmpty ? "the file is empty" : "it does not start with '\(magicLine)'")
        }
        let firstEnd = bytes.firstIndex(of: 10) ?? bytes.count
        let version = String(decoding: bytes[magic.count..<firstEnd], as: UTF8.self)
        guard version == String(formatVersion) else {
            throw .wrongVersion(path: path, found: version.count > 20 ? String(version.prefix(20)) + "…" : version)
        }
        // The checksum line is the last line; it covers every byte before it.
        guard bytes.last == 10 else { throw .malformed(path: path, line: 0, why: "truncated: no final newline") }
        let body = bytes.dropLast()
        let lastStart = (body.lastIndex(of: 10) ?? -1) + 1
        let lastLine = String(decoding: bytes[lastStart..<(bytes.count - 1)], as: UTF8.self)
        let sumWords = lastLine.split(separator: " ")
        guard sumWords.count == 3, sumWords[0] == "checksum", sumWords[1] == "fnv1a64", sumWords[2].count == 16,
              let stored = UInt64(sumWords[2], radix: 16) else {
            throw .malformed(path: path, line: 0, why: "truncated: the last line is not its checksum")
        }
        guard checksum(Array(bytes[0..<lastStart])) == stored else { throw .checksumMismatch(path: path) }
        var parser = SnapshotParser(lines: String(decoding: bytes[0..<lastStart], as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init), path: path)
        return try parser.parse()
    }
}

/// A strict reader of the grammar above: every line is expected in its place.
struct SnapshotParser {
    let lines: [String]
    let path: String
    var n = 0

    init(lines: [String], path: String) {
        self.lines = lines
        self.path = path
    }

    func fail(_ why: String) -> SnapshotError { .malformed(path: path, line: n, why: why) }

    /// The next line's words after `keyword`; refuses any other line.
    mutating func next(_ keyword: String, words: Int? = nil) throws(SnapshotError) -> [String] {
        guard n < lines.count else { throw fail("ended early: expected '\(keyword)'") }
        let w = lines[n].split(separator: " ").map(String.init)
        n += 1
        guard w.first == keyword else { throw fail("expected '\(keyword)', found '\(lines[n - 1].prefix(40))'") }
        let rest = Array(w.dropFirst())
        if let words, rest.count != words { throw fail("'\(keyword)' needs \(words) values, has \(rest.count)") }
        return rest
    }

    func peek() -> String? {
        guard n < lines.count else { return nil }
        return lines[n].split(separator: " ").first.map(String.init)
    }

    func int<T: FixedWidthInteger>(_ s: String, _ what: String) throws(SnapshotError) -> T {
        guard let v = T(s) else { throw fail("\(what) '\(s.prefix(30))' is not an integer") }
        return v
    }

    func amount(_ s: String, _ what: String) throws(SnapshotError) -> Amount {
        do { return try Amount(parsing: s) } catch { throw fail("\(what): \(error.message)") }
    }

    func name(_ s: String, _ kind: ShortName.Kind = .symbol) throws(SnapshotError) -> ShortName {
        do { return try ShortName(s, kind: kind) } catch { throw fail(error.message) }
    }

    mutating func parse() throws(SnapshotError) -> BooksSnapshot {
        n = 1  // the version line was checked already
        let layout = try next("layout", words: 1)
        // A snapshot is text: what it says does not depend on the layout it was taken from. Every
        // layout up to this build's is read (version 1 segments move their books this way).
        guard let taken = UInt32(layout[0]), taken >= 1, taken <= Layout.version else {
            throw fail("taken from segment layout \(layout[0]); this build knows layouts 1…\(Layout.version)")
        }
        let decimals = try next("decimals", words: 1)
        guard decimals[0] == String(Amount.decimals) else { throw fail("amounts have \(decimals[0]) decimals; this build stores \(Amount.decimals)") }
        let created: Int64 = try int(try next("created-micros", words: 1)[0], "created-micros")
        guard n < lines.count, lines[n].hasPrefix("source") else { throw fail("expected 'source'") }
        let source = String(lines[n].dropFirst("source".count).drop(while: { $0 == " " }))
        n += 1
        // Layouts 1–2 had no holds or op ids: their snapshots give three capacities, the defaults fill in the rest.
        let g = try next("geometry", words: taken >= 3 ? 5 : 3)
        let geometry = Geometry(recordCapacity: try int(g[0], "record capacity") as Int, quoteCapacity: try int(g[1], "quote capacity") as Int,
                                ringCapacity: try int(g[2], "activity capacity") as Int,
                                holdCapacity: taken >= 3 ? try int(g[3], "hold capacity") as Int : Geometry.defaultHoldCapacity,
                                opIdWindow: taken >= 3 ? try int(g[4], "op-id window") as Int : Geometry.defaultOpIdWindow)
        if let why = geometry.problem { throw fail(why) }
        let d = try next("default-exchange", words: 1)[0]
        let defaultExchange: ShortName? = d == "-" ? nil : try name(d)

        let recordCount: Int = try int(try next("records", words: 1)[0], "records")
        guard recordCount >= 0 && recordCount <= geometry.recordCapacity else {
            throw fail("\(recordCount) records do not fit its record capacity \(geometry.recordCapacity)")
        }
        var records: [SnapshotRecord] = []
        var seen = Set<BookKey>()
        for _ in 0..<recordCount {
            let k = try next("record", words: 2)
            let key = BookKey(exchange: try name(k[0]), currency: try name(k[1]))
            guard seen.insert(key).inserted else { throw fail("\(key) appears twice") }
            records.append(try parseRecord(key))
        }
        let quoteCount: Int = try int(try next("quotes", words: 1)[0], "quotes")
        guard quoteCount >= 0 && quoteCount <= geometry.quoteCapacity else {
            throw fail("\(quoteCount) quotes do not fit its quote capacity \(geometry.quoteCapacity)")
        }
        var quotes: [SnapshotQuote] = []
        var seenQuotes = Set<QuoteKey>()
        for _ in 0..<quoteCount {
            let q = try next("quote", words: 7)
            let key = QuoteKey(exchange: try name(q[0]), dataType: try name(q[1]), currency: try name(q[2]))
            guard seenQuotes.insert(key).inserted else { throw fail("quote \(key) appears twice") }
            guard q[5].count == 16, let bits = UInt64(q[5], radix: 16) else { throw fail("quote \(key): mid bits '\(q[5].prefix(20))' are not 16 hex digits") }
            let mid = Double(bitPattern: bits)
            guard mid.isFinite else { throw fail("quote \(key): mid is not a finite number") }
            quotes.append(SnapshotQuote(key: key, quote: SingleQuote(timestamp: try int(q[3], "timestamp"), localTimestamp: try int(q[4], "local timestamp"), mid: mid),
                                        pid: try int(q[6], "pid")))
        }
        guard n == lines.count else { throw fail("unexpected line after the quotes") }
        return BooksSnapshot(geometry: geometry, createdMicros: created, source: source, defaultExchange: defaultExchange,
                             records: records, quotes: quotes)
    }

    mutating func parseRecord(_ key: BookKey) throws(SnapshotError) -> SnapshotRecord {
        var s = RecordState()
        s.strategyCount = try int(try next("count", words: 1)[0], "count")
        guard s.strategyCount >= Layout.minStrategyCount && s.strategyCount <= Layout.slotCount else {
            throw fail("\(key): \(RecordProblem.strategyCountOutOfRange(stored: s.strategyCount))")
        }
        s.epoch = try int(try next("epoch", words: 1)[0], "epoch")
        s.opCount = try int(try next("ops", words: 1)[0], "ops")
        s.creditLimit = try amount(try next("credit", words: 1)[0], "credit")
        let lc = try next("last-change", words: 3)
        s.lastChangeMicros = try int(lc[0], "last-change time")
        s.lastChangePid = try int(lc[1], "last-change pid")
        s.lastIndex = try int(lc[2], "last-change slot")
        guard s.lastIndex >= 0 && s.lastIndex < Layout.slotCount else { throw fail("\(key): last-change slot \(s.lastIndex) is outside 0…63") }
        var changed = [Int64](repeating: 0, count: Layout.slotCount)
        for i in 0..<s.strategyCount {
            let w = try next("slot", words: 3)
            guard w[0] == String(i) else { throw fail("\(key): expected slot \(i), found slot \(w[0].prefix(10))") }
            s.slots[i] = try amount(w[1], "\(key) slot \(i)")
            changed[i] = try int(w[2], "slot \(i) change time")
        }
        var names = [ShortName](repeating: .empty, count: Layout.slotCount)
        while peek() == "name" {
            let w = try next("name", words: 2)
            let i: Int = try int(w[0], "name index")
            guard i >= 0 && i < Layout.slotCount else { throw fail("\(key): name index \(i) is outside 0…63") }
            guard names[i].isEmpty else { throw fail("\(key): slot \(i) is named twice") }
            names[i] = try name(w[1], .label)
        }
        var holds: [OpenHold] = []
        var held = [Int128](repeating: 0, count: Layout.slotCount)
        var ids = Set<HoldId>()
        while peek() == "hold" {
            let w = try next("hold", words: 6)
            let id: HoldId
            do { id = try HoldId(w[0]) } catch { throw fail("\(key): \(error)") }
            let index: Int = try int(w[1], "hold slot")
            let remaining = try amount(w[2], "\(key) hold amount"), original = try amount(w[3], "\(key) hold original")
            let created: Int64 = try int(w[4], "hold created"), expires: Int64 = try int(w[5], "hold expires")
            guard index >= 2 && index < s.strategyCount else { throw fail("\(key): hold \(id) on #\(index), not a sub-strategy") }
            guard remaining.raw >= 0, original.raw > 0, remaining.raw <= original.raw, expires >= 0 else {
                throw fail("\(key): hold \(id): amount \(remaining) and original \(original) must be 0 ≤ amount ≤ original, original > 0")
            }
            guard ids.insert(id).inserted else { throw fail("\(key): hold \(id) appears twice") }
            held[index] += remaining.raw
            guard held[index] <= s.slots[index].raw else { throw fail("\(key): the holds of #\(index) exceed its budget \(s.slots[index])") }
            holds.append(OpenHold(id: id, index: index, amount: remaining, original: original, createdMicros: created,
                                  expiresMicros: expires == 0 ? nil : expires, expired: false))
        }
        _ = try next("end", words: 0)
        // The same rules `check` and `snapshot save` apply (RecordHealth.swift).
        if let problem = s.problems(storedCount: s.strategyCount).first(where: { !$0.isRestorable }) { throw fail("\(key): \(problem)") }
        var r = SnapshotRecord(key: key, state: s, names: names, slotChangedMicros: changed)
        r.holds = holds
        return r
    }
}
