import Foundation
@testable import ShmBalance
import ShmBalanceTestSupport
import XCTest

/// The last line of defence of the identity: a rule that would break it (a bug in the core) must be
/// refused with a clear error and commit nothing, never reach the books, and never end the process
/// (a strategy, the dashboard, the test run). The rule is planted through the core's general
/// mutation (`Books.mutate`, internal). The check runs in a child process (this test bundle again,
/// for this one test), so that a trap there fails this test instead of ending the whole run.
final class IdentityGuardTests: XCTestCase {
    static let childVariable = "SHMBAL_IDENTITY_GUARD_CHILD"

    func testARuleThatWouldBreakTheIdentityIsRefusedAndCommitsNothing() throws {
        if ProcessInfo.processInfo.environment[Self.childVariable] != nil { return try checkInThisProcess() }
        let dir = TempDir("identity-guard")
        let child = try ChildProcess(selfExecutablePath, ["ShmBalanceTests.IdentityGuardTests/testARuleThatWouldBreakTheIdentityIsRefusedAndCommitsNothing"],
                                     // Its temporary folders go inside ours: a child that traps removes none.
                                     environment: [Self.childVariable: "1", "TMPDIR": dir.path], stdout: .file(dir.file("out")), stderr: .file(dir.file("err")))
        let (end, timedOut) = child.finish(within: 120)
        XCTAssertFalse(timedOut, "the child test did not finish")
        let output = child.output + child.errorOutput
        XCTAssertEqual(end, .exited(0), "the child test failed or crashed:\n\(output.suffix(2_000))")
        XCTAssertTrue(output.contains("Executed 1 test, with 0 failures"), "the child did not run the check:\n\(output.suffix(2_000))")
    }

    /// The check itself (in the child).
    func checkInThisProcess() throws {
        let seg = TempSegment()
        let books = try seg.books()
        let k = key("USDC")
        try books.reset(k, balance: Amount("1000"), strategyCount: 4)
        try books.allocate(k, index: 2, Amount("100"))
        let rec = try XCTUnwrap(books.record(k))
        let error = assertThrowsUnchanged(books, "a rule that breaks the identity") {
            _ = try books.mutate(rec, .set, index: 0, amount: Amount("1")) { (s, _) throws(Refusal) -> Books.Change in
                s.slots[0] = Amount("1001")  // the total moves, nothing absorbs it
                return Books.Change(index: 0)
            }
        }
        guard case .corrupt(let message)? = error as? BooksError else { return XCTFail("expected a corrupt error, got \(String(describing: error))") }
        XCTAssertTrue(message.contains("would break the identity"), message)
        XCTAssertTrue(message.contains("nothing was committed"), message)
        // The lock was released: the next writer goes ahead at once (no "record busy").
        try Books(books.segment, lockTimeoutMs: 100).allocate(rec, index: 3, Amount("1"))
        XCTAssertEqual(try books.get(k).slots.map(\.exactText), ["1000", "899", "100", "1"])
    }
}
