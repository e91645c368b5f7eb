import ShmBalance
import ShmBalanceTestSupport
import XCTest

/// Asserts that `body` throws a refusal with `code`, and returns it.
@discardableResult
func assertRefused(_ code: RefusalCode, file: StaticString = #filePath, line: UInt = #line, _ body: () throws(BooksError) -> Void) -> Refusal? {
    do {
        try body()
        XCTFail("expected a \(code) refusal, but it succeeded", file: file, line: line)
    } catch {
        guard case .refused(let r) = error else {
            XCTFail("expected a \(code) refusal, got \(error)", file: file, line: line)
            return nil
        }
        XCTAssertEqual(r.code, code, "\(r)", file: file, line: line)
        return r
    }
    return nil
}
