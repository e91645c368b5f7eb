import Foundation
import ShmBalance
import ShmBalanceTestSupport
import XCTest

/// `shmbal demo` in a real terminal: it seeds a private segment, simulates strategies through the
/// core, and removes everything it created when it ends, by `q` or by a signal.
final class DemoTests: XCTestCase {
    var tmux: TmuxSession?

    override func tearDown() {
        tmux?.close()
        tmux = nil
        super.tearDown()
    }

    /// The segment path the demo shows in its header.
    func segmentPath(_ screen: String) -> String? {
        guard let header = screen.split(separator: "\n").first else { return nil }
        return header.split(separator: " ").map(String.init).first { $0.hasPrefix("/") }
    }

    func testDemoSimulatesAndRemovesEverythingOnQuit() throws {
        let t = try TmuxSession(["demo", "--refresh-ms", "100", "--seed", "7"])
        tmux = t
        let screen = t.waitFor("KRAKEN", "BTC", "USD", "USDC", "grid-bot")
        let path = try XCTUnwrap(segmentPath(screen))
        let folder = (path as NSString).deletingLastPathComponent
        XCTAssert(FileManager.default.fileExists(atPath: path), path)
        XCTAssert(folder.contains("shmbal-demo-"), "a temporary folder of its own: \(folder)")
        let books = try Books.open(path, .readOnly)
        XCTAssertEqual(try books.get(key("USDC")).names[2...4].map(\.description), ["grid-bot", "arb", "mm"])
        XCTAssertEqual(try books.get(key("USDC")).creditLimit, Amount("5000"))
        XCTAssertNotNil(try books.quote(QuoteKey("KRAKEN", "BALANCE", "BTC")))
        // The simulated strategies act (through the core: their operations are in the ring).
        let seeded = books.activityHead
        eventually("simulated activity beyond the seeding") { books.activityHead >= seeded + 3 }
        for r in try books.allRecords() { XCTAssert(r.identityHolds, "\(r.key)") }

        try t.keys("q")
        XCTAssertEqual(t.waitForExit(), 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path), "segment removed")
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder), "temporary folder removed")
    }

    func testDemoCleansUpOnSIGTERM() throws {
        let t = try TmuxSession(["demo"])
        tmux = t
        let path = try XCTUnwrap(segmentPath(t.waitFor("USDC", "grid-bot")))
        let pid = try XCTUnwrap(t.pid)
        XCTAssertEqual(kill(pid, SIGTERM), 0)
        XCTAssertEqual(t.waitForExit(), 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path))
        XCTAssertFalse(FileManager.default.fileExists(atPath: (path as NSString).deletingLastPathComponent))
    }

    func testDemoAtAGivenPathCleansUpOnCtrlC() throws {
        let dir = TempSegment()
        let t = try TmuxSession(["demo", "--segment", dir.path, "--no-simulation"])
        tmux = t
        t.waitFor(dir.path, "10,000.00")
        try t.keys("C-c")
        XCTAssertEqual(t.waitForExit(), 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.path))
        XCTAssert(FileManager.default.fileExists(atPath: dir.dir), "a folder the demo did not make is left alone")
    }

    func testDemoRefusesToOverwriteAFile() throws {
        let dir = TempSegment()
        XCTAssert(FileManager.default.createFile(atPath: dir.path, contents: Data("keep me".utf8)))
        let r = try shmbal(["demo", "--segment", dir.path])
        XCTAssertEqual(r.status, 4)
        XCTAssert(r.err.contains("refusing to overwrite"), r.err)
        XCTAssertEqual(try String(contentsOfFile: dir.path, encoding: .utf8), "keep me")
    }
}
