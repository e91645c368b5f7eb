import Foundation
import ShmBalance
import ShmBalanceTestSupport
import XCTest

/// A Python process, a C++ process and the Swift CLI change the same record at the same time;
/// afterwards the identity holds exactly and every slot is what the applied operations add up to.
final class CrossLanguageTests: XCTestCase {
    func testPythonCppAndCLIShareOneRecord() throws {
        let dir = TempDirectory()
        let books = try Books.open(dir.segment, .readWriteCreating())
        let usdc = try BookKey("KRAKEN", "USDC")
        // A pool deep enough that millions of random allocations never drain it: the CLI's own
        // allocations and releases must land too.
        try books.reset(usdc, balance: try Amount(parsing: "10000000.00"), strategyCount: 6)
        let cppWorker = try XCTUnwrap(try compileCpp("tests/worker.cpp", into: dir, optimize: "-O2"))

        // Python uses sub-strategy 2, C++ 3, the CLI 4; all three adjust the total.
        let env = pythonEnvironment(segment: dir.segment)
        let python = try Child(which("python3"), [pythonDirectory + "/tests/worker.py", "2", "7", "2000"], env: env, in: dir, name: "python")
        let cpp = try Child(cppWorker, ["3", "11", "20000"], env: env, in: dir, name: "cpp")
        defer {
            for c in [python, cpp] where c.process.isRunning { kill(c.process.processIdentifier, SIGKILL) }
        }
        let control = try ShortName("CONTROL")
        func signal(_ name: String) throws {
            try books.writeQuote(QuoteKey(exchange: try ShortName("TEST"), dataType: control, currency: try ShortName(name)),
                                 SingleQuote(timestamp: 0, localTimestamp: 0, mid: 1))
        }
        func seen(_ name: String) throws -> Bool {
            try books.quote(QuoteKey(exchange: try ShortName("TEST"), dataType: control, currency: try ShortName(name))) != nil
        }
        let deadline = Date().addingTimeInterval(120)
        while !(try seen("PY2") && seen("CPP3")) {
            XCTAssertTrue(python.process.isRunning && cpp.process.isRunning, "a worker exited before it was ready")
            guard python.process.isRunning && cpp.process.isRunning, Date() < deadline else { break }
            usleep(2_000)
        }
        try signal("GO")

        // Meanwhile the CLI: each call a separate Swift process doing one operation.
        var cliAllocated = 0, cliReleased = 0, cliAdjusted = 0, cliApplied = 0
        for i in 0..<30 {
            let cents = 100 + 37 * i
            let (args, effect): ([String], () -> Void)
            switch i % 3 {
            case 0: (args, effect) = (["allocate", "USDC", "4", cents.cents], { cliAllocated += cents })
            case 1: (args, effect) = (["release", "USDC", "4", (cents / 2).cents], { cliReleased += cents / 2 })
            default: (args, effect) = (["adjust", "USDC", (i % 2 == 0 ? -cents : cents).cents], { cliAdjusted += i % 2 == 0 ? -cents : cents })
            }
            let r = try runProgram(shmbalPath, args + ["--segment", dir.segment, "--exchange", "KRAKEN"], in: dir, seconds: 60)
            XCTAssertTrue(r.status == 0 || r.status == 3, "shmbal \(args): \(r.status) \(r.err)")
            if r.status == 0 {
                effect()
                cliApplied += 1
            }
        }
        XCTAssertTrue(python.process.isRunning && cpp.process.isRunning, "both workers must still be running while the CLI runs")
        try signal("STOP")

        let py = python.wait(seconds: 120)
        let cc = cpp.wait(seconds: 120)
        XCTAssertEqual(py.status, 0, py.err)
        XCTAssertEqual(cc.status, 0, cc.err)
        let p = py.out.split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        let c = cc.out.split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        XCTAssertEqual(p.count, 5, py.out)
        XCTAssertEqual(c.count, 5, cc.out)
        guard p.count == 5, c.count == 5 else { return }
        XCTAssertGreaterThanOrEqual(p[3] + p[4], 2000)
        XCTAssertGreaterThanOrEqual(c[3] + c[4], 20000)
        XCTAssertEqual(cliApplied, 30, "the CLI's allocations, releases and adjustments all apply")

        // Every applied operation, added up in cents, is exactly what the books hold.
        let record = try books.get(usdc)
        XCTAssertTrue(record.identityHolds, "\(record.slots)")
        let total = 1_000_000_000 + p[2] + c[2] + cliAdjusted
        let budgets = [p[0] - p[1], c[0] - c[1], cliAllocated - cliReleased]
        XCTAssertEqual(record.slots[0], Amount(cents: total))
        XCTAssertEqual(record.slots[2], Amount(cents: budgets[0]))
        XCTAssertEqual(record.slots[3], Amount(cents: budgets[1]))
        XCTAssertEqual(record.slots[4], Amount(cents: budgets[2]))
        XCTAssertEqual(record.slots[5], .zero)
        XCTAssertEqual(record.slots[1], Amount(cents: total - budgets.reduce(0, +)))
        XCTAssertEqual(Int(record.state.opCount), 1 + p[3] + c[3] + cliApplied)
    }
}

extension Int {
    /// Cents as decimal text: 1234 → "12.34", -5 → "-0.05".
    var cents: String {
        let m = magnitude
        return "\(self < 0 ? "-" : "")\(m / 100).\(m % 100 < 10 ? "0" : "")\(m % 100)"
    }
}

extension Amount {
    init(cents: Int) { self.init(raw: Int128(cents) * 10_000_000_000_000_000) }
}
