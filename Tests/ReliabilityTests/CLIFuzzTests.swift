import Foundation
import ShmBalance
import ShmBalanceTestSupport
import XCTest

/// Fuzzing the CLI's arguments (issue 7 (d)), property-based: argument vectors mutated from the
/// committed seeds (Tests/Fuzz/corpus/cli/seeds.txt) with tokens that are hostile to parsers,
/// run against the real `shmbal`. Whatever the arguments: no crash, no hang, no internal error;
/// every failure is one line on stderr with a documented exit code.
/// SHMBAL_CLI_FUZZ_SEED / SHMBAL_CLI_FUZZ_RUNS override the seed and the count.
final class CLIFuzzTests: XCTestCase {
    static let seedsFile = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../Fuzz/corpus/cli/seeds.txt").standardized.path

    /// Tokens that parsers get wrong. None of them starts something that never ends (`log
    /// --follow`, `top`, `demo` are left out on purpose).
    static let dictionary: [String] = [
        "init", "reset", "set", "adjust", "allocate", "release", "get", "balance", "list", "reconcile", "check",
        "credit", "strategies", "name", "quote", "write", "config", "apply", "log", "snapshot", "save", "restore",
        "verify", "help", "--segment", "--exchange", "--index", "--json", "--strategies", "--mode", "--records",
        "--quotes", "--activity", "--limit", "--help", "-h", "--version", "--", "-", "",
        " ", "0", "1", "2", "63", "64", "65", "-1", "-0", "+5", "100", "-1000", "0.1", "10000.00", "1e5", "1E-3",
        "1,000", "1_000", "0x10", ".", "..", "-.5", "5.", "nan", "NaN", "inf", "-inf", "Infinity",
        "999999999999999999.999999999999999999", "1000000000000000000", "0.0000000000000000001",
        "99999999999999999999999999999999999999999", "-99999999999999999999", "1.2.3", "١٢٣", "１２",
        "USDC", "usdc", "KRAKEN", "BALANCE", "ETH", "a b", "ÄÖÜ", "grid-bot", "USDCUSDCUSDCUSDC", "\t", "\u{7f}",
        "0600", "0660", "0777", "9999", "abc", String(repeating: "9", count: 400), String(repeating: "A", count: 5000),
        "SEG", "SNAP", "CFG", "DIR/missing", "DIR", "/dev/null", "DIR/new", "DIR/fresh",
    ]

    func testArbitraryArgumentsNeverCrashHangOrFailSilently() throws {
        let env = ProcessInfo.processInfo.environment
        let seed = env["SHMBAL_CLI_FUZZ_SEED"].flatMap(UInt64.init) ?? 0xC11_0007
        let runs = env["SHMBAL_CLI_FUZZ_RUNS"].flatMap(Int.init) ?? 150
        let seeds = try String(contentsOfFile: CLIFuzzTests.seedsFile, encoding: .utf8).split(separator: "\n")
            .filter { !$0.hasPrefix("#") && !$0.isEmpty }.map { $0.split(separator: " ").map(String.init) }
        XCTAssertGreaterThan(seeds.count, 20)

        let dir = TempDir()
        let seg = dir.file("seg"), snap = dir.file("snap"), cfg = dir.file("cfg.toml")
        XCTAssertEqual(try runShmbal(["reset", "USDC", "1000", "--strategies", "5", "--segment", seg, "--exchange", "KRAKEN"]).status, 0)
        XCTAssertEqual(try runShmbal(["snapshot", "save", snap, "--segment", seg]).status, 0)
        try Data("[KRAKEN.USDC]\ncredit = \"5\"\n".utf8).write(to: URL(fileURLWithPath: cfg))
        func resolve(_ t: String) -> String {
            t.replacingOccurrences(of: "SEG", with: seg).replacingOccurrences(of: "SNAP", with: snap)
                .replacingOccurrences(of: "CFG", with: cfg).replacingOccurrences(of: "DIR", with: dir.path)
        }

        var g = SplitMix64(seed: seed)
        var byStatus: [Int32: Int] = [:]
        for run in 0..<runs {
            var args = seeds.randomElement(using: &g)!
            for _ in 0..<Int.random(in: 0...4, using: &g) {
                let token = CLIFuzzTests.dictionary.randomElement(using: &g)!
                let at = Int.random(in: 0...args.count, using: &g)
                switch Int.random(in: 0..<6, using: &g) {
                case 0: args.insert(token, at: at)
                case 1: if !args.isEmpty { args.remove(at: min(at, args.count - 1)) }
                case 2: if !args.isEmpty { args[min(at, args.count - 1)] = token }
                case 3: if !args.isEmpty { args.swapAt(Int.random(in: 0..<args.count, using: &g), Int.random(in: 0..<args.count, using: &g)) }
                case 4: if !args.isEmpty { let i = min(at, args.count - 1); args[i] = String(args[i].prefix(Int.random(in: 0...max(0, args[i].count), using: &g))) }
                default: if !args.isEmpty { let i = min(at, args.count - 1); args[i] += token }
                }
            }
            args = args.map(resolve)
            // Any directory an argument names is inside the test's own (cwd too), except /dev/null.
            let r = try runProcess(productPath("shmbal"), args, env: ["SHMBAL_SEGMENT": seg, "SHMBAL_EXCHANGE": ""], timeout: 20, cwd: dir.path)
            byStatus[r.status, default: 0] += 1
            let shown = args.map { $0.count > 40 ? String($0.prefix(40)) + "…(\($0.count))" : $0 }
            let context = "seed \(seed) run \(run): shmbal \(shown)"
            XCTAssertFalse(r.signalled, "\(context): crashed or hung\n\(r.err)")
            XCTAssertTrue([0, 2, 3, 4, 5, 6].contains(r.status), "\(context): exit \(r.status)\n\(r.err)")
            if r.status != 0 {
                let lines = r.err.split(separator: "\n")
                XCTAssertEqual(lines.count, 1, "\(context): the error must be one line:\n\(r.err)")
                XCTAssertTrue(r.err.hasPrefix("shmbal: "), "\(context): \(r.err)")
            }
        }
        print("cli fuzz: \(runs) argument vectors, exit codes \(byStatus.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", "))")
        XCTAssertGreaterThan(byStatus[0] ?? 0, 0, "some vectors must succeed")
        XCTAssertGreaterThan(byStatus[2] ?? 0, 0, "some vectors must be bad input")
    }
}
