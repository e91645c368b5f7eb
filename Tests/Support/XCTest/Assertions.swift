import ShmBalance
import XCTest

/// Asserts that `body` throws a refusal with `code`, and returns it.
@discardableResult
public func assertRefused(_ code: RefusalCode, what: @autoclosure () -> String = "", file: StaticString = #filePath, line: UInt = #line,
                          _ body: () throws(BooksError) -> Void) -> Refusal? {
    let context = what().isEmpty ? "" : "\(what()): "
    do {
        try body()
        XCTFail("\(context)expected a \(code) refusal, but it succeeded", file: file, line: line)
    } catch {
        guard case .refused(let r) = error else {
            XCTFail("\(context)expected a \(code) refusal, got \(error)", file: file, line: line)
            return nil
        }
        XCTAssertEqual(r.code, code, "\(context)\(r)", file: file, line: line)
        return r
    }
    return nil
}

/// Asserts that `body` refuses with `code` and leaves the books as they were (see `assertUnchanged`).
@discardableResult
public func assertRefusedUnchanged(_ books: Books, _ code: RefusalCode, _ what: @autoclosure () -> String, file: StaticString = #filePath,
                                   line: UInt = #line, _ body: () throws(BooksError) -> Void) -> Refusal? {
    let label = what()
    var refusal: Refusal?
    assertUnchanged(books, label, file: file, line: line) { refusal = assertRefused(code, what: label, file: file, line: line, body) }
    return refusal
}

/// Asserts that `body` throws (any error) and leaves the books as they were; returns the error.
@discardableResult
public func assertThrowsUnchanged(_ books: Books, _ what: @autoclosure () -> String, file: StaticString = #filePath, line: UInt = #line,
                                  _ body: () throws -> Void) -> Error? {
    let label = what()
    var thrown: Error?
    assertUnchanged(books, label, file: file, line: line) {
        do {
            try body()
            XCTFail("\(label): succeeded; it must be refused", file: file, line: line)
        } catch { thrown = error }
    }
    return thrown
}

/// Polls `condition` until it holds; fails the test after `seconds` (a safety net, never a timing assertion).
@discardableResult
public func waitUntil(_ seconds: Double, _ what: @autoclosure () -> String, file: StaticString = #filePath, line: UInt = #line,
                      _ condition: () throws -> Bool) rethrows -> Bool {
    if try poll(within: seconds, condition) { return true }
    XCTFail("gave up after \(seconds) s waiting for \(what())", file: file, line: line)
    return false
}
