import Foundation
import ShmBalance
import ShmBalanceTestSupport
import XCTest

/// SPEC §4 "the file's own life", on the live dashboard: a segment file removed or truncated under
/// a running `top` gets a banner saying so (and, truncated, no SIGBUS), instead of old numbers
/// shown as the books.
final class FileBannerTests: XCTestCase {
    func testTheDashboardSaysWhenItsSegmentFileIsRemovedOrTruncated() throws {
        for what in ["removed", "truncated"] {
            let segment = TempSegment()
            let books = try segment.books()
            try seedExample(books)
            let t = try TmuxSession(["top", "--segment", segment.path, "--currency", "USDC", "--refresh-ms", "100"])
            defer { t.close() }
            t.waitFor("USDC · 5 slots")
            if what == "removed" {
                XCTAssertEqual(unlink(segment.path), 0)
                t.waitFor("SEGMENT FILE REMOVED")
                // The actions are refused with the same words.
                try t.keys("a")
                try t.type("1")
                try t.keys("Enter")
                t.waitFor("was removed")
            } else {
                XCTAssertEqual(truncate(segment.path, 100), 0)
                // The books cannot be read any more: the last picture stays, marked as old.
                t.waitFor("SEGMENT FILE TRUNCATED", "STALE — last read")
            }
            try t.keys("q")
            XCTAssertEqual(t.waitForExit(), 0, "\(what): the dashboard ends normally, no bus error")
        }
    }
}
