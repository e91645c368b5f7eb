@testable import ShmBalance
import ShmBalanceTestSupport
import Atomics
import Glibc
import XCTest

/// Who may write an activity entry's slot (ActivityRing.swift): one writer at a time, never one
/// taking it from a live writer (that made mixed entries whose stamp checked out: a writer stopped
/// for two laps of the ring was taken over and then finished its stores into the newer entry),
/// while a slot left "being written" by a process that died is taken back.
final class ActivitySlotTests: XCTestCase {
    let k = BookKey(exchange: try! ShortName("KRAKEN"), currency: try! ShortName("USDC"))

    func ring(_ books: Books) -> (stamp: (UInt64) -> UnsafeAtomic<UInt64>, capacity: UInt64) {
        let stamp: (UInt64) -> UnsafeAtomic<UInt64> = { seq in
            (books.base + books.ringOffset + Int((seq - 1) & books.ringMask) * Layout.Ring.entrySize).atomic64(Layout.Ring.stamp)
        }
        return (stamp, books.ringMask + 1)
    }

    /// The next entry's slot held by a writer of this very process (a thread stopped inside an
    /// append): the new entry is dropped, and neither the stamp nor the entry there is touched.
    func testASlotBeingWrittenByALiveWriterIsNeverTakenOver() throws {
        let seg = TempSegment()
        let books = try seg.books(.readWriteCreating(geometry: Geometry(recordCapacity: 2, quoteCapacity: 1, ringCapacity: 16)))
        try books.reset(k, balance: Amount("1000"), strategyCount: 4)  // entry 1
        let (stamp, capacity) = ring(books)
        for _ in 0..<Int(capacity) { try books.allocate(k, index: 2, Amount("1")) }  // entries 2…17
        let next = books.activityHead + 1  // 18, in the slot of entry 2
        let before = try XCTUnwrap(books.activity(after: next - capacity - 1, limit: .max).first)
        XCTAssertEqual(before.sequence, next - capacity)
        let held = RingStamp.writing(getpid())
        stamp(next).store(held, ordering: .relaxed)

        try books.allocate(k, index: 2, Amount("1"))  // entry 18: its slot is taken
        XCTAssertEqual(books.activityHead, next, "the number is claimed")
        XCTAssertEqual(stamp(next).load(ordering: .relaxed), held, "the live writer still has its slot")
        XCTAssertNil(books.activity(after: next - 1).first { $0.sequence == next }, "entry 18 is dropped, not written")
        try books.allocate(k, index: 2, Amount("1"))  // entry 19: its own slot, untouched by the drop
        XCTAssertEqual(books.activity(after: next).map(\.sequence), [next + 1])
        // However many laps the ring goes round, the slot stays the stopped writer's (a takeover
        // after two laps once let such a writer finish its stores into the newer entry).
        for _ in 0..<Int(3 * capacity) { try books.allocate(k, index: 2, Amount("1")) }
        XCTAssertEqual(stamp(next).load(ordering: .relaxed), held)
        let listed = books.activity(after: 0).map(\.sequence)
        XCTAssertEqual(listed.count, Int(capacity) - 1, "every slot but the held one")
        XCTAssertFalse(listed.contains { ($0 - next) % capacity == 0 })
    }

    /// A slot left "being written" by a process that is gone (killed between claiming and
    /// publishing) is taken back by the next writer that comes to it.
    func testASlotLeftByADeadWriterIsTakenBack() throws {
        let seg = TempSegment()
        let books = try seg.books(.readWriteCreating(geometry: Geometry(recordCapacity: 2, quoteCapacity: 1, ringCapacity: 16)))
        try books.reset(k, balance: Amount("1000"), strategyCount: 4)
        let (stamp, _) = ring(books)
        let child = try ChildProcess("/bin/true", [])
        XCTAssertEqual(child.wait(timeout: 30), .exited(0))
        let dead = child.pid
        XCTAssertFalse(processExists(dead), "the child is reaped")

        let next = books.activityHead + 1
        stamp(next).store(RingStamp.writing(dead), ordering: .relaxed)
        try books.allocate(k, index: 2, Amount("7"))
        let e = try XCTUnwrap(books.activity(after: next - 1).first)
        XCTAssertEqual(e.sequence, next)
        XCTAssertEqual(e.operation, .allocate)
        XCTAssertEqual(e.amount, Amount("7"))
    }

    /// A slot whose previous occupant never came (its writer was dropped or is late): a complete
    /// stamp older than the new entry is taken, a newer one is left alone — the stamps a new
    /// segment starts with count as older.
    func testOlderAndNewerStampsCompareAcrossTheStart() {
        XCTAssertTrue(RingStamp.isOlder(RingStamp.complete(0 &- 15), than: 1))
        XCTAssertTrue(RingStamp.isOlder(RingStamp.complete(0), than: 17))
        XCTAssertTrue(RingStamp.isOlder(RingStamp.complete(1), than: 33))
        XCTAssertFalse(RingStamp.isOlder(RingStamp.complete(33), than: 17))
        XCTAssertFalse(RingStamp.isOlder(RingStamp.complete(17), than: 17))
        XCTAssertEqual(RingStamp.writer(RingStamp.writing(4_194_304)), 4_194_304)
        XCTAssertTrue(RingStamp.isWriting(RingStamp.writing(1)))
        XCTAssertFalse(RingStamp.isWriting(RingStamp.complete(12345)))
    }

    /// Asking for what comes after a number at or past the head gives nothing — `.max` included,
    /// whose next number wraps round to the oldest entry (a reader once got the whole ring back).
    func testNothingComesAfterTheNewestNumber() throws {
        let seg = TempSegment()
        let books = try seg.books(.readWriteCreating(geometry: Geometry(recordCapacity: 2, quoteCapacity: 1, ringCapacity: 16)))
        try books.reset(k, balance: Amount("1000"), strategyCount: 4)
        try books.allocate(k, index: 2, Amount("1"))
        let head = books.activityHead
        XCTAssertEqual(books.activity(after: head - 1).map(\.sequence), [head])
        XCTAssertEqual(books.activity(after: head), [])
        XCTAssertEqual(books.activity(after: head + 1000), [])
        XCTAssertEqual(books.activity(after: .max), [])
        XCTAssertEqual(books.activity(after: .max, limit: 8), [])
    }
}
