import Foundation
import ShmBalance
import ShmBalanceTestSupport
import XCTest

/// Bad input is decided before any segment is opened (SPEC §4: "a command that fails on bad input
/// creates no segment file"): every command, with every kind of bad input it can be given, exits
/// 2 with one line on stderr, creates no file anywhere, and leaves an existing segment untouched.
final class CLIBadInputTests: XCTestCase {
    var dir: TempDir!
    /// Where `$SHMBAL_SEGMENT` points: the file a command would create if it opened the books.
    var seg: String { dir.file("seg") }
    /// The working directory of every run: a blank `--segment` must not create a file here either.
    var cwd: String { dir.file("cwd") }
    var snapshot: String { dir.file("books.snapshot") }
    var config: String { dir.file("books.toml") }

    override func setUp() {
        super.setUp()
        dir = TempDir("badinput")
        try! FileManager.default.createDirectory(atPath: cwd, withIntermediateDirectories: false)
        // A good snapshot and config, so that only the input named in each case is bad.
        let source = dir.file("source")
        let books = try! Books.open(source, .readWriteCreating())
        try! books.reset(key("USDC"), balance: Amount("100"), strategyCount: 4)
        _ = try! SnapshotFile.save(books, to: snapshot)
        try! "[KRAKEN.USDC]\ncredit = \"5\"\n".write(toFile: config, atomically: false, encoding: .utf8)
    }

    override func tearDown() {
        dir = nil
        super.tearDown()
    }

    /// Each kind of bad input, for each command that takes it.
    var cases: [[String]] {
        let amounts = ["1e3", "1,000", "12.5abc", "", "NaN", "0.0000000000000000001", "99999999999999999999"]
        var c: [[String]] = []
        // The options every command has.
        for command in [["reset", "USDC", "1"], ["set", "USDC", "1"], ["adjust", "USDC", "-1"], ["allocate", "USDC", "2", "1"],
                        ["release", "USDC", "2", "1"], ["reconcile", "USDC", "1"], ["credit", "USDC", "1"], ["strategies", "USDC", "5"],
                        ["name", "USDC", "2", "arb"], ["quote", "write", "KRAKEN", "BALANCE", "USDC", "1"], ["config", "apply", config],
                        ["init"], ["snapshot", "restore", snapshot], ["metrics", "--listen", "127.0.0.1:0"], ["watch"]] {
            c.append(command + ["--exchange", "BAD!"])
            c.append(command + ["--segment", ""])
            c.append(command + ["--segment", " \t"])
            c.append(command + ["--bogus"])
        }
        // The currency.
        for command in [["reset", "X", "1"], ["set", "X", "1"], ["adjust", "X", "1"], ["allocate", "X", "2", "1"], ["release", "X", "2", "1"],
                        ["reconcile", "X", "1"], ["credit", "X", "1"], ["strategies", "X", "5"], ["name", "X", "2", "arb"]] {
            for bad in ["US DC", "BAD!", "", "USDCUSDCUSDCUSDC"] { c.append(command.map { $0 == "X" ? bad : $0 }) }
        }
        // The amount: malformed, missing, or followed by something else.
        for command in [["reset", "USDC"], ["set", "USDC"], ["adjust", "USDC"], ["allocate", "USDC", "2"], ["release", "USDC", "2"],
                        ["reconcile", "USDC"], ["credit", "USDC"], ["quote", "write", "KRAKEN", "BALANCE", "USDC"]] {
            for bad in amounts { c.append(command + [bad]) }
            c.append(command)
            c.append(command + ["5", "6"])
        }
        // Indices that are not numbers, counts outside 2…64. (An index beyond a record's count
        // is the core's refusal, exit 3, in the same words as the Python and C++ libraries.)
        for index in ["two", "2x", ""] {
            c += [["set", "USDC", "1", "--index", index], ["adjust", "USDC", "1", "--index", index], ["allocate", "USDC", index, "1"],
                  ["release", "USDC", index, "1"], ["name", "USDC", index, "arb"]]
        }
        for count in ["0", "1", "65", "x"] { c += [["reset", "USDC", "1", "--strategies", count], ["strategies", "USDC", count]] }
        // Slot names, quote keys and values, timestamps.
        c += [["name", "USDC", "2", "arb 2"], ["name", "USDC", "2", "sixteen-chars-xx"], ["name", "USDC", "2"]]
        c += [["quote", "write", "BAD!", "BALANCE", "USDC", "1"], ["quote", "write", "KRAKEN", "BAL ANCE", "USDC", "1"],
              ["quote", "write", "KRAKEN", "BALANCE", "US DC", "1"], ["quote", "write", "KRAKEN", "BALANCE", "USDC", "1", "--timestamp", "x"],
              ["quote", "write", "KRAKEN", "BALANCE", "USDC", "0.10000000000000001"], ["quote", "write", "KRAKEN", "BALANCE", "USDC", "12345678901234567"]]
        // Capacities and modes.
        for mode in ["0777", "0666", "0604", "0400", "abc"] {
            c += [["init", "--mode", mode], ["snapshot", "restore", snapshot, "--mode", mode]]
        }
        c += [["init", "--activity", "1000"], ["init", "--records", "0"], ["init", "--quotes", "-1"]]
        // Issue 12: holds, op ids and the tables' capacities.
        for command in [["hold", "USDC", "2", "1", "--id", "h1"], ["fill", "USDC", "--id", "h1", "1"], ["void", "USDC", "--id", "h1"],
                        ["receive", "USDC", "2", "1"], ["holds", "USDC"]] {
            c += [command + ["--exchange", "BAD!"], command + ["--segment", ""], command + ["--bogus"], command.map { $0 == "USDC" ? "US DC" : $0 }]
        }
        c += [["hold", "USDC", "2", "1e3", "--id", "h1"], ["fill", "USDC", "--id", "h1", "1,000"], ["fill", "USDC", "--id", "h1", "1", "--fee", "NaN"],
              ["receive", "USDC", "2", ""], ["hold", "USDC", "two", "1", "--id", "h1"], ["holds", "USDC", "--index", "x"],
              ["hold", "USDC", "2", "1", "--id", "a b"], ["hold", "USDC", "2", "1"], ["void", "USDC", "--id", String(repeating: "x", count: 33)],
              ["hold", "USDC", "2", "1", "--id", "h1", "--ttl", "0"], ["hold", "USDC", "2", "1", "--id", "h1", "--ttl", "1e3"],
              ["reset", "USDC", "1", "--op-id", ""], ["reset", "USDC", "1", "--op-id", "a\u{1B}[2J"], ["allocate", "USDC", "2", "1", "--op-id", "a b"],
              ["init", "--holds", "15"], ["init", "--op-ids", "0"], ["init", "--holds", "x"]]
        // Issue 14: the exporter's address, the watch's interval and hook.
        c += [["metrics", "--listen", "nope"], ["metrics", "--listen", "127.0.0.1:99999"], ["metrics", "--listen", "::1:80"],
              ["watch", "--interval", "0"], ["watch", "--interval", "x"], ["watch", "--exec", " "]]
        // Missing arguments.
        c += [["config", "apply"], ["snapshot", "restore"], ["reset"], ["allocate", "USDC"], ["strategies", "USDC"]]
        return c
    }

    func run(_ args: [String], env: [String: String] = [:]) throws -> RunResult {
        try runProcess(productPath("shmbal"), args, env: ["SHMBAL_SEGMENT": seg, "SHMBAL_EXCHANGE": ""].merging(env) { $1 }, cwd: cwd)
    }

    func assertBadInput(_ r: RunResult, _ args: [String], file: StaticString = #filePath, line: UInt = #line) {
        let what = "shmbal \(args.map { "'\($0)'" }.joined(separator: " "))"
        XCTAssertEqual(r.status, 2, "\(what): \(r.err)", file: file, line: line)
        XCTAssertEqual(r.err.filter { $0 == "\n" }.count, 1, "\(what): one line on stderr: \(r.err)", file: file, line: line)
        XCTAssert(r.err.hasPrefix("shmbal: "), "\(what): \(r.err)", file: file, line: line)
        XCTAssertEqual(r.out, "", "\(what): nothing on stdout", file: file, line: line)
    }

    func testNoBadInputCreatesASegment() throws {
        let cases = self.cases
        XCTAssertGreaterThan(cases.count, 150)
        for args in cases {
            let r = try run(args)
            assertBadInput(r, args)
            XCTAssertFalse(FileManager.default.fileExists(atPath: seg), "shmbal \(args): created the segment")
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: cwd), [], "shmbal \(args): created a file in the working directory")
            try? FileManager.default.removeItem(atPath: seg)
        }
    }

    func testBadInputLeavesAnExistingSegmentUntouched() throws {
        let books = try Books.open(seg, .readWriteCreating())
        try books.reset(key("USDC"), balance: Amount("100"), strategyCount: 4)
        let records = try books.allRecords()
        let head = books.activityHead
        // Restoring needs an empty segment, so those cases would be refused anyway: every third
        // of the rest (each kind of input is there; all of them ran against the missing segment).
        for (i, args) in cases.filter({ !$0.contains("restore") }).enumerated() where i % 3 == 0 {
            assertBadInput(try run(args), args)
            XCTAssertEqual(try books.allRecords(), records, "shmbal \(args)")
            XCTAssertEqual(books.activityHead, head, "shmbal \(args): nothing reached the core (no refusal logged)")
        }
    }

    /// An empty or blank segment path (explicit or in the environment) is bad input for every
    /// command that opens a segment, the dashboard and the demo included: never the default.
    func testABlankSegmentPathIsBadInputEverywhere() throws {
        let commands: [[String]] = [
            ["get", "USDC"], ["balance", "USDC"], ["list"], ["check"], ["log"], ["log", "--follow"], ["quote", "get", "KRAKEN", "BALANCE", "USDC"],
            ["snapshot", "save", dir.file("out.snapshot")], ["top"], ["top", "--once"], ["demo"], ["reset", "USDC", "1"], ["init"],
            ["snapshot", "restore", snapshot], ["config", "apply", config],
        ]
        for command in commands {
            for blank in ["", " ", "\t\n"] {
                let args = command + ["--segment", blank]
                let r = try runProcess(productPath("shmbal"), args, env: ["SHMBAL_SEGMENT": seg], timeout: 20, cwd: cwd)
                assertBadInput(r, args)
                XCTAssert(r.err.contains("the segment path is empty"), "\(args): \(r.err)")
            }
            if command != ["demo"] {  // the demo makes its own folder unless --segment names a path
                let r = try runProcess(productPath("shmbal"), command, env: ["SHMBAL_SEGMENT": "   "], timeout: 20, cwd: cwd)
                assertBadInput(r, command)
                XCTAssert(r.err.contains("$SHMBAL_SEGMENT holds only whitespace"), "\(command): \(r.err)")
            }
            XCTAssertFalse(FileManager.default.fileExists(atPath: seg), "\(command)")
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: cwd), [], "\(command)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.file("out.snapshot")))
    }

    /// A mode that lets others in (or keeps the owner out) is refused before a file exists.
    func testModesOpenToOthersAreRefused() throws {
        for mode in ["0777", "0666", "0644", "0604", "0606", "0200"] {
            for args in [["init", "--mode", mode], ["snapshot", "restore", snapshot, "--mode", mode]] {
                let r = try run(args)
                assertBadInput(r, args)
                XCTAssert(r.err.contains("--mode:"), r.err)
                XCTAssertFalse(FileManager.default.fileExists(atPath: seg), "\(args)")
            }
        }
        let ok = try run(["init", "--mode", "0660"])
        XCTAssertEqual(ok.status, 0, ok.err)
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: seg)[.posixPermissions] as? Int, 0o660)
    }

    /// Input that is good but a file that is not: unusable (exit 4), and still no segment made.
    func testABadConfigOrSnapshotFileCreatesNoSegment() throws {
        let bad = dir.file("bad.toml")
        try "[KRAKEN.USDC]\ncredit = \"abc\"\n".write(toFile: bad, atomically: false, encoding: .utf8)
        let broken = dir.file("broken.snapshot")
        try "not a snapshot\n".write(toFile: broken, atomically: false, encoding: .utf8)
        for args in [["config", "apply", bad], ["config", "apply", dir.file("missing.toml")], ["snapshot", "restore", broken],
                     ["snapshot", "restore", dir.file("missing.snapshot")]] {
            let r = try run(args)
            XCTAssertEqual(r.status, 4, "\(args): \(r.err)")
            XCTAssertEqual(r.err.filter { $0 == "\n" }.count, 1, r.err)
            XCTAssertFalse(FileManager.default.fileExists(atPath: seg), "\(args) created the segment")
            try? FileManager.default.removeItem(atPath: seg)
        }
    }
}
