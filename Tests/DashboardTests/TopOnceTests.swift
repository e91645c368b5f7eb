import Foundation
import ShmBalance
import ShmBalanceTestSupport
import XCTest

/// `shmbal top --once`: one frame on stdout, no terminal.
final class TopOnceTests: XCTestCase {
    var segment: TempSegment!

    override func setUp() {
        super.setUp()
        segment = TempSegment()
        try! seedExample(try! segment.books())
    }

    override func tearDown() {
        segment = nil
        super.tearDown()
    }

    func testOneFrameAtTheAskedSize() throws {
        let r = try shmbal(["top", "--once", "--width", "100", "--height", "30", "--segment", segment.path, "--currency", "USDC"],
                           env: ["LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"])
        XCTAssertEqual(r.status, 0, r.err)
        let lines = r.out.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        XCTAssertEqual(lines.count, 30)
        XCTAssert(lines.allSatisfy { $0.count <= 100 })
        XCTAssert(r.out.contains("10,000.00 = 4,000.00 + 6,000.00 ✓"))
        XCTAssertFalse(r.out.contains("\u{1B}["), "plain text unless --color ansi")
    }

    func testAnsiColours() throws {
        let r = try shmbal(["top", "--once", "--width", "100", "--height", "30", "--color", "ansi", "--segment", segment.path],
                           env: ["LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssert(r.out.contains("\u{1B}[0;32m"), "healthy values in green")
        XCTAssert(r.out.contains("\u{1B}[0;1;37;44m ShmBalance"), "the header bar")
    }

    func testTinyTerminalSaysSoWithinItsSize() throws {
        let r = try shmbal(["top", "--once", "--width", "20", "--height", "4", "--segment", segment.path])
        XCTAssertEqual(r.status, 0)
        let lines = r.out.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        XCTAssertLessThanOrEqual(lines.count, 4)
        XCTAssert(lines.allSatisfy { $0.count <= 20 }, r.out)
        XCTAssert(r.out.contains("too small"), r.out)
    }

    func testASCIILocaleAndFlag() throws {
        for (env, args) in [(["LANG": "C", "LC_ALL": "C"], [String]()), (["LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"], ["--ascii"])] {
            let r = try shmbal(["top", "--once", "--segment", segment.path] + args, env: env)
            XCTAssertEqual(r.status, 0, r.err)
            XCTAssert(r.out.unicodeScalars.allSatisfy(\.isASCII), r.out)
            XCTAssert(r.out.contains("+ Currencies -"), r.out)
        }
    }

    func testReadOnlyHeaderAndErrors() throws {
        let ro = try shmbal(["top", "--once", "--read-only", "--segment", segment.path])
        XCTAssertEqual(ro.status, 0, ro.err)
        XCTAssert(ro.out.contains(" RO "))
        let missing = try shmbal(["top", "--once", "--segment", segment.dir + "/nothing"])
        XCTAssertEqual(missing.status, 4)
        XCTAssert(missing.err.contains("no segment there"), missing.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: segment.dir + "/nothing"), "top never creates a segment")
        let noTerminal = try shmbal(["top", "--segment", segment.path])
        XCTAssertEqual(noTerminal.status, 2)
        XCTAssert(noTerminal.err.contains("needs a terminal"), noTerminal.err)
        XCTAssertEqual(try shmbal(["top", "--width", "80", "--segment", segment.path]).status, 2)
        XCTAssertEqual(try shmbal(["top", "--once", "--refresh-ms", "5", "--segment", segment.path]).status, 2)
        let unknown = try shmbal(["top", "--once", "--currency", "EUR", "--segment", segment.path])
        XCTAssertEqual(unknown.status, 3)
        XCTAssert(unknown.err.contains("no record for EUR"), unknown.err)
    }
}
