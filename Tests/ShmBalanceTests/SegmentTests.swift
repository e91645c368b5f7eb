import Foundation
import Synchronization
import ShmBalance
import ShmBalanceTestSupport
import XCTest

/// Creating, attaching, refusing: corrupt, foreign, truncated and empty files give a clear error
/// and are never written; read-only attaches cannot write.
final class SegmentTests: XCTestCase {
    func bytes(_ path: String) -> Data { FileManager.default.contents(atPath: path) ?? Data() }

    /// Attaching read-write must fail with an error containing `expected`, and leave the file byte-identical.
    func assertRefusesToAttach(_ path: String, _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
        let before = bytes(path)
        let mtime = try? FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date
        for access in [Segment.AccessMode.readWrite, .readOnly, .readWriteCreating()] {
            do {
                _ = try Books.open(path, access)
                XCTFail("attached to a bad file (\(access))", file: file, line: line)
            } catch {
                XCTAssertTrue(error.description.contains(expected), "\(error.description)", file: file, line: line)
                XCTAssertTrue(error.description.hasPrefix(path), "the message names the path: \(error)", file: file, line: line)
                XCTAssertFalse(error.description.contains("\n"), "one line", file: file, line: line)
            }
        }
        XCTAssertEqual(bytes(path), before, "the file was not written", file: file, line: line)
        XCTAssertEqual(try? FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date, mtime, file: file, line: line)
    }

    func testCreatesWithMode0600AndRefusesToCreateOverAnything() throws {
        let seg = TempSegment()
        let books = try seg.books()
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: seg.path)[.posixPermissions] as? Int, 0o600)
        XCTAssertEqual(books.segment.geometry, .defaults)
        XCTAssertThrowsError(try Segment.create(seg.path)) { XCTAssertEqual($0 as? SegmentError, .exists(path: seg.path)) }

        let other = seg.dir + "/group"
        let old = umask(0o077)  // the requested mode must win over a strict umask
        defer { umask(old) }
        _ = try Segment.create(other, mode: 0o660)
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: other)[.posixPermissions] as? Int, 0o660)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: seg.dir).filter { $0.contains(".new.") }
        XCTAssertEqual(leftovers, [], "no temporary files left behind")
    }

    func testNeverFollowsASymlinkNorClobbersAFile() throws {
        let seg = TempSegment()
        let target = seg.dir + "/target"
        let link = seg.dir + "/link"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
        XCTAssertThrowsError(try Books.open(link, .readWriteCreating())) { error in
            XCTAssertTrue("\(error)".contains("symbolic link"), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: target), "nothing was created through the link")
        XCTAssertThrowsError(try Segment.create(link)) { XCTAssertEqual($0 as? SegmentError, .exists(path: link)) }

        let plain = seg.dir + "/notes.txt"
        try Data("my notes".utf8).write(to: URL(fileURLWithPath: plain))
        XCTAssertThrowsError(try Segment.create(plain))
        assertRefusesToAttach(plain, "not a ShmBalance segment")
        XCTAssertEqual(String(decoding: bytes(plain), as: UTF8.self), "my notes")
    }

    func testRefusesCorruptForeignTruncatedAndEmptyFiles() throws {
        let seg = TempSegment()
        _ = try seg.books()
        let good = bytes(seg.path)

        let empty = seg.dir + "/empty"
        XCTAssertTrue(FileManager.default.createFile(atPath: empty, contents: Data()))
        assertRefusesToAttach(empty, "the file is empty")

        var random = Data(count: 1 << 16)
        random.withUnsafeMutableBytes { for i in 0..<$0.count { $0[i] = UInt8.random(in: 0...255) } }
        let noise = seg.dir + "/random"
        XCTAssertTrue(FileManager.default.createFile(atPath: noise, contents: random))
        assertRefusesToAttach(noise, "no ShmBalance magic")

        let truncatedHeader = seg.dir + "/short"
        XCTAssertTrue(FileManager.default.createFile(atPath: truncatedHeader, contents: good.prefix(100)))
        assertRefusesToAttach(truncatedHeader, "truncated")

        let truncated = seg.dir + "/truncated"
        XCTAssertTrue(FileManager.default.createFile(atPath: truncated, contents: good.prefix(good.count - 4096)))
        assertRefusesToAttach(truncated, "truncated: \(good.count - 4096) bytes of \(good.count)")

        for old: UInt8 in [1, 2, 3] {
            var v = good
            v[8] = old  // an older layout version: refused with how to move its books
            let older = seg.dir + "/v\(old)"
            XCTAssertTrue(FileManager.default.createFile(atPath: older, contents: v))
            assertRefusesToAttach(older, "layout version \(old), this build reads version 4; move its books with the shmbal that made it ('shmbal snapshot save FILE')")
        }
        var v5 = good
        v5[8] = 5  // a newer one
        let newer = seg.dir + "/v5"
        XCTAssertTrue(FileManager.default.createFile(atPath: newer, contents: v5))
        assertRefusesToAttach(newer, "layout version 5, newer than this build's version 4")

        var damaged = good
        damaged[24] ^= 0x40  // record capacity, covered by the header checksum
        let bad = seg.dir + "/damaged"
        XCTAssertTrue(FileManager.default.createFile(atPath: bad, contents: damaged))
        assertRefusesToAttach(bad, "header checksum mismatch")

        let dir = seg.dir + "/adir"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false)
        XCTAssertThrowsError(try Books.open(dir, .readOnly))

        XCTAssertThrowsError(try Books.open(seg.dir + "/missing", .readOnly)) { error in
            XCTAssertTrue("\(error)".contains("no segment there"), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: seg.dir + "/missing"), "a read-only open creates nothing")
    }

    func testAReadOnlyAttachCannotWrite() throws {
        let seg = TempSegment()
        let rw = try seg.books()
        try rw.reset(key("USDC"), balance: Amount("100"), strategyCount: 4)
        let before = bytes(seg.path)
        let ro = try seg.books(.readOnly)
        XCTAssertTrue(ro.isReadOnly)
        let attempts: [() throws -> Void] = [
            { try ro.reset(key("USDC"), balance: Amount("1")) },
            { try ro.allocate(key("USDC"), index: 2, Amount("1")) },
            { try ro.release(key("USDC"), index: 2, Amount("1")) },
            { try ro.set(key("USDC"), Amount("1")) },
            { try ro.adjust(key("USDC"), Amount("1")) },
            { _ = try ro.reconcile(key("USDC"), exchangeBalance: Amount("1")) },
            { try ro.setCreditLimit(key("USDC"), Amount("1")) },
            { try ro.setName(key("USDC"), index: 2, .empty) },
            { try ro.writeQuote(try! QuoteKey("K", "BALANCE", "X"), SingleQuote(timestamp: 0, localTimestamp: 0, mid: 1)) },
            { _ = try ro.applyConfiguration([], defaultExchange: nil) },
        ]
        for attempt in attempts {
            do {
                try attempt()
                XCTFail("a read-only handle wrote")
            } catch {
                XCTAssertEqual(error as? BooksError, .segment(.readOnly(path: seg.path)))
            }
        }
        XCTAssertEqual(bytes(seg.path), before, "nothing was written")
        XCTAssertEqual(try ro.get(key("USDC")).slots, [Amount("100"), Amount("100"), .zero, .zero], "it still reads")
    }

    func testProcessesCreatingAtOnceShareOneSegment() throws {
        let seg = TempSegment()
        let created = Mutex<[Int64]>([])
        let path = seg.path
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            let stamp = (try? Segment.open(path, .readWriteCreating()))?.createdMicros ?? -1
            created.withLock { $0.append(stamp) }
        }
        let stamps = Set(created.withLock { $0 })
        XCTAssertEqual(stamps.count, 1, "every opener got the same segment")
        XCTAssertFalse(stamps.contains(-1))
    }
}

/// SPEC §4 "the file's own life": paths and modes that must never be used, refused before any file exists.
final class SegmentPathAndModeTests: XCTestCase {
    func testBlankPathsAreBadInputNeverTheDefault() {
        for blank in ["", " ", "\t", "  \n"] {
            XCTAssertThrowsError(try Segment.resolvePath(blank)) { error in
                guard case .badPath = error as? SegmentError else { return XCTFail("\(error)") }
            }
            XCTAssertThrowsError(try Books.open(blank)) { error in
                guard case .segment(.badPath) = error as? BooksError else { return XCTFail("\(error)") }
            }
        }
        XCTAssertEqual(try Segment.resolvePath("/tmp/x"), "/tmp/x")
    }

    func testModesOpenToOthersOrClosedToTheOwnerAreRefusedAndCreateNothing() {
        let dir = TempDir("mode")
        for mode: UInt32 in [0o666, 0o777, 0o604, 0o601, 0o602, 0o400, 0o200, 0o060, 0o1600, 0o4600] {
            let path = dir.file("seg-\(String(mode, radix: 8))")
            XCTAssertThrowsError(try Segment.create(path, mode: mode)) { error in
                guard case .badPath = error as? SegmentError else { return XCTFail("\(mode): \(error)") }
            }
            XCTAssertFalse(FileManager.default.fileExists(atPath: path), "mode \(String(mode, radix: 8)) left a file")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), [], "no temporary file left either")
        for mode: UInt32 in [0o600, 0o640, 0o660] {
            XCTAssertNil(Segment.modeProblem(mode), String(mode, radix: 8))
        }
    }
}
