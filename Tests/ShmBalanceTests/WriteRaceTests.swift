import Foundation
@testable import ShmBalance
import Synchronization
import ShmBalanceTestSupport
import XCTest

/// Writers racing writers where the core takes a lock and then checks again what it checked
/// before the lock: `config apply` against allocators in other processes, first creators of one
/// key, `snapshot restore` against a creator. Each race is run many times over (a fixed number of
/// rounds, seeded), and every round's outcome is checked exactly.
final class WriteRaceTests: XCTestCase {
    /// `config apply` rewrites records while strategies in other processes allocate and release on
    /// them. It takes each record's lock, so every operation the workers acknowledged is in the
    /// books afterwards, exactly once, besides every credit the config set (SPEC §4: all or
    /// nothing "as seen by a person", and "an operation that returned success is never lost").
    func testConfigApplyLosesNoConcurrentOperation() throws {
        let seg = TempSegment()
        let books = try seg.books()
        let currencies = ["USDC", "USD"]
        var initial: [String: [Int128]] = [:]
        var opsBefore: [String: UInt64] = [:]
        for c in currencies {
            try books.reset(key(c), balance: Amount("100000"), strategyCount: 9)
            try books.setCreditLimit(key(c), Amount("5000"))
            let s = try books.get(key(c)).state
            initial[c] = s.rawSlots
            opsBefore[c] = s.opCount
        }
        let opsEach = runningUnderSanitizer ? 1_000 : 4_000
        let workers = try (0..<2).map { w in
            try spawnProduct(Product.worker, ["ops", seg.path, seg.file("w\(w).log"), currencies.joined(separator: ","), "\(opsEach)", "\(7000 + w)"],
                             outputIn: seg.dir, name: "w\(w)")
        }
        // Rewrite both records' credit (and count, names) over and over until the workers are done.
        let credits = [Amount("5000"), Amount("6000.000000000000000001")]
        let name = try ShortName("cfg", kind: .label)
        var applies = 0
        var lastCredit = credits[0]
        let deadline = Deadline(seconds: 300)
        while workers.contains(where: \.isRunning) && applies < 1_000_000 && !deadline.hasPassed {
            lastCredit = credits[(applies + 1) & 1]  // the first differs from the credit set above
            _ = try books.applyConfiguration(currencies.map { RecordConfig(key: key($0), strategyCount: 9, creditLimit: lastCredit, names: [8: name]) },
                                             defaultExchange: nil)
            applies += 1
        }
        for (w, p) in workers.enumerated() {
            let (end, timedOut) = p.finish(within: 60)
            XCTAssertFalse(timedOut, "worker \(w) did not finish")
            XCTAssertEqual(end, .exited(0), "worker \(w): \(p.errorOutput)")
        }
        XCTAssertGreaterThan(applies, 10, "config apply must have raced the workers")

        var expected = initial
        var applied: [String: UInt64] = [:]
        for w in 0..<2 {
            for op in try readWorkerLog(seg.file("w\(w).log")) {
                XCTAssertNotNil(op.applied, "worker \(w) op \(op.seq) has no outcome")
                if op.applied == true {
                    op.apply(to: &expected[op.currency]!)
                    applied[op.currency, default: 0] += 1
                }
            }
        }
        for c in currencies {
            let r = try books.get(key(c))
            XCTAssertEqual(r.state.rawSlots, expected[c], "\(c): the books are not the workers' acknowledged operations (\(applies) config applies ran meanwhile)")
            XCTAssertEqual(r.state.opCount, opsBefore[c]! + applied[c, default: 0] + UInt64(applies), "\(c): one commit per operation and per apply")
            XCTAssertEqual(r.creditLimit, lastCredit, c)
            XCTAssertEqual(r.names[8], name, c)
            XCTAssertTrue(r.identityHolds, c)
        }
        print("write race (config apply): \(applies) applies against \(2 * opsEach) operations in 2 processes; nothing lost")
    }

    /// Many first creators of one new key at once, by `reset` and by `reconcile`: exactly one
    /// record per key, whatever the interleaving. The creators (two threads here, three processes)
    /// go through the same new keys in the same order from the same moment (a go file they spin
    /// on), so each key is asked for by several of them at once.
    func testFirstCreatorsOfOneKeyMakeExactlyOneRecord() throws {
        let seg = TempSegment()
        let books = try seg.books(.readWriteCreating(geometry: Geometry(recordCapacity: 1024, quoteCapacity: 1, ringCapacity: 1024,
                                                                          holdCapacity: Layout.minHolds, opIdWindow: Layout.minOpIdWindow)))
        let count = runningUnderSanitizer ? 100 : 800
        let currencies = (0..<count).map { "NEW\($0)" }
        let go = seg.file("go")
        let processes = try (0..<3).map { p in
            try spawnProduct(Product.worker, ["create", seg.path, go, p == 1 ? "reconcile" : "reset", "100", "5", currencies.joined(separator: ",")],
                             outputIn: seg.dir, name: "creator\(p)")
        }
        for (i, p) in processes.enumerated() {
            XCTAssertTrue(p.waitForOutput("ready", within: 60), "creator process \(i) never got ready: \(p.errorOutput)")
        }
        let failures = Findings()
        XCTAssertTrue(writeTextFile(go, ""))
        runThreads(2) { t in
            for c in currencies {
                do {
                    if t == 0 { try books.reset(key(c), balance: Amount("100"), strategyCount: 5) } else {
                        _ = try books.reconcile(key(c), exchangeBalance: Amount("100"))
                    }
                } catch { failures.add("thread \(t) \(c): \(error)") }
            }
        }
        for (i, p) in processes.enumerated() {
            let (end, timedOut) = p.finish(within: 120)
            XCTAssertFalse(timedOut, "creator process \(i) did not finish")
            XCTAssertEqual(end, .exited(0), "creator process \(i): \(p.errorOutput)")
        }
        XCTAssertEqual(failures.lines, [])
        let keys = books.keys()
        let duplicates = Dictionary(grouping: keys, by: { $0 }).filter { $0.value.count > 1 }.keys.sorted()
        XCTAssertEqual(duplicates, [], "keys with more than one record")
        XCTAssertEqual(Set(keys), Set(currencies.map { key($0) }))
        XCTAssertEqual(keys.count, count)
        for c in currencies {
            let r = try books.get(key(c))
            XCTAssertEqual(r.slots.prefix(2).map(\.exactText), ["100", "100"], c)
            XCTAssertTrue(r.identityHolds, c)
        }
    }

    /// `snapshot restore` into an empty segment races a writer creating a record there: either the
    /// restore is refused (the segment is no longer empty) and the new record stays, or the restore
    /// wins and the new record is created after it; never both the restore and a lost record.
    func testRestoreRacingACreatorNeverLosesEither() throws {
        let dir = TempDir("restore-race")
        let template = try Books.open(dir.file("template"), .readWriteCreating(geometry: Geometry(recordCapacity: 8, quoteCapacity: 4, ringCapacity: 16)))
        try template.reset(key("USDC"), balance: Amount("1000"), strategyCount: 4)
        try template.allocate(key("USDC"), index: 2, Amount("250"))
        try template.reset(key("ETH", "BINANCE"), balance: Amount("2.5"))
        try template.writeQuote(try QuoteKey("KRAKEN", "BALANCE", "USDC"), SingleQuote(timestamp: 1, localTimestamp: 2, mid: 1000))
        let snap = try template.takeSnapshot()
        let newKey = key("NEW")
        let rounds = runningUnderSanitizer ? 50 : 300
        var g = SplitMix64(seed: 0x2E57_0001)
        var outcomes = [String: Int]()
        for round in 0..<rounds {
            let path = dir.file("seg\(round)")
            let books = Books(try Segment.create(path, geometry: snap.geometry))
            let line = StartLine(2)
            // The restore starts a little later each round (0–30 µs, seeded), sweeping the window
            // in which the creator holds the record table's lock: the restore's first look
            // finds the segment empty, and only its look under the locks can see the new record.
            let delay = Int64(g.below(30_000))
            let restored = Mutex<SnapshotError?>(nil), created = Mutex<BooksError?>(nil)
            runThreads(2) { t in
                line.wait()
                if t == 0 {
                    spin(nanoseconds: delay)
                    do throws(SnapshotError) { try books.restore(snap) } catch { restored.withLock { $0 = error } }
                } else {
                    do throws(BooksError) { try books.reset(newKey, balance: Amount("7"), strategyCount: 3) } catch { created.withLock { $0 = error } }
                }
            }
            if let e = created.withLock({ $0 }) { return XCTFail("round \(round): the creator failed: \(e)") }
            let outcome = try Self.restoreOutcome(books, snap, newKey, restoreError: restored.withLock { $0 })
            if outcome.hasPrefix("VIOLATION") { return XCTFail("round \(round) (restore delayed \(delay) ns): \(outcome)") }
            outcomes[outcome, default: 0] += 1
            unlink(path)
        }
        print("write race (restore vs creator): \(rounds) rounds: \(outcomes.sorted { $0.key < $1.key })")
    }

    /// The same race with the creator in another process (`shmbal-worker create`).
    func testRestoreRacingACreatorProcessNeverLosesEither() throws {
        let dir = TempDir("restore-race-p")
        let template = try Books.open(dir.file("template"), .readWriteCreating(geometry: Geometry(recordCapacity: 8, quoteCapacity: 4, ringCapacity: 16)))
        try template.reset(key("USDC"), balance: Amount("1000"), strategyCount: 4)
        try template.reset(key("ETH", "BINANCE"), balance: Amount("2.5"))
        let snap = try template.takeSnapshot()
        let rounds = runningUnderSanitizer ? 10 : 40
        var g = SplitMix64(seed: 0x2E57_0002)
        var outcomes = [String: Int]()
        for round in 0..<rounds {
            let path = dir.file("seg\(round)"), go = dir.file("go\(round)")
            let books = Books(try Segment.create(path, geometry: snap.geometry))
            let creator = try spawnProduct(Product.worker, ["create", path, go, "reset", "7", "3", "NEW"], outputIn: dir.path, name: "creator\(round)")
            // Once it spins on the go file, start both, the restore after a varying pause.
            XCTAssertTrue(creator.waitForOutput("ready", within: 60), "round \(round): \(creator.errorOutput)")
            XCTAssertTrue(writeTextFile(go, ""))
            spin(nanoseconds: Int64(g.below(60_000)))
            var restoreError: SnapshotError?
            do throws(SnapshotError) { try books.restore(snap) } catch { restoreError = error }
            let (end, timedOut) = creator.finish(within: 60)
            guard !timedOut, end == .exited(0) else { return XCTFail("round \(round): the creator process: \(end) \(creator.errorOutput)") }
            let outcome = try Self.restoreOutcome(books, snap, key("NEW"), restoreError: restoreError)
            if outcome.hasPrefix("VIOLATION") { return XCTFail("round \(round): \(outcome)") }
            outcomes[outcome, default: 0] += 1
            unlink(path)
            unlink(go)
        }
        print("write race (restore vs creator process): \(rounds) rounds: \(outcomes.sorted { $0.key < $1.key })")
    }

    /// What a restore racing a creator of `newKey` left: "restored, then created", "refused,
    /// created first", or a string starting with VIOLATION.
    static func restoreOutcome(_ books: Books, _ snap: BooksSnapshot, _ newKey: BookKey, restoreError: SnapshotError?) throws -> String {
        let keys = books.keys()
        guard keys.filter({ $0 == newKey }).count == 1 else {
            return "VIOLATION: the creator's acknowledged record \(newKey) is \(keys.contains(newKey) ? "there twice" : "gone") (restore \(restoreError.map { "\($0)" } ?? "succeeded"); keys \(keys))"
        }
        let created = try books.get(newKey)
        guard created.slots.map(\.exactText) == ["7", "7", "0"] else { return "VIOLATION: \(newKey) holds \(created.slots)" }
        let snapKeys = Set(snap.records.map(\.key))
        switch restoreError {
        case nil:
            guard Set(keys) == snapKeys.union([newKey]) else { return "VIOLATION: restored, but the keys are \(keys)" }
            for r in snap.records {
                guard let rec = books.record(r.key) else { return "VIOLATION: \(r.key) missing" }
                var s = RecordState()
                try rec.read(into: &s)
                if s != r.state { return "VIOLATION: \(r.key) restored as \(s), the snapshot says \(r.state)" }
            }
            if try books.allQuotes().count != snap.quotes.count { return "VIOLATION: quotes \(try books.allQuotes())" }
            return "restored, then created"
        case .notEmpty?:
            guard keys == [newKey] else { return "VIOLATION: refused, but the keys are \(keys)" }
            return "refused, created first"
        case let e?:
            return "VIOLATION: the restore failed otherwise: \(e)"
        }
    }
}

/// Busy-waits `nanoseconds` (a jitter that shifts one racer against another; never a wait for anything).
func spin(nanoseconds: Int64) {
    let until = monotonicNs() + nanoseconds
    while monotonicNs() < until {}
}
