import Foundation
import ShmBalance
import ShmBalanceTestSupport
import XCTest

/// `shmbal log --follow` follows the activity ring by sequence number: every entry once, in
/// order, however fast writers append; an entry whose writer never finished it is reported once
/// and skipped; entries overwritten before they could be read are reported as lost.
final class CLILogFollowTests: XCTestCase {
    var dir: TempDir!
    var seg: String { dir.file("seg") }
    var followers: [Follower] = []

    override func setUp() {
        super.setUp()
        dir = TempDir("follow")
    }

    override func tearDown() {
        followers.forEach { $0.stop() }
        followers = []
        dir = nil
        super.tearDown()
    }

    func cli(_ args: [String]) throws {
        let r = try runProduct("shmbal", args + ["--segment", seg, "--exchange", "KRAKEN"])
        XCTAssertEqual(r.status, 0, "shmbal \(args): \(r.err)")
    }

    func follow(_ extra: [String] = []) throws -> Follower {
        let f = try Follower(["log", "--follow", "--json", "--segment", seg] + extra, in: dir)
        followers.append(f)
        return f
    }

    func testEveryEntryAppearsOnceAndInOrderWhileFourWritersAppend() throws {
        // A ring larger than everything appended: nothing may be missing, nothing is overwritten.
        try cli(["init", "--activity", "65536"])
        let currencies = ["USDC", "USD", "BTC", "ETH"]
        for c in currencies { try cli(["reset", c, "1000000", "--strategies", "9"]) }
        let follower = try follow(["--limit", "100000"])
        // The follower is in its loop (it has shown the resets) before the writers start.
        XCTAssertEqual(try follower.sequences(through: 4), [1, 2, 3, 4])
        let writers = try currencies.enumerated().map { i, c in
            try Follower.start(productPath("shmbal-worker"), ["ops", seg, dir.file("worker\(i).log"), c, "4000", String(101 + i)], in: dir, name: "worker\(i)")
        }
        for w in writers {
            w.waitUntilExit()
            XCTAssertEqual(w.terminationStatus, 0, "a writer failed")
        }
        let head = try Books.open(seg, .readOnly).activityHead
        XCTAssertGreaterThanOrEqual(head, 16_004, "every operation appends an entry")
        let sequences = try follower.sequences(through: head)
        XCTAssertEqual(sequences.count, Int(head), "every entry exactly once")
        XCTAssertEqual(sequences, Array(1...head), "in order, none missing: the first gap is at \(firstGap(sequences).map(String.init) ?? "-")")
        XCTAssertEqual(follower.errors, "", "nothing was lost or unfinished")
    }

    func testEntriesOverwrittenBeforeTheyCouldBeShownAreCounted() throws {
        try cli(["init", "--activity", "16"])
        try cli(["reset", "USDC", "1000000", "--strategies", "9"])
        let follower = try follow(["--limit", "1"])
        XCTAssertEqual(try follower.sequences(through: 1), [1])
        // Stopped, the follower falls a whole ring behind the writers.
        XCTAssertEqual(kill(follower.pid, SIGSTOP), 0)
        let w = try Follower.start(productPath("shmbal-worker"), ["ops", seg, dir.file("worker.log"), "USDC", "200", "7"], in: dir, name: "worker")
        w.waitUntilExit()
        XCTAssertEqual(w.terminationStatus, 0)
        XCTAssertEqual(kill(follower.pid, SIGCONT), 0)
        let head = try Books.open(seg, .readOnly).activityHead
        XCTAssertEqual(head, 201)
        let shown = try follower.sequences(through: head)
        // What was shown and what was reported lost are every entry, each once, in order.
        let lost = follower.lostRanges()
        XCTAssertFalse(lost.isEmpty, "the follower was a whole ring behind: something was lost:\n\(follower.errors)")
        XCTAssertLessThanOrEqual(shown.count, 1 + 16 + 16, "at most the ring's capacity after it resumed (and what came during)")
        var accounted = shown.map { ($0, $0) } + lost
        accounted.sort { $0.0 < $1.0 }
        var expected: UInt64 = 1
        for (first, last) in accounted {
            XCTAssertEqual(first, expected, "entries \(expected)…\(first - 1) neither shown nor reported:\n\(follower.errors)")
            expected = last + 1
        }
        XCTAssertEqual(expected, head + 1)
        XCTAssert(follower.errors.contains("were overwritten before they could be shown"), follower.errors)
    }

    func testAnEntryItsWriterNeverFinishedIsReportedOnceAndSkipped() throws {
        try cli(["reset", "USDC", "100", "--strategies", "4"])
        let follower = try follow(["--limit", "1"])
        XCTAssertEqual(try follower.sequences(through: 1), [1])
        // A writer that claimed entry #2 and died before publishing it: the head moves, the entry never comes.
        let books = try Books.open(seg, .readOnly)
        var claimed = books.activityHead + 1
        let fd = open(seg, O_WRONLY)
        XCTAssertEqual(pwrite(fd, &claimed, 8, off_t(Layout.Header.ringHead)), 8)
        close(fd)
        try cli(["adjust", "USDC", "5"])
        let shown = try follower.sequences(through: 3)
        XCTAssertEqual(shown, [1, 3], "the unfinished entry is skipped, the next one shown")
        let reports = follower.errors.split(separator: "\n")
        XCTAssertEqual(reports, ["shmbal log: entry #2 was not finished by its writer within 1000 ms (it died or is stopped); skipped"])
    }

    func firstGap(_ s: [UInt64]) -> UInt64? {
        var expected: UInt64 = 1
        for n in s {
            if n != expected { return expected }
            expected += 1
        }
        return nil
    }
}

/// A `shmbal` (or other) process running in the background, its stdout and stderr going to files.
final class Follower {
    let process: Process
    let outPath: String
    let errPath: String

    static func start(_ executable: String, _ args: [String], in dir: TempDir, name: String) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = args
        p.environment = ProcessInfo.processInfo.environment.merging(["SWIFT_BACKTRACE": "enable=no"]) { $1 }
        _ = FileManager.default.createFile(atPath: dir.file(name + ".out"), contents: nil)
        p.standardOutput = FileHandle(forWritingAtPath: dir.file(name + ".out"))
        p.standardError = FileHandle.nullDevice
        try p.run()
        return p
    }

    init(_ args: [String], in dir: TempDir) throws {
        outPath = dir.file("follower.out")
        errPath = dir.file("follower.err")
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        process = Process()
        process.executableURL = URL(fileURLWithPath: productPath("shmbal"))
        process.arguments = args
        process.environment = ProcessInfo.processInfo.environment.merging(["SWIFT_BACKTRACE": "enable=no"]) { $1 }
        process.standardOutput = FileHandle(forWritingAtPath: outPath)
        process.standardError = FileHandle(forWritingAtPath: errPath)
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }
    var errors: String { (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "" }

    /// The sequence numbers printed so far, once the entry `last` has been printed (or the process ended).
    func sequences(through last: UInt64, within seconds: Double = 60, file: StaticString = #filePath, line: UInt = #line) throws -> [UInt64] {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            let seqs = printed()
            if seqs.last.map({ $0 >= last }) ?? false { return seqs }
            if !process.isRunning || Date() > deadline {
                XCTFail("entry \(last) never printed (last printed: \(seqs.last.map(String.init) ?? "none")); stderr: \(errors)", file: file, line: line)
                return seqs
            }
            usleep(20_000)
        }
    }

    func printed() -> [UInt64] {
        let text = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
        // Only whole lines: the last one may still be being written.
        return text.split(separator: "\n", omittingEmptySubsequences: true).filter { $0.hasSuffix("}") }.compactMap { line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return nil }
            return (object["sequence"] as? NSNumber)?.uint64Value
        }
    }

    /// The ranges reported as overwritten on stderr ("… (#17…#100)" or "(#17)").
    func lostRanges() -> [(UInt64, UInt64)] {
        errors.split(separator: "\n").filter { $0.contains("overwritten") }.compactMap { line in
            guard let open = line.lastIndex(of: "("), let close = line.lastIndex(of: ")") else { return nil }
            let numbers = line[line.index(after: open)..<close].split(separator: "…").map { UInt64($0.dropFirst()) }
            guard let first = numbers.first ?? nil else { return nil }
            return (first, (numbers.last ?? nil) ?? first)
        }
    }

    func stop() {
        if process.isRunning {
            kill(pid, SIGCONT)
            process.terminate()
        }
        process.waitUntilExit()
    }
}
