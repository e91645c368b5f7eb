import Foundation
import ShmBalance
import ShmBalanceTestSupport
import XCTest

/// Several real processes change the same records at once through one real shared mapping.
final class MultiProcessTests: XCTestCase {
    static let currencies = ["USDC", "USD", "BTC"]

    func testFourWritersTenThousandOpsEachKeepTheBooksExact() throws {
        let seg = TempSegment()
        // A ring large enough to hold every entry of the run, so it can be cross-checked too.
        let books = try seg.books(.readWriteCreating(geometry: Geometry(recordCapacity: 16, quoteCapacity: 16, ringCapacity: 1 << 17)))
        var initial: [String: [Int128]] = [:]
        for c in Self.currencies {
            try books.reset(key(c), balance: Amount("100000"), strategyCount: 9)
            try books.setCreditLimit(key(c), Amount("5000"))
            initial[c] = try books.get(key(c)).state.rawSlots
        }
        let opCountsBefore = try Self.currencies.map { try books.get(key($0)).state.opCount }
        let headBefore = books.activityHead

        let writers = 4, opsEach = 10_000
        let stopFile = seg.file("stop")
        let reader = try spawnProduct(Product.worker, ["read", seg.path, Self.currencies.joined(separator: ","), stopFile],
                                      outputIn: seg.dir, name: "reader")
        let procs = try (0..<writers).map { w in
            try spawnProduct(Product.worker, ["ops", seg.path, seg.file("w\(w).log"), Self.currencies.joined(separator: ","), "\(opsEach)", "\(1000 + w)"],
                             outputIn: seg.dir, name: "w\(w)")
        }
        for (w, p) in procs.enumerated() {
            let (end, timedOut) = p.finish(within: 300)
            XCTAssertFalse(timedOut, "writer \(w) did not finish its \(opsEach) operations within 300 s")
            XCTAssertEqual(end, .exited(0), "writer \(w): \(p.errorOutput)")
        }
        XCTAssertTrue(writeTextFile(stopFile, ""))
        let (readerEnd, readerTimedOut) = reader.finish(within: 60)
        XCTAssertFalse(readerTimedOut, "the reader did not stop when asked")
        XCTAssertEqual(readerEnd, .exited(0), reader.errorOutput)
        let readerReport = reader.output

        // The books must equal the start plus every applied operation from the processes' own logs.
        var expected = initial
        var applied = [String: UInt64]()
        var refused = 0
        for w in 0..<writers {
            let ops = try readWorkerLog(seg.file("w\(w).log"))
            XCTAssertEqual(ops.count, opsEach)
            for op in ops {
                XCTAssertNotNil(op.applied, "every operation of a process that exited has an outcome")
                if op.applied == true {
                    op.apply(to: &expected[op.currency]!)
                    applied[op.currency, default: 0] += 1
                } else { refused += 1 }
            }
        }
        for (i, c) in Self.currencies.enumerated() {
            let state = try books.get(key(c)).state
            XCTAssertTrue(state.identityHolds, "\(c): identity")
            XCTAssertEqual(state.rawSlots, expected[c], "\(c): slots equal the sum of the applied operations")
            XCTAssertEqual(state.opCount - opCountsBefore[i], applied[c, default: 0], "\(c): one commit per applied operation")
        }

        // The activity ring says the same: every operation has exactly one entry, applied or refused.
        var fromRing = initial
        let entries = books.activity(after: headBefore)
        XCTAssertEqual(entries.count, writers * opsEach, "one complete ring entry per operation")
        XCTAssertEqual(entries.filter { !$0.applied }.count, refused)
        for e in entries where e.applied {
            let c = e.key.currency.description
            let op: String
            switch e.operation {
            case .allocate?: op = "allocate"
            case .release?: op = "release"
            default: op = e.index == 0 ? "adjust0" : "adjust"
            }
            LoggedOp(seq: 0, op: op, currency: c, index: e.index ?? 0, amount: e.amount.raw, applied: true).apply(to: &fromRing[c]!)
        }
        XCTAssertEqual(fromRing, expected, "the activity ring adds up to the same books")

        // A reader in another process took copies all along; every one of them was consistent.
        let fields = readerReport.split(separator: " ")
        XCTAssertEqual(fields.first, "reads", readerReport)
        let reads = Int(fields[1]) ?? 0
        XCTAssertGreaterThan(reads, 0)
        XCTAssertEqual(fields.last?.trimmingCharacters(in: .whitespacesAndNewlines), "0", "torn or inconsistent reads: \(readerReport)")
        print("multi-process: \(writers) writers × \(opsEach) ops, \(applied.values.reduce(0, +)) applied, \(refused) refused; reader took \(reads) copies, 0 inconsistent")
    }
}
