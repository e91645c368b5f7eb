import Foundation
import ShmBalance
import ShmBalanceTestSupport
import XCTest

/// SPEC §4 "snapshot save FILE / snapshot restore FILE": the books survive a reboot.
final class SnapshotTests: XCTestCase {
    let ex = ["--exchange", "KRAKEN"]

    /// Books with a bit of everything: several records and exchanges, budgets, credit, names,
    /// a reset epoch, a negative pool, 18-decimal amounts, quotes and a default exchange.
    func makeBooks(_ path: String) throws -> Books {
        let books = try Books.open(path, .readWriteCreating(geometry: Geometry(recordCapacity: 16, quoteCapacity: 8, ringCapacity: 64)))
        let usdc = key("USDC"), usd = key("USD"), eth = key("ETH", "BINANCE")
        _ = try books.applyConfiguration([RecordConfig(key: usdc, strategyCount: 5, creditLimit: Amount("5000"),
                                                       names: [2: try ShortName("grid-bot", kind: .label), 3: try ShortName("arb#2", kind: .label)])],
                                         defaultExchange: try ShortName("KRAKEN"))
        try books.reset(usdc, balance: Amount("10000.00"))
        try books.allocate(usdc, index: 2, Amount("2000"))
        try books.allocate(usdc, index: 3, Amount("3000.000000000000000001"))
        try books.reset(usd, balance: Amount("5000"), strategyCount: 3)
        try books.reset(usd, balance: Amount("5000"))
        try books.allocate(usd, index: 2, Amount("4000"))
        try books.adjust(usd, Amount("-4500"), index: 0)
        try books.reset(eth, balance: Amount("0.000000000000000123"), strategyCount: 64)
        try books.setName(eth, index: 63, try ShortName("last", kind: .label))
        try books.writeQuote(try QuoteKey("KRAKEN", "BALANCE", "USDC"), SingleQuote(timestamp: 1_732_570_000_000_000, localTimestamp: 1_732_570_000_000_100, mid: 10000.25))
        try books.writeQuote(try QuoteKey("KRAKEN", "PRICE", "ETH"), SingleQuote(timestamp: 1, localTimestamp: 2, mid: 0.1))
        return books
    }

    func assertSameBooks(_ a: Books, _ b: Books, file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(try a.allRecords(), try b.allRecords(), file: file, line: line)
        XCTAssertEqual(try a.allQuotes().map { "\($0.key) \($0.quote.timestamp) \($0.quote.localTimestamp) \($0.quote.mid.bitPattern)" },
                       try b.allQuotes().map { "\($0.key) \($0.quote.timestamp) \($0.quote.localTimestamp) \($0.quote.mid.bitPattern)" }, file: file, line: line)
        XCTAssertEqual(try a.defaultExchange, try b.defaultExchange, file: file, line: line)
        // Everything the snapshot holds, names beyond the count and quote pids included.
        var sa = try a.takeSnapshot(), sb = try b.takeSnapshot()
        sa.createdMicros = 0; sb.createdMicros = 0
        sa.source = ""; sb.source = ""
        sb.geometry = sa.geometry  // compared separately where it must match
        XCTAssertEqual(sa, sb, file: file, line: line)
    }

    /// save → delete the segment (a reboot) → restore → identical books; through the CLI.
    func testSaveDeleteRestoreGivesIdenticalBooks() throws {
        let dir = TempDir()
        let seg = dir.file("seg"), snap = dir.file("books.snapshot")
        let before = try makeBooks(seg)
        let save = try runShmbal(["snapshot", "save", snap, "--segment", seg])
        XCTAssertEqual(save.status, 0, save.err)
        XCTAssertTrue(save.out.contains("saved 3 records and 2 quotes"), save.out)
        var st = stat()
        XCTAssertEqual(stat(snap, &st), 0)
        XCTAssertEqual(st.st_mode & 0o777, 0o600, "a snapshot holds the books: owner only")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted(), ["books.snapshot", "seg"], "no temporary file left")

        let json = try runShmbal(["list", "--json", "--segment", seg]).out
        XCTAssertEqual(unlink(seg), 0)  // the reboot
        let restore = try runShmbal(["snapshot", "restore", snap, "--segment", seg])
        XCTAssertEqual(restore.status, 0, restore.err)
        XCTAssertTrue(restore.out.contains("restored 3 records and 2 quotes"), restore.out)
        XCTAssertEqual(stat(seg, &st), 0)
        XCTAssertEqual(st.st_mode & 0o777, 0o600)
        let after = try Books.open(seg, .readWrite)
        try assertSameBooks(before, after)
        XCTAssertEqual(try runShmbal(["list", "--json", "--segment", seg]).out, json)
        XCTAssertEqual(after.segment.geometry, before.segment.geometry)
        // The restored books work: the record's lock, the operations, the rules.
        try after.release(key("USDC"), index: 2, Amount("2000"))
        XCTAssertEqual(try after.get(key("USDC")).state.pool, Amount("6999.999999999999999999"))
        XCTAssertEqual(try runShmbal(["check", "--segment", seg]).status, 6, "USD's headroom was negative when saved, and still is")
    }

    /// Restore into an existing segment that holds nothing fills it; --mode applies to a new one.
    func testRestoreIntoEmptySegmentAndModeOfANewOne() throws {
        let dir = TempDir()
        let seg = dir.file("seg"), snap = dir.file("s")
        let before = try makeBooks(seg)
        try SnapshotFile.save(before, to: snap)
        let empty = dir.file("empty")
        XCTAssertEqual(try runShmbal(["init", "--segment", empty, "--records", "32"]).status, 0)
        let r = try runShmbal(["snapshot", "restore", snap, "--segment", empty])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.out.contains("into empty segment"), r.out)
        try assertSameBooks(before, try Books.open(empty, .readOnly))

        let group = dir.file("group")
        XCTAssertEqual(try runShmbal(["snapshot", "restore", snap, "--segment", group, "--mode", "0660"]).status, 0)
        var st = stat()
        XCTAssertEqual(stat(group, &st), 0)
        XCTAssertEqual(st.st_mode & 0o777, 0o660)
    }

    /// A segment that already holds books is never merged into or replaced.
    func testRestoreRefusesASegmentWithRecordsAndChangesNothing() throws {
        let dir = TempDir()
        let seg = dir.file("seg"), snap = dir.file("s")
        try SnapshotFile.save(try makeBooks(seg), to: snap)
        let other = dir.file("other")
        XCTAssertEqual(try runShmbal(["reset", "USDC", "1", "--segment", other] + ex).status, 0)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: other))
        let r = try runShmbal(["snapshot", "restore", snap, "--segment", other])
        XCTAssertEqual(r.status, 4)
        XCTAssertTrue(r.err.contains("already holds 1 records and 0 quotes"), r.err)
        XCTAssertTrue(r.err.contains("nothing was restored"), r.err)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: other)), bytes, "the segment changed")
        // A file that is not a segment is not overwritten either.
        let notSeg = dir.file("notseg")
        try Data("hello".utf8).write(to: URL(fileURLWithPath: notSeg))
        let r2 = try runShmbal(["snapshot", "restore", snap, "--segment", notSeg])
        XCTAssertEqual(r2.status, 4, r2.err)
        XCTAssertEqual(try String(contentsOfFile: notSeg, encoding: .utf8), "hello")
    }

    /// Corrupt, truncated, foreign and other-version files are refused; no segment appears.
    func testCorruptOrForeignSnapshotsAreRefusedAndNothingIsCreated() throws {
        let dir = TempDir()
        let seg = dir.file("seg"), snap = dir.file("s")
        try SnapshotFile.save(try makeBooks(seg), to: snap)
        let good = try Data(contentsOf: URL(fileURLWithPath: snap))
        let text = String(decoding: good, as: UTF8.self)
        XCTAssertEqual(try runShmbal(["snapshot", "verify", snap]).status, 0)

        var cases: [(String, Data, String)] = []
        // Every single-byte change in the body is caught by the checksum (sampled across the file).
        for offset in stride(from: 20, to: good.count - 40, by: max(1, good.count / 40)) {
            var d = good
            d[offset] ^= 0x01
            cases.append(("byte \(offset) flipped", d, "corrupt"))
        }
        cases.append(("truncated", good.prefix(good.count / 2), "corrupt"))
        cases.append(("last byte cut", good.dropLast(), "corrupt"))
        cases.append(("empty", Data(), "not a ShmBalance snapshot"))
        cases.append(("a segment", try Data(contentsOf: URL(fileURLWithPath: seg)), "not a ShmBalance snapshot"))
        cases.append(("other text", Data("[KRAKEN.USDC]\ncredit = \"5\"\n".utf8), "not a ShmBalance snapshot"))
        cases.append(("version 2", Data(text.replacingOccurrences(of: "shmbal-snapshot 1\n", with: "shmbal-snapshot 2\n").utf8), "format version 2"))
        // Well-formed and correctly checksummed, but breaking the rules: refused by the checks, not the checksum.
        let broken = text.replacingOccurrences(of: "  slot 0 10000 ", with: "  slot 0 10001 ")
        XCTAssertNotEqual(broken, text)
        cases.append(("identity broken", Data(resealed(broken).utf8), "identity broken"))
        cases.append(("count 65", Data(resealed(text.replacingOccurrences(of: "  count 5\n", with: "  count 65\n")).utf8), "outside 2…64"))
        cases.append(("trailing line", Data(resealed(text.components(separatedBy: "checksum ")[0] + "extra\n").utf8), "unexpected line"))

        for (what, data, message) in cases {
            let bad = dir.file("bad")
            try data.write(to: URL(fileURLWithPath: bad))
            let target = dir.file("fresh")
            let r = try runShmbal(["snapshot", "restore", bad, "--segment", target])
            XCTAssertEqual(r.status, 4, "\(what): \(r.err)")
            XCTAssertTrue(r.err.contains(message), "\(what): \(r.err)")
            XCTAssertEqual(r.err.split(separator: "\n").count, 1, "\(what): one line")
            XCTAssertFalse(FileManager.default.fileExists(atPath: target), "\(what): a segment was created")
            XCTAssertEqual(try runShmbal(["snapshot", "verify", bad]).status, 4, what)
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted(), ["bad", "s", "seg"], "no temporary segment left")
    }

    /// A save that cannot complete leaves the previous snapshot untouched.
    func testFailedSaveKeepsThePreviousSnapshot() throws {
        let dir = TempDir()
        let seg = dir.file("seg"), snap = dir.file("s")
        try SnapshotFile.save(try makeBooks(seg), to: snap)
        let old = try Data(contentsOf: URL(fileURLWithPath: snap))
        let r = try runShmbal(["snapshot", "save", snap, "--segment", dir.file("missing")])
        XCTAssertEqual(r.status, 4, r.err)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: snap)), old)
        // Saving over a directory fails and leaves nothing behind.
        let sub = dir.file("sub")
        try FileManager.default.createDirectory(atPath: sub, withIntermediateDirectories: false)
        let r2 = try runShmbal(["snapshot", "save", sub, "--segment", seg])
        XCTAssertEqual(r2.status, 4, r2.err)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted(), ["s", "seg", "sub"])
    }

    /// Saving while writers run gives a snapshot whose every record is consistent.
    func testSnapshotUnderConcurrentWritesIsConsistent() throws {
        let dir = TempDir()
        let seg = dir.file("seg")
        let books = try Books.open(seg, .readWriteCreating())
        try books.reset(key("USDC"), balance: Amount("1000"), strategyCount: 4)
        let hammer = try spawnProduct(Product.campaign, ["hammer", "--segment", seg, "--currency", "USDC", "--seconds", "60"], outputIn: dir.path)
        defer { hammer.kill() }
        XCTAssertTrue(hammer.waitForOutput("hammering"))
        for i in 0..<50 {
            let file = dir.file("s\(i)")
            let snap = try SnapshotFile.save(books, to: file)
            XCTAssertTrue(snap.records.allSatisfy { $0.state.identityHolds })
            XCTAssertEqual(try SnapshotFile.read(file), snap)
            unlink(file)
        }
    }

    /// Rewrites the checksum line so only the rules can catch what was changed.
    func resealed(_ text: String) -> String {
        let body = text.components(separatedBy: "checksum fnv1a64 ")[0]
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in body.utf8 {
            h ^= UInt64(b)
            h = h &* 0x0000_0100_0000_01B3
        }
        let hex = String(h, radix: 16)
        return body + "checksum fnv1a64 " + String(repeating: "0", count: 16 - hex.count) + hex + "\n"
    }
}
