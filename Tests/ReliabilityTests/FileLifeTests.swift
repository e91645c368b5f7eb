import Foundation
@testable import ShmBalance
import ShmBalanceTestSupport
import XCTest

/// SPEC §4 "The file's own life": a segment is one file, and files get removed, replaced,
/// truncated, filled and copied. None of these may lose an acknowledged operation or kill a
/// process with a bare signal.
final class FileLifeTests: XCTestCase {
    let usdc = try! BookKey("KRAKEN", "USDC")

    func freshBooks(_ dir: TempDir, _ name: String = "seg") throws -> Books {
        let books = try Books.open(dir.file(name), .readWriteCreating())
        try books.reset(usdc, balance: Amount(whole: 1000)!, strategyCount: 4)
        return books
    }

    /// Past the check interval, the next write into a file nobody else can see is refused.
    func waitPastTheCheckInterval() { usleep(UInt32(Segment.fileCheckIntervalMicros) + 50_000) }

    func testWritesIntoARemovedSegmentAreRefusedAndNamedAsSuch() throws {
        let dir = TempDir()
        let books = try freshBooks(dir)
        try books.allocate(usdc, index: 2, Amount(whole: 10)!)
        XCTAssertEqual(unlink(dir.file("seg")), 0)
        waitPastTheCheckInterval()
        let kinds: [(String, () throws -> Void)] = [
            ("allocate", { try books.allocate(self.usdc, index: 2, Amount(whole: 1)!) }),
            ("release", { try books.release(self.usdc, index: 2, Amount(whole: 1)!) }),
            ("adjust", { try books.adjust(self.usdc, Amount(whole: 1)!) }),
            ("name", { try books.setName(self.usdc, index: 2, try ShortName("x", kind: .label)) }),
            ("quote", { try books.writeQuote(try QuoteKey("KRAKEN", "BALANCE", "USDC"), SingleQuote(timestamp: 1, localTimestamp: 1, mid: 1)) }),
            ("reset", { try books.reset(try BookKey("KRAKEN", "NEW"), balance: .zero) }),
        ]
        for (what, write) in kinds {
            XCTAssertThrowsError(try write(), what) { error in
                XCTAssertEqual(error as? BooksError, .segment(.removed(path: dir.file("seg"))), "\(what): \(error)")
                XCTAssertTrue("\(error)".contains("was removed"), "\(error)")
            }
        }
        XCTAssertEqual(books.segment.fileState, .removed)
        // What is still mapped can be read (a viewer shows it with a banner).
        XCTAssertEqual(try books.balance(usdc, index: 2).description.prefix(2), "10")
    }

    func testWritesIntoAReplacedSegmentAreRefused() throws {
        let dir = TempDir()
        let books = try freshBooks(dir)
        XCTAssertEqual(unlink(dir.file("seg")), 0)
        let other = try freshBooks(dir)  // the restore procedure: a new segment at the same path
        waitPastTheCheckInterval()
        XCTAssertThrowsError(try books.allocate(usdc, index: 2, Amount(whole: 1)!)) { error in
            XCTAssertEqual(error as? BooksError, .segment(.replaced(path: dir.file("seg"))), "\(error)")
        }
        // The new file's writers are not affected, and nothing of the old handle's reached it.
        try other.allocate(usdc, index: 2, Amount(whole: 1)!)
        XCTAssertEqual(try other.balance(usdc, index: 2), Amount(whole: 1)!)
    }

    /// A file truncated under a live process: reads and writes fail with a message naming the file,
    /// the process lives on (the SIGBUS of touching the missing pages is caught for the mapping).
    func testATruncatedSegmentGivesErrorsNotSIGBUS() throws {
        let dir = TempDir()
        let books = try freshBooks(dir)
        guard let rec = books.record(usdc) else { return XCTFail("no record") }
        try books.allocate(rec, index: 2, Amount(whole: 10)!)
        XCTAssertEqual(truncate(dir.file("seg"), 100), 0)
        let truncated = BooksError.segment(.truncated(path: dir.file("seg")))
        var state = RecordState()
        XCTAssertThrowsError(try rec.read(into: &state)) { XCTAssertEqual($0 as? BooksError, truncated, "\($0)") }
        XCTAssertThrowsError(try rec.readSlot(0)) { XCTAssertEqual($0 as? BooksError, truncated, "\($0)") }
        XCTAssertThrowsError(try books.allocate(rec, index: 2, Amount(whole: 1)!)) { XCTAssertEqual($0 as? BooksError, truncated, "\($0)") }
        XCTAssertThrowsError(try books.allRecords()) { XCTAssertEqual($0 as? BooksError, truncated, "\($0)") }
        XCTAssertThrowsError(try books.takeSnapshot()) { XCTAssertEqual($0 as? BooksError, truncated, "\($0)") }
        XCTAssertEqual(books.segment.fileState, .truncated)
        XCTAssertTrue("\(truncated)".contains("truncated"))
    }

    /// Truncated to a length inside the header page: nothing faults (the page is partly backed and
    /// reads zeros past the end), and the stat check is what tells: no "0 currencies, all healthy".
    func testATruncationThatCausesNoFaultIsStillNoticed() throws {
        let dir = TempDir()
        let books = try freshBooks(dir)
        XCTAssertEqual(truncate(dir.file("seg"), 100), 0)
        XCTAssertEqual(books.keys(), [], "the record count now reads as zero")
        XCTAssertThrowsError(try books.allRecords()) { error in
            XCTAssertEqual(error as? BooksError, .segment(.truncated(path: dir.file("seg"))), "\(error)")
        }
    }

    /// Space is reserved at creation: a full file system fails `create` with a message and leaves
    /// no file, instead of a SIGBUS in some writer later.
    func testAFullFileSystemFailsCreateNotALaterWrite() throws {
        let dir = TempDir()
        let mount = dir.file("small")
        try FileManager.default.createDirectory(atPath: mount, withIntermediateDirectories: true)
        let m = try runProcess("/bin/mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", mount])
        XCTAssertEqual(m.status, 0, "this test mounts a 1 MiB tmpfs (it needs root, as the CI does): \(m.err)")
        defer { _ = try? runProcess("/bin/umount", [mount]) }
        let path = mount + "/seg"
        XCTAssertGreaterThan(Geometry.defaults.segmentSize, 1 << 20)
        XCTAssertThrowsError(try Segment.create(path)) { error in
            guard case .full(let p, _) = error as? SegmentError else { return XCTFail("\(error)") }
            XCTAssertEqual(p, path)
            XCTAssertTrue("\(error)".contains("full"), "\(error)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: mount), [], "nothing left behind")
        // The CLI says the same, on one line, and creates nothing.
        let r = try runShmbal(["init", "--segment", path])
        XCTAssertEqual(r.status, 4, r.err)
        XCTAssertEqual(r.err.split(separator: "\n").count, 1, r.err)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: mount), [])
        // A segment that fits is created, and its pages are all there already.
        // (Small hold and op-id tables too: with the defaults each record's extension is ~700 KB.)
        let small = Geometry(recordCapacity: 16, quoteCapacity: 16, ringCapacity: 16, holdCapacity: Layout.minHolds, opIdWindow: Layout.minOpIdWindow)
        let books = Books(try Segment.create(path, geometry: small))
        var st = stat()
        XCTAssertEqual(stat(path, &st), 0)
        XCTAssertGreaterThanOrEqual(Int(st.st_blocks) * 512, small.segmentSize, "allocated, not sparse")
        try books.reset(usdc, balance: Amount(whole: 1)!)
    }

    /// A lock word captured while held — the file copied while a writer was inside a commit — names
    /// a holder that holds nothing in the copy. The copy's first writer recovers it like a dead
    /// holder's (whether that holder is still alive, holding the original, or gone), instead of
    /// "busy … try again" forever.
    func testALockWordCopiedWhileHeldIsRecovered() throws {
        for holderAlive in [true, false] {
            let dir = TempDir()
            let seg = dir.file("seg")
            _ = try freshBooks(dir)
            let park = try spawnProduct(Product.campaign, ["park", "--segment", seg, "--currency", "USDC", "--point", "1", "--seconds", "60"], outputIn: dir.path)
            XCTAssertTrue(park.waitForOutput("parked"), park.output)
            let copy = dir.file("copy")
            try FileManager.default.copyItem(atPath: seg, toPath: copy)
            if !holderAlive { _ = park.kill() }
            let books = try Books.open(copy, .readWrite, lockTimeoutMs: 5_000)
            try books.allocate(usdc, index: 2, Amount(whole: 5)!)
            XCTAssertEqual(try books.balance(usdc, index: 2), Amount(whole: 5)!, "holder alive: \(holderAlive)")
            XCTAssertTrue(try books.get(usdc).identityHolds)
            XCTAssertTrue(books.activity().contains { $0.operation == .recoverLock && $0.key == usdc }, "the recovery is in the log")
            // And every later writer goes straight in.
            try books.release(usdc, index: 2, Amount(whole: 5)!)
            _ = park.kill()
        }
    }

    /// The record-table and quote-table locks are recovered the same way.
    func testTableLocksCopiedWhileHeldAreRecovered() throws {
        let createPoint = String(FaultPoint(.lockedBeforeWrite, .newRecords).rawValue)
        let quotePoint = String(FaultPoint(.lockedBeforeWrite, .newQuotes).rawValue)
        for (op, point) in [("create", createPoint), ("quote", quotePoint)] {
            let dir = TempDir()
            let seg = dir.file("seg")
            _ = try freshBooks(dir)
            let park = try spawnProduct(Product.campaign, ["park", "--segment", seg, "--currency", "NEW", "--op", op, "--point", point, "--seconds", "60"], outputIn: dir.path)
            XCTAssertTrue(park.waitForOutput("parked"), "\(op): \(park.output)")
            let copy = dir.file("copy")
            try FileManager.default.copyItem(atPath: seg, toPath: copy)
            let books = try Books.open(copy, .readWrite, lockTimeoutMs: 5_000)
            try books.reset(try BookKey("KRAKEN", "EUR"), balance: Amount(whole: 1)!)
            try books.writeQuote(try QuoteKey("KRAKEN", "BALANCE", "EUR"), SingleQuote(timestamp: 1, localTimestamp: 2, mid: 1))
            XCTAssertNil(books.record(try BookKey("KRAKEN", "NEW")), "\(op): the half-made record was never published")
            XCTAssertNil(try books.quote(try QuoteKey("KRAKEN", "BALANCE", "NEW")), "\(op): the half-made quote was never published")
            _ = park.kill()
        }
    }
}

extension Books {
    static func open(_ path: String, _ access: Segment.AccessMode, lockTimeoutMs: Int) throws -> Books {
        Books(try Segment.open(path, access), lockTimeoutMs: lockTimeoutMs)
    }
}

/// `log --follow` stops with a message when its segment file goes (it would never see another entry).
final class FollowFileLifeTests: XCTestCase {
    func testLogFollowStopsWithAMessageWhenTheSegmentIsTruncatedOrRemoved() throws {
        for what in ["truncated", "removed"] {
            let dir = TempDir()
            let seg = dir.file("seg")
            XCTAssertEqual(try runShmbal(["reset", "USDC", "1", "--segment", seg, "--exchange", "KRAKEN"]).status, 0)
            let follow = try spawnProduct(Product.shmbal, ["log", "--follow", "--segment", seg], outputIn: dir.path, name: "follow")
            XCTAssertTrue(follow.waitForOutput("reset"), follow.output)
            if what == "truncated" { XCTAssertEqual(truncate(seg, 100), 0) } else { XCTAssertEqual(unlink(seg), 0) }
            let (end, timedOut) = follow.finish(within: 20)
            XCTAssertFalse(timedOut, "\(what): log --follow kept running")
            XCTAssertEqual(end, .exited(4), "\(what): \(follow.errorOutput)")
            XCTAssertTrue(follow.errorOutput.contains(what == "truncated" ? "was truncated" : "was removed"), follow.errorOutput)
            XCTAssertEqual(follow.errorOutput.split(separator: "\n").count, 1, follow.errorOutput)
        }
    }
}
