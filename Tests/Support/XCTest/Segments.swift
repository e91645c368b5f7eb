import ShmBalance
import XCTest

/// A private segment path in its own folder (removed afterwards); `books()` opens (and by default creates) it.
public final class TempSegment: @unchecked Sendable {
    private let folder: TempDir
    public var dir: String { folder.path }
    public let path: String

    public init(_ name: String = "seg") {
        folder = TempDir("seg")
        path = folder.file(name)
    }

    /// A path beside the segment, in the same private folder.
    public func file(_ name: String) -> String { folder.file(name) }

    public func books(_ access: Segment.AccessMode = .readWriteCreating()) throws -> Books {
        try Books.open(path, access)
    }
}

/// Everything a reader can see in a segment, through the public API: every record's published
/// state (all 64 slots, counters, stamps), all 64 names, the change stamps, the quotes with their
/// writers' pids, the default exchange. Two images are equal exactly when nothing anyone can
/// read differs (the activity ring aside: refusals are recorded there).
public struct BooksImage: Equatable, CustomStringConvertible {
    public var snapshot: BooksSnapshot
    public var keys: [BookKey]

    public init(_ books: Books) throws {
        var s = try books.takeSnapshot()
        s.createdMicros = 0
        s.source = ""
        snapshot = s
        keys = books.keys()
    }

    public var description: String { snapshot.encoded() }
}

/// Runs `body` and asserts that it left every record, name, quote and the default exchange exactly
/// as they were, and appended no applied entry to the activity ring (refusals are recorded there).
public func assertUnchanged(_ books: Books, _ what: @autoclosure () -> String, file: StaticString = #filePath, line: UInt = #line,
                            _ body: () -> Void) {
    let before: BooksImage
    do { before = try BooksImage(books) } catch { return XCTFail("\(what()): cannot read the books: \(error)", file: file, line: line) }
    let head = books.activityHead
    body()
    do {
        let after = try BooksImage(books)
        if after != before { XCTFail("\(what()): changed the books:\nbefore \(before)\nafter  \(after)", file: file, line: line) }
    } catch { XCTFail("\(what()): cannot read the books afterwards: \(error)", file: file, line: line) }
    let applied = books.activity(after: head).filter(\.applied)
    XCTAssertEqual(applied.count, 0, "\(what()): logged applied entries: \(applied)", file: file, line: line)
}
