@testable import ShmBalance
import ShmBalanceTestSupport
import XCTest

/// The fence (SPEC §10): a record whose host's agent lost the ledger refuses allocate, on the fast
/// path and with an op id, and lets everything else through; every commit keeps the fence (it is a
/// bit of the word they all write back), and lifting it restores allocate.
final class FenceTests: HoldsTestCase {
    func assertFenced(_ what: String, file: StaticString = #filePath, line: UInt = #line) {
        let r = assertRefused(.fenced, what: what, file: file, line: line) { () throws(BooksError) in
            try books.allocate(usdc, index: 4, Amount("1"))
        }
        XCTAssertTrue(r?.description.contains("is fenced") ?? false, r?.description ?? what, file: file, line: line)
    }

    func testAFencedRecordRefusesAllocateAndNothingElse() throws {
        try books.setFenced(usdc, true)
        let r = try books.get(usdc)
        XCTAssertTrue(r.state.fenced)
        XCTAssertEqual(r.strategyCount, 5, "the fence is not part of the count")
        XCTAssertEqual(r.problems, [.fenced])
        XCTAssertFalse(r.isBroken, "a notice: the books are right")
        assertFenced("fast path")
        assertRefused(.fenced, what: "with an op id") { () throws(BooksError) in try books.allocate(usdc, index: 4, Amount("1"), opId: id("a-1")) }
        // An index outside the sub-strategies is still that refusal, fenced or not.
        assertRefused(.notASubStrategy) { () throws(BooksError) in try books.allocate(usdc, index: 9, Amount("1")) }
        // Everything else goes on, and each kind of commit keeps the fence.
        try books.release(usdc, index: 2, Amount("100"))
        assertFenced("after a release (the hot pair's commit)")
        try books.release(usdc, index: 2, Amount("100"), opId: id("r-1"))
        assertFenced("after a release with an op id (the small commit)")
        try books.hold(usdc, index: 3, Amount("300"), id: id("h-1"))
        _ = try books.fill(usdc, id: id("h-1"), Amount("200"), final: true)
        try books.receive(usdc, index: 3, Amount("50"))
        assertFenced("after hold, fill and receive")
        try books.adjust(usdc, Amount("-25"))
        try books.setName(usdc, index: 2, ShortName("grid", kind: .label))
        assertFenced("after adjust and name (the general commit)")
        try books.setFenced(usdc, false)
        XCTAssertFalse(try books.get(usdc).state.fenced)
        try books.allocate(usdc, index: 4, Amount("1"))
        XCTAssertEqual(try books.get(usdc).problems, [])
        XCTAssertTrue(try books.get(usdc).identityHolds)
    }

    func testTheFenceIsRefusedLoggedAndSurvivesAReset() throws {
        try books.setFenced(usdc, true)
        try books.setFenced(usdc, true)   // no change, no commit
        try books.reset(usdc, balance: Amount("500"))
        assertFenced("a reset keeps the fence: only the agent lifts it")
        let entries = books.activity().suffix(8).map { "\($0.operation.map(String.init(describing:)) ?? "?") \($0.outcomeText())" }
        XCTAssertTrue(entries.contains { $0.hasPrefix("fence applied") }, entries.joined(separator: "\n"))
        XCTAssertTrue(entries.contains { $0.hasPrefix("allocate refused") && $0.contains("fenced") }, entries.joined(separator: "\n"))
    }
}
