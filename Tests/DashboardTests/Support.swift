import Foundation
import ShmBalance
import ShmBalanceTestSupport
import XCTest

func label(_ s: String) -> ShortName { try! ShortName(s, kind: .label) }

var shmbalPath: String { productPath("shmbal") }

/// Runs `shmbal` to completion: (exit status, stdout, stderr).
@discardableResult
func shmbal(_ args: [String], env: [String: String] = [:]) throws -> RunResult { try runProduct("shmbal", args, env: env) }

/// The seed's example books: KRAKEN USDC 10,000 (credit 5,000; grid-bot 2,000, arb 3,000,
/// mm 1,000; pool 4,000) and USD 5,000.
func seedExample(_ books: Books) throws {
    _ = try books.applyConfiguration([
        RecordConfig(key: key("USDC"), strategyCount: 5, creditLimit: Amount("5000"),
                     names: [2: label("grid-bot"), 3: label("arb"), 4: label("mm")]),
    ], defaultExchange: try ShortName("KRAKEN"))
    try books.reset(key("USDC"), balance: Amount("10000"))
    try books.allocate(key("USDC"), index: 2, Amount("2000"))
    try books.allocate(key("USDC"), index: 3, Amount("3000"))
    try books.allocate(key("USDC"), index: 4, Amount("1000"))
    try books.reset(key("USD"), balance: Amount("5000"), strategyCount: 4)
}

/// Polls `condition` every 20 ms until it holds or `seconds` pass; fails the test if it never does.
@discardableResult
func eventually(_ what: @autoclosure () -> String, within seconds: Double = 10, file: StaticString = #filePath, line: UInt = #line,
                _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try condition() { return true }
        usleep(20_000)
    }
    if try condition() { return true }
    XCTFail("timed out after \(seconds) s waiting for \(what())", file: file, line: line)
    return false
}

/// A segment's geometry for tests: a few records, the smallest hold and op-id tables (the default
/// is ~720 KB of them per record).
let smallGeometry = Geometry(recordCapacity: 16, quoteCapacity: Geometry.defaults.quoteCapacity, ringCapacity: Geometry.defaults.ringCapacity,
                             holdCapacity: Layout.minHolds, opIdWindow: Layout.minOpIdWindow)

/// A test of the real dashboard on the seeded example books: a fresh segment per test (small
/// tables), and the test's tmux session (if it started one) closed after it.
class SeededTopTestCase: XCTestCase {
    var segment: TempSegment!
    var books: Books!
    var tmux: TmuxSession?

    override func setUp() {
        super.setUp()
        segment = TempSegment()
        books = try! segment.books(.readWriteCreating(geometry: smallGeometry))
        try! seedExample(books)
    }

    override func tearDown() {
        tmux?.close()
        tmux = nil
        books = nil
        segment = nil
        super.tearDown()
    }
}
