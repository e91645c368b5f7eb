import CShmBalance
import Foundation
import ShmBalance
@testable import ShmBalanceCABI
import ShmBalanceTestSupport
import XCTest

/// The C ABI called in-process, exactly as C would call it.
final class CABITests: XCTestCase {
    var dir: TempDirectory!
    var books = shmbal_books(id: 0)

    override func setUpWithError() throws {
        dir = TempDirectory()
        XCTAssertEqual(shmbal_open(dir.segment, SHMBAL_OPEN_CREATE.code, &books), SHMBAL_OK.code, lastError)
    }

    override func tearDown() {
        shmbal_close(books)
        dir = nil
    }

    var lastError: String { String(cString: shmbal_last_error()) }

    func testVersion() {
        XCTAssertEqual(shmbal_abi_version(), SHMBAL_ABI_VERSION)
    }

    /// Names are packed without allocating when plainly valid; whatever the fast path does, the
    /// result (accepted and stored identically, or refused with the same words) is the core's.
    func testNamesAreTheCoresNames() throws {
        var candidates = ["", "A", "usdc", "UsDc", "BTC-PERP", "a.b_c", "ABCDEFGHIJKLMNO", "ABCDEFGHIJKLMNOP", "abcdefghijklmnop1",
                          "US DC", "USDÇ", "x/y"]
        for byte in 1...255 { candidates.append(String(decoding: [UInt8(byte)], as: UTF8.self)) }
        for byte in 1...127 { candidates.append("AB" + String(UnicodeScalar(UInt8(byte))) + "CD") }
        let reference = try Books.open(dir.segment, .readWrite)
        var quote = shmbal_quote(timestamp: 1, local_timestamp: 2, mid: 3)
        for name in candidates {
            let rc = shmbal_quote_write(books, "X", "Y", name, &quote)
            let core: ShortName
            do { core = try ShortName(name) } catch {
                XCTAssertEqual(rc, SHMBAL_BAD_INPUT.code, name.debugDescription)
                XCTAssertEqual(lastError, error.message, name.debugDescription)
                continue
            }
            XCTAssertEqual(rc, SHMBAL_OK.code, "\(name.debugDescription): \(lastError)")
            let stored = try reference.quote(QuoteKey(exchange: try ShortName("X"), dataType: try ShortName("Y"), currency: core))
            XCTAssertEqual(stored?.mid, 3, "\(name.debugDescription) was stored under another name")
        }
        XCTAssertEqual(shmbal_quote_write(books, "X", nil, "USD", &quote), SHMBAL_BAD_INPUT.code)
        XCTAssertEqual(lastError, "a data type is required (got NULL)")
    }

    func testHandlesAreCheckedNeverTrusted() throws {
        XCTAssertEqual(shmbal_reset(books, "KRAKEN", "USDC", 100, 4), SHMBAL_OK.code)
        var record = shmbal_record(books: 0, slot: 0)
        XCTAssertEqual(shmbal_record_find(books, "KRAKEN", "USDC", &record), SHMBAL_OK.code)
        XCTAssertEqual(shmbal_record_allocate(record, 2, 10), SHMBAL_OK.code)
        // Forged handles: unknown entries, wrong generations, slots never handed out.
        for id: UInt64 in [0, 1, 0xFFFF, 0x10000, books.id + 1, books.id &+ (2 << 16), books.id ^ (1 << 16), .max] {
            XCTAssertEqual(shmbal_allocate(shmbal_books(id: id), "KRAKEN", "USDC", 2, 1), SHMBAL_CLOSED.code, "id \(id)")
            XCTAssertEqual(lastError, "the handle is closed (or was never opened)")
        }
        XCTAssertEqual(shmbal_record_allocate(shmbal_record(books: books.id, slot: 1), 2, 1), SHMBAL_CLOSED.code)
        XCTAssertEqual(shmbal_record_allocate(shmbal_record(books: books.id, slot: .max), 2, 1), SHMBAL_CLOSED.code)
        // After close, the handle and its record handles are refused; a new handle gets a new id.
        let old = books
        XCTAssertEqual(shmbal_close(old), SHMBAL_OK.code)
        XCTAssertEqual(shmbal_close(old), SHMBAL_CLOSED.code)
        XCTAssertEqual(shmbal_record_allocate(record, 2, 1), SHMBAL_CLOSED.code)
        XCTAssertEqual(shmbal_open(dir.segment, SHMBAL_OPEN_READ_WRITE.code, &books), SHMBAL_OK.code)
        XCTAssertNotEqual(books.id, old.id)
        XCTAssertEqual(shmbal_record_allocate(record, 2, 1), SHMBAL_CLOSED.code)
        var value = 0.0
        XCTAssertEqual(shmbal_balance(books, "KRAKEN", "USDC", 2, &value, nil), SHMBAL_OK.code)
        XCTAssertEqual(value, 10)
    }

    func testOpenFailuresSayWhy() {
        var h = shmbal_books(id: 0)
        XCTAssertEqual(shmbal_open(dir.path + "/missing", SHMBAL_OPEN_READ_WRITE.code, &h), SHMBAL_SEGMENT.code)
        XCTAssertEqual(lastError, "\(dir.path)/missing: no segment there (create one with 'shmbal init', or any write creates it)")
        XCTAssertEqual(shmbal_open(dir.segment, 7, &h), SHMBAL_BAD_INPUT.code)
        XCTAssertEqual(shmbal_open(dir.segment, SHMBAL_OPEN_CREATE.code, nil), SHMBAL_BAD_INPUT.code)
        _ = FileManager.default.createFile(atPath: dir.path + "/junk", contents: Data(repeating: 7, count: 8192))
        XCTAssertEqual(shmbal_open(dir.path + "/junk", SHMBAL_OPEN_READ_ONLY.code, &h), SHMBAL_SEGMENT.code)
        XCTAssertTrue(lastError.hasPrefix("\(dir.path)/junk: not a ShmBalance segment"), lastError)
        var path = [CChar](repeating: 0, count: 4096)
        XCTAssertEqual(shmbal_segment_path(books, &path, path.count), SHMBAL_OK.code)
        XCTAssertEqual(string(path), dir.segment)
        XCTAssertEqual(shmbal_segment_path(books, &path, 4), SHMBAL_BAD_INPUT.code)
        XCTAssertEqual(path[0], 0)
    }

    func testReadOnlyHandleReadsButNeverWrites() throws {
        XCTAssertEqual(shmbal_reset(books, "KRAKEN", "USDC", 100, 4), SHMBAL_OK.code)
        var reader = shmbal_books(id: 0)
        XCTAssertEqual(shmbal_open(dir.segment, SHMBAL_OPEN_READ_ONLY.code, &reader), SHMBAL_OK.code)
        defer { shmbal_close(reader) }
        var record = shmbal_record(books: 0, slot: 0)
        XCTAssertEqual(shmbal_record_find(reader, "KRAKEN", "USDC", &record), SHMBAL_OK.code)
        XCTAssertEqual(shmbal_record_allocate(record, 2, 1), SHMBAL_SEGMENT.code)
        XCTAssertEqual(lastError, "\(dir.segment): attached read-only; this operation writes")
        XCTAssertEqual(shmbal_reset(reader, "KRAKEN", "USDC", 1, 0), SHMBAL_SEGMENT.code)
        var info = shmbal_record_info()
        XCTAssertEqual(shmbal_record_get(record, &info), SHMBAL_OK.code)
        XCTAssertEqual(info.slots.0, 100)
        XCTAssertEqual(info.op_count, 1)
    }

    /// The C struct carries exactly what the core's `get` returns.
    func testRecordInfoIsTheCoresRecord() throws {
        XCTAssertEqual(shmbal_reset_text(books, "KRAKEN", "USDC", "10000.123456789012345678", 5), SHMBAL_OK.code)
        XCTAssertEqual(shmbal_allocate_text(books, "KRAKEN", "USDC", 3, "0.000000000000000001"), SHMBAL_OK.code)
        XCTAssertEqual(shmbal_set_credit_limit(books, "KRAKEN", "USDC", 5000), SHMBAL_OK.code)
        XCTAssertEqual(shmbal_set_name(books, "KRAKEN", "USDC", 3, "grid-bot"), SHMBAL_OK.code)
        XCTAssertEqual(shmbal_adjust(books, "KRAKEN", "USDC", -20000, 0), SHMBAL_OK.code)
        var info = shmbal_record_info()
        XCTAssertEqual(shmbal_get(books, "KRAKEN", "USDC", &info), SHMBAL_OK.code)
        let core = try Books.open(dir.segment, .readOnly).get(try BookKey("KRAKEN", "USDC"))
        XCTAssertEqual(withUnsafeBytes(of: info.exchange) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }, "KRAKEN")
        XCTAssertEqual(Int(info.strategy_count), core.strategyCount)
        XCTAssertEqual(info.epoch, core.epoch)
        XCTAssertEqual(info.op_count, core.state.opCount)
        XCTAssertEqual(info.identity_holds, 1)
        XCTAssertEqual(Int(info.last_change_pid), Int(getpid()))
        withUnsafeBytes(of: info.exact_slots) { raw in
            let exact = raw.bindMemory(to: shmbal_amount.self)
            for i in 0..<64 {
                let value = Amount(raw: Int128(exact[i].hi) << 64 | Int128(exact[i].lo))
                XCTAssertEqual(value, i < core.strategyCount ? core.slots[i] : .zero, "slot \(i)")
            }
        }
        withUnsafeBytes(of: info.slots) { raw in
            let doubles = raw.bindMemory(to: Double.self)
            XCTAssertEqual(doubles[0], core.slots[0].doubleValue)
            XCTAssertEqual(doubles[1], core.slots[1].doubleValue)
            XCTAssertEqual(doubles[3], 1e-18)
        }
        withUnsafeBytes(of: info.names) { raw in
            let names = (0..<5).map { String(cString: raw.baseAddress!.advanced(by: 16 * $0).assumingMemoryBound(to: CChar.self)) }
            XCTAssertEqual(names, ["total", "pool", "", "grid-bot", ""])
        }
        XCTAssertEqual(info.credit_limit, 5000)
        var text = [CChar](repeating: 0, count: 64)
        XCTAssertEqual(shmbal_amount_format(info.exact_headroom, &text, text.count), SHMBAL_OK.code)
        XCTAssertEqual(string(text), core.headroom.exactText)
        XCTAssertEqual(shmbal_balance_text(books, "KRAKEN", "USDC", 1, &text, text.count), SHMBAL_OK.code)
        XCTAssertEqual(string(text), "-9999.876543210987654323")
    }

    func testAmountHelpersAreTheCores() {
        var a = shmbal_amount(lo: 0, hi: 0)
        XCTAssertEqual(shmbal_amount_from_double(0.1, &a), SHMBAL_OK.code)
        XCTAssertEqual(a.lo, 100_000_000_000_000_000)
        var b = shmbal_amount(lo: 0, hi: 0)
        XCTAssertEqual(shmbal_amount_parse("0.1", &b), SHMBAL_OK.code)
        XCTAssertEqual(a.lo, b.lo)
        XCTAssertEqual(shmbal_amount_parse("-123456789012.123456789012345678", &b), SHMBAL_OK.code)
        var text = [CChar](repeating: 0, count: 41)
        XCTAssertEqual(shmbal_amount_format(b, &text, text.count), SHMBAL_OK.code)
        XCTAssertEqual(string(text), "-123456789012.123456789012345678")
        XCTAssertEqual(shmbal_amount_to_double(b), -123456789012.12346)
        XCTAssertEqual(shmbal_amount_format(b, &text, 10), SHMBAL_BAD_INPUT.code)
        XCTAssertEqual(text[0], 0)
        XCTAssertEqual(shmbal_amount_parse("1e5", &b), SHMBAL_BAD_INPUT.code)
        XCTAssertEqual(lastError, "'1e5' is not an amount: exponents are not accepted; write all the digits (e.g. 100000)")
        XCTAssertEqual(shmbal_amount_from_double(.infinity, &b), SHMBAL_BAD_INPUT.code)
        XCTAssertEqual(shmbal_amount_parse(nil, &b), SHMBAL_BAD_INPUT.code)
    }

    /// Doubles come out correctly rounded: a double that went in comes back unchanged, and
    /// decimal text comes out as the double the standard library parses from it.
    func testDoublesRoundTrip() {
        var rng = SystemRandomNumberGenerator()
        var a = shmbal_amount(lo: 0, hi: 0)
        for i in 0..<20_000 {
            let decimals = i % 19
            let value = Double(Int64.random(in: -(1 << 53)...(1 << 53), using: &rng)) / [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18][decimals]
            guard shmbal_amount_from_double(value, &a) == SHMBAL_OK.code else { continue }  // beyond 18 decimals
            XCTAssertEqual(shmbal_amount_to_double(a), value, "\(value)")
        }
        for text in ["1.295110504991", "36.146305312007", "0.1", "-0.000000000000000001", "123456789012.123456789012345678",
                     "999999999999999999.999999999999999999", "9007199254740993", "0"] {
            XCTAssertEqual(shmbal_amount_parse(text, &a), SHMBAL_OK.code)
            XCTAssertEqual(shmbal_amount_to_double(a), Double(text)!, text)
        }
        XCTAssertEqual(shmbal_reset_text(books, "KRAKEN", "USDC", "1.295110504991", 0), SHMBAL_OK.code)
        var value = 0.0
        XCTAssertEqual(shmbal_balance(books, "KRAKEN", "USDC", 0, &value, nil), SHMBAL_OK.code)
        // (Not the literal 1.295110504991: Swift on x86 rounds float literals twice, through Float80.)
        XCTAssertEqual(value, Double("1.295110504991")!)
    }

    /// The C ABI's shortcut for whole doubles gives exactly what the core's `Amount(exactly:)` gives.
    func testWholeDoublesConvertAsTheCoreDoes() throws {
        var rng = SystemRandomNumberGenerator()
        var values: [Double] = [0, -0.0, 1, -1, 2000, 9_007_199_254_740_991, -9_007_199_254_740_991, 9_007_199_254_740_992,
                                9_007_199_254_740_994, 1e15, 1e16, 1e17, 1e18, -1e18, 0.5, 1.5, 1 - 0x1p-53, 4503599627370495.5]
        for _ in 0..<20_000 {
            values.append(Double(Int64.random(in: -(1 << 53)...(1 << 53), using: &rng)))
            values.append(Double(Int64.random(in: -1_000_000...1_000_000, using: &rng)))
        }
        var a = shmbal_amount(lo: 0, hi: 0)
        for v in values {
            let core = try? Amount(exactly: v)
            let rc = shmbal_amount_from_double(v, &a)
            XCTAssertEqual(rc == SHMBAL_OK.code ? a.amount : nil, core, "\(v)")
        }
    }

    func testReconcileReportsItsOutcome() {
        var result = shmbal_reconcile_result()
        XCTAssertEqual(shmbal_reconcile(books, "KRAKEN", "USDC", 1000, &result), SHMBAL_OK.code)
        XCTAssertEqual(result.kind, SHMBAL_RECONCILE_CREATED.code)
        XCTAssertEqual(shmbal_allocate(books, "KRAKEN", "USDC", 2, 300), SHMBAL_OK.code)
        XCTAssertEqual(shmbal_allocate(books, "KRAKEN", "USDC", 5, 600), SHMBAL_OK.code)
        XCTAssertEqual(shmbal_reconcile_text(books, "KRAKEN", "USDC", "100", &result), SHMBAL_OK.code)
        XCTAssertEqual(result.kind, SHMBAL_RECONCILE_RESET.code)
        XCTAssertEqual(result.dropped_count, 2)
        XCTAssertEqual([result.dropped_index.0, result.dropped_index.1], [2, 5])
        let raw = Int128(600) * 1_000_000_000_000_000_000
        XCTAssertEqual([result.dropped_amount.1.lo, UInt64(bitPattern: result.dropped_amount.1.hi)],
                       [UInt64(truncatingIfNeeded: raw), UInt64(truncatingIfNeeded: raw >> 64)])
        let description = withUnsafeBytes(of: result.description) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
        XCTAssertEqual(description, "reset: repairing by -900.00 would leave the pool at -800.00, beyond the credit; budgets dropped: #2 300.00, #5 600.00")
        XCTAssertEqual(shmbal_reconcile(books, "KRAKEN", "USDC", 100, nil), SHMBAL_OK.code)
    }

    /// Threads share one handle: record lookups race to fill its cache while others allocate and
    /// release through it; every operation lands exactly once.
    func testThreadsShareOneHandle() throws {
        let currencies = ["USDC", "USD", "EUR", "BTC", "ETH", "SOL"]
        for c in currencies { XCTAssertEqual(shmbal_reset(books, "KRAKEN", c, 1_000_000, 10), SHMBAL_OK.code) }
        let h = books
        let threads = 8, rounds = 3000
        let failures = ManagedAtomicCounter()
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            let index = Int32(2 + t)
            for r in 0..<rounds {
                let c = currencies[(r + t) % currencies.count]
                var rec = shmbal_record(books: 0, slot: 0)
                if shmbal_record_find(h, "KRAKEN", c, &rec) != SHMBAL_OK.code { failures.add() }
                if r % 2 == 0 {
                    if shmbal_record_allocate(rec, index, 0.05) != SHMBAL_OK.code { failures.add() }
                    if shmbal_record_release(rec, index, 0.02) != SHMBAL_OK.code { failures.add() }
                } else {
                    if shmbal_allocate(h, "kraken", c, index, 0.05) != SHMBAL_OK.code { failures.add() }
                    if shmbal_release_text(h, "KRAKEN", c, index, "0.02") != SHMBAL_OK.code { failures.add() }
                }
            }
        }
        XCTAssertEqual(failures.value, 0)
        let core = try Books.open(dir.segment, .readOnly)
        for c in currencies {
            let record = try core.get(try BookKey("KRAKEN", c))
            XCTAssertTrue(record.identityHolds)
            XCTAssertEqual(record.slots[2..<10], ArraySlice(repeating: try Amount(parsing: "15"), count: 8), c)
            XCTAssertEqual(Int(record.state.opCount), 1 + threads * rounds * 2 / currencies.count)
        }
    }

    /// `shmbal_record_read` fills the fixed-size struct with exactly the core's state, clears the
    /// slots a previous read left past a smaller count, and gives the same bytes whether the
    /// struct is 16-byte aligned (the core reads straight into it) or not (through a copy).
    func testRecordReadIsTheCoresState() throws {
        XCTAssertEqual(shmbal_reset_text(books, "KRAKEN", "USDC", "10000.000000000000000001", 9), SHMBAL_OK.code)
        XCTAssertEqual(shmbal_set_credit_limit_text(books, "KRAKEN", "USDC", "250.5"), SHMBAL_OK.code)
        var rec = shmbal_record(books: 0, slot: 0)
        XCTAssertEqual(shmbal_record_find(books, "KRAKEN", "USDC", &rec), SHMBAL_OK.code)
        for (i, text) in ["2": "1.5", "5": "0.000000000000000001", "8": "3000"] {
            XCTAssertEqual(shmbal_record_allocate_text(rec, Int32(i)!, text), SHMBAL_OK.code, lastError)
        }
        let core = try Books.open(dir.segment, .readOnly)
        let key = try BookKey("KRAKEN", "USDC")
        func check(_ s: shmbal_record_state, _ what: String) throws {
            let c = try core.get(key).state
            XCTAssertEqual(Int(s.strategy_count), c.strategyCount, what)
            XCTAssertEqual(Int(s.last_index), c.lastIndex, what)
            XCTAssertEqual(s.epoch, c.epoch, what)
            XCTAssertEqual(s.op_count, c.opCount, what)
            XCTAssertEqual(s.last_change_micros, c.lastChangeMicros, what)
            XCTAssertEqual(s.last_change_pid, getpid(), what)
            XCTAssertEqual(s.fenced, c.fenced ? 1 : 0, what)
            XCTAssertTrue(s.reserved == (0, 0, 0), what)
            XCTAssertEqual(s.credit_limit.amount, c.creditLimit, what)
            withUnsafeBytes(of: s.slots) { raw in
                let slots = raw.bindMemory(to: shmbal_amount.self)
                for i in 0..<64 { XCTAssertEqual(slots[i].amount, i < c.strategyCount ? c.slots[i] : .zero, "\(what): slot \(i)") }
            }
        }
        var state = shmbal_record_state()
        XCTAssertEqual(MemoryLayout<shmbal_record_state>.alignment, 16)
        XCTAssertEqual(shmbal_record_read(rec, &state), SHMBAL_OK.code, lastError)
        try check(state, "aligned")
        // A struct at an odd address (the copying path) gets the same bytes; stale slots there too.
        let raw = UnsafeMutableRawPointer.allocate(byteCount: MemoryLayout<shmbal_record_state>.size + 1, alignment: 16)
        defer { raw.deallocate() }
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: MemoryLayout<shmbal_record_state>.size + 1)
        let odd = (raw + 1).assumingMemoryBound(to: shmbal_record_state.self)
        XCTAssertEqual(shmbal_record_read(rec, odd), SHMBAL_OK.code, lastError)
        XCTAssertEqual(memcmp(raw + 1, &state, MemoryLayout<shmbal_record_state>.size), 0, "the copying path wrote other bytes")

        // Shrink to 3 slots (release what is above) and read into the same structs again.
        for (i, text) in ["2": "1.5", "5": "0.000000000000000001", "8": "3000"] {
            XCTAssertEqual(shmbal_record_release_text(rec, Int32(i)!, text), SHMBAL_OK.code, lastError)
        }
        XCTAssertEqual(shmbal_set_strategy_count(books, "KRAKEN", "USDC", 3), SHMBAL_OK.code, lastError)
        XCTAssertEqual(shmbal_record_read(rec, &state), SHMBAL_OK.code, lastError)
        try check(state, "after the shrink")
        XCTAssertEqual(shmbal_record_read(rec, odd), SHMBAL_OK.code, lastError)
        XCTAssertEqual(memcmp(raw + 1, &state, MemoryLayout<shmbal_record_state>.size), 0, "the copying path left other bytes")

        // Fenced (SPEC §10): the byte says so, on both paths.
        try Books.open(dir.segment, .readWrite).setFenced(key, true)
        XCTAssertEqual(shmbal_record_read(rec, &state), SHMBAL_OK.code, lastError)
        XCTAssertEqual(state.fenced, 1)
        try check(state, "fenced")
        XCTAssertEqual(shmbal_record_read(rec, odd), SHMBAL_OK.code, lastError)
        XCTAssertEqual(memcmp(raw + 1, &state, MemoryLayout<shmbal_record_state>.size), 0, "the copying path wrote other bytes when fenced")
        // The aligned read is the core's own read into the caller's struct only while the core's
        // state has this struct's layout (else it silently takes the slower copying path).
        XCTAssertTrue(shmbal_record_state.isCoreLayout, "RecordState no longer has shmbal_record_state's layout")

        XCTAssertEqual(shmbal_record_read(rec, nil), SHMBAL_BAD_INPUT.code)
        XCTAssertEqual(lastError, "a record state to fill is required (got NULL)")
        XCTAssertEqual(shmbal_record_read(shmbal_record(books: books.id, slot: 7), &state), SHMBAL_CLOSED.code)
    }

    /// Exact amounts (the stored 128-bit value) go in unconverted; one beyond the storable range
    /// is bad input with the parser's words.
    func testExactAmountsGoInExactly() throws {
        XCTAssertEqual(shmbal_reset(books, "KRAKEN", "USDC", 100, 4), SHMBAL_OK.code)
        var rec = shmbal_record(books: 0, slot: 0)
        XCTAssertEqual(shmbal_record_find(books, "KRAKEN", "USDC", &rec), SHMBAL_OK.code)
        let tiny = shmbal_amount(lo: 1, hi: 0)  // 10^-18
        XCTAssertEqual(shmbal_record_allocate_exact(rec, 2, tiny), SHMBAL_OK.code, lastError)
        XCTAssertEqual(shmbal_record_allocate_exact(rec, 2, tiny), SHMBAL_OK.code, lastError)
        XCTAssertEqual(shmbal_record_release_exact(rec, 2, tiny), SHMBAL_OK.code, lastError)
        var exact = shmbal_amount(lo: 0, hi: 0)
        XCTAssertEqual(shmbal_record_balance(rec, 2, nil, &exact), SHMBAL_OK.code)
        XCTAssertEqual(exact.amount, Amount(raw: 1))
        XCTAssertEqual(shmbal_record_release_exact(rec, 2, shmbal_amount(lo: 2, hi: 0)), SHMBAL_REFUSED.code)
        XCTAssertEqual(shmbal_last_refusal(), SHMBAL_REFUSAL_EXCEEDS_BUDGET.code)
        let tooBig = shmbal_amount(Amount(raw: Amount.limit + 1))
        XCTAssertEqual(shmbal_record_allocate_exact(rec, 2, tooBig), SHMBAL_BAD_INPUT.code)
        XCTAssertEqual(lastError, "'1000000000000000000' does not fit: an amount must be below 10^18 (1,000,000,000,000,000,000) whole units")
        XCTAssertEqual(shmbal_last_refusal(), SHMBAL_REFUSAL_NONE.code)
        XCTAssertEqual(shmbal_record_release_exact(rec, 2, shmbal_amount(Amount(raw: -Amount.limit - 1))), SHMBAL_BAD_INPUT.code)
        XCTAssertEqual(shmbal_record_allocate_exact(rec, 2, shmbal_amount(Amount(raw: -1))), SHMBAL_REFUSED.code)
        XCTAssertEqual(shmbal_last_refusal(), SHMBAL_REFUSAL_NON_POSITIVE_AMOUNT.code)
    }

    func testTheHandleTableIsBounded() {
        var opened: [shmbal_books] = []
        defer { for h in opened { shmbal_close(h) } }
        var h = shmbal_books(id: 0)
        var rc = SHMBAL_OK.code
        while opened.count < 2000 {
            rc = shmbal_open(dir.segment, SHMBAL_OPEN_READ_ONLY.code, &h)
            guard rc == SHMBAL_OK.code else { break }
            opened.append(h)
        }
        XCTAssertEqual(rc, SHMBAL_SEGMENT.code)
        XCTAssertEqual(lastError, "\(dir.segment): too many open handles (1024); open each segment once and share the handle")
        XCTAssertGreaterThan(opened.count, 1000)
        XCTAssertEqual(Set(opened.map(\.id)).count, opened.count)
    }
}

extension shmbal_amount {
    init(_ a: Amount) { self.init(lo: UInt64(truncatingIfNeeded: a.raw), hi: Int64(truncatingIfNeeded: a.raw >> 64)) }
    var amount: Amount { Amount(raw: Int128(hi) << 64 | Int128(lo)) }
}

/// The NUL-terminated text in a C buffer.
func string(_ buffer: [CChar]) -> String {
    buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
}

/// A counter the concurrent test's threads bump.
final class ManagedAtomicCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func add() { lock.lock(); count += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return count }
}
