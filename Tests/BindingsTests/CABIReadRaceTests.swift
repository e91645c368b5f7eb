import CShmBalance
import ShmBalance
import ShmBalanceTestSupport
import XCTest

/// The C ABI's reads (what a C++ strategy and Python's `get_balance` call) raced against writers,
/// as ShmBalanceTests.ReadRaceTests does for the core: budgets flip between 2^64 − 1 and 2^64,
/// whose 8-byte halves both differ, so a torn amount is 0 or 2^65 − 1 and never legal. Readers use
/// their own read-only handle on the segment, as a strategy in another process would.
final class CABIReadRaceTests: XCTestCase {
    static func exact(_ a: shmbal_amount) -> Int128 { Int128(a.hi) << 64 | Int128(a.lo) }

    /// `shmbal_record_balance` (a found record's slot) and `shmbal_balance` (by key): the exact
    /// amount is never torn, and the double is the exact amount's nearest double.
    func testBalanceReadsNeverReturnATornAmount() throws {
        let seg = TempSegment()
        let books = try seg.books()
        let f = try FlippingRecord(books, key("USDC"))
        var reader = shmbal_books(id: 0)
        XCTAssertEqual(shmbal_open(seg.path, SHMBAL_OPEN_READ_ONLY.code, &reader), SHMBAL_OK.code, String(cString: shmbal_last_error()))
        defer { shmbal_close(reader) }
        var record = shmbal_record(books: 0, slot: 0)
        XCTAssertEqual(shmbal_record_find(reader, "KRAKEN", "USDC", &record), SHMBAL_OK.code, String(cString: shmbal_last_error()))
        let handles = (reader, record)
        let r = raceReaders(writers: 2, readers: 2, reads: raceReads,
                            makeWriter: { w in f.writer(books, slots: [2 + 2 * w, 3 + 2 * w], seed: 0xCAB1 + UInt64(w)) },
                            makeReader: { t in
                                { n in
                                    // Mostly the exact amount alone: the double conversion costs
                                    // ~8 µs in a debug build, ten times the read.
                                    // The pool (rewritten by every commit) half the time, a budget otherwise.
                                    let i = n & 1 == 0 ? 1 : 2 + (n >> 1) % 4
                                    let withDouble = n % 64 == t
                                    var value = 0.0
                                    var amount = shmbal_amount(lo: 0, hi: 0)
                                    let rc = withUnsafeMutablePointer(to: &value) { vp in
                                        withUnsafeMutablePointer(to: &amount) { ap in
                                            let v = withDouble ? vp : nil
                                            return n % 4 == 3 ? shmbal_balance(handles.0, "KRAKEN", "USDC", Int32(i), v, ap)
                                                : shmbal_record_balance(handles.1, Int32(i), v, ap)
                                        }
                                    }
                                    guard rc == SHMBAL_OK.code else { return "status \(rc): \(String(cString: shmbal_last_error()))" }
                                    let raw = CABIReadRaceTests.exact(amount)
                                    guard f.legal[i].contains(raw) else { return "slot \(i) \(rawHex(raw))" }
                                    if withDouble && value != Amount(raw: raw).doubleValue { return "slot \(i): double \(value) for \(raw)" }
                                    return nil
                                }
                            })
        XCTAssertEqual(r.failures.lines, [])
        XCTAssertEqual(r.illegal.count, 0, "torn amounts through the C ABI: \(r.illegal.lines)")
        XCTAssertGreaterThan(r.writes, 1000, "the writers must have raced the readers")
        print("C ABI read race: \(r.writes) flips against \(2 * raceReads) shmbal_record_balance / shmbal_balance reads, none torn")
    }

    /// `shmbal_record_get`: a whole record into the C struct, never torn, the identity exact.
    func testRecordGetIsNeverTorn() throws {
        let seg = TempSegment()
        let books = try seg.books()
        let f = try FlippingRecord(books, key("USDC"))
        var reader = shmbal_books(id: 0)
        XCTAssertEqual(shmbal_open(seg.path, SHMBAL_OPEN_READ_ONLY.code, &reader), SHMBAL_OK.code, String(cString: shmbal_last_error()))
        defer { shmbal_close(reader) }
        var record = shmbal_record(books: 0, slot: 0)
        XCTAssertEqual(shmbal_record_find(reader, "KRAKEN", "USDC", &record), SHMBAL_OK.code)
        let handle = record
        let r = raceReaders(writers: 2, readers: 2, reads: raceReads / 256,
                            makeWriter: { w in f.writer(books, slots: [2 + 2 * w, 3 + 2 * w], seed: 0xCAB2 + UInt64(w)) },
                            makeReader: { _ in
                                { _ in
                                    var info = shmbal_record_info()
                                    let rc = shmbal_record_get(handle, &info)
                                    guard rc == SHMBAL_OK.code else { return "status \(rc): \(String(cString: shmbal_last_error()))" }
                                    guard info.strategy_count == 6 else { return "count \(info.strategy_count)" }
                                    let slots = withUnsafeBytes(of: info.exact_slots) { Array($0.bindMemory(to: shmbal_amount.self).prefix(6)) }.map(CABIReadRaceTests.exact)
                                    for i in 0..<6 where !f.legal[i].contains(slots[i]) { return "slot \(i) \(rawHex(slots[i]))" }
                                    if slots[0] != slots[1...].reduce(0, +) { return "identity broken: \(slots)" }
                                    return nil
                                }
                            })
        XCTAssertEqual(r.failures.lines, [])
        XCTAssertEqual(r.illegal.count, 0, "torn records through the C ABI: \(r.illegal.lines)")
        XCTAssertGreaterThan(r.writes, 1000, "the writers must have raced the readers")
    }
}
