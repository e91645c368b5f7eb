import Foundation
import ShmBalance
import ShmBalanceTestSupport
import XCTest

/// SPEC §4: readers never block writers and never see torn data, in this process or in another
/// one on a read-only mapping; "every shared value keeps these promises, not only the records".
/// Each read path is raced against writers that flip values between legal states chosen so that
/// a torn copy is an illegal value (amounts 2^64 − 1 and 2^64 differ in both 8-byte halves, so
/// half of one and half of the other is 0 or 2^65 − 1; names and quotes differ in every word).
/// Every value a reader gets must be one of the legal ones. The work is a fixed number of reads,
/// not a time; the writers run until the readers are done.
final class ReadRaceTests: XCTestCase {
    static let low = FlippingRecord.low
    static let reads = raceReads

    /// The other process's verdict: its first line must be "reads N illegal 0".
    func assertProcessReadAllLegal(_ p: ChildProcess, reads: Int, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(p.termination, .exited(0), "\(what) reader process: \(p.errorOutput)", file: file, line: line)
        XCTAssertEqual(p.output.split(separator: "\n").first.map(String.init), "reads \(reads) illegal 0",
                       "\(what): torn reads in another process on a read-only mapping:\n\(p.output)", file: file, line: line)
    }

    // MARK: - Records

    /// The single-slot read behind `balance` (and the C ABI's `shmbal_record_balance`, Python's
    /// `get_balance`): the generation is re-checked after the copy, so a slot that a writer
    /// rewrites meanwhile is never returned half old, half new.
    func testSingleSlotReadsNeverReturnATornAmount() throws {
        let seg = TempSegment()
        let books = try seg.books()
        let f = try FlippingRecord(books, key("USDC"))
        let reads = Self.reads + Self.reads / 2
        let process = try spawnProduct(Product.worker, ["read-slot", seg.path, "USDC", String(reads)] + f.legalArguments,
                                       outputIn: seg.dir, name: "slot-reader")
        let r = raceReaders(writers: 2, readers: 2, reads: reads, process: process,
                     makeWriter: { w in f.writer(books, slots: [2 + 2 * w, 3 + 2 * w], seed: 0x5107 + UInt64(w)) },
                     makeReader: { t in
                         { n in
                             // The pool (rewritten by every commit) half the time, a budget
                             // otherwise, through both entry points.
                             let i = n & 1 == 0 ? 1 : 2 + (n >> 1) % 4
                             let v = (n >> 1 + t) & 1 == 0 ? try f.rec.readSlot(i) : try books.balance(f.key, index: i)
                             return f.legal[i].contains(v.raw) ? nil : "slot \(i) \(rawHex(v.raw))"
                         }
                     })
        XCTAssertEqual(r.failures.lines, [])
        XCTAssertEqual(r.illegal.count, 0, "torn single-slot reads in this process: \(r.illegal.lines)")
        assertProcessReadAllLegal(process, reads: reads, "single-slot")
        XCTAssertGreaterThan(r.writes, 1000, "the writers must have raced the readers")
        XCTAssertNil(f.problem(try books.get(f.key).state))
        print("read race (slot): \(r.writes) flips against \(2 * reads) reads here and \(reads) in another process, none torn")
    }

    /// Whole copies (`RecordRef.read(into:)`, which `get`, `list`, the dashboard and snapshots
    /// use), reusing one `RecordState` as the dashboard does.
    func testWholeRecordCopiesAreNeverTorn() throws {
        let seg = TempSegment()
        let books = try seg.books()
        let f = try FlippingRecord(books, key("USDC"))
        let reads = Self.reads / 8
        let process = try spawnProduct(Product.worker, ["read-record", seg.path, "USDC", String(reads)] + f.legalArguments,
                                       outputIn: seg.dir, name: "record-reader")
        let r = raceReaders(writers: 2, readers: 2, reads: reads, process: process,
                     makeWriter: { w in f.writer(books, slots: [2 + 2 * w, 3 + 2 * w], seed: 0x5108 + UInt64(w)) },
                     makeReader: { t in
                         var s = RecordState()
                         var lastOps: UInt64 = 0
                         return { n in
                             if t == 1 && n % 64 == 0 { s = try books.get(f.key).state } else { try f.rec.read(into: &s) }
                             defer { lastOps = s.opCount }
                             if s.opCount < lastOps { return "op count went back from \(lastOps) to \(s.opCount)" }
                             return f.problem(s)
                         }
                     })
        XCTAssertEqual(r.failures.lines, [])
        XCTAssertEqual(r.illegal.count, 0, "torn record copies in this process: \(r.illegal.lines)")
        assertProcessReadAllLegal(process, reads: reads, "whole-record")
        XCTAssertGreaterThan(r.writes, 1000, "the writers must have raced the readers")
        print("read race (record): \(r.writes) flips against \(2 * reads) copies here and \(reads) in another process, none torn")
    }

    /// Slot names have their own two copies and generation: a name is never half one name and half
    /// another, and names changed together (one `config apply`) are seen together.
    func testSlotNamesAreNeverTorn() throws {
        let seg = TempSegment()
        let books = try seg.books()
        let k = key("USDC")
        // Every byte differs between the three, so every word of a torn name is foreign.
        let choices = try ["AAAAAAAAAAAAAAA", "bbbbbbbbbbbbbbb", "C-C-C-C-C-C-C-C"].map { try ShortName($0, kind: .label) }
        _ = try books.applyConfiguration([RecordConfig(key: k, strategyCount: 6, names: [2: choices[0], 3: choices[0], 4: choices[0], 5: choices[0]])],
                                         defaultExchange: nil)
        let rec = try XCTUnwrap(books.record(k))
        let fixed = try [ShortName("total", kind: .label), ShortName("pool", kind: .label)]
        let r = raceReaders(writers: 2, readers: 2, reads: Self.reads / 8,
                     makeWriter: { w in
                         var g = SplitMix64(seed: 0x5109 + UInt64(w))
                         return {
                             let name = choices[g.below(3)]
                             _ = try books.applyConfiguration([RecordConfig(key: k, names: [2: name, 3: name, 4: name, 5: name])], defaultExchange: nil)
                         }
                     },
                     makeReader: { t in
                         { n in
                             let names = t == 1 && n % 16 == 0 ? try books.get(k).names : Array(try rec.readNames().prefix(6))
                             if Array(names.prefix(2)) != fixed { return "names 0, 1: \(names.prefix(2))" }
                             if !choices.contains(names[2]) { return "name 2 is torn: \(rawHex(names[2]))" }
                             if Set(names[2..<6]).count != 1 { return "names 2…5 from different writes: \(names[2..<6].map { rawHex($0) })" }
                             return nil
                         }
                     })
        XCTAssertEqual(r.failures.lines, [])
        XCTAssertEqual(r.illegal.count, 0, "torn names: \(r.illegal.lines)")
        XCTAssertGreaterThan(r.writes, 100, "the writers must have raced the readers")
        print("read race (names): \(r.writes) config applies against \(2 * Self.reads / 8) reads, none torn")
    }

    /// `snapshot save`'s copy of a record: its names and its money from one published copy. Each
    /// write sets the names and the credit limit together (choice i, credit i + 1), so a snapshot
    /// that read them in two reads (as it once did) pairs one write's names with another's credit.
    func testSnapshotsTakeNamesAndMoneyFromOneCopy() throws {
        let seg = TempSegment()
        let books = try seg.books()
        let k = key("USDC")
        let choices = try ["AAAAAAAAAAAAAAA", "bbbbbbbbbbbbbbb", "C-C-C-C-C-C-C-C"].map { try ShortName($0, kind: .label) }
        @Sendable func config(_ i: Int) -> RecordConfig {
            RecordConfig(key: k, strategyCount: 4, creditLimit: Amount(raw: Int128(i + 1)), names: [2: choices[i], 3: choices[i]])
        }
        _ = try books.applyConfiguration([config(0)], defaultExchange: nil)
        let r = raceReaders(writers: 2, readers: 2, reads: Self.reads / 64,
                     makeWriter: { w in
                         var g = SplitMix64(seed: 0x51A9 + UInt64(w))
                         return { _ = try books.applyConfiguration([config(g.below(3))], defaultExchange: nil) }
                     },
                     makeReader: { _ in
                         { _ in
                             guard let rec = try books.takeSnapshot().records.first(where: { $0.key == k }) else { return "no record in the snapshot" }
                             guard let i = choices.firstIndex(of: rec.names[2]), rec.names[3] == rec.names[2] else { return "names \(rec.names[2...3])" }
                             return rec.state.creditLimit == Amount(raw: Int128(i + 1)) ? nil : "names of write \(i) beside credit \(rec.state.creditLimit.raw)"
                         }
                     })
        XCTAssertEqual(r.failures.lines, [])
        XCTAssertEqual(r.illegal.count, 0, "mixed snapshots: \(r.illegal.lines.prefix(3))")
        XCTAssertGreaterThan(r.writes, 100, "the writers must have raced the readers")
        print("read race (snapshot): \(r.writes) config applies against \(2 * Self.reads / 64) snapshots, none mixed")
    }

    // MARK: - Quotes, the default exchange, the activity ring

    /// Three quotes that differ in every field: a copy mixing two of them is none of them.
    static let quotes = [
        SingleQuote(timestamp: 0x0101_0101_0101_0101, localTimestamp: 0x1111_1111_1111_1111, mid: 1.5),
        SingleQuote(timestamp: 0x0202_0202_0202_0202, localTimestamp: 0x2222_2222_2222_2222, mid: -2.25),
        SingleQuote(timestamp: 0x0303_0303_0303_0303, localTimestamp: 0x3333_3333_3333_3333, mid: 3e300),
    ]

    /// The quote read (the seed's `ShareMemorySingleQuote::get`, `getSingleQuoteCurrency`): a quote
    /// being rewritten is never returned with some fields old and some new.
    func testQuoteReadsNeverReturnATornQuote() throws {
        let seg = TempSegment()
        let books = try seg.books()
        let q = try QuoteKey("KRAKEN", "BALANCE", "USDT")
        let other = try QuoteKey("KRAKEN", "PRICE", "BTC")
        try books.writeQuote(other, Self.quotes[2])
        try books.writeQuote(q, Self.quotes[0])
        let legal = Self.quotes
        let reads = Self.reads / 2
        let spec = legal.map { "\(UInt64(bitPattern: $0.timestamp)):\(UInt64(bitPattern: $0.localTimestamp)):\($0.mid.bitPattern)" }.joined(separator: ",")
        let process = try spawnProduct(Product.worker, ["read-quote", seg.path, "KRAKEN", "BALANCE", "USDT", String(reads), spec],
                                       outputIn: seg.dir, name: "quote-reader")
        let r = raceReaders(writers: 2, readers: 2, reads: reads, process: process,
                     makeWriter: { w in
                         var g = SplitMix64(seed: 0x510A + UInt64(w))
                         return { try books.writeQuote(q, legal[g.below(3)]) }
                     },
                     makeReader: { t in
                         { n in
                             if t == 0 && n % 64 == 0 {
                                 // A snapshot's quotes (their own read, with the writer's pid).
                                 let quotes = try books.takeSnapshot().quotes
                                 if quotes.map(\.key) != [q, other] || !legal.contains(quotes[0].quote) || quotes[1].quote != legal[2] {
                                     return "snapshot quotes \(quotes)"
                                 }
                                 return nil
                             }
                             if t == 1 && n % 256 == 0 {
                                 let all = try books.allQuotes()
                                 if all.map(\.key) != [q, other] { return "quote keys \(all.map(\.key))" }
                                 if !legal.contains(all[0].quote) || all[1].quote != legal[2] { return "quotes \(all.map(\.quote))" }
                                 return nil
                             }
                             guard let got = try books.quote(q) else { return "the quote is missing" }
                             return legal.contains(got) ? nil : "torn quote \(got)"
                         }
                     })
        XCTAssertEqual(r.failures.lines, [])
        XCTAssertEqual(r.illegal.count, 0, "torn quotes in this process: \(r.illegal.lines)")
        assertProcessReadAllLegal(process, reads: reads, "quote")
        XCTAssertGreaterThan(r.writes, 1000, "the writers must have raced the readers")
        print("read race (quote): \(r.writes) writes against \(2 * reads) reads here and \(reads) in another process, none torn")
    }

    /// The default exchange `config apply` sets: never a mix of two names, never missing once set.
    func testDefaultExchangeIsNeverTorn() throws {
        let seg = TempSegment()
        let books = try seg.books()
        let choices = try ["AAAAAAAAAAAAAAA", "BBBBBBBBBBBBBBB", "C.C.C.C.C.C.C.C"].map { try ShortName($0) }
        _ = try books.applyConfiguration([], defaultExchange: choices[0])
        let r = raceReaders(writers: 2, readers: 2, reads: Self.reads,
                     makeWriter: { w in
                         var g = SplitMix64(seed: 0x510B + UInt64(w))
                         return { _ = try books.applyConfiguration([], defaultExchange: choices[g.below(3)]) }
                     },
                     makeReader: { _ in
                         { _ in
                             guard let d = try? books.defaultExchange else { return "no default exchange, or the read failed" }
                             return choices.contains(d) ? nil : "torn default exchange \(rawHex(d))"
                         }
                     })
        XCTAssertEqual(r.failures.lines, [])
        XCTAssertEqual(r.illegal.count, 0, "torn default exchange: \(r.illegal.lines)")
        XCTAssertGreaterThan(r.writes, 1000, "the writers must have raced the readers")
        print("read race (default exchange): \(r.writes) writes against \(2 * Self.reads) reads, none torn")
    }

    /// The activity ring (`shmbal log`, the dashboard): with a 16-entry ring overwritten all the
    /// time, an entry is returned whole or not at all, never with fields of the entry that
    /// replaces it. The writer's entries alternate at random between two records with their own
    /// key, slot, amount and result, so a mix of two entries is neither.
    ///
    /// One writer: two writers can lap each other in so small a ring (one preempted inside an
    /// append while the other appends 16 entries), and the core does not yet guard against that
    /// (see the report of the test branch); this test is about the reader.
    func testActivityEntriesAreNeverTorn() throws {
        let seg = TempSegment()
        let books = try seg.books(.readWriteCreating(geometry: Geometry(recordCapacity: 4, quoteCapacity: 1, ringCapacity: 16)))
        let keys = [key("AAAAAAAAAAAAAAA"), key("BBBBBBBBBBBBBBB")]
        let amounts = [Amount(raw: Self.low), Amount(raw: Self.low + 1)]
        for (w, k) in keys.enumerated() { try books.reset(k, balance: Amount(raw: 3 * Self.low), strategyCount: 4 + w) }
        let recs = try keys.map { try XCTUnwrap(books.record($0)) }
        let pid = getpid()
        let head = books.activityHead
        /// What is wrong with an entry, or nil.
        let check: @Sendable (ActivityEntry) -> String? = { e in
            guard let w = keys.firstIndex(of: e.key) else { return "key \(rawHex(e.key.exchange)) \(rawHex(e.key.currency))" }
            guard e.operation == .allocate || e.operation == .release else { return "operation \(String(describing: e.operation)) in \(e) (head \(head))" }
            let after = e.operation == .allocate ? amounts[w] : .zero
            if e.refusal != nil || e.index != 2 + w || e.amount != amounts[w] || e.after != after || e.detail != .zero || e.pid != pid || e.epoch != 1 {
                return "entry \(e.sequence) of record \(w) mixes in another: \(e)"
            }
            return nil
        }
        let reads = Self.reads / 64
        // Two writers on a 16-entry ring: one preempted between claiming an entry and writing it is
        // lapped by the other, which used to write into the same entry (a mixed entry whose stamp
        // checked out); a slot now has one writer at a time.
        let r = raceReaders(writers: 2, readers: 2, reads: reads,
                     makeWriter: { w in
                         var allocated = false
                         return {
                             if allocated { try books.release(recs[w], index: 2 + w, amounts[w]) } else { try books.allocate(recs[w], index: 2 + w, amounts[w]) }
                             allocated.toggle()
                         }
                     },
                     makeReader: { _ in
                         var last = head
                         return { n in
                             // Now everything the ring still holds (its oldest entries are the next
                             // to be overwritten), now the newest few.
                             let entries = n % 2 == 0 ? books.activity(after: head) : books.activity(after: last, limit: 8)
                             var previous: UInt64 = 0
                             for e in entries {
                                 if e.sequence <= previous { return "sequence \(e.sequence) after \(previous)" }
                                 previous = e.sequence
                                 if let bad = check(e) { return bad }
                             }
                             // (Never below the start: `newest - 4` wrapped round once made it read the whole ring.)
                             if let newest = entries.last?.sequence, newest > head + 4 { last = max(last, newest - 4) }
                             return nil
                         }
                     })
        XCTAssertEqual(r.failures.lines, [])
        XCTAssertEqual(r.illegal.count, 0, "torn activity entries: \(r.illegal.lines)")
        XCTAssertGreaterThan(r.writes, 1000, "the writer must have raced the readers")
        // A writer that came to a slot still being written dropped its entry, so the ring may
        // have a hole; once the writers are done no slot stays held: one more lap fills it all.
        for e in books.activity(after: head) { XCTAssertNil(check(e)) }
        var allocated = try books.balance(keys[0], index: 2) != .zero
        for _ in 0..<16 {
            if allocated { try books.release(recs[0], index: 2, amounts[0]) } else { try books.allocate(recs[0], index: 2, amounts[0]) }
            allocated.toggle()
        }
        let entries = books.activity(after: head)
        XCTAssertEqual(entries.count, 16, "a full ring once the writers stopped")
        for e in entries { XCTAssertNil(check(e)) }
        print("read race (activity): \(r.writes) entries written against \(2 * reads) reads of the ring, none torn")
    }
}
