import Foundation
import ShmBalanceTestSupport
import XCTest

/// `shmbal watch`: one line per record when its health changes (edge-triggered), the first state
/// once at start; `--json` lines; `--exec` gets each change's JSON on stdin.
final class WatchTests: SegmentTestCase {
    func lines(_ child: ChildProcess) -> [String] { child.output.split(separator: "\n").map(String.init) }

    /// Waits until the watcher has printed `count` lines.
    func waitForLines(_ child: ChildProcess, _ count: Int, file: StaticString = #filePath, line: UInt = #line) {
        let ok = poll(within: 30) { lines(child).count >= count || !child.isRunning }
        XCTAssert(ok && lines(child).count >= count, "expected \(count) lines, got:\n\(child.output)\(child.errorOutput)", file: file, line: line)
    }

    /// Healthy → warning → broken → healthy on USDC; USD changing is the proof that the watcher
    /// looked again after an operation that left USDC's state as it was (both are read in one poll).
    func testEachChangeOfStateIsExactlyOneLine() throws {
        try cli(["reset", "USDC", "1000", "--strategies", "4"])
        try cli(["reset", "USD", "100"])
        let watch = try start(["watch", "--interval", "0.02", "--segment", seg], name: "watch")
        waitForLines(watch, 2)
        try cli(["allocate", "USDC", "2", "950"])  // headroom 50 < 10% of 1000
        waitForLines(watch, 3)
        try cli(["allocate", "USDC", "2", "1"])    // still a warning: no line
        try cli(["set", "USD", "-5", "--index", "1"])  // USD broken: the sync point
        waitForLines(watch, 4)
        try cli(["set", "USDC", "-10", "--index", "1"])  // headroom -10: broken
        waitForLines(watch, 5)
        try cli(["reset", "USDC", "1000"])
        waitForLines(watch, 6)
        try cli(["reset", "USD", "100"])
        waitForLines(watch, 7)
        let shown = lines(watch).map { l in l.split(separator: " ").dropFirst(2).prefix(4).joined(separator: " ") }
        XCTAssertEqual(shown, [
            "KRAKEN USD healthy (first", "KRAKEN USDC healthy (first",
            "KRAKEN USDC warning (was",
            "KRAKEN USD broken (was",
            "KRAKEN USDC broken (was",
            "KRAKEN USDC healthy (was",
            "KRAKEN USD healthy (was",
        ], watch.output)
        XCTAssert(lines(watch)[2].hasSuffix("warning (was healthy): headroom 50.00 is under 10% of the total 1000.00"), lines(watch)[2])
        XCTAssert(lines(watch)[4].contains("broken (was warning): headroom -10.00 is negative"), lines(watch)[4])
        XCTAssertEqual(watch.errorOutput, "")
    }

    func testJSONLinesAndTheExecHookGetTheSameObjects() throws {
        try cli(["reset", "USDC", "1000", "--strategies", "4"])
        let hook = dir.file("hook.jsonl")
        let watch = try start(["watch", "--interval", "0.02", "--json", "--exec", "cat >> '\(hook)'", "--segment", seg], name: "watch")
        waitForLines(watch, 1)
        try cli(["allocate", "USDC", "2", "950"])
        waitForLines(watch, 2)
        try cli(["adjust", "USDC", "-2000"])  // the pool absorbs it: -1950, broken
        waitForLines(watch, 3)
        let objects = try lines(watch).map { try XCTUnwrap(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        XCTAssertEqual(objects.map { $0["state"] as? String }, ["healthy", "warning", "broken"])
        XCTAssertEqual(objects.map { $0["previous"] as? String }, [nil, "healthy", "warning"])
        XCTAssertEqual(objects[2]["headroom"] as? String, "-1950.00")
        XCTAssertEqual(objects[2]["currency"] as? String, "USDC")
        XCTAssertEqual(objects[2]["reasons"] as? [String], ["headroom -1950.00 is negative (pool + credit): reconcile or reset"])
        XCTAssert(poll(within: 30) { readTextFile(hook) == watch.output }, "the hook got: \(readTextFile(hook) ?? "nothing")\nstdout: \(watch.output)")
    }

    func testAFailingHookIsReportedAndTheWatchGoesOn() throws {
        try cli(["reset", "USDC", "1000"])
        let watch = try start(["watch", "--interval", "0.02", "--exec", "exit 3", "--segment", seg], name: "watch")
        waitForLines(watch, 1)
        try cli(["allocate", "USDC", "2", "950"])
        waitForLines(watch, 2)
        XCTAssert(poll(within: 30) { watch.errorOutput.components(separatedBy: "exited with status 3").count == 3 }, watch.errorOutput)
        XCTAssert(watch.isRunning)
    }

    func testTheWatchStopsWhenItsSegmentFileIsRemoved() throws {
        try cli(["reset", "USDC", "1000"])
        let watch = try start(["watch", "--interval", "0.02", "--segment", seg], name: "watch")
        waitForLines(watch, 1)
        XCTAssertEqual(unlink(seg), 0)
        XCTAssertEqual(watch.wait(timeout: 10)?.exitCode, 4, watch.errorOutput)
        XCTAssert(watch.errorOutput.contains("segment was removed"), watch.errorOutput)
    }

    func testBadIntervalIsBadInput() throws {
        try cli(["reset", "USDC", "1000"])
        for bad in ["0", "-1", "abc", "nan", "1e9"] {
            let r = try runShmbal(["watch", "--interval", bad, "--segment", seg])
            XCTAssertEqual(r.status, 2, "\(bad): \(r.err)")
            XCTAssert(r.err.contains("--interval"), r.err)
        }
    }
}
