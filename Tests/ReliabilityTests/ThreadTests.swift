import Dispatch
import Foundation
import ShmBalance
import Synchronization
import ShmBalanceTestSupport
import XCTest

/// Many threads of one process on one record, some through their own mapping, with readers
/// checking every copy: the test ThreadSanitizer watches in CI (`swift test --sanitize=thread`).
final class ThreadTests: XCTestCase {
    struct ThreadResult {
        var slot = Amount.zero
        var totalDelta: Int128 = 0
        var copies = 0
        var broken = 0
        var error = ""
    }

    final class Finished: Sendable {
        let count = Atomic<Int>(0)
    }

    func testThreadsWritingAndReadingOneRecordStayExact() throws {
        let dir = TempDir()
        let seg = dir.file("seg")
        let shared = try Books.open(seg, .readWriteCreating())
        let key = key("USDC")
        try shared.reset(key, balance: Amount("1000000"), strategyCount: 6)
        let writers = 4, readers = 2, opsPerWriter = 3_000
        let buffer = UnsafeMutableBufferPointer<ThreadResult>.allocate(capacity: writers + readers)
        buffer.initialize(repeating: ThreadResult())
        defer { buffer.deallocate() }
        // Each thread writes only its own element.
        nonisolated(unsafe) let results = buffer
        let finished = Finished()
        // Real threads, all running at once (concurrentPerform would run only as many as there are cores).
        runThreads(writers + readers) { t in
            do throws(BooksError) {
                // Half the threads use their own mapping of the same file, as separate processes would.
                let books = t % 2 == 0 ? shared : try Books.open(seg, t < writers ? .readWrite : .readOnly)
                guard let rec = books.record(key) else { throw .badInput("no record") }
                if t < writers {
                    defer { finished.count.add(1, ordering: .releasing) }
                    var g = SplitMix64(seed: UInt64(t + 1))
                    var mine = Amount.zero
                    var delta: Int128 = 0
                    for _ in 0..<opsPerWriter {
                        let a = Amount(raw: Int128(Int.random(in: 1...1_000_000, using: &g)))
                        switch Int.random(in: 0..<4, using: &g) {
                        case 0:
                            try books.allocate(rec, index: 2 + t, a)
                            mine = Amount(raw: mine.raw + a.raw)
                        case 1:
                            do throws(BooksError) {
                                try books.release(rec, index: 2 + t, a)
                                mine = Amount(raw: mine.raw - a.raw)
                            } catch {
                                // Refused exactly when the budget is short.
                                guard error.refusal?.code == .exceedsBudget && a > mine else { throw error }
                            }
                        case 2:
                            try books.adjust(key, a, index: 0)
                            delta += a.raw
                        default:
                            try books.adjust(key, -a, index: 1)
                            delta -= a.raw
                        }
                    }
                    results[t].slot = mine
                    results[t].totalDelta = delta
                } else {
                    var s = RecordState()
                    // Read until every writer is done (bounded by the writers' fixed work).
                    while finished.count.load(ordering: .acquiring) < writers {
                        try rec.read(into: &s)
                        if !s.identityHolds { results[t].broken += 1 }
                        results[t].copies += 1
                    }
                }
            } catch {
                results[t].error = "\(error)"
            }
        }
        XCTAssertEqual(results.map(\.error).filter { !$0.isEmpty }, [])
        XCTAssertEqual(results[writers...].map(\.broken), [0, 0], "a reader saw a copy that breaks the identity")
        let s = try shared.get(key).state
        for t in 0..<writers { XCTAssertEqual(s.slots[2 + t], results[t].slot, "writer \(t)'s budget") }
        XCTAssertEqual(s.total.raw, Amount("1000000").raw + results[0..<writers].map(\.totalDelta).reduce(0, +))
        XCTAssertTrue(s.identityHolds)
        print("threads: \(writers) writers × \(opsPerWriter) operations, readers took \(results[writers...].map(\.copies)) copies, all exact")
    }
}
