import Foundation
@testable import ShmBalance
import ShmBalanceTestSupport
import XCTest

/// SPEC §4: a change that spans several records (`config apply`, `snapshot restore`) applies all or
/// nothing as seen by a person: every check that can refuse runs before the first write, and
/// running the same command again finishes an interrupted one.
final class AllOrNothingTests: XCTestCase {
    let exchange = ["--exchange", "KRAKEN"]

    func write(_ text: String, _ path: String) throws { try text.write(toFile: path, atomically: true, encoding: .utf8) }

    func recordsJSON(_ seg: String) throws -> String {
        let r = try runShmbal(["list", "--json", "--segment", seg])
        XCTAssertEqual(r.status, 0, r.err)
        return r.out
    }

    /// The table has room for one more record; the file updates one and creates two: refused, and
    /// the update was not applied either (it used to be, with "nothing was applied" printed).
    func testAFullRecordTableRefusesTheWholeFile() throws {
        let dir = TempDir()
        let seg = dir.file("seg")
        XCTAssertEqual(try runShmbal(["init", "--records", "2", "--segment", seg]).status, 0)
        XCTAssertEqual(try runShmbal(["reset", "USDC", "100", "--segment", seg] + exchange).status, 0)
        let before = try recordsJSON(seg)
        let conf = dir.file("c.toml")
        try write("default_exchange = \"KRAKEN\"\n[KRAKEN.USDC]\ncredit = \"50\"\n[KRAKEN.USD]\nstrategies = 4\n[KRAKEN.EUR]\nstrategies = 4\n", conf)
        let r = try runShmbal(["config", "apply", conf, "--segment", seg])
        XCTAssertEqual(r.status, 3, r.err)
        XCTAssertTrue(r.err.contains("full"), r.err)
        XCTAssertTrue(r.err.contains("nothing was applied"), r.err)
        XCTAssertEqual(try recordsJSON(seg), before, "the credit of the existing record was changed")
        XCTAssertNil(try Books.open(seg, .readOnly).defaultExchange, "the default exchange was written")
    }

    /// A writer parked holding the record table's lock (creating a record): `config apply` reports
    /// busy and has changed nothing — not the existing records, not the default exchange.
    func testABusyTableLockRefusesTheWholeFileBeforeAnyWrite() throws {
        let dir = TempDir()
        let seg = dir.file("seg")
        XCTAssertEqual(try runShmbal(["reset", "USDC", "100", "--segment", seg] + exchange).status, 0)
        let before = try recordsJSON(seg)
        let park = try spawnProduct(Product.campaign, ["park", "--segment", seg, "--currency", "NEW", "--op", "create",
                                                                   "--point", String(FaultPoint(.lockedBeforeWrite, .newRecords).rawValue), "--seconds", "60"], outputIn: dir.path)
        defer { _ = park.kill() }
        XCTAssertTrue(park.waitForOutput("parked"), park.output)
        XCTAssertEqual(kill(park.pid, SIGSTOP), 0)
        for file in ["default_exchange = \"KRAKEN\"\n[KRAKEN.USDC]\ncredit = \"50\"\n", "[KRAKEN.USDC]\ncredit = \"50\"\nnames = { 2 = \"x\" }\n",
                     "default_exchange = \"KRAKEN\"\n"] {
            let conf = dir.file("c.toml")
            try write(file, conf)
            let r = try runShmbal(["config", "apply", conf, "--segment", seg], env: ["SHMBAL_LOCK_TIMEOUT_MS": "200"])
            XCTAssertEqual(r.status, 5, "\(file): \(r.err)")
            XCTAssertTrue(r.err.contains("busy"), r.err)
            XCTAssertEqual(try recordsJSON(seg), before, file)
            XCTAssertNil(try Books.open(seg, .readOnly).defaultExchange, file)
        }
    }

    /// Through the Swift API too: a key given twice (after case folding) is refused whole, and a
    /// negative credit never reaches a record.
    func testTheEntriesOwnRulesRefuseTheWholeCall() throws {
        let dir = TempDir()
        let books = try Books.open(dir.file("seg"), .readWriteCreating())
        let usdc = try BookKey("KRAKEN", "USDC")
        try books.reset(usdc, balance: Amount(whole: 100)!)
        let before = try books.get(usdc)
        let twice = [RecordConfig(key: usdc, creditLimit: Amount(whole: 5)!), RecordConfig(key: try BookKey("kraken", "usdc"), strategyCount: 4)]
        XCTAssertThrowsError(try books.applyConfiguration(twice, defaultExchange: try ShortName("KRAKEN"))) { error in
            XCTAssertTrue("\(error)".contains("configured twice"), "\(error)")
        }
        XCTAssertThrowsError(try books.applyConfiguration([RecordConfig(key: usdc, creditLimit: Amount(raw: -1))], defaultExchange: nil))
        XCTAssertEqual(try books.get(usdc), before)
        XCTAssertNil(try books.defaultExchange)
        XCTAssertThrowsError(try books.setCreditLimit(usdc, Amount(raw: -1))) { error in
            XCTAssertEqual((error as? BooksError)?.refusal?.code, .negativeCredit, "\(error)")
        }
        XCTAssertEqual(try books.get(usdc), before)
    }

    /// A restore interrupted after its records were published (the quotes not yet) is finished by
    /// running it again; one that already finished is a no-op; other books are refused.
    func testRestoreAgainFinishesAnInterruptedRestore() throws {
        let dir = TempDir()
        let source = dir.file("source")
        XCTAssertEqual(try runShmbal(["reset", "USDC", "100", "--segment", source] + exchange).status, 0)
        XCTAssertEqual(try runShmbal(["reset", "USD", "50", "--segment", source] + exchange).status, 0)
        XCTAssertEqual(try runShmbal(["quote", "write", "KRAKEN", "BALANCE", "USDC", "100", "--segment", source]).status, 0)
        let full = dir.file("full.snap")
        XCTAssertEqual(try runShmbal(["snapshot", "save", full, "--segment", source]).status, 0)
        // The state an interrupted restore leaves: the same records, no quotes yet.
        let snap = try SnapshotFile.read(full)
        var recordsOnly = snap
        recordsOnly.quotes = []
        let target = dir.file("target")
        let books = Books(try Segment.create(target, geometry: snap.geometry))
        try books.restore(recordsOnly)
        XCTAssertEqual(try books.allQuotes().count, 0)
        let again = try runShmbal(["snapshot", "restore", full, "--segment", target])
        XCTAssertEqual(again.status, 0, again.err)
        XCTAssertEqual(try books.allQuotes().map(\.key), snap.quotes.map(\.key))
        XCTAssertEqual(try books.allRecords().map(\.state), snap.records.map(\.state))
        XCTAssertEqual(try runShmbal(["snapshot", "restore", full, "--segment", target]).status, 0, "once finished, again is a no-op")
        // Different books in the way: refused, nothing changed.
        XCTAssertEqual(try runShmbal(["adjust", "USD", "1", "--segment", target] + exchange).status, 0)
        let refused = try runShmbal(["snapshot", "restore", full, "--segment", target])
        XCTAssertEqual(refused.status, 4, refused.err)
        XCTAssertEqual(try books.balance(try BookKey("KRAKEN", "USD")), Amount(whole: 51)!)
    }
}
